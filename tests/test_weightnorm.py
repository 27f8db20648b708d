"""WeightNorm against torch's own weight normalisation
(``torch.nn.utils.parametrizations.weight_norm``) and the formula in float64; Flux's dims
mapped to torch's shapes (docs/porting.md, WeightNorm)."""
import copy

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

import flux_torch as Flux
from flux_torch import Chain, Conv, ConvTranspose, Dense, Embedding, WeightNorm, gradient, remove_weight_norms
from flux_torch.layers.weightnorm import reparametrize

f64 = torch.float64


def test_dense_matches_torch_weight_norm():
    lin = nn.Linear(4, 3).double()
    twin = weight_norm(copy.deepcopy(lin), dim=0)                   # g per output row, as Flux's dims=2
    d = Dense(lin.weight.detach().clone(), lin.bias.detach().clone())
    wn = WeightNorm(d)
    assert wn.dim == 1 and wn.g.shape == (3, 1)
    torch.testing.assert_close(wn.g, twin.parametrizations.weight.original0.detach())
    x = torch.randn(5, 4, dtype=f64)
    torch.testing.assert_close(wn(x), twin(x).detach())
    w = torch.randn(5, 3, dtype=f64)
    g = gradient(lambda m: (m(x) * w).sum(), wn)[0]
    (twin(x) * w).sum().backward()
    p = twin.parametrizations.weight
    torch.testing.assert_close(g.g, p.original0.grad)
    torch.testing.assert_close(g.layer.weight, p.original1.grad)
    torch.testing.assert_close(g.layer.bias, twin.bias.grad)


def test_conv_default_is_flux_dims_and_torch_dim_is_explicit():
    c = Flux.f64(Conv((3,), 2, 4))
    wn = WeightNorm(c)                                              # Flux: sum over the output dim
    assert wn.dim == 0 and wn.g.shape == (1, 2, 3)                  # Flux's g is 3×2×1
    v = c.weight
    torch.testing.assert_close(reparametrize(wn).weight, v)         # starts as the layer itself
    # torch's weight_norm(dim=0) keeps the output dim: flux_torch's dim=(1, 2)
    conv = nn.Conv1d(2, 4, 3).double()
    twin = weight_norm(copy.deepcopy(conv), dim=0)
    wn = WeightNorm(Conv(conv.weight.detach().clone(), conv.bias.detach().clone()), dim=(1, 2))
    x = torch.randn(2, 2, 7, dtype=f64)
    torch.testing.assert_close(wn(x), twin(x).detach())
    g = gradient(lambda m: m(x).square().sum(), wn)[0]
    twin(x).square().sum().backward()
    torch.testing.assert_close(g.g, twin.parametrizations.weight.original0.grad)
    torch.testing.assert_close(g.layer.weight, twin.parametrizations.weight.original1.grad)


def test_formula_and_gradient_in_float64():
    """w = g v / sqrt(sum(v², dim) + eps): d/dg and d/dv by hand, for a scaled g."""
    d = Flux.f64(Dense(3, 2))
    wn = WeightNorm(d)
    with torch.no_grad():
        wn.g.mul_(torch.tensor([[2.0], [0.5]], dtype=f64))
    v, gg = d.weight, wn.g
    eps = torch.finfo(f64).eps
    n = torch.sqrt((v ** 2).sum(dim=1, keepdim=True) + eps)
    x = torch.randn(4, 3, dtype=f64)
    torch.testing.assert_close(wn(x), x @ (gg * v / n).T + d.bias)
    grad = gradient(lambda m: m(x).sum(), wn)[0]
    gw = torch.ones(4, 2, dtype=f64).T @ x                          # dL/dw
    torch.testing.assert_close(grad.g, (gw * v / n).sum(dim=1, keepdim=True))
    want_v = gg / n * gw - gg * (gw * v).sum(dim=1, keepdim=True) * v / n ** 3
    torch.testing.assert_close(grad.layer.weight, want_v)


def test_reversed_layouts_and_explicit_dims():
    e = Embedding(5, 3)
    assert WeightNorm(e).g.shape == (1, 3)                          # Flux's 3×1: over the vocabulary
    t = ConvTranspose((2, 2), 3, 4)
    assert WeightNorm(t).g.shape == (1, 4, 2, 2)
    assert WeightNorm(Dense(3, 2), dim=0).g.shape == (1, 3)
    assert WeightNorm(Dense(3, 2), dim=(0, 1)).g.shape == (1, 1)
    with pytest.raises(ValueError, match="dim=2"):
        WeightNorm(Dense(3, 2), dim=2)
    with pytest.raises(TypeError, match="string"):
        WeightNorm(Dense(3, 2), 1)
    with pytest.raises(TypeError, match="torch.nn.utils.parametrizations.weight_norm"):
        WeightNorm(nn.Linear(2, 3))


def test_printing_training_and_removal():
    m = Chain(WeightNorm(Dense(2, 3)), Dense(3, 1))
    assert repr(m[0]) == 'WeightNorm(Dense(2, 3), "weight", dim=1)  # 12 parameters'
    assert len(Flux.trainables(m)) == 5                            # weight, bias, g, weight, bias
    x, y = torch.randn(8, 2), torch.randn(8, 1)
    opt_state = Flux.setup(Flux.Adam(0.01), m)
    before = Flux.mse(m(x), y)
    for _ in range(20):
        Flux.train_(lambda m, x, y: Flux.mse(m(x), y), m, [(x, y)], opt_state)
    assert Flux.mse(m(x), y) < before
    plain = remove_weight_norms(m)
    assert isinstance(plain[0], Dense) and not plain[0].weight.requires_grad
    torch.testing.assert_close(plain(x), m(x))
