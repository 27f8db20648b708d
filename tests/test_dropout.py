"""Dropout and AlphaDropout against torch.nn.functional (same RNG stream / same formula) and the
checks of Flux v0.14's test/layers/normalisation.jl ("Dropout", "AlphaDropout").

Flux's `dims` (which dims get independent random choices, 1-based, batch last) is `dim` here
(0-based over the batch-first shape): Flux's dims=3 on WHCN is dim=1 on (N, C, H, W).
"""
import pytest
import torch
import torch.nn.functional as F

import flux_torch as Flux
from flux_torch import Chain, Dense, f64, gradient, params, trainmode_
from flux_torch import testmode_ as set_testmode   # (a name starting with test_ would be collected)
from flux_torch.layers.dropout import AlphaDropout, Dropout


def in_gradient(m, x):
    """Flux's `evalwgrad`: the layer's output computed inside a gradient call."""
    out = []

    def f(x):
        y = m(x)
        out.append(y.detach())
        return y.real.sum()
    gradient(f, x)
    return out[0]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ Dropout

@pytest.mark.parametrize("x", [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1 + 0j, 2 + 1j, 3 + 3j])])
@pytest.mark.parametrize("rng", [None, gen()])
def test_dropout_inactive_and_extreme_p(x, rng):
    assert torch.equal(Dropout(0.1, rng=rng)(x), x)
    assert Dropout(0.1, rng=rng)(x) is x
    assert torch.equal(in_gradient(Dropout(0, rng=rng), x), x)
    assert torch.equal(in_gradient(Dropout(1, rng=rng), x), torch.zeros_like(x))


@pytest.mark.parametrize("rng", [None, gen(1)])
def test_dropout_active_only_in_gradient_or_forced(rng):
    x = torch.rand(100) + 0.5
    m = Dropout(0.9, rng=rng)
    y = in_gradient(m, x)
    assert (y == 0).sum() > 50
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / (1 - 0.9))
    set_testmode(m, True)
    assert (in_gradient(m, x) == 0).sum() == 0             # forced test mode overrides gradient
    set_testmode(m, False)
    assert (in_gradient(m, x) == 0).sum() > 50
    set_testmode(m)
    assert (m(x) == 0).sum() == 0
    trainmode_(m)
    assert (m(x) == 0).sum() > 50                          # forced training outside gradient
    trainmode_(m, "auto")
    assert m.active is None and torch.equal(m(x), x)
    assert (in_gradient(Dropout(0.9, active=False), x) == 0).sum() == 0
    assert Dropout(0.5, active=True).active is True
    with pytest.raises(ValueError, match="active"):
        Dropout(0.5, active="something_else")


def test_dropout_inside_chain():
    x = torch.rand(7, 100)
    m = Chain(Dense(100, 100), Dropout(0.9))
    assert (in_gradient(m, x) == 0).sum() > 50 * 7
    set_testmode(m)
    assert (in_gradient(m, x) == 0).sum() == 0


def test_dropout_flux_doc_example():
    m = Chain(Dense(torch.ones(3, 2)), Dropout(0.4))
    assert torch.equal(m(torch.ones(7, 2)), torch.full((7, 3), 2.0))
    trainmode_(m)
    assert "Dropout(0.4, active=True)," in repr(m)
    y = m(torch.ones(10_000, 2))
    assert abs(float(y.mean()) - 2) < 0.05
    assert abs(float((y == 0).float().mean()) - 0.4) < 0.02


def test_dropout_same_mask_as_torch_and_gradient():
    x = torch.randn(8, 20, generator=gen(2))
    w = torch.randn(8, 20, generator=gen(3))
    m = Dropout(0.3)
    torch.manual_seed(11)
    out = []

    def f(x):
        y = m(x)
        out.append(y.detach())
        return (y * w).sum()
    (gx,) = gradient(f, x)
    torch.manual_seed(11)
    xt = x.clone().requires_grad_()
    yt = F.dropout(xt, 0.3, training=True)
    (yt * w).sum().backward()
    torch.testing.assert_close(out[0], yt.detach())
    torch.testing.assert_close(gx, xt.grad)


def test_dropout_dim_masks_shared_along_other_dims():
    x = torch.rand(50, 100) + 0.5
    # Flux: x 100×50, dims=2 -> here dim=0: whole rows (samples) kept or dropped
    y = trainmode_(Dropout(0.5, dim=0))(x)
    zero = y == 0
    assert torch.equal(zero.all(dim=1), zero.any(dim=1))
    c = zero.sum(dim=0)
    assert c.min() == c.max()
    y = trainmode_(Dropout(0.5, dim=1))(x)                     # Flux dims=1: per feature
    c = (y == 0).sum(dim=1)
    assert c.min() == c.max()
    img = torch.rand(4, 16, 5, 5) + 0.5                        # Flux's dims=3 on WHCN
    y = trainmode_(Dropout(0.5, dim=1))(img)
    z = (y == 0)
    assert torch.equal(z.amax(dim=(0, 2, 3)), z.amin(dim=(0, 2, 3)))   # channel dropped for all samples
    y = trainmode_(Dropout(0.5, dim=(0, -3)))(img)             # torch's Dropout2d: per sample and channel
    z = (y == 0)
    assert torch.equal(z.amax(dim=(2, 3)), z.amin(dim=(2, 3)))
    assert 0 < z.float().mean() < 1
    kept = ~z
    torch.testing.assert_close(y[kept], img[kept] * 2)


def test_dropout_rng_reproducible():
    x = torch.ones(1000)
    a = trainmode_(Dropout(0.5, rng=gen(5)))(x)
    b = trainmode_(Dropout(0.5, rng=gen(5)))(x)
    assert torch.equal(a, b)
    assert not torch.equal(a, trainmode_(Dropout(0.5, rng=gen(6)))(x))


def test_dropout_errors():
    with pytest.raises(ValueError, match=r"Dropout expects 0 ≤ p ≤ 1, but got p = 1.5"):
        Dropout(1.5)
    with pytest.raises(ValueError, match=r"p = -0.1"):
        Dropout(-0.1)
    with pytest.raises(ValueError, match=r"AlphaDropout.*p = 2"):
        AlphaDropout(2)
    with pytest.raises(TypeError,
                       match=r"Dropout takes dim=, not Flux's `dims`.*Dropout\(p, dim=1\) on \(N, C, H, W\)"):
        Dropout(0.5, dims=3)
    with pytest.raises(TypeError, match="torch.Generator"):
        Dropout(0.5, rng=42)
    with pytest.raises(ValueError, match="dim=3, out of range"):
        trainmode_(Dropout(0.5, dim=3))(torch.rand(2, 3))


def test_dropout_printing_counts_and_structure():
    assert repr(Dropout(0.3)) == "Dropout(0.3)"
    assert repr(set_testmode(Dropout(0.3))) == "Dropout(0.3, active=False)"
    assert repr(Dropout(0.5, dim=1)) == "Dropout(0.5, dim=1)"
    assert repr(AlphaDropout(0.2)) == "AlphaDropout(0.2)"
    assert len(params(Dropout(0.3))) == 0 and len(params(AlphaDropout(0.3))) == 0
    assert list(vars(Dropout(0.3))) == ["p", "dim", "active", "rng"]
    assert list(vars(AlphaDropout(0.3))) == ["p", "active", "rng"]
    assert repr(Chain(Dense(2, 3), Dropout(0.4))).splitlines()[2] == "  Dropout(0.4),"
    assert Flux.istraining() is False


def test_dropout_f64_and_input_kinds():
    m = f64(Dropout(0.5))
    assert isinstance(m, Dropout) and m.p == 0.5
    x = torch.rand(10, dtype=torch.float64)
    assert in_gradient(m, x).dtype == torch.float64
    y = Dropout(0.5)([1, 2, 3])
    assert y.dtype == torch.get_default_dtype() and y.tolist() == [1, 2, 3]


def test_dropout_second_derivative_is_zero():
    torch.manual_seed(0)
    h = Flux.hessian(lambda x: Dropout(0.5)(x).sum(), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert torch.equal(h, torch.zeros(3, 3, dtype=torch.float64))


# ------------------------------------------------------------------ AlphaDropout

@pytest.mark.parametrize("rng", [None, gen(7)])
def test_alphadropout_extremes_and_modes(rng):
    x = torch.tensor([1.0, 2.0, 3.0])
    assert torch.equal(AlphaDropout(0.1, rng=rng)(x), x)
    assert torch.equal(in_gradient(AlphaDropout(0, rng=rng), x), x)
    assert torch.equal(in_gradient(AlphaDropout(1, rng=rng), x), torch.zeros(3))
    x = torch.randn(100_000, generator=gen(8))
    m = AlphaDropout(0.5, rng=rng)
    y = in_gradient(m, x)
    assert abs(float(y.mean())) < 0.03 and abs(float(y.var()) - 1) < 0.03   # mean, variance kept
    set_testmode(m, True)
    assert torch.equal(in_gradient(m, x), x)
    set_testmode(m, False)
    y = in_gradient(m, x)
    assert abs(float(y.mean())) < 0.03 and abs(float(y.var()) - 1) < 0.03
    # (Flux's "40 < sum(m(ones(100))) < 130" check is left out: at p = 0.5 it fails whenever
    # fewer than 49 of the 100 inputs are kept, about 38% of draws; Flux skips it for seeded rngs)


def test_alphadropout_matches_torch_formula():
    p = 0.3
    # torch.nn.functional.alpha_dropout uses the same affine correction; recover its two maps
    zero_vals = torch.unique(F.alpha_dropout(torch.zeros(10_000), p, training=True))
    assert len(zero_vals) == 2
    kept_b, dropped = zero_vals.max(), zero_vals.min()
    ones_vals = torch.unique(F.alpha_dropout(torch.ones(10_000), p, training=True))
    a = ones_vals.max() - kept_b
    x = torch.randn(10_000, generator=gen(9))
    w = torch.randn(10_000, generator=gen(10))
    m = trainmode_(AlphaDropout(p, rng=gen(11)))
    out = []

    def f(x):
        y = m(x)
        out.append(y.detach())
        return (y * w).sum()
    (gx,) = gradient(f, x)
    y = out[0]
    drop = torch.isclose(y, dropped.expand_as(y), rtol=0, atol=1e-6)
    assert 0.25 < drop.float().mean() < 0.35
    torch.testing.assert_close(y[~drop], a * x[~drop] + kept_b)
    torch.testing.assert_close(gx, torch.where(drop, 0.0, a * w))


def test_alphadropout_flux_doc_example():
    x = torch.randn(1, 1000, generator=gen(12))
    m = trainmode_(Chain(Dense(1000, 1000, Flux.selu), AlphaDropout(0.2)))
    assert abs(float(x.std()) - float(m(x).std())) < 0.2
    assert repr(m[1]) == "AlphaDropout(0.2, active=True)"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_dropout_on_gpu():
    x = torch.ones(4, 64, 5, 5, device="cuda")
    for m in (Dropout(0.5), Dropout(0.5, dim=1), Dropout(0.5, rng=gen(1)), AlphaDropout(0.5, rng=gen(2))):
        y = trainmode_(m)(x)
        assert y.device.type == "cuda" and 0 < float((y == y.min()).float().mean()) < 1


def test_dropout_function_nnlib_doc_examples():
    # NNlib: dropout(ones(2, 10), 0.2) has entries 0 or 1.25 (always active, no mode)
    from flux_torch import dropout, dropout_
    y = dropout(torch.ones(10, 2), 0.2)
    assert set(y.flatten().tolist()) <= {0.0, 1.25}
    # mean(dropout(ones(10^4, 5), 0.2), dims=1) ≈ 1
    m = dropout(torch.ones(5, 10 ** 4), 0.2).mean(dim=-1)
    assert torch.allclose(m, torch.ones(5), atol=0.05)
    # dropout(ones(5, 5), 0.7, dims=1): whole Julia row the same -> dim=-1, shared along dim 0
    y = dropout(torch.ones(5, 5), 0.7, dim=-1)
    assert torch.equal(y, y[:1].expand(5, 5))
    assert all(v == 0 or abs(v - 1 / 0.3) < 1e-5 for v in y.flatten().tolist())
    # rng first, as Julia's dropout(rng, A, p)
    a = dropout(torch.Generator().manual_seed(3), torch.ones(100), 0.5)
    b = dropout(torch.ones(100), 0.5, rng=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert torch.equal(dropout(torch.ones(3), 0.0), torch.ones(3))
    with pytest.raises(TypeError, match="dim"):
        dropout(torch.ones(3), 0.5, dims=1)
    with pytest.raises(ValueError):
        dropout(torch.ones(3), 1.5)
    out = torch.empty(4)
    assert dropout_(out, torch.ones(4), 1.0) is out and torch.equal(out, torch.zeros(4))
