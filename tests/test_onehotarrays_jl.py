"""OneHotArrays.jl's own test suite, translated to flux_torch.

Source: github.com/FluxML/OneHotArrays.jl, tag v0.2.10, commit
3529e225c600ae0ec1d1bdcf2ab40b125d0a5ec3: test/onehot.jl, test/linalg.jl, test/gpu.jl
(test/array.jl is skipped, see below).

Translation (docs/porting.md): indices are 0-based and the class axis is the last one, so
Julia's `C × N` one-hot matrix is an `(N, C)` tensor here; Julia's `Bool[...]` results are
compared as booleans. `onehot`/`onehotbatch` return dense tensors (float32 by default,
`dtype=` picks another), not OneHotArrays' lazy OneHotVector/OneHotMatrix types, so the
tests of those types' own methods (array.jl's indexing, `cat`, `reshape`, `argmax`, `map`;
linalg.jl's `mul!`; `@inferred`) have no meaning here and are skipped with that reason.
linalg.jl's products are kept: they check that one-hot tensors multiply as Julia's do, with
Julia's matrices written as torch matrices of the same (rows, columns) and a Julia one-hot
matrix `C × N` as `onehotbatch(...).T`. Julia's `error`/ArgumentError/DimensionMismatch are
ValueError here, and torch's RuntimeError for a matrix product of the wrong shapes.
"""
import math

import pytest
import torch

from flux_torch.data import onecold, onehot, onehotbatch

LAZY = ("OneHotArrays' lazy OneHotVector/OneHotMatrix/OneHotArray types do not exist here: "
        "onehot returns a dense tensor (docs/porting.md), whose indexing, cat, reshape, argmax "
        "and mul! are torch's own")


def B(rows):
    """A Julia `Bool[...]` one-hot literal `C × N` (given by rows), as flux_torch's `(N, C)`."""
    return torch.tensor(rows, dtype=torch.bool).T


def hot(x):
    return x.bool()


# ---- test/onehot.jl ---------------------------------------------------------------------

def test_onehot_constructors():
    assert hot(onehot(20, range(10, 31, 10))).tolist() == [False, True, False]
    assert hot(onehot(20, (10, 20, 30))).tolist() == [False, True, False]
    assert hot(onehot(40, (10, 20, 30), 20)).tolist() == [False, True, False]
    for call in (lambda: onehot("d", "abc"), lambda: onehot("d", ("a", "b", "c")),
                 lambda: onehot("d", "abc", "e"), lambda: onehot("d", ("a", "b", "c"), "e")):
        with pytest.raises(ValueError):
            call()


def test_onehotbatch_constructors():
    assert torch.equal(hot(onehotbatch([20, 10], range(10, 31, 10))), B([[0, 1], [1, 0], [0, 0]]))
    assert torch.equal(hot(onehotbatch([20, 10], (10, 20, 30))), B([[0, 1], [1, 0], [0, 0]]))
    assert torch.equal(hot(onehotbatch([40, 10], (10, 20, 30), 20)), B([[0, 1], [1, 0], [0, 0]]))
    assert torch.equal(hot(onehotbatch("abc", "abc")), B([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))
    assert torch.equal(hot(onehotbatch("zbc", ("a", "b", "c"), "a")),
                       B([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))
    assert torch.equal(hot(onehotbatch([10, 20], [30, 40, 50], 30)), B([[1, 1], [0, 0], [0, 0]]))
    for labels in (["a", "b", "c"], ("a", "b", "c")):
        with pytest.raises(ValueError):
            onehotbatch(["a", "d"], labels)
        with pytest.raises(ValueError):
            onehotbatch(["a", "d"], labels, "e")


def test_float_labels_use_isequal():
    floats = (0.0, -0.0, math.nan, -math.nan, math.inf, -math.inf)
    assert onecold(onehot(0.0, floats)) == 0
    assert onecold(onehot(-0.0, floats)) == 1          # as it uses isequal
    assert onecold(onehot(math.inf, floats)) == 4


def test_unit_range_fast_path():
    assert torch.equal(onehotbatch([1, 3, 0, 4], range(0, 5)), onehotbatch([1, 3, 0, 4], tuple(range(5))))
    m = torch.tensor([[2, 3, 7, 4]]).T                  # Julia's 1×4 matrix [2 3 7 4]
    assert torch.equal(onehotbatch(m, range(2, 8)), onehotbatch(m, tuple(range(2, 8))))
    assert onehotbatch(m, range(2, 8)).shape == (4, 1, 6)  # Julia (6, 1, 4)
    for bad in ([2, -1], [2, 5]):
        with pytest.raises(ValueError):
            onehotbatch(bad, range(0, 5))


@pytest.mark.skip(reason="@inferred checks Julia's type inference (the values are tested above)")
def test_inferrability():
    pass


def test_onecold():
    a = [1, 2, 5, 3.0]
    A = torch.tensor([[1, 20, 5], [2, 7, 6], [3, 9, 10], [2, 1, 14]]).T   # Julia 4×3: 3 samples
    labels = ["A", "B", "C", "D"]
    assert onecold(a) == 2
    assert onecold(A).tolist() == [2, 0, 3]
    assert onecold(a, labels) == "C" and onecold(a, tuple(labels)) == "C"
    assert onecold(A, labels) == ["C", "A", "D"] and onecold(A, tuple(labels)) == ["C", "A", "D"]
    data, labels = ["b", "a", "c"], ["a", "b", "c"]
    assert onecold(onehotbatch(data, labels), labels) == data
    with pytest.raises(ValueError, match="labels"):               # DimensionMismatch
        onecold([0.3, 0.2], ("a", "b", "c"))
    with pytest.raises(ValueError, match="labels"):
        onecold([0.3, 0.2, 0.5, 0.99], ("a", "b", "c"))
    with pytest.raises(ValueError, match="nan"):                  # ArgumentError
        onecold([0.3, math.nan, 0.5], ("a", "b", "c"))


@pytest.mark.skip(reason=LAZY)
def test_onehotbatch_indexing_types():
    pass


# ---- test/array.jl ----------------------------------------------------------------------

@pytest.mark.skip(reason=LAZY)
def test_array_jl():
    pass


# ---- test/linalg.jl ---------------------------------------------------------------------

def test_matrix_times_onehot_vector():
    A = torch.tensor([[1, 3, 5], [2, 4, 6], [3, 6, 9]])
    v = torch.tensor([1, 2, 3, 4, 5])
    X = v.reshape(5, 1)
    b1 = onehot(0, range(3), dtype=A.dtype)            # OneHotVector(1, 3)
    b2 = onehot(2, range(5), dtype=A.dtype)            # OneHotVector(3, 5)
    assert torch.equal(A @ b1, A[:, 0])
    assert torch.equal(b1 @ A, A[0])                   # b1' * A
    assert torch.equal(A.T @ b1, A.T[:, 0])
    assert torch.equal(v @ b2, v[2])                   # v' * b2
    assert torch.equal(X.T @ b2, X.T[:, 2])
    with pytest.raises(RuntimeError):
        A @ b2


def test_matrix_times_onehot_matrix():
    A = torch.tensor([[1, 3, 5], [2, 4, 6], [3, 6, 9]])
    v = torch.tensor([1, 2, 3, 4, 5])
    X = v.reshape(5, 1)

    def julia(onehots):                                # flux_torch's (N, C) as Julia's C × N
        return onehots.to(A.dtype).T

    b1 = julia(onehotbatch([0, 0, 1, 1], range(3)))    # OneHotMatrix([1, 1, 2, 2], 3)
    b2 = julia(onehotbatch([1, 3, 0, 2], range(5)))    # OneHotMatrix([2, 4, 1, 3], 5)
    b3 = julia(onehotbatch([0, 0, 1], range(4)))       # OneHotMatrix([1, 1, 2], 4)
    # reshape(OneHotMatrix([1 2 3; 2 2 1], 3), 3, :): Julia's 3 × 2 × 3 array, column-major,
    # is the batch-first (3, 2, 3) tensor; Julia's reshape to 3 × 6 is ours to (6, 3)
    oh4 = onehotbatch(torch.tensor([[0, 1, 2], [1, 1, 0]]).T, range(3))
    b4 = julia(oh4.reshape(6, 3))
    b5 = julia(oh4.reshape(3, 6))                      # reshape(b4, 6, :)
    b6 = julia(onehotbatch(torch.tensor([[0, 1, 1], [1, 1, 0]]).T, range(2)).reshape(4, 3))
    b7 = julia(onehotbatch(torch.tensor([[0, 1, 2], [0, 1, 2]]).T, range(3)).reshape(3, 6))
    assert torch.equal(A @ b1, A[:, [0, 0, 1, 1]])
    assert torch.equal(b1.T @ A, A[[0, 0, 1, 1]])     # b1' * A
    assert torch.equal(A.T @ b1, A.T[:, [0, 0, 1, 1]])
    zero = torch.zeros(3, dtype=A.dtype)
    assert torch.equal(A @ b3.T, torch.stack([A[:, 0] + A[:, 1], A[:, 2], zero, zero], 1))
    assert torch.equal(X.T @ b2, X.T[:, [1, 3, 0, 2]])
    assert torch.equal(A @ b4, A[:, [0, 1, 1, 1, 2, 0]])
    want5 = torch.cat([A[:, [0, 1, 2, 2]], (A[:, 0] + A[:, 1])[:, None], zero[:, None]], 1)
    assert torch.equal(A @ b5.T, want5)
    want6 = torch.stack([A[:, 0], 2 * A[:, 1], A[:, 1], A[:, 0] + A[:, 1]], 1)
    assert torch.equal(A @ b6, want6)
    assert torch.equal(A @ b7.T, A[:, [0, 1, 2, 0, 1, 2]])
    for bad in (lambda: A @ b1.T, lambda: A @ b2, lambda: A @ b2.T, lambda: A @ b6.T,
                lambda: A @ b7):
        with pytest.raises(RuntimeError):             # DimensionMismatch
            bad()


@pytest.mark.skip(reason=LAZY)
def test_mul_inplace():
    pass


# ---- test/gpu.jl (CUDA only; Julia runs them with JLArrays otherwise) -------------------

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@cuda
def test_gpu_onehot_and_broadcast():
    x = onehotbatch([0, 1, 2], range(3))
    cx = x.cuda()
    assert (cx + 1).is_cuda
    xs, ys = torch.rand(5, 5), onehotbatch(range(5), range(5))
    assert torch.allclose((xs.cuda() + ys.cuda()).cpu(), xs + ys)


@cuda
def test_gpu_onehotbatch_of_cuda_data_and_onecold():
    y1 = onehotbatch([1, 3, 0, 2], range(10)).cuda()
    y2 = onehotbatch(torch.tensor([1, 3, 0, 2], device="cuda"), range(10))
    assert y2.is_cuda and torch.equal(y1, y2)
    with pytest.raises(ValueError):
        onehotbatch(torch.tensor([1, 3, 0, 2], device="cuda"), range(1, 11))
    y = onehotbatch(torch.ones(3, device="cuda"), range(1, 11))
    labels = list("abcdefghij")
    assert onecold(y).is_cuda and onecold(y).tolist() == [0, 0, 0]
    assert y[:, 2].is_cuda and y[:, 2].tolist() == [0, 0, 0]
    assert onecold(y, labels) == ["a", "a", "a"]


@cuda
def test_gpu_linear_algebra():
    y = onehotbatch(torch.ones(3, device="cuda"), range(1, 3)).T   # Julia's 2 × 3
    gA = torch.rand(3, 2, device="cuda")
    assert torch.allclose(gA @ y, gA[:, [0, 0, 0]])
    with pytest.raises(RuntimeError):
        torch.rand(3, 3, device="cuda") @ y
