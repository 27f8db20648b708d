"""softmax / logsoftmax / logsumexp against torch twins, NNlib's doc values and
finite differences; Flux's dims= is refused with the mapping to dim=."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from flux_torch.softmax import logsoftmax, logsumexp, softmax


@pytest.fixture
def x():
    return torch.randn(5, 4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_nnlib_doc_values():
    # NNlib: softmax([1, 2, 3]) == [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
    got = softmax(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), [0.09003057317038046, 0.24472847105479764,
                                              0.6652409557748218], rtol=1e-15)
    # NNlib: softmax([1 2 3; 2 2 2]) (dims=1, a 2×3 Julia matrix = columns are samples);
    # batch first that is the 3×2 array [[1, 2], [2, 2], [3, 2]] normalised over dim=-1.
    got = softmax([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0]])
    np.testing.assert_allclose(got.T.numpy(), [[0.268941, 0.5, 0.731059],
                                               [0.731059, 0.5, 0.268941]], atol=1e-6)
    # ... and dims=2 (over the Julia rows) is dim=0 here
    got = softmax([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0]], dim=0)
    np.testing.assert_allclose(got.T.numpy(), [[0.0900306, 0.244728, 0.665241],
                                               [1 / 3, 1 / 3, 1 / 3]], atol=1e-6)


@pytest.mark.parametrize("dim", [-1, 0, 1, 2, -2])
def test_match_torch_twins(x, dim):
    torch.testing.assert_close(softmax(x, dim=dim), F.softmax(x, dim=dim))
    torch.testing.assert_close(logsoftmax(x, dim=dim), F.log_softmax(x, dim=dim))
    torch.testing.assert_close(logsumexp(x, dim=dim), torch.logsumexp(x, dim, keepdim=True))
    torch.testing.assert_close(logsumexp(x, dim=dim, keepdim=False), torch.logsumexp(x, dim))


def test_default_is_feature_dim_of_batch_first(x):
    torch.testing.assert_close(softmax(x), F.softmax(x, dim=-1))
    torch.testing.assert_close(logsoftmax(x), F.log_softmax(x, dim=-1))
    v = torch.tensor([0.5, -1.0, 2.0])
    torch.testing.assert_close(softmax(v), F.softmax(v, dim=0))
    nc = torch.randn(7, 4)
    torch.testing.assert_close(softmax(nc).sum(dim=1), torch.ones(7))


def test_tuple_and_all_dims(x):
    flat = x.reshape(-1)
    torch.testing.assert_close(softmax(x, dim=None), F.softmax(flat, 0).reshape(x.shape))
    torch.testing.assert_close(logsoftmax(x, dim=None), F.log_softmax(flat, 0).reshape(x.shape))
    y = softmax(x, dim=(1, 2))
    ref = F.softmax(x.reshape(5, 12), dim=1).reshape(x.shape)
    torch.testing.assert_close(y, ref)
    torch.testing.assert_close(logsoftmax(x, dim=(1, 2)), torch.log(ref))


def test_logsumexp_default_reduces_everything(x):
    # NNlib: logsumexp(x; dims = :) is a scalar.
    out = logsumexp(x)
    assert out.shape == ()
    assert out.item() == pytest.approx(math.log(np.exp(x.numpy()).sum()), rel=1e-14)
    assert logsumexp(x, keepdim=True).shape == (1, 1, 1)
    assert logsumexp([0.0, 0.0]).item() == pytest.approx(math.log(2))
    assert logsumexp(3.0) == 3.0 and type(logsumexp(3)) is float
    # stable for large values, where the naive formula overflows
    assert logsumexp(torch.tensor([1000.0, 1000.0])).item() == pytest.approx(1000 + math.log(2))


def test_logsumexp_keeps_dim_so_it_broadcasts_like_flux(x):
    torch.testing.assert_close(x - logsumexp(x, dim=-1), F.log_softmax(x, dim=-1))
    assert logsumexp(x, dim=(0, 2)).shape == (1, 4, 1)


def test_inputs_lists_numpy_ints():
    ref = F.softmax(torch.tensor([1.0, 2.0, 3.0]), dim=0)
    torch.testing.assert_close(softmax([1, 2, 3]), ref)                 # ints -> float32
    torch.testing.assert_close(softmax(np.array([1.0, 2.0, 3.0], dtype=np.float32)), ref)
    assert softmax(np.array([1.0, 2.0])).dtype == torch.float64
    torch.testing.assert_close(logsoftmax(torch.tensor([[1, 2, 3]])), torch.log(ref)[None])
    assert logsumexp(np.array([1, 2, 3])).item() == pytest.approx(math.log(sum(math.exp(i) for i in (1, 2, 3))))


def test_stability_with_large_and_infinite_values():
    y = softmax(torch.tensor([1000.0, 1000.0, -math.inf]))
    torch.testing.assert_close(y, torch.tensor([0.5, 0.5, 0.0]))
    assert torch.isfinite(logsoftmax(torch.tensor([1e4, 0.0]))).all()


def test_number_input_refused_for_softmax():
    for f in (softmax, logsoftmax):
        with pytest.raises(TypeError, match="number"):
            f(2.0)


@pytest.mark.parametrize("f", [softmax, logsoftmax, logsumexp])
def test_dims_keyword_raises_with_mapping(f):
    with pytest.raises(TypeError, match=r"takes dim=, not Flux's .dims.*dims=1 \(features\) is dim=-1"):
        f(torch.ones(2, 3), dims=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
        f(torch.ones(2, 3), axis=1)


@pytest.mark.parametrize("f", [softmax, logsoftmax, logsumexp])
@pytest.mark.parametrize("dim", [-1, 0, None, (0, 1)])
def test_gradients_finite_differences(f, dim):
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x.requires_grad_(True)
    w = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    g = lambda t: (f(t, dim=dim) * w).sum() if f is not logsumexp else f(t, dim=dim).sum()
    assert torch.autograd.gradcheck(g, (x,))
    assert torch.autograd.gradgradcheck(g, (x,))


def test_logsumexp_gradient_is_softmax():
    x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    (gx,) = torch.autograd.grad(logsumexp(x, dim=-1).sum(), x)
    torch.testing.assert_close(gx, F.softmax(x.detach(), dim=-1))
