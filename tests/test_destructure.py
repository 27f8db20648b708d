"""destructure / Restructure against Optimisers.jl's documented values, torch.autograd and
torch.func."""
import pytest
import torch

import flux_torch as Flux
from flux_torch.destructure import Restructure, destructure
from flux_torch.layers import BatchNorm, Chain, Dense


def test_optimisers_docstring_example():
    # destructure((x=[1.0, 2.0], y=(sin, [3.0 + 4.0im])))
    #   == (ComplexF64[1.0 + 0.0im, 2.0 + 0.0im, 3.0 + 4.0im], Restructure(NamedTuple, ..., 3))
    model = {"x": torch.tensor([1.0, 2.0], dtype=torch.float64),
             "y": (torch.sin, torch.tensor([3.0 + 4.0j], dtype=torch.complex128))}
    v, re = destructure(model)
    assert v.dtype == torch.complex128
    assert torch.equal(v, torch.tensor([1 + 0j, 2 + 0j, 3 + 4j], dtype=torch.complex128))
    assert repr(re) == "Restructure(dict, ..., 3)" and len(re) == 3
    # re([3, 5, 7+11im]) == (x = [3.0, 5.0], y = (sin, ComplexF64[7.0 + 11.0im]))
    out = re([3, 5, 7 + 11j])
    assert out["x"].dtype == torch.float64 and torch.equal(out["x"], torch.tensor([3.0, 5.0], dtype=torch.float64))
    assert out["y"][0] is torch.sin
    assert torch.equal(out["y"][1], torch.tensor([7 + 11j], dtype=torch.complex128))


def test_brief_example_and_integers_left_out():
    # (x=[1,2,3], y=(sin, [4,5])) -> [1,2,3,4,5]; integer arrays are not parameters (isnumeric)
    v, re = destructure({"x": torch.tensor([1.0, 2, 3]), "y": (torch.sin, torch.tensor([4.0, 5])),
                         "ids": torch.tensor([7, 8])})
    assert torch.equal(v, torch.tensor([1.0, 2, 3, 4, 5]))
    out = re(torch.tensor([9.0, 8, 7, 6, 5]))
    assert torch.equal(out["x"], torch.tensor([9.0, 8, 7])) and torch.equal(out["y"][1], torch.tensor([6.0, 5]))
    assert torch.equal(out["ids"], torch.tensor([7, 8]))


def test_restructure_docstring_dense():
    # Optimisers: destructure(Dense([1 2; 3 4], [0, 0], sigmoid)) -> Restructure(Dense, ..., 6);
    # re(-4:1) is Dense(2, 2, σ) and m([0.2, 0.3]) ≈ re([0.2, 0.3], -4:1). Flat order is row-major here.
    d = Dense(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.zeros(2), Flux.σ)
    flat, re = destructure(d)
    assert torch.equal(flat, torch.tensor([1.0, 2, 3, 4, 0, 0]))
    assert repr(re) == "Restructure(Dense, ..., 6)"
    m = re(torch.arange(-4.0, 2.0))
    assert isinstance(m, Dense) and m.σ is Flux.σ
    x = torch.tensor([0.2, 0.3])
    assert torch.equal(m(x), re(x, torch.arange(-4.0, 2.0)))
    assert torch.equal(m(x), torch.sigmoid(torch.tensor([[-4.0, -3], [-2, -1]]) @ x + torch.tensor([0.0, 1])))


def test_trainable_only_and_tied():
    w = torch.randn(3, 3)
    model = Chain(Dense(w, torch.zeros(3)), BatchNorm(3), Dense(w, torch.ones(3)))
    flat, re = destructure(model)
    # w once, then bias, β, γ, the second bias; running statistics are not trainable
    assert flat.shape == (9 + 3 + 3 + 3 + 3,)
    assert torch.equal(flat[:9], w.reshape(-1))
    new = re(torch.arange(21.0))
    assert new[0].weight is new[2].weight
    assert torch.equal(new[0].weight, torch.arange(9.0).reshape(3, 3))
    assert new[1].μ is model[1].μ
    assert torch.equal(new[1].β, torch.arange(12.0, 15)) and torch.equal(new[1].γ, torch.arange(15.0, 18))


def test_wrong_length_and_shape():
    _, re = destructure(Dense(2, 3))
    with pytest.raises(ValueError, match="expected a vector of length 9, but got length 4"):
        re(torch.zeros(4))
    with pytest.raises(ValueError, match="1-D"):
        re(torch.zeros(3, 3))


def test_rebuilt_is_a_copy_and_dtype_restored():
    d = Dense(2, 2)
    flat, re = destructure(d)
    v = torch.zeros(6, dtype=torch.float64)
    m = re(v)
    assert m.weight.dtype == torch.float32
    m.weight.add_(1)
    assert torch.equal(v, torch.zeros(6, dtype=torch.float64))


def _loss(m, x):
    return (m(x) ** 2).sum()


def test_gradient_through_restructure_matches_autograd():
    torch.manual_seed(0)
    model = Chain(Dense(3, 4, Flux.tanh), Dense(4, 2))
    x = torch.randn(5, 3)
    flat, re = destructure(model)
    g = Flux.gradient(lambda v: _loss(re(v), x), flat)[0]
    # oracle: torch.autograd on the model's own tensors, concatenated in the same order
    ps = [p.detach().clone().requires_grad_() for p in Flux.params(model)]
    W1, b1, W2, b2 = ps
    out = torch.tanh(x @ W1.T + b1) @ W2.T + b2
    gs = torch.autograd.grad((out ** 2).sum(), ps)
    torch.testing.assert_close(g, torch.cat([t.reshape(-1) for t in gs]))
    # torch.func.grad too
    g2 = torch.func.grad(lambda v: _loss(re(v), x))(flat)
    torch.testing.assert_close(g2, g)


def test_destructure_is_differentiable_with_respect_to_the_model():
    d = Dense(torch.tensor([[1.0, 2.0]]), torch.tensor([3.0]))
    g = Flux.gradient(lambda m: (destructure(m)[0] * torch.tensor([1.0, 10, 100])).sum(), d)[0]
    assert torch.equal(g.weight, torch.tensor([[1.0, 10.0]])) and torch.equal(g.bias, torch.tensor([100.0]))


def test_plain_tensor_and_empty():
    t = torch.arange(6.0).reshape(2, 3)
    flat, re = destructure(t)
    assert torch.equal(flat, torch.arange(6.0)) and torch.equal(re(flat + 1), t + 1)
    flat, re = destructure((torch.sin, 3))
    assert flat.numel() == 0 and len(re) == 0
    assert re(torch.zeros(0)) == (torch.sin, 3)


def test_restructure_is_exported_class():
    assert isinstance(destructure(Dense(1, 1))[1], Restructure)
