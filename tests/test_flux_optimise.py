"""Flux's tests of the ``Flux.Optimise`` rules and the implicit-style loop, translated.

Source: https://github.com/FluxML/Flux.jl, test/optimise.jl at v0.14.25
(commit 0567cb30a79e328a5077a6851ddbfe4db9b72d81). Flux v0.16.11 has no test/optimise.jl
(the old ``Flux.Optimise`` module is deprecated there); its rules are Optimisers.jl's,
see tests/test_optimisers_jl_rules.py. These tests are v0.14's, so the rules whose
meaning changed in v0.16 (``AdamW``, ``WeightDecay``, ``Optimiser``, ``ClipValue``) are
taken in their v0.14 forms, from ``flux_torch.optimise.v014``.

Julia trains each rule for 10^5 steps and then checks the loss. Here a loop stops as soon
as the loss is below the bound (checked every 100 steps) and fails if it is not after
10^5. Even so, a few rules need tens of thousands of steps (~20 s in all), so by default
only the fast ones run; ``FLUX_TORCH_LONG_TESTS=1`` runs them all. Every rule's step is
checked exactly in tests/test_rules.py, and each converges in
tests/test_optimisers_jl_rules.py. Batch first: Julia's ``w*x`` is ``x @ w.T``.
"""
import os

import pytest
import torch

import flux_torch as Flux
from flux_torch.optimise import (AdaBelief, AdaDelta, AdaGrad, AdaMax, Adam, AMSGrad, ClipNorm,
                                 Descent, ExpDecay, InvDecay, Momentum, NAdam, Nesterov, OAdam,
                                 RAdam, RMSProp, SignDecay)
from flux_torch.optimise.v014 import AdamW, ClipValue, Optimiser, WeightDecay

D = torch.float64
LONG = os.environ.get("FLUX_TORCH_LONG_TESTS") == "1"


def long_unless(fast):
    """Mark a rule that takes over ~2 s to converge: it runs with FLUX_TORCH_LONG_TESTS=1."""
    return pytest.mark.skipif(not (LONG or fast), reason=(
        "trains for up to 10^5 steps (seconds in Python); set FLUX_TORCH_LONG_TESTS=1 to run it"))


def mse(a, b):
    return ((a - b) ** 2).mean()


def converges(step, done, steps=10**5, every=100):
    for t in range(1, steps + 1):
        step()
        if t % every == 0 and done():
            return True
    return done()


OPTS = [(AdamW(), False), (AdaGrad(0.1), True), (AdaMax(), False), (AdaDelta(0.9), False),
        (AMSGrad(), False), (NAdam(), False), (RAdam(), False), (Descent(0.1), True), (Adam(), False),
        (OAdam(), False), (AdaBelief(), False), (Nesterov(), False), (RMSProp(), False),
        (Momentum(), True)]


def test_implicit_gradient_is_the_written_out_one():
    g = torch.Generator().manual_seed(0)
    w, w2, x = (torch.randn(s, generator=g, dtype=D) for s in [(10, 10), (10, 10), (10,)])
    gs = Flux.gradient(lambda: mse(x @ w.T, x @ w2.T), Flux.params([w2]))
    torch.testing.assert_close(gs[w2], mse_grad(x, w, w2))


def mse_grad(x, w, w2):
    """The gradient in w2 of mse(w*x, w2*x) for one vector x."""
    return 2 / x.numel() * torch.outer(x @ w2.T - x @ w.T, x)


@pytest.mark.parametrize("opt", [pytest.param(o, marks=long_unless(f)) for o, f in OPTS],
                         ids=[repr(o) for o, _ in OPTS])
def test_optimise(opt):
    g = torch.Generator().manual_seed(84)
    w = torch.randn(10, 10, generator=g, dtype=D)
    w2 = torch.randn(10, 10, generator=g, dtype=D)
    b = False

    def loss(x):
        return mse(x @ w.T, x @ w2.T + b)

    def step():
        θ = Flux.params([w2, b])
        x = torch.rand(10, generator=g, dtype=D)
        Flux.Optimise.update_(opt, θ, {w2: mse_grad(x, w, w2)})    # the gradient, written out

    assert converges(step, lambda: loss(torch.rand(10, 10, generator=g, dtype=D)) < 0.01)


@pytest.mark.parametrize("Opt", [pytest.param(InvDecay, marks=long_unless(False)), WeightDecay,
                                 pytest.param(ExpDecay, marks=long_unless(False)),
                                 pytest.param(SignDecay, marks=long_unless(False))],
                         ids=["InvDecay", "WeightDecay", "ExpDecay", "SignDecay"])
def test_optimiser(Opt):
    g = torch.Generator().manual_seed(42)
    w = torch.randn(10, 10, generator=g, dtype=D)
    w2 = torch.randn(10, 10, generator=g, dtype=D)
    opt = Optimiser(Opt(), Adam(0.001))

    def step():
        θ = Flux.Params([w2])
        x = torch.rand(10, generator=g, dtype=D)
        Flux.Optimise.update_(opt, θ, {w2: mse_grad(x, w, w2)})

    def loss(x):
        return mse(x @ w.T, x @ w2.T)

    assert converges(step, lambda: loss(torch.rand(10, 10, generator=g, dtype=D)) < 0.01)


def test_training_loop():
    # Test multiple callbacks (Julia: Flux.Optimise.runall(fs); here train_ takes the list)
    x = []
    fs = [lambda: None, lambda: x.append(1)]
    r = torch.rand(3, 3, dtype=D)
    Flux.train_(lambda x: (x * x).sum(), Flux.params(r), (r,), Descent(), cb=fs)
    assert x == [1]
    r0 = r.clone()
    Flux.train_(lambda x: (x * x).sum(), Flux.params(r), (r,), Descent())
    torch.testing.assert_close(r, r0 - 0.1 * 2 * r0)


def test_stop_on_nan():
    m = Flux.Dense(1, 1)
    m.weight.zero_()
    cnt = [0]

    def loss(i):
        cnt[0] += 1
        return (float("nan") if i == 51 else 1.0) * m(torch.tensor([1.0])).sum()
    with pytest.raises(FloatingPointError):     # Julia: DomainError
        Flux.train_(loss, Flux.params(m), range(1, 101), Descent(0.1))
    assert cnt[0] == 51     # stopped early
    assert m.weight[0, 0].item() == pytest.approx(-5)   # did not corrupt weights


def test_expdecay_sanity_check():
    o = ExpDecay(0.2, 0.5, 1, 1e-3)
    p = torch.zeros(1, dtype=D)
    s = o.init(p)
    eta_expected = [max(o.eta * 0.5 ** n, o.clip) for n in range(1, 9)]
    eta_actual = [o.apply([s], [p], [torch.ones(1, dtype=D)])[0].item() for _ in range(8)]
    assert eta_actual == eta_expected


def test_expdecay_starting_step():
    start = 4
    o = ExpDecay(0.2, 0.5, 1, 1e-3, start)
    p = torch.zeros(1, dtype=D)
    s = o.init(p)
    eta_expected = [max(o.eta * 0.5 ** max(n - start, 0), o.clip) for n in range(1, 9)]
    eta_actual = [o.apply([s], [p], [torch.ones(1, dtype=D)])[0].item() for _ in range(8)]
    assert eta_actual == eta_expected


def test_expdecay_decays_at_the_decay_steps():
    # Julia reads the decayed rate from o.eta, which its ExpDecay overwrites; here eta stays the
    # starting rate (docs/porting.md) and the rate is the update divided by the gradient. Julia
    # runs 10^5 steps; from step 4000 on the rate is the clip value for good, so 5000 show it all.
    g = torch.Generator().manual_seed(5)
    w = torch.randn(10, 10, generator=g, dtype=D)
    o = ExpDecay(0.1, 0.1, 1000, 1e-4)
    w1 = torch.randn(10, 10, generator=g, dtype=D)
    state = o.init(w1)
    decay_steps, prev_eta, flag = [], o.eta, True
    for t in range(1, 5001):
        x = torch.rand(10, generator=g, dtype=D)
        grad = mse_grad(x, w, w1)
        delta = o.apply([state], [w1], [grad.clone()])[0]
        w1 -= delta
        eta = o.rate(t)
        if eta != prev_eta:
            decay_steps.append(t)
        prev_eta = eta
        if not torch.equal(eta * grad, delta):
            flag = False
    assert flag
    assert decay_steps == [1000, 2000, 3000, 4000]
    assert prev_eta == o.clip


@pytest.mark.xfail(reason="deliberate: ExpDecay keeps eta as the starting rate instead of "
                          "overwriting it as it decays (docs/porting.md, Optimisers and training)",
                   strict=True)
def test_expdecay_eta_reaches_clip():
    o = ExpDecay(0.1, 0.1, 1000, 1e-4)
    x = torch.zeros(1)
    s = o.init(x)
    for _ in range(5000):
        o.apply([s], [x], [torch.ones(1)])
    assert o.eta == o.clip


def test_clipping():
    g = torch.Generator().manual_seed(6)
    w = torch.randn(10, 10, generator=g, dtype=D)
    x = 1000 * torch.randn(10, generator=g, dtype=D)
    wbar = Flux.gradient(lambda: (x @ w.T).sum(), Flux.params([w]))[w]
    wbar_value = ClipValue(1.0).apply([()], [w], [wbar.clone()])[0]
    assert (wbar_value <= 1).all()
    wbar_norm = ClipNorm(1.0).apply([()], [w], [wbar.clone()])[0]
    assert torch.linalg.vector_norm(wbar_norm) <= 1 + 1e-12


def test_update_handles_fills_from_zygote():
    # FillArrays.Ones is Julia-only; the same gradient as an ordinary tensor of ones
    g = torch.Generator().manual_seed(7)
    w = torch.randn(10, 10, generator=g, dtype=D)
    wold = w.clone()
    Flux.update_(Descent(0.1), w, torch.ones(w.shape, dtype=D))
    torch.testing.assert_close(w, wold - 0.1)

    w = torch.randn(3, generator=g, dtype=D)
    wold = w.clone()
    θ = Flux.params([w])
    gs = Flux.gradient(lambda: w[0], θ)
    Flux.update_(Descent(0.1), θ, gs)
    torch.testing.assert_close(w[0], wold[0] - 0.1)
    torch.testing.assert_close(w[1:], wold[1:])

    # Issue #1510
    w = torch.randn(10, 10, generator=g, dtype=D)
    wold = w.clone()
    θ = Flux.params([w])
    gs = Flux.gradient(lambda: w.sum(), θ)
    Flux.update_(Descent(0.1), θ, gs)
    torch.testing.assert_close(w, wold - 0.1)


@pytest.mark.skip(reason="ComponentArrays (a flat vector with named parts) is a Julia-only type")
def test_update_handles_component_arrays():
    pass


@pytest.mark.parametrize("opt_ctor", [Adam, RMSProp, RAdam, OAdam, AdaGrad, AdaDelta, NAdam, AdaBelief],
                         ids=lambda c: c.__name__)
def test_momentum_optimisers_and_complex_values(opt_ctor):
    # Flux PR #1776: the second moments must use Δ * conj(Δ), not Δ^2
    w = torch.zeros(1, dtype=torch.complex64)

    def loss():
        x = torch.ones(1, 1, dtype=torch.complex64) * (1 + 1j)
        return (w * x - x.conj()).abs().pow(2).sum()

    params = Flux.Params([w])
    opt = opt_ctor(1e-2)
    last = float("inf")
    for _ in range(10):
        grads = Flux.gradient(loss, params)
        assert loss().item() < last
        last = loss().item()
        Flux.update_(opt, params, grads)
