"""onehot / onehotbatch / onecold against OneHotArrays.jl's tests and Flux's docs.

Julia's one-hot matrices are C × N (one column per value); flux_torch's are
(N, C), so a Julia matrix literal below is transposed (`.T`). Julia's 1-based
class indices are 0-based here.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from flux_torch.data import onecold, onehot, onehotbatch


def julia(rows):
    """A Julia matrix literal (rows as written), as the flux_torch layout (its transpose)."""
    return torch.tensor(np.array(rows, dtype=np.float32).T)


def test_onehot_constructors():
    assert torch.equal(onehot(20, range(10, 31, 10)), torch.tensor([0., 1., 0.]))
    assert torch.equal(onehot(20, (10, 20, 30)), torch.tensor([0., 1., 0.]))
    assert torch.equal(onehot(40, (10, 20, 30), 20), torch.tensor([0., 1., 0.]))
    assert onehot(20, (10, 20, 30)).dtype == torch.float32


@pytest.mark.parametrize("args", [("d", "abc"), ("d", ("a", "b", "c")),
                                  ("d", "abc", "e"), ("d", ("a", "b", "c"), "e")])
def test_onehot_missing(args):
    with pytest.raises(ValueError, match="not"):
        onehot(*args)


def test_onehot_missing_message_names_value_and_fix():
    with pytest.raises(ValueError, match=r"value 'd' not found in labels.*default"):
        onehot("d", "abc")


def test_onehotbatch_constructors():
    expected = julia([[0, 1], [1, 0], [0, 0]])
    assert torch.equal(onehotbatch([20, 10], range(10, 31, 10)), expected)
    assert torch.equal(onehotbatch([20, 10], (10, 20, 30)), expected)
    assert torch.equal(onehotbatch([40, 10], (10, 20, 30), 20), expected)
    eye = julia([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert torch.equal(onehotbatch("abc", "abc"), eye)
    assert torch.equal(onehotbatch("zbc", ("a", "b", "c"), "a"), eye)
    assert torch.equal(onehotbatch([10, 20], [30, 40, 50], 30), julia([[1, 1], [0, 0], [0, 0]]))


@pytest.mark.parametrize("labels", [["a", "b", "c"], ("a", "b", "c")])
@pytest.mark.parametrize("default", [None, "e"])
def test_onehotbatch_missing(labels, default):
    with pytest.raises(ValueError, match="not"):
        onehotbatch(["a", "d"], labels, default)


def test_onehotbatch_missing_message():
    with pytest.raises(ValueError, match=r"onehotbatch: value 'd' not found in labels"):
        onehotbatch(["a", "d"], ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"default value 'e' is not in labels"):
        onehotbatch(["a", "d"], ["a", "b", "c"], "e")


def test_float_labels():
    floats = (0.0, 1.5, math.inf, -math.inf)
    assert onecold(onehot(0.0, floats)) == 0
    assert onecold(onehot(math.inf, floats)) == 2
    assert onecold(onehot(-math.inf, floats)) == 3


def _isequal_index(x, labels):
    """Oracle: the first label that Julia's isequal matches (NaN is NaN, -0.0 is not 0.0)."""
    for i, lab in enumerate(labels):
        if (math.isnan(x) and math.isnan(lab)) or (
                x == lab and math.copysign(1, x) == math.copysign(1, lab)):
            return i
    return None


def test_labels_match_by_isequal():
    # issue 11: onehot(-0.0, (0.0, -0.0, inf)) picks index 1, as OneHotArrays' isequal does
    assert onehot(-0.0, (0.0, -0.0, math.inf)).tolist() == [0.0, 1.0, 0.0]
    floats = (0.0, -0.0, math.nan, -math.nan, math.inf, -math.inf)
    want = [_isequal_index(v, floats) for v in floats]
    assert want == [0, 1, 2, 2, 4, 5]
    assert [onecold(onehot(v, floats)) for v in floats] == want
    for data in (list(floats), torch.tensor(floats), np.array(floats)):   # loop and vector paths
        assert onecold(onehotbatch(data, floats)).tolist() == want
    assert onehotbatch(torch.tensor([0.0, -0.0]), [-0.0, 1.0], 1.0).argmax(-1).tolist() == [1, 0]
    assert onecold(onehot(1, (1.0, 2.0))) == 0        # isequal(1, 1.0): the same label
    with pytest.raises(ValueError, match="not found"):
        onehot(-0.0, (0.0, 1.0))


@pytest.mark.parametrize("kind", [list, torch.tensor, np.array])
def test_onehotbatch_range_labels(kind):
    data = kind([1, 3, 0, 4])
    expected = F.one_hot(torch.tensor([1, 3, 0, 4]), 5).float()
    assert torch.equal(onehotbatch(data, range(5)), expected)
    assert torch.equal(onehotbatch(data, tuple(range(5))), expected)


def test_onehotbatch_multidim():
    # Julia: onehotbatch([2 3 7 4], 2:7) is 6×1×4; batch first that is (4, 1, 6)
    data = torch.tensor([[2], [3], [7], [4]])
    out = onehotbatch(data, range(2, 8))
    assert out.shape == (4, 1, 6)
    assert torch.equal(out, F.one_hot(data - 2, 6).float())


@pytest.mark.parametrize("kind", [list, torch.tensor])
@pytest.mark.parametrize("bad", [[2, -1], [2, 5]])
def test_onehotbatch_out_of_range(kind, bad):
    with pytest.raises(ValueError, match="not found in labels"):
        onehotbatch(kind(bad), range(5))


def test_onehotbatch_tensor_default():
    out = onehotbatch(torch.tensor([40, 10]), (10, 20, 30), 20)
    assert torch.equal(out, julia([[0, 1], [1, 0], [0, 0]]))


def test_onehotbatch_abracadabra():
    oh = onehotbatch("abracadabra", "abcde", "e")
    expected = julia([[1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1],
                      [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0],
                      [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
                      [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
                      [0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0]])
    assert torch.equal(oh, expected)
    # Julia: reshape(1:15, 3, 5) * oh, a 3×11 matrix; here (11, 3) = oh @ W.T
    W = torch.arange(1, 16, dtype=torch.float32).reshape(5, 3).T   # Julia's W, (out, in) = (3, 5)
    out = oh @ W.T
    assert out[:, 0].tolist() == [1, 4, 13, 1, 7, 1, 10, 1, 4, 13, 1]
    assert out[:, 2].tolist() == [3, 6, 15, 3, 9, 3, 12, 3, 6, 15, 3]


def test_onehotbatch_dtype_and_device():
    assert onehotbatch([0, 1], range(2), dtype=torch.bool).dtype == torch.bool
    assert onehotbatch(torch.tensor([0, 1]), range(2)).device == torch.tensor(0).device


def test_onehotbatch_works_with_cross_entropy():
    torch.manual_seed(0)
    logits = torch.randn(6, 4)
    y = torch.tensor([0, 3, 2, 1, 1, 0])
    assert torch.allclose(F.cross_entropy(logits, onehotbatch(y, range(4))),
                          F.cross_entropy(logits, y))


def test_onecold():
    a = [1, 2, 5, 3.0]
    A = julia([[1, 20, 5], [2, 7, 6], [3, 9, 10], [2, 1, 14]])   # 4 classes × 3 samples in Julia
    labels = ["A", "B", "C", "D"]
    assert onecold(a) == 2
    assert torch.equal(onecold(A), torch.tensor([2, 0, 3]))
    assert onecold(a, labels) == "C"
    assert onecold(a, tuple(labels)) == "C"
    assert onecold(A, labels) == ["C", "A", "D"]
    assert onecold(A, tuple(labels)) == ["C", "A", "D"]


def test_onecold_roundtrip():
    data = ["b", "a", "c"]
    labels = ["a", "b", "c"]
    assert onecold(onehotbatch(data, labels), labels) == data


def test_onecold_errors():
    with pytest.raises(ValueError, match="2 labels|3 labels"):
        onecold([0.3, 0.2], ("a", "b", "c"))
    with pytest.raises(ValueError, match="labels"):
        onecold([0.3, 0.2, 0.5, 0.99], ("a", "b", "c"))
    with pytest.raises(ValueError, match="nan"):
        onecold([0.3, math.nan, 0.5], ("a", "b", "c"))


def test_flux_docs_examples():
    labels = ["a", "b", "c"]
    assert torch.equal(onehot("b", labels), torch.tensor([0., 1., 0.]))
    assert onecold(onehot("c", labels), labels) == "c"
    assert onecold([True, False, False], labels) == "a"
    assert onecold([0.3, 0.2, 0.5], labels) == "c"
    oh = onehotbatch(["b", "a", "b"], labels)
    assert torch.equal(oh, julia([[0, 1, 0], [1, 0, 1], [0, 0, 0]]))
    assert onecold(oh, labels) == ["b", "a", "b"]


def test_onecold_array_labels_compare_elementwise():
    y = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert torch.equal(onecold(y, range(10, 12)), torch.tensor([11, 10, 11]))
    assert torch.equal(onecold(y, torch.tensor([5, 6])), torch.tensor([6, 5, 6]))
    np.testing.assert_array_equal(onecold(y, np.array(["n", "y"])), np.array(["y", "n", "y"]))
    # accuracy as in Flux's tutorials: mean(onecold(ŷ) .== onecold(y))
    target = onehotbatch([1, 1, 1], range(2))
    assert (onecold(y) == onecold(target)).float().mean().item() == pytest.approx(2 / 3)
