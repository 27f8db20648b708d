"""Flux's tests of ``train!``, ``update!`` and ``setup``, translated for both Flux versions.

Sources: https://github.com/FluxML/Flux.jl, test/train.jl at v0.14.25
(commit 0567cb30a79e328a5077a6851ddbfe4db9b72d81) and at v0.16.11
(commit 443ed1bc8c157168e4fe99a045f42014ae26def8).

Most testsets are the same in both; where they differ the test names say which. The v0.14
tests use v0.14's ``AdamW``, ``WeightDecay`` and ``ClipValue`` (from
``flux_torch.optimise.v014``, which ``flux_torch.v014`` exports); the v0.16 tests use
``flux_torch``'s. The Enzyme variants are skipped: Enzyme is a Julia AD backend, and
flux_torch differentiates with torch.autograd. Julia's ``ErrorException``/``DomainError``
are Python's ``TypeError``/``FloatingPointError`` here.

Julia trains each rule on 10^5 batches; here each loop stops once the loss is below the
bound (checked every 100 batches), failing if it is not after 10^5. Rules that need over
~2 s of that in Python run only with ``FLUX_TORCH_LONG_TESTS=1``; their steps are checked
exactly in tests/test_rules.py and their convergence in tests/test_optimisers_jl_rules.py.
Batch first: Julia's ``randn(Float32, 3, 5)`` batch of 5 is a ``(5, 3)`` tensor here.
"""
import copy
import itertools
import os

import pytest
import torch

import flux_torch as Flux
from flux_torch import Chain, Dense, Embedding, Optimisers, gradient, params, setup, train_, update_
from flux_torch.optimise import (AdaBelief, AdaDelta, AdaGrad, AdaMax, Adam, AdamW, AMSGrad, ClipGrad,
                                 ClipNorm, Descent, Leaf, Momentum, NAdam, Nesterov, OAdam,
                                 OptimiserChain, RAdam, RMSProp, WeightDecay)
from flux_torch.optimise import v014

D = torch.float64
LONG = os.environ.get("FLUX_TORCH_LONG_TESTS") == "1"
NEEDS_TRAINSTEP = "needs core change: trainstep_ and trainstep_withgradient_ (Flux v0.16)"
HAS_TRAINSTEP = hasattr(Flux, "trainstep_") and hasattr(Flux, "trainstep_withgradient_")


def long_unless(fast):
    return pytest.mark.skipif(not (LONG or fast), reason=(
        "trains for up to 10^5 batches (tens of seconds in Python); set FLUX_TORCH_LONG_TESTS=1"))


def mse(a, b):
    return ((a - b) ** 2).mean()


def rules(adamw):
    fast = {"Descent", "Momentum"}
    rs = [adamw, AdaGrad(0.1), AdaMax(), AdaDelta(0.9), AMSGrad(), NAdam(), RAdam(), Descent(0.1),
          Adam(), OAdam(), AdaBelief(), Nesterov(), RMSProp(), Momentum()]
    return [pytest.param(r, marks=long_unless(type(r).__name__ in fast), id=repr(r)) for r in rs]


def train_until(loss, model, data_fn, opt, done, most=10**5, chunk=100):
    """train_ over 10^5 items in chunks of 100, stopping once ``done()``."""
    for _ in range(most // chunk):
        train_(loss, model, [data_fn() for _ in range(chunk)], opt)
        if done():
            return True
    return done()


def linear_problem(seed=84):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(10, 10, generator=g, dtype=D)
    w2 = torch.randn(10, 10, generator=g, dtype=D)

    def loss(m, x):
        return mse(x @ w.T, x @ m["weight"].T + m["bias"])
    return g, w2, loss


# --- Explicit Flux.train! (v0.14: "Explicit Flux.train! with Zygote", v0.16: "Flux.train! with Zygote")
def _train_converges(rule):
    g, w2, loss = linear_problem()
    model = {"weight": w2.clone(), "bias": torch.zeros(10, dtype=D), "ignore": None}
    assert loss(model, torch.rand(10, 10, generator=g, dtype=D)) > 1
    opt = setup(rule, model)
    assert train_until(loss, model, lambda: (torch.rand(10, generator=g, dtype=D),), opt,
                       lambda: loss(model, torch.rand(10, 10, generator=g, dtype=D)) < 0.01)


@pytest.mark.parametrize("rule", rules(v014.AdamW()))
def test_v014_explicit_train(rule):
    _train_converges(rule)


@pytest.mark.parametrize("rule", rules(AdamW()))
def test_v016_train(rule):
    _train_converges(rule)


@pytest.mark.parametrize("opt", [Descent(0.1), Optimisers.Descent(0.1),
                                 pytest.param(Optimisers.Adam(), marks=long_unless(False))],
                         ids=["Descent", "Optimisers.Descent", "Optimisers.Adam"])
def test_v014_without_setup(opt):
    # Direct use of an Optimisers.jl rule, only really OK for Descent
    g, w2, loss = linear_problem()
    model = {"weight": w2.clone(), "bias": torch.zeros(10, dtype=D), "ignore": None}
    assert loss(model, torch.rand(10, 10, generator=g, dtype=D)) > 1
    if isinstance(opt, Adam):       # Flux: "Optimiser Adam has state which will be discarded"
        with pytest.warns(UserWarning, match="state"):
            train_(loss, model, ((torch.rand(10, generator=g, dtype=D),) for _ in range(10**5)), opt)
        assert loss(model, torch.rand(10, 10, generator=g, dtype=D)) < 0.01
    else:                           # stateless: train_ on chunks is the same as on all at once
        assert train_until(loss, model, lambda: (torch.rand(10, generator=g, dtype=D),), opt,
                           lambda: loss(model, torch.rand(10, 10, generator=g, dtype=D)) < 0.01)


@pytest.mark.skip(reason="Enzyme (train_enzyme!) is a Julia AD backend; flux_torch uses torch.autograd")
def test_train_with_enzyme():
    pass


# --- train! features (both versions) --------------------------------------------------------
def test_stop_on_nan():
    m1 = Dense(1, 1)
    m1.weight.zero_()
    cnt = [0]

    def loss(m, i):
        cnt[0] += 1
        return (float("nan") if i == 51 else 1.0) * m(torch.tensor([1.0])).sum()
    with pytest.raises(FloatingPointError):      # Julia: DomainError
        train_(loss, m1, [(i,) for i in range(1, 101)], Descent(0.1))
    assert cnt[0] == 51     # stopped early
    assert m1.weight[0, 0].item() == pytest.approx(-5)   # did not corrupt weights


@pytest.mark.parametrize("adamw", [pytest.param(v014.AdamW(), id="v014"),
                                   pytest.param(AdamW(), id="v016")])
@long_unless(False)
def test_non_tuple_data(adamw):
    g = torch.Generator().manual_seed(9)
    w = torch.randn(10, 10, generator=g, dtype=D)
    w2 = torch.randn(10, 10, generator=g, dtype=D)

    def loss(m, x):
        return mse(x @ w.T, x @ m["weight"].T + m["bias"])
    model = {"weight": w2.clone(), "bias": torch.zeros(10, dtype=D)}
    opt = setup(adamw, model)
    assert train_until(loss, model, lambda: torch.rand(10, generator=g, dtype=D), opt,
                       lambda: loss(model, torch.rand(10, 10, generator=g, dtype=D)) < 0.01)


def test_non_tuple_data_reach_the_loss_as_one_argument():
    # the point of the test above, in a few steps: an item that is not a tuple is one argument
    seen = []
    model = {"weight": torch.zeros(2, 2, dtype=D)}
    train_(lambda m, x: seen.append(x) or (m["weight"] @ x).sum(), model,
           (torch.ones(2, dtype=D) for _ in range(3)), setup(Descent(0.1), model))
    assert len(seen) == 3 and all(torch.equal(x, torch.ones(2, dtype=D)) for x in seen)
    torch.testing.assert_close(model["weight"], torch.full((2, 2), -0.3, dtype=D))


@pytest.mark.xfail(reason="deliberate: the explicit train_ accepts a callback cb, which Flux's "
                          "refuses with an error (docs/porting.md, Optimisers and training)",
                   strict=True)
def test_callbacks_give_helpful_error():
    m1 = Dense(1, 1)
    with pytest.raises(Exception):
        train_(lambda *args: torch.tensor(1.0), m1, [(1, 2)], Descent(0.1), cb=lambda: print("no"))


# --- update! features ----------------------------------------------------------------------
def only(y):
    """Julia's only: the one element of y (here a 0-dimensional tensor)."""
    return y.reshape(())


def test_v014_explicit_update_features():
    torch.manual_seed(10)
    m = Chain(Dense(2, 3, Flux.tanh), Dense(3, 1), only)
    x = torch.rand(2)
    y1 = m(x)   # before

    # Implicit gradient
    gold = gradient(lambda: m(x), params(m))
    assert isinstance(gold, Flux.Grads)
    with pytest.raises(TypeError):       # friendly
        update_(Adam(), m, gold)
    update_(Adam(), params(m), gold)
    y2 = m(x)
    assert y2 < y1

    # Explicit gradient
    gs = gradient(lambda marg: marg(x), m)
    assert isinstance(gs, tuple)
    with pytest.raises(TypeError):
        update_(Adam(), params(m), gs)
    with pytest.raises(TypeError):
        update_(Adam(), params(m), gs[0])
    with pytest.raises(TypeError):
        update_(Adam(), m, gs)
    with pytest.raises(TypeError):
        update_(Adam(), m, gs[0])
    s = setup(Adam(), m)
    with pytest.warns(UserWarning, match="grads\\[0\\]"):   # just testing an upgrade path
        update_(s, m, gs)    # Chain + Tuple can be unambiguously sorted out
    y3 = m(x)
    assert y3 < y2
    update_(s, m, gs[0])     # finally, this is the correct thing
    y4 = m(x)
    assert y4 < y3

    # Also check that if you import the new Adam, then Flux.setup does still work!
    s2 = setup(Optimisers.Adam(), m)
    update_(s2, m, gs[0])
    y5 = m(x)
    assert y5 < y4


def test_v016_update_features():
    torch.manual_seed(11)
    m = Chain(Dense(2, 3, Flux.tanh), Dense(3, 1), only)
    x = torch.rand(2)
    y1 = m(x)
    gs = gradient(lambda marg: marg(x), m)
    assert isinstance(gs, tuple)
    with pytest.raises(TypeError):
        update_(Adam(), m, gs)
    with pytest.raises(TypeError):
        update_(Adam(), m, gs[0])
    s = setup(Adam(), m)
    with pytest.warns(UserWarning, match="grads\\[0\\]"):
        update_(s, m, gs)
    y2 = m(x)
    assert y2 < y1
    update_(s, m, gs[0])
    y3 = m(x)
    assert y3 < y2
    s2 = setup(Optimisers.Adam(), m)
    update_(s2, m, gs[0])
    y4 = m(x)
    assert y4 < y3


# --- L2 regularisation -----------------------------------------------------------------------
@pytest.mark.parametrize("version", ["v014", "v016"])
def test_l2_regularisation(version):
    # New docs claim an exact equivalent: the penalty in the loss, or WeightDecay in the chain.
    torch.manual_seed(12)
    model = Dense(3, 2, Flux.tanh)
    init_weight = model.weight.clone()
    data = [(torch.randn(5, 3), torch.randn(5, 2)) for _ in range(10)]

    # Take 1: explicitly add a penalty in the loss function
    def loss1(m, x, y):
        l2 = (m.weight ** 2).sum() / 2 + (m.bias ** 2).sum() / 2
        return Flux.mse(m(x), y) + 0.33 * l2
    train_(loss1, model, data, setup(Adam(0.1), model))
    diff1 = model.weight - init_weight

    # Take 2: the same, with Flux.params (v0.14) or Flux.trainables (v0.16) in the loss
    model.weight.copy_(init_weight)
    model.bias.zero_()
    collect = params if version == "v014" else Flux.trainables

    def loss2(m, x, y):
        return Flux.mse(m(x), y) + 0.33 * sum((p ** 2).sum() / 2 for p in collect(m))
    train_(loss2, model, data, setup(Adam(0.1), model))
    diff2 = model.weight - init_weight
    torch.testing.assert_close(diff1, diff2)

    # Take 3: using WeightDecay instead. Need the /2 above, to match exactly.
    model.weight.copy_(init_weight)
    model.bias.zero_()
    WD = v014.WeightDecay if version == "v014" else WeightDecay
    decay_opt = setup(OptimiserChain(WD(0.33), Adam(0.1)), model)
    train_(lambda m, x, y: Flux.mse(m(x), y), model, data, decay_opt)
    diff3 = model.weight - init_weight
    torch.testing.assert_close(diff1, diff3)


# --- setup bugs --------------------------------------------------------------------------------
def test_v014_setup_bugs():
    # https://github.com/FluxML/Flux.jl/issues/2144
    assert isinstance(setup(Adam(), Embedding(3, 1)).weight, Leaf)
    # Typo in 0.13.9's deprecation
    assert isinstance(setup(v014.ClipValue(1), Dense(2, 3)).weight.rule, ClipGrad)
    assert isinstance(setup(ClipNorm(1), Dense(2, 3)).weight.rule, ClipNorm)


def test_v016_setup_bugs():
    assert isinstance(setup(Adam(), Embedding(3, 1)).weight, Leaf)
    assert isinstance(setup(ClipGrad(1), Dense(2, 3)).weight.rule, ClipGrad)
    assert isinstance(setup(ClipNorm(1), Dense(2, 3)).weight.rule, ClipNorm)


def test_v014_namespace_gives_these_forms():
    F14 = pytest.importorskip("flux_torch.v014", reason="flux_torch.v014 is not built yet")
    assert F14.AdamW() == v014.AdamW() and F14.WeightDecay() == WeightDecay(0.0)
    assert F14.Optimiser is OptimiserChain and F14.ClipValue is ClipGrad
    assert Flux.AdamW() == AdamW() and Flux.WeightDecay() == WeightDecay(5e-4)


# --- v0.16: trainstep! ---------------------------------------------------------------------------
def dense_problem(seed):
    torch.manual_seed(seed)
    model = Dense(3, 2, Flux.tanh)
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    return model, x, y


def loss_mxy(m, x, y):
    return Flux.mse(m(x), y)


trainstep_mark = pytest.mark.xfail(not HAS_TRAINSTEP, reason=NEEDS_TRAINSTEP, raises=AttributeError,
                                   strict=True)


@trainstep_mark
def test_v016_trainstep_returns_the_loss_and_updates_in_place():
    model, x, y = dense_problem(13)
    opt = setup(Momentum(0.1), model)
    l0 = loss_mxy(model, x, y)
    w0 = model.weight.clone()
    vel0 = opt.weight.state[0].clone()     # Momentum velocity, initially zero
    l = Flux.trainstep_(loss_mxy, model, (x, y), opt)
    assert torch.isfinite(torch.as_tensor(l))
    assert float(l) == pytest.approx(float(l0))     # loss is measured *before* the update
    assert not torch.allclose(model.weight, w0)     # model mutated in place
    assert not torch.allclose(opt.weight.state[0], vel0)    # optimiser state mutated in place


@trainstep_mark
def test_v016_trainstep_withgradient_also_returns_the_gradient():
    model, x, y = dense_problem(14)
    opt = setup(Momentum(0.1), model)
    l0 = loss_mxy(model, x, y)
    w0 = model.weight.clone()
    l, g = Flux.trainstep_withgradient_(loss_mxy, model, (x, y), opt)
    assert float(l) == pytest.approx(float(l0))
    assert g.weight.shape == model.weight.shape
    assert not torch.allclose(model.weight, w0)


@trainstep_mark
def test_v016_trainstep_repeated_steps_converge():
    g, _, loss = linear_problem()
    model = {"weight": torch.randn(10, 10, generator=g, dtype=D), "bias": torch.zeros(10, dtype=D),
             "ignore": None}
    assert loss(model, torch.rand(10, 10, generator=g, dtype=D)) > 1
    opt = setup(Adam(0.05), model)
    for _ in range(2000):
        Flux.trainstep_(loss, model, (torch.rand(32, 10, generator=g, dtype=D),), opt)
    assert loss(model, torch.rand(10, 10, generator=g, dtype=D)) < 0.01


@trainstep_mark
def test_v016_trainstep_non_finite_loss_skips_the_update():
    model = Dense(1, 1)
    model.weight.zero_()
    model.bias.zero_()
    opt = setup(Descent(0.1), model)
    l = Flux.trainstep_(lambda m, i: float("nan") * m(torch.tensor([1.0])).sum(), model, (1,), opt)
    assert not torch.isfinite(torch.as_tensor(l))
    assert torch.equal(model.weight, torch.zeros(1, 1))     # update skipped, model left uncorrupted
    assert torch.equal(model.bias, torch.zeros(1))


@trainstep_mark
def test_v016_trainstep_auxiliary_loss_outputs():
    base, x, y = dense_problem(15)
    l0, pred0 = Flux.mse(base(x), y), base(x)      # pre-update loss and prediction

    def tuploss(m, x, y):        # aux: a tuple with an array
        return Flux.mse(m(x), y), m(x)

    def ntloss(m, x, y):         # aux: a dict (Julia: a NamedTuple)
        return {"loss": Flux.mse(m(x), y), "pred": m(x)}

    for auxfn in (tuploss, ntloss):
        model, ref = copy.deepcopy(base), copy.deepcopy(base)
        opt, optr = setup(Momentum(0.1), model), setup(Momentum(0.1), ref)
        v = Flux.trainstep_(auxfn, model, (x, y), opt)
        Flux.trainstep_(loss_mxy, ref, (x, y), optr)     # same step, scalar loss
        first, second = (v[0], v[1]) if isinstance(v, tuple) else (v["loss"], v["pred"])
        assert float(first) == pytest.approx(float(l0))
        torch.testing.assert_close(second, pred0)
        torch.testing.assert_close(model.weight, ref.weight)   # identical update to the scalar run

    model = copy.deepcopy(base)
    opt = setup(Momentum(0.1), model)
    v, g = Flux.trainstep_withgradient_(ntloss, model, (x, y), opt)
    assert float(v["loss"]) == pytest.approx(float(l0))
    torch.testing.assert_close(v["pred"], pred0)
    assert g.weight.shape == model.weight.shape


@trainstep_mark
def test_v016_train_is_a_loop_over_trainstep():
    torch.manual_seed(123)
    data = [(torch.randn(5, 3), torch.randn(5, 2)) for _ in range(20)]
    m1 = Dense(3, 2, Flux.tanh)
    m2 = copy.deepcopy(m1)
    o1, o2 = setup(Adam(0.05), m1), setup(Adam(0.05), m2)
    train_(loss_mxy, m1, data, o1)
    for x, y in data:
        Flux.trainstep_(loss_mxy, m2, (x, y), o2)
    torch.testing.assert_close(m1.weight, m2.weight)
    torch.testing.assert_close(m1.bias, m2.bias)


def test_chunks_are_the_same_training():
    # train_until calls train_ on chunks of 100: the same as one train_ over all the items
    g, w2, loss = linear_problem()
    data = [(torch.rand(10, generator=g, dtype=D),) for _ in range(300)]
    a = {"weight": w2.clone(), "bias": torch.zeros(10, dtype=D)}
    b = copy.deepcopy(a)
    sa, sb = setup(Adam(0.01), a), setup(Adam(0.01), b)
    train_(loss, a, data, sa)
    it = iter(data)
    train_until(loss, b, lambda: next(it), sb, lambda: False, most=300)
    assert torch.equal(a["weight"], b["weight"]) and torch.equal(a["bias"], b["bias"])
    assert list(itertools.islice(it, 1)) == []
