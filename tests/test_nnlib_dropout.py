"""NNlib's dropout tests, translated: FluxML/NNlib.jl test/dropout.jl at v0.9.36 (commit
4ed25976bb6c67a4f2d04630e26fd1f37fbde6eb). Shapes reversed (batch first): NNlib's ``dims=d``
(the dims with independent choices) is ``dim=-d``; a Julia ``rng`` is a ``torch.Generator``;
``dropout!`` is ``dropout_``; ChainRules' ``rrule`` is the gradient flux_torch computes.
``@inferred``, ``Diagonal`` and the Enzyme rules are Julia-only."""
import math

import pytest
import torch

import flux_torch as Flux
from flux_torch import dropout, dropout_

F64 = torch.float64


def test_basics():
    x1 = torch.randn(4, 3)                                       # Flux's randn(Float32, 3, 4)
    assert dropout(x1, 0.1).shape == (4, 3)
    assert dropout(x1, 0.2, dim=-2).shape == (4, 3)
    assert dropout(x1, 0.3, dim=(-1, -2)).shape == (4, 3)
    for kw in ({}, {"dim": -1}, {"dim": (-1, -2)}):
        assert dropout(x1, 0.1, **kw).dtype == torch.float32
    rng = torch.Generator().manual_seed(0)
    assert dropout(rng, x1, 0.1).shape == (4, 3)
    assert dropout(rng, x1, 0.1, dim=-2).shape == (4, 3)


def test_values():
    x1 = torch.randn(4, 3)
    assert torch.equal(dropout(x1, 0), x1)
    assert torch.equal(dropout(x1 + 0j, 0), x1 + 0j)
    assert torch.equal(dropout(x1, 1), torch.zeros_like(x1))
    assert torch.equal(dropout(x1 + 1j, 1), torch.zeros_like(x1 + 1j))
    d45 = dropout(torch.ones(100, 100, 100, dtype=torch.bool), 0.45)
    assert abs(float(d45.mean()) - 1) < 1e-2
    dpi2 = dropout(torch.full((1000,), math.pi, dtype=F64), 0.2)
    torch.testing.assert_close(torch.unique(dpi2), torch.tensor([0, 5 * math.pi / 4], dtype=F64))
    d33 = dropout(torch.full((1000, 10), 3), 0.3, dim=-2)        # Flux's fill(3, 10, 1000), dims=2
    torch.testing.assert_close(torch.unique(d33).double(), torch.tensor([0, 3 / (1 - 0.3)], dtype=F64))
    x2 = torch.tensor([1.0 + 0j, 2.0 + 1j, 3.0 + 3j])             # from Flux's tests
    assert dropout(x2, 0.5).dtype == x2.dtype and dropout(x2, 0.5, dim=-1).dtype == x2.dtype


def test_gradient_rule():
    """The gradient reuses the random choices: an input of zeros still gets them."""
    x = torch.cat([torch.ones(1, 1000), torch.zeros(1, 1000)]).double()   # hcat(trues, falses)
    y, back = Flux.pullback(lambda x: dropout(x, 0.45), x)
    dx = back(torch.full((2, 1000), 3.0, dtype=F64))[0]
    assert bool((dx[1] != 0).any())
    torch.testing.assert_close(torch.unique(dx), torch.tensor([0, 3 / (1 - 0.45)], dtype=F64))
    assert bool(((dx[0] != 0) == (y[0] != 0)).all())              # the mask the forward pass drew
    x2 = torch.tensor([1.0 + 0j, 2.0 + 1j, 3.0 + 3j])
    y2, back2 = Flux.pullback(lambda x: dropout(x, 0.5), x2)
    assert y2.is_complex() and back2(torch.ones_like(y2))[0].is_complex()


def test_zygote():
    x1 = torch.randn(4, 3)
    rng = torch.Generator().manual_seed(0)
    for f in (lambda x: dropout(x, 0.3).sum(), lambda x: dropout(rng, x, 0.3).sum(),
              lambda x: dropout(x, 0.3, dim=-1).sum()):
        g = Flux.gradient(f, x1)[0]
        assert g.dtype == torch.float32 and g.shape == (4, 3)
    assert torch.equal(Flux.gradient(lambda x: dropout(x, 0).sum(), x1)[0], torch.ones(4, 3))
    assert torch.equal(Flux.gradient(lambda x: dropout(x, 1).sum(), x1)[0], torch.zeros(4, 3))
    f1 = lambda x: dropout(x, 0.5).sum()
    x = torch.tensor([1.0, 2.0, 3.0], dtype=F64)
    assert torch.equal(Flux.hessian_reverse(f1, x), torch.zeros(3, 3, dtype=F64))
    assert torch.equal(Flux.hessian(f1, x), torch.zeros(3, 3, dtype=F64))   # @test_broken in Zygote


def test_bang():
    x1 = torch.randn(4, 3)
    y1 = torch.full_like(x1, float("nan"))
    assert torch.equal(dropout_(y1, x1, 0.0), x1) and torch.equal(y1, x1)
    rng = torch.Generator().manual_seed(0)
    assert torch.equal(dropout_(rng, y1, x1, 1), torch.zeros_like(x1)) and torch.equal(y1, torch.zeros_like(x1))


def test_errors():
    x1, y1 = torch.randn(4, 3), torch.empty(4, 3)
    with pytest.raises(ValueError):
        dropout(x1, -1)
    with pytest.raises(ValueError):
        dropout(x1, 2)
    with pytest.raises(ValueError):
        dropout_(y1, x1, 3)
