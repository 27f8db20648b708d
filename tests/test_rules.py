"""Optimisation rules against torch.optim twins, against float64 transcriptions of
Optimisers.jl v0.4.8's apply! (where torch has no twin or a different convention), and
against the numbers in Optimisers.jl's and Flux v0.14's tests."""
import inspect
import math

import pytest
import torch

from flux_torch.optimise import v014
from flux_torch.optimise.adam import (ADAM, ADAMW, NADAM, OADAM, RADAM, AdaBelief, AdaMax, Adam,
                                      AdamW, AMSGrad, Lion, NAdam, OAdam, RAdam)
from flux_torch.optimise.mixed_precision import MixedPrecision
from flux_torch.optimise.modifiers import (AccumGrad, ClipGrad, ClipNorm, ClipValue, Optimiser,
                                           OptimiserChain, SignDecay, WeightDecay)
from flux_torch.optimise.rules import (ADADelta, ADAGrad, AdaDelta, AdaGrad, Descent, Momentum,
                                       Nesterov, RMSProp, Rprop)
from flux_torch.optimise.schedules import ExpDecay, InvDecay

SHAPES = [(3, 4), (5,), ()]


def data(steps=10, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    xs = [torch.randn(s, generator=g, dtype=dtype) for s in SHAPES]
    grads = [[torch.randn(s, generator=g, dtype=dtype) for s in SHAPES] for _ in range(steps)]
    if steps > 3:
        grads[3][0][0, 0] = 0.0   # an exact zero in the gradient
    return xs, grads


def run(rule, xs, grads, fused=False):
    """Our rule: init, then x -= apply(...) for each step, all leaves at once
    (``fused``: the same through ``apply_``)."""
    xs = [x.clone() for x in xs]
    states = [rule.init(x) for x in xs]
    for gs in grads:
        dxs = [g.clone() for g in gs]
        if fused:
            rule.apply_(states, xs, dxs)
            continue
        for x, u in zip(xs, rule.apply(states, xs, dxs)):
            x -= u
    return xs


def run_torch(cls, xs, grads, **kw):
    ps = [x.clone().requires_grad_() for x in xs]
    opt = cls(ps, **kw)
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = g.clone()
        opt.step()
    return [p.detach() for p in ps]


def close(a, b, rtol=1e-10, atol=1e-12):
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v, rtol=rtol, atol=atol)


# --- torch.optim twins ------------------------------------------------------------------
TWINS = [
    (Descent(0.3), torch.optim.SGD, dict(lr=0.3)),
    (Momentum(0.05, 0.8), torch.optim.SGD, dict(lr=0.05, momentum=0.8)),
    (Nesterov(0.05, 0.8), torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True)),
    (RMSProp(0.01, 0.85, 1e-6), torch.optim.RMSprop, dict(lr=0.01, alpha=0.85, eps=1e-6)),
    (RMSProp(0.01, 0.85, 1e-6, centred=True), torch.optim.RMSprop,
     dict(lr=0.01, alpha=0.85, eps=1e-6, centered=True)),
    (Adam(0.01, (0.8, 0.95), 1e-6), torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6)),
    (AdamW(0.01, (0.8, 0.95), 0.02, 1e-6), torch.optim.AdamW,
     dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.02)),
    (AdamW(0.01, (0.8, 0.95), 0.02, 1e-6, couple=False), torch.optim.AdamW,
     dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.02 / 0.01)),
    (v014.AdamW(0.01, (0.8, 0.95), 0.02, 1e-6), torch.optim.AdamW,
     dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.02 / 0.01)),
    (Rprop(0.01, (0.4, 1.3), (1e-4, 0.05)), torch.optim.Rprop,
     dict(lr=0.01, etas=(0.4, 1.3), step_sizes=(1e-4, 0.05))),
    (AdaGrad(0.1, 1e-6), torch.optim.Adagrad, dict(lr=0.1, eps=1e-6, initial_accumulator_value=1e-6)),
    (AdaDelta(0.85, 1e-6), torch.optim.Adadelta, dict(lr=1.0, rho=0.85, eps=1e-6)),
]


@pytest.mark.parametrize("rule, cls, kw", TWINS, ids=[repr(t[0]) for t in TWINS])
@pytest.mark.parametrize("fused", [False, True])
def test_against_torch_optim(rule, cls, kw, fused):
    xs, grads = data()
    close(run(rule, xs, grads, fused), run_torch(cls, xs, grads, **kw))
    xs32, grads32 = data(dtype=torch.float32)
    ours = run(rule, xs32, grads32, fused)
    assert all(x.dtype == torch.float32 for x in ours)
    close(ours, run_torch(cls, xs32, grads32, **kw), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("rule, cls, kw", [
    (Adam(0.01, (0.8, 0.95), 1e-6), torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6)),
    (AdamW(0.01, (0.8, 0.95), 0.02, 1e-6), torch.optim.AdamW,
     dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.02))], ids=["Adam", "AdamW"])
def test_adam_powers_of_leaves_that_stepped_apart(rule, cls, kw):
    """A parameter without a gradient for some steps keeps its βᵗ powers, so the leaves' powers
    differ from then on (the per-leaf way, not the shared one); torch.optim skips a parameter
    whose grad is None, keeping its own step count: the same arithmetic."""
    from flux_torch.optimise import setup, update_
    xs, grads = data()
    model = {"a": xs[0].clone(), "b": xs[1].clone(), "c": xs[2].clone()}
    state = setup(rule, model)
    ps = [x.clone().requires_grad_() for x in xs]
    opt = cls(ps, **kw)
    for t, gs in enumerate(grads):
        skip = t < 3        # "b" has no gradient for the first three steps
        update_(state, model, {"a": gs[0], "b": None if skip else gs[1], "c": gs[2]})
        for p, g, k in zip(ps, gs, "abc"):
            p.grad = None if (skip and k == "b") else g.clone()
        opt.step()
    assert state["a"].state[2] != state["b"].state[2]
    close([model[k] for k in "abc"], [p.detach() for p in ps])


# --- float64 transcriptions of Optimisers.jl v0.4.8 src/rules.jl ---------------------------
def ref_run(step, init, xs, grads):
    xs = [x.clone() for x in xs]
    states = [init(x) for x in xs]
    for gs in grads:
        for i, (x, g) in enumerate(zip(xs, gs)):
            states[i], dx = step(states[i], x, g)
            x -= dx
    return xs


def adam_like(eta, b, eps, kind):
    def init(x):
        z = torch.zeros_like(x)
        return {"radam": (z, z, b, 1), "oadam": (z, z, b, z),
                "amsgrad": (z + eps, z + eps, z + eps)}.get(kind, (z, z, b))

    def step(s, x, dx):
        if kind == "amsgrad":
            mt, vt, vh = s
            mt = b[0] * mt + (1 - b[0]) * dx
            vt = b[1] * vt + (1 - b[1]) * dx ** 2
            vh = torch.maximum(vh, vt)
            return (mt, vt, vh), eta * mt / (vh.sqrt() + eps)
        mt, vt, bt = s[:3]
        mt = b[0] * mt + (1 - b[0]) * dx
        if kind == "adamax":
            vt = torch.maximum(b[1] * vt, dx.abs())
            return (mt, vt, (bt[0] * b[0], bt[1] * b[1])), eta / (1 - bt[0]) * mt / (vt + eps)
        if kind == "adabelief":
            vt = b[1] * vt + (1 - b[1]) * (dx - mt) ** 2 + eps
        else:
            vt = b[1] * vt + (1 - b[1]) * dx ** 2
        nbt = (bt[0] * b[0], bt[1] * b[1])
        adam = mt / (1 - bt[0]) / ((vt / (1 - bt[1])).sqrt() + eps) * eta
        if kind == "nadam":
            upd = ((b[0] * mt / (1 - b[0] * bt[0]) + (1 - b[0]) * dx / (1 - bt[0]))
                   / ((vt * b[1] / (1 - bt[1])).sqrt() + eps) * eta)
            return (mt, vt, nbt), upd
        if kind == "oadam":
            return (mt, vt, nbt, adam), 2 * adam - s[3]
        if kind == "radam":
            t = s[3]
            rinf = 2 / (1 - b[1]) - 1
            rho = rinf - 2 * t * bt[1] / (1 - bt[1])
            if rho > 4:
                upd = adam * math.sqrt((rho - 4) * (rho - 2) * rinf / ((rinf - 4) * (rinf - 2) * rho))
            else:
                upd = mt / (1 - bt[0]) * eta
            return (mt, vt, nbt, t + 1), upd
        return (mt, vt, nbt), adam
    return step, init


def lion(eta, b):
    def step(m, x, dx):
        m = b[1] * dx + (1 - b[1]) * m
        return m, eta * torch.sign((b[1] - b[0]) * dx + b[0] * m)
    return step, torch.zeros_like


def adamw(eta, b, lam, eps, couple):
    step, init = adam_like(1.0, b, eps, "adam")

    def stepw(s, x, dx):
        s, adam = step(s, x, dx)
        return s, eta * (adam + lam * x) if couple else eta * adam + lam * x
    return stepw, init


def rprop(eta, ell, gamma):
    def init(x):
        return torch.zeros_like(x), torch.full_like(x, eta)

    def step(s, x, dx):
        g, steps = s
        new = torch.tensor([min(e * ell[1], gamma[1]) if gi * di > 0 else
                            max(e * ell[0], gamma[0]) if gi * di < 0 else e
                            for gi, e, di in zip(g.flatten().tolist(), steps.flatten().tolist(),
                                                 dx.flatten().tolist())], dtype=x.dtype)
        g = torch.where(g * dx < 0, 0.0, dx)
        new = new.reshape(x.shape)
        return (g, new), new * torch.sign(g)
    return step, init


# β2 = 0.9 takes RAdam through both of its branches (ρ > 4 from step 5) within 10 steps.
HAND = [
    (Adam(0.01, (0.8, 0.9), 1e-6), adam_like(0.01, (0.8, 0.9), 1e-6, "adam")),
    (RAdam(0.01, (0.8, 0.9), 1e-6), adam_like(0.01, (0.8, 0.9), 1e-6, "radam")),
    (AdaMax(0.01, (0.8, 0.9), 1e-6), adam_like(0.01, (0.8, 0.9), 1e-6, "adamax")),
    (AMSGrad(0.01, (0.8, 0.9), 1e-6), adam_like(0.01, (0.8, 0.9), 1e-6, "amsgrad")),
    (NAdam(0.01, (0.8, 0.9), 1e-6), adam_like(0.01, (0.8, 0.9), 1e-6, "nadam")),
    (OAdam(0.01, (0.6, 0.9), 1e-6), adam_like(0.01, (0.6, 0.9), 1e-6, "oadam")),
    (AdaBelief(0.01, (0.8, 0.9), 1e-6), adam_like(0.01, (0.8, 0.9), 1e-6, "adabelief")),
    (AdaBelief(), adam_like(0.001, (0.9, 0.999), 1e-16, "adabelief")),
    (Lion(0.01, (0.8, 0.9)), lion(0.01, (0.8, 0.9))),
    (AdamW(0.01, (0.8, 0.9), 0.3, 1e-6), adamw(0.01, (0.8, 0.9), 0.3, 1e-6, True)),
    (AdamW(0.01, (0.8, 0.9), 0.3, 1e-6, couple=False), adamw(0.01, (0.8, 0.9), 0.3, 1e-6, False)),
    # η starts outside Γ, where torch.optim.Rprop (clamping every step size) differs
    (Rprop(0.1, (0.5, 1.5), (1e-3, 0.05)), rprop(0.1, (0.5, 1.5), (1e-3, 0.05))),
]


@pytest.mark.parametrize("rule, ref", HAND, ids=[repr(t[0]) for t in HAND])
@pytest.mark.parametrize("fused", [False, True])
def test_against_optimisers_formula(rule, ref, fused):
    xs, grads = data()
    close(run(rule, xs, grads, fused), ref_run(*ref, xs, grads))


def test_radam_uses_both_branches():
    b2 = 0.9
    rinf = 2 / (1 - b2) - 1
    rhos = [rinf - 2 * t * b2 ** t / (1 - b2 ** t) for t in range(1, 11)]
    assert min(rhos) < 4 < max(rhos)


@pytest.mark.parametrize("rule", [Adam(0.01), RAdam(0.01, (0.8, 0.9)), NAdam(0.01)], ids=repr)
def test_per_leaf_step_counts(rule):
    # A leaf whose state starts 5 steps later keeps its own bias correction (and RAdam branch).
    xs, grads = data()
    a, b = xs[0].clone(), xs[1].clone()
    sa = rule.init(a)
    for t in range(5):
        a -= rule.apply([sa], [a], [grads[t][0].clone()])[0]
    sb = rule.init(b)
    for t in range(5, 8):
        ua, ub = rule.apply([sa, sb], [a, b], [grads[t][0].clone(), grads[t][1].clone()])
        a, b = a - ua, b - ub
    want = run(rule, [xs[0]], [[g[0]] for g in grads[:8]]) + run(rule, [xs[1]], [[g[1]] for g in grads[5:8]])
    close([a, b], want)


@pytest.mark.parametrize("rule", [Adam(0.01), RMSProp(0.01), RMSProp(0.01, centred=True), AdaGrad(),
                                  Momentum(0.1), NAdam(0.01), AdaBelief(0.01)], ids=repr)
def test_complex_uses_abs2(rule):
    # Optimisers.jl's abs2(dx) = |dx|²: a complex entry behaves like a real entry of the same modulus.
    x = torch.tensor([0.0 + 0.0j], dtype=torch.complex128)
    g = torch.tensor([3.0 + 4.0j], dtype=torch.complex128)
    gr = torch.tensor([5.0], dtype=torch.float64)
    upd = run(rule, [x], [[g]] * 3)[0]
    updr = run(rule, [torch.zeros(1, dtype=torch.float64)], [[gr]] * 3)[0]
    close([upd], [updr * (g / 5)])


def test_updates_do_not_alias_state():
    for rule in [Momentum(), Nesterov(), Adam(), OAdam(), AMSGrad(), Lion(), RAdam(), AdaMax(),
                 NAdam(), AdaBelief(), RMSProp(), AdaGrad(), AdaDelta(), ExpDecay(), InvDecay(),
                 OptimiserChain(Momentum(), ClipGrad(1e-3))]:
        xs, grads = data(steps=1)
        states = [rule.init(x) for x in xs]
        for u in rule.apply(states, xs, grads[0]):
            u.fill_(float("nan"))
        tensors = [t for s in states for t in torch.utils._pytree.tree_leaves(s)
                   if isinstance(t, torch.Tensor)]
        assert not any(t.isnan().any() for t in tensors), rule


def test_empty_lists():
    assert Adam().apply([], [], []) == []


# --- values from Optimisers.jl's test/runtests.jl and docstrings ----------------------------
def f64(*values):
    return torch.tensor(values, dtype=torch.float64)


def upd(rule, x, dx, fused=False):
    """One step from x with gradient dx, through apply or apply_."""
    x, dx = f64(*x), f64(*dx)
    if fused:
        rule.apply_([rule.init(x)], [x], [dx])
        return x
    return x - rule.apply([rule.init(x)], [x], [dx])[0]


@pytest.mark.parametrize("fused", [False, True])
def test_optimisers_jl_values(fused):
    x, dx = [1, 10, 100.0], [1, 2, 3.0]
    cases = [
        (WeightDecay(0.1), x, dx, f64(1 - 0.1 - 1, 10 - 1 - 2, 100 - 10 - 3)),
        (SignDecay(0.1), x, dx, f64(1 - 0.1 - 1, 10 - 0.1 - 2, 100 - 0.1 - 3)),
        (ClipGrad(2), x, dx, f64(1 - 1, 10 - 2, 100 - 2)),
        (OptimiserChain(ClipGrad(2), WeightDecay(0.1)), x, dx, f64(1 - 0.1 - 1, 10 - 1 - 2, 100 - 10 - 2)),
        (OptimiserChain(OptimiserChain(ClipGrad(2), WeightDecay(0.1))), x, dx,
         f64(1 - 0.1 - 1, 10 - 1 - 2, 100 - 10 - 2)),
        # reversed: decay, then clip (Optimisers.jl only checks that this differs)
        (OptimiserChain(WeightDecay(0.1), ClipGrad(2)), x, dx, f64(1 - 1.1, 10 - 2, 100 - 2)),
        (OptimiserChain(Descent(0.1)), x, dx, f64(0.9, 9.8, 99.7)),
        (OptimiserChain(), x, dx, f64(0, 8, 97)),
        (SignDecay(0.1), [1, -10, 100.0], [3, 2, -1.0], f64(1 - 0.1 - 3, -10 + 0.1 - 2, 100 - 0.1 + 1)),
        (OptimiserChain(ClipGrad(1.0), Descent(0.1)), [0, 0, 0.0], [0.3, 1, 7], f64(-0.03, -0.1, -0.1)),
        (ClipGrad(13), [0, 0, 0.0], [1, 10, 100], f64(-1, -10, -13)),
        (AdamW(0.1), [3, 4.0], [1, 1.0], f64(2.9, 3.9)),   # ≈: ϵ = 1e-8
    ]
    for rule, x0, g, want in cases:
        close([upd(rule, x0, g, fused)], [want], rtol=1e-7 if rule is cases[-1][0] else 1e-12)


def test_momentum_and_chain_states():
    x = torch.tensor([1.0, 2.0])
    m = Momentum(0.1)
    s = m.init(x)
    m.apply([s], [x], [torch.tensor([25.0, 33.0])])
    close([s[0]], [torch.tensor([2.5, 3.3])], rtol=1e-6)
    # OptimiserChain(ClipGrad(2), Adam()) on [1, 10, 100]: Adam's first moment ≈ [0.1, 0.2, 0.2]
    c = OptimiserChain(ClipGrad(2), Adam())
    x = torch.tensor([4.0, 3.0, 2.0])
    s = c.init(x)
    c.apply([s], [x], [torch.tensor([1.0, 10.0, 100.0])])
    close([s[1][0]], [torch.tensor([0.1, 0.2, 0.2])], rtol=1e-6)
    # Adjusting keeps the state: continue Momentum with a new learning rate.
    m2 = m.adjust(0.2)
    assert (m.eta, m2.eta, m2.rho) == (0.1, 0.2, 0.9)


def test_clipnorm():
    x = torch.zeros(3, dtype=torch.float64)
    d = ClipNorm(10).apply([()], [x], [torch.tensor([1, 10, 100.0], dtype=torch.float64)])[0]
    assert math.isclose(torch.linalg.vector_norm(d).item(), 10)
    small = ClipNorm(10).apply([()], [x[:1]], [torch.tensor([0.1], dtype=torch.float64)])[0]
    assert math.isclose(small.item(), 0.1)
    d1 = ClipNorm(5, 1, throw=False).apply([()], [x], [torch.tensor([1, 10, 100.0], dtype=torch.float64)])[0]
    assert math.isclose(d1.abs().sum().item(), 5)
    with pytest.raises(ValueError, match="ClipNorm.*nan.*throw=False"):
        ClipNorm(10).apply([()], [x], [torch.tensor([1, 10, float("nan")])])
    dn = ClipNorm(5, 1, throw=False).apply([()], [x], [torch.tensor([1, 10, float("inf")])])[0]
    assert dn[2].isnan()
    d3 = ClipNorm(2.0, 3.0).apply([()], [x], [torch.tensor([3.0, 4.0, 5.0], dtype=torch.float64)])[0]
    assert math.isclose(torch.linalg.vector_norm(d3, 3).item(), 2.0)


# --- Flux v0.14 test/optimise.jl: ExpDecay, and InvDecay's formula -------------------------
def factors(rule, steps):
    x = torch.zeros(1, dtype=torch.float64)
    s = rule.init(x)
    return [rule.apply([s], [x], [torch.ones(1, dtype=torch.float64)])[0].item() for _ in range(steps)]


def test_expdecay():
    assert factors(ExpDecay(0.2, 0.5, 1, 1e-3), 8) == [max(0.2 * 0.5 ** n, 1e-3) for n in range(1, 9)]
    assert factors(ExpDecay(0.2, 0.5, 1, 1e-3, 4), 8) == [max(0.2 * 0.5 ** max(n - 4, 0), 1e-3)
                                                          for n in range(1, 9)]
    etas = factors(ExpDecay(0.1, 0.1, 1000, 1e-4), 5000)
    changes = [t + 1 for t in range(1, 5000) if etas[t] != etas[t - 1]]
    assert changes == [1000, 2000, 3000, 4000] and etas[-1] == 1e-4
    assert ExpDecay(step=7).decay_step == 7


def test_invdecay_chain():
    fs = factors(OptimiserChain(Descent(0.5), InvDecay(0.1)), 4)
    assert fs == pytest.approx([0.5 / (1 + 0.1 * n) for n in range(1, 5)])


# --- printing, defaults, keywords, adjust, errors, aliases --------------------------------
REPRS = [
    (Descent(), "Descent(0.1)"), (Momentum(), "Momentum(0.01, 0.9)"),
    (Nesterov(), "Nesterov(0.001, 0.9)"),
    (RMSProp(), "RMSProp(eta=0.001, rho=0.9, epsilon=1e-08, centred=False)"),
    (Rprop(), "Rprop(0.001, (0.5, 1.2), (1e-06, 50.0))"),
    (AdaGrad(), "AdaGrad(0.1, 1e-08)"), (AdaDelta(), "AdaDelta(0.9, 1e-08)"),
    (Adam(), "Adam(0.001, (0.9, 0.999), 1e-08)"), (RAdam(), "RAdam(0.001, (0.9, 0.999), 1e-08)"),
    (AdaMax(), "AdaMax(0.001, (0.9, 0.999), 1e-08)"), (AMSGrad(), "AMSGrad(0.001, (0.9, 0.999), 1e-08)"),
    (NAdam(), "NAdam(0.001, (0.9, 0.999), 1e-08)"), (OAdam(), "OAdam(0.001, (0.5, 0.9), 1e-08)"),
    (AdaBelief(), "AdaBelief(0.001, (0.9, 0.999), 1e-16)"), (Lion(), "Lion(0.001, (0.9, 0.999))"),
    (AdamW(), "AdamW(eta=0.001, beta=(0.9, 0.999), lambda_=0.0, epsilon=1e-08, couple=True)"),
    (v014.AdamW(), "OptimiserChain(Adam(0.001, (0.9, 0.999), 1e-08), WeightDecay(0.0))"),
    (WeightDecay(), "WeightDecay(0.0005)"), (v014.WeightDecay(), "WeightDecay(0.0)"),
    (SignDecay(), "SignDecay(0.001)"), (AccumGrad(3), "AccumGrad(3)"),
    (MixedPrecision(Adam()), "MixedPrecision('float32', Adam(0.001, (0.9, 0.999), 1e-08))"),
    (MixedPrecision(torch.float64, Descent()), "MixedPrecision('float64', Descent(0.1))"),
    (ClipGrad(), "ClipGrad(10.0)"), (ClipNorm(), "ClipNorm(10.0, 2.0, throw=True)"),
    (ExpDecay(), "ExpDecay(0.001, 0.1, 1000, 0.0001, 0)"), (InvDecay(), "InvDecay(0.001)"),
    (OptimiserChain(ClipGrad(10), Adam()), "OptimiserChain(ClipGrad(10.0), Adam(0.001, (0.9, 0.999), 1e-08))"),
]


@pytest.mark.parametrize("rule, text", REPRS, ids=lambda p: p if isinstance(p, str) else "")
def test_repr_defaults_roundtrip(rule, text):
    assert repr(rule) == text
    namespace = {c.__name__: c for c in [
        Descent, Momentum, Nesterov, RMSProp, AdaGrad, AdaDelta, Adam, RAdam, AdaMax, AMSGrad, NAdam,
        OAdam, AdaBelief, Lion, WeightDecay, SignDecay, ClipGrad, ClipNorm, ExpDecay, InvDecay,
        OptimiserChain, Rprop, AdamW, AccumGrad, MixedPrecision]}
    assert repr(eval(text, namespace)) == text
    assert eval(text, namespace) == rule


def test_keywords_greek_and_ascii():
    assert repr(Adam(η=0.01)) == repr(Adam(eta=0.01)) == "Adam(0.01, (0.9, 0.999), 1e-08)"
    assert Adam(β=(0.8, 0.9), ϵ=1e-3).beta == (0.8, 0.9) and Adam(ϵ=1e-3).epsilon == 1e-3
    assert Adam(ε=1e-3).epsilon == Adam(epsilon=1e-3).epsilon
    assert RMSProp(ρ=0.5).rho == 0.5 and RMSProp(centered=True).centred
    assert WeightDecay(λ=0.1).lambda_ == WeightDecay(lambda_=0.1).lambda_ == 0.1
    assert ClipGrad(δ=1).delta == 1.0 and ClipNorm(ω=1).omega == 1.0 and InvDecay(γ=0.1).gamma == 0.1
    assert repr(AdamW(0.1, (0.9, 0.99), 0.5)) == repr(AdamW(η=0.1, β=(0.9, 0.99), decay=0.5)) \
        == repr(AdamW(0.1, (0.9, 0.99), λ=0.5))
    assert list(inspect.signature(Adam).parameters) == ["eta", "beta", "epsilon"]
    assert list(inspect.signature(RMSProp).parameters) == ["eta", "rho", "epsilon", "centred"]


def test_adjust():
    a = Adam()
    b = a.adjust(0.01)
    assert (a.eta, b.eta, b.beta) == (0.001, 0.01, (0.9, 0.999))
    assert a.adjust(β=(0.5, 0.6), ϵ=0.1).beta == (0.5, 0.6) and a.adjust(epsilon=0.1).epsilon == 0.1
    with pytest.raises(TypeError, match="zeta.*eta \\(η\\), beta \\(β\\), epsilon \\(ϵ\\)"):
        a.adjust(zeta=1)
    with pytest.raises(TypeError, match="something"):
        a.adjust()
    with pytest.raises(TypeError, match="AdaDelta has no learning rate"):
        AdaDelta().adjust(0.1)
    with pytest.raises(TypeError, match="centred"):
        RMSProp().adjust(centred=True)
    with pytest.raises(ValueError, match="Adam"):
        a.adjust(-1)
    c = OptimiserChain(ClipGrad(2), Adam())
    assert repr(c.adjust(0.2)) == "OptimiserChain(ClipGrad(2.0), Adam(0.2, (0.9, 0.999), 1e-08))"
    assert repr(c.adjust(delta=2.5)) == "OptimiserChain(ClipGrad(2.5), Adam(0.001, (0.9, 0.999), 1e-08))"
    assert AdamW().adjust(λ=0.3).lambda_ == 0.3 and v014.AdamW().adjust(λ=0.3)[1].lambda_ == 0.3
    with pytest.raises(TypeError, match="couple"):
        AdamW().adjust(zeta=0.3)
    with pytest.raises(TypeError, match="no rule"):
        c.adjust(rho=0.1)
    with pytest.raises(TypeError, match="no rule"):
        OptimiserChain(ClipGrad()).adjust(0.1)
    # the lenient form chains (and state trees) use: skip what a rule lacks
    d = AdaDelta()
    assert d._adjust_some(0.1, beta=(0.5, 0.5)) is d
    assert repr(Adam()._adjust_some(0.1, delta=3)) == "Adam(0.1, (0.9, 0.999), 1e-08)"


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="Descent: the learning rate eta must be >= 0, got -0.1"):
        Descent(-0.1)
    with pytest.raises(ValueError, match=r"Adam: beta\[0\] must lie in \[0, 1\), got 1.0"):
        Adam(0.1, (1.0, 0.9))
    with pytest.raises(ValueError, match=r"Momentum: rho must lie in \[0, 1\), got 1.5"):
        Momentum(ρ=1.5)
    with pytest.raises(TypeError, match="Adam: beta must be a pair"):
        Adam(beta=0.9)
    with pytest.raises(TypeError, match="Adam: eta must be a real number"):
        Adam("fast")
    with pytest.raises(TypeError, match="at most 3 positional"):
        Adam(0.1, (0.9, 0.9), 1e-8, 4)
    with pytest.raises(TypeError, match="two values for eta"):
        Adam(0.1, η=0.2)
    with pytest.raises(TypeError, match="unexpected keyword 'lr'"):
        Adam(lr=0.1)
    with pytest.raises(ValueError, match="WeightDecay: lambda_ must be >= 0"):
        WeightDecay(-1)
    with pytest.raises(ValueError, match="ExpDecay: decay_step must be >= 1"):
        ExpDecay(decay_step=0)
    r = Adam()
    with pytest.raises(ValueError, match="learning rate"):
        r.eta = -1
    r.eta = 0.5
    assert r.eta == 0.5
    with pytest.raises(TypeError, match="did you mean Adam\\(\\)"):
        OptimiserChain(Adam)
    with pytest.raises(TypeError, match="separate arguments"):
        OptimiserChain([Adam()])


def test_aliases():
    assert (ADAM, NADAM, ADAMW, RADAM, OADAM, ADAGrad, ADADelta) == \
        (Adam, NAdam, AdamW, RAdam, OAdam, AdaGrad, AdaDelta)
    # Flux v0.16: `Flux.Optimiser(...)` has been removed, please call `OptimiserChain(...)`
    with pytest.warns(FutureWarning, match=r"please call ClipGrad"):
        assert ClipValue(2) == ClipGrad(2)
    with pytest.warns(FutureWarning, match=r"please call OptimiserChain"):
        assert Optimiser(Descent(), Adam()) == OptimiserChain(Descent(), Adam())
    assert v014.ClipValue is ClipGrad and v014.Optimiser is OptimiserChain   # v0.14: no warning


def test_step_schedule_is_parameterschedulers_step_decay():
    # ParameterSchedulers.Step(λ, γ, s) at iteration t (from 1): λ * γ^floor((t - 1) / s).
    from flux_torch.optimise import Descent, OptimiserChain, Step
    rule = OptimiserChain(Descent(1.0), Step(0.1, 0.5, 3))
    x = torch.zeros(2, dtype=torch.float64)
    state = rule.init(x)
    got = [rule.apply([state], [x], [torch.ones(2, dtype=torch.float64)])[0][0].item()
           for _ in range(9)]
    expected = [0.1 * 0.5 ** ((t - 1) // 3) for t in range(1, 10)]
    assert got == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError):
        Step(-0.1)


# --- value equality (Julia's == on immutable structs), identity hashing -------------------
def test_rules_compare_by_value_and_hash_by_identity():
    assert Nesterov(0.1, 0.8) == Nesterov(0.1, 0.8) and Nesterov(0.1, 0.8) != Nesterov(0.1, 0.7)
    assert Adam(0.1) == Adam(η=0.1) and Adam() != NAdam() and Descent(0.1) != Momentum(0.1)
    assert AdamW(lambda_=0.3, eta=0.1) == AdamW(0.1, (0.9, 0.999), 0.3, 1e-8)
    assert AdamW(couple=False) != AdamW()
    assert Adam() != 0.001 and not (Adam() == "Adam()")
    a, b = Adam(), Adam()
    assert a == b and hash(a) != hash(b) and len({a: 1, b: 2}) == 2
    from flux_torch.optimise import update_
    update_(a, torch.zeros(2), torch.ones(2))   # the implicit style keeps a table in the rule
    assert a == b                               # which is not a hyperparameter
    assert OptimiserChain(ClipGrad(1), Adam()) == OptimiserChain(ClipGrad(1.0), Adam())
    assert OptimiserChain(ClipGrad(1), Adam()) != OptimiserChain(ClipGrad(2), Adam())
    assert OptimiserChain(ClipGrad(1), Adam()) != OptimiserChain(Adam(), ClipGrad(1))
    assert MixedPrecision(Adam()) == MixedPrecision("float32", Adam())
    assert MixedPrecision(Adam()) != MixedPrecision(torch.float64, Adam())
    assert AccumGrad(2) == AccumGrad(2) != AccumGrad(3)
    assert a.adjust(0.1) == Adam(0.1) and Adam(0.1).adjust(0.001) == a


# --- Rprop ------------------------------------------------------------------------------
def test_rprop_checks_and_keywords():
    assert Rprop(ℓ=(0.4, 1.3), Γ=(1e-5, 1.0)) == Rprop(ell=(0.4, 1.3), gamma=(1e-5, 1.0))
    assert list(inspect.signature(Rprop).parameters) == ["eta", "ell", "gamma"]
    with pytest.raises(TypeError, match=r"Rprop: ell must be a pair such as \(0.5, 1.2\)"):
        Rprop(ell=1.2)
    with pytest.raises(ValueError, match=r"Rprop: gamma\[0\] must be >= 0"):
        Rprop(gamma=(-1, 1))
    assert Rprop(0.1).adjust(ell=(0.3, 1.1)).ell == (0.3, 1.1)


def test_rprop_state_keeps_dtype():
    # Optimisers.jl's test: the state arrays are not widened by a float64 rule or gradient
    x = torch.tensor([1.0, 2.0], dtype=torch.float16)
    rule = Rprop(0.1)
    state = rule.init(x)
    x -= rule.apply([state], [x], [torch.tensor([1.0, -2.0], dtype=torch.float16)])[0]
    assert x.dtype == state[0].dtype == state[1].dtype == torch.float16


# --- AccumGrad ---------------------------------------------------------------------------
def test_accumgrad_steps_with_the_mean_every_n():
    xs, grads = data(steps=7)
    lr = 0.1
    got = run(OptimiserChain(AccumGrad(3), Momentum(lr, 0.5)), xs, grads)
    want = [x.clone() for x in xs]
    vel = [torch.zeros_like(x) for x in xs]
    for t in (2, 5):            # after gradients 1-3 and 4-6; the 7th is still held
        for i, x in enumerate(want):
            mean = sum(grads[k][i] for k in range(t - 2, t + 1)) / 3
            vel[i] = 0.5 * vel[i] + lr * mean   # Momentum sees only the means
            x -= vel[i]
    close(got, want)
    close(run(OptimiserChain(AccumGrad(3), Momentum(lr, 0.5)), xs, grads, fused=True), want)


def test_accumgrad_counts_per_parameter():
    rule = OptimiserChain(AccumGrad(2), Descent(1.0))
    a, b = torch.zeros(1), torch.zeros(1)
    sa, sb = rule.init(a), rule.init(b)
    rule.apply_([sa], [a], [torch.tensor([2.0])])                       # a: 1 of 2
    rule.apply_([sa, sb], [a, b], [torch.tensor([4.0]), torch.tensor([6.0])])  # a: step; b: 1 of 2
    assert a.item() == -3.0 and b.item() == 0.0
    rule.apply_([sb], [b], [torch.tensor([8.0])])
    assert b.item() == -7.0
    with pytest.raises(TypeError, match="AccumGrad needs n"):
        AccumGrad()
    with pytest.raises(ValueError, match="AccumGrad: n must be >= 1"):
        AccumGrad(0)


# --- MixedPrecision ----------------------------------------------------------------------
@pytest.mark.parametrize("fused", [False, True])
def test_mixed_precision_is_the_rule_on_a_float32_copy(fused):
    g = torch.Generator().manual_seed(3)
    x16 = torch.randn(5, generator=g).half()
    grads = [torch.randn(5, generator=g).half() for _ in range(6)]
    rule = MixedPrecision(Adam(1e-3))
    state = rule.init(x16)
    x = x16.clone()
    for gr in grads:
        if fused:
            rule.apply_([state], [x], [gr.clone()])
        else:
            x -= rule.apply([state], [x], [gr.clone()])[0]
    want = run(Adam(1e-3), [x16.float()], [[gr.float()] for gr in grads])[0]
    torch.testing.assert_close(state[0], want, rtol=0, atol=0)
    assert x.dtype == torch.float16 and torch.equal(x, want.half())


def test_mixed_precision_checks():
    with pytest.raises(TypeError, match="MixedPrecision must wrap the whole OptimiserChain"):
        OptimiserChain(MixedPrecision(Adam()))
    with pytest.raises(TypeError, match="floating torch dtype"):
        MixedPrecision(torch.int32, Adam())
    with pytest.raises(TypeError, match=r"did you mean Adam\(\)"):
        MixedPrecision(Adam)
    mp = MixedPrecision(torch.float64, Adam(1e-3))
    assert mp.adjust(2e-3) == MixedPrecision(torch.float64, Adam(2e-3))
    assert mp.adjust(2e-3).dtype == torch.float64 and mp._adjust_some(rho=0.1) is mp


# --- Float16: Optimisers.jl's _eps ------------------------------------------------------
def test_float16_epsilon_floor():
    # Optimisers.jl test/rules.jl "Float16 epsilon" (issue 167): without the floor ϵ=1e-8
    # is 0 in Float16 and the first two entries (whose v underflows to 0) become ±inf.
    x = torch.tensor([0.579, -0.729, 0.5493], dtype=torch.float16)
    dx = torch.tensor([-0.001497, 0.0001875, -0.013176], dtype=torch.float16)
    for fused in (False, True):
        got = run(Adam(1e-4), [x], [[dx]], fused)[0]
        torch.testing.assert_close(got, torch.tensor([1.835, -0.886, 0.5493], dtype=torch.float16),
                                   rtol=1e-3, atol=0)
    # float32 keeps ϵ itself: the same numbers give ≈ x + η sign(-dx)
    got32 = run(Adam(1e-4), [x.float()], [[dx.float()]])[0]
    torch.testing.assert_close(got32, x.float() + 1e-4 * torch.sign(-dx.float()), rtol=1e-3, atol=0)


@pytest.mark.parametrize("rule", [RMSProp(0.01), AdaGrad(0.01), AdaDelta(), RAdam(), AdaMax(), OAdam(),
                                  AMSGrad(), NAdam(), AdaBelief(), Adam()], ids=repr)
def test_float16_stays_finite(rule):
    x = torch.tensor([0.5, -0.25, 1.0], dtype=torch.float16)
    dx = torch.tensor([1e-4, -1e-4, 0.0], dtype=torch.float16)
    out = run(rule, [x], [[dx]] * 3)[0]
    assert out.dtype == torch.float16 and out.isfinite().all(), out
