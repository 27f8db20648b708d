"""Flux's own tests, translated: FluxML/Flux.jl test/layers/stateless.jl at v0.16.11 (commit
443ed1bc8c157168e4fe99a045f42014ae26def8), the same at v0.14.25 (commit
0567cb30a79e328a5077a6851ddbfe4db9b72d81) but for its imports. Shapes reversed (batch first):
Flux's ``dims=ndims(x)``, the last dim, is ``dim=0``. Both Flux versions' ``normalise`` are run,
and checked against their formulas in float64."""
import pytest
import torch

import flux_torch as Flux
from flux_checks import v014_namespace


def test_flatten():
    x = torch.randn(2, 3, 10, 10)                      # Flux's randn(Float32, 10, 10, 3, 2)
    assert Flux.flatten(x).shape == (2, 300)           # Flux's (300, 2)


@pytest.mark.parametrize("ns", [Flux, "v014"], ids=["v016", "v014"])
def test_normalise(ns):
    F = v014_namespace() if ns == "v014" else ns
    x = torch.randn(2, 2, 3)                           # Flux's randn(Float32, 3, 2, 2)
    assert torch.equal(F.normalise(x), F.normalise(x, dim=0))          # dims=3 by default
    d = x.double()
    μ, σ2 = d.mean(dim=0, keepdim=True), d.var(dim=0, correction=0, keepdim=True)
    want = (d - μ) / (σ2.sqrt() + 1e-5) if ns == "v014" else (d - μ) / (σ2 + 1e-5).sqrt()
    torch.testing.assert_close(F.normalise(d), want)
