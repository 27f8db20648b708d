"""Optimisers.jl's feature tests (setup, update, adjust, freeze, ties...), translated.

Source: https://github.com/FluxML/Optimisers.jl, test/runtests.jl at v0.4.8
(commit b3595f5c9639d8e014929dcd2af5effb3966d6c0).

Julia's ``update!`` is ``update_``; NamedTuples are dicts (or namedtuples where a
field is read as an attribute), tuples stay tuples, 1-based indices become 0-based.
A ``Leaf``'s state is always a tuple here (``Leaf.state[0]`` for Julia's bare array),
as docs/porting.md says. Julia's ``ArgumentError``/``DomainError`` are ``TypeError``/
``ValueError``. Julia-only parts (ChainRules ``Tangent`` gradients, StaticArrays, the
``@lazy``/``@..`` macros, Enzyme) are skipped with their reason.
"""
from collections import namedtuple

import pytest
import torch

import flux_torch as Flux
from flux_torch import Optimisers, functor
from flux_torch.optimise import (AdamW, Adam, ClipGrad, ClipNorm, Descent, Leaf, MixedPrecision,
                                 Momentum, Nesterov, OptimiserChain, Rprop, Rule, SignDecay,
                                 WeightDecay)

D = torch.float64


def T(*v, dtype=D):
    return torch.tensor(v, dtype=dtype)


def close(a, b, **kw):
    torch.testing.assert_close(a, torch.as_tensor(b, dtype=a.dtype), **kw)


# Fake "models" for testing
@functor
class Foo:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def trainable(self):            # Optimisers.trainable(x::Foo) = (; x.y, x.x)
        return {"y": self.y, "x": self.x}


@functor("a", "c")
class TwoThirds:
    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c

    def trainable(self):            # Optimisers.trainable(x::TwoThirds) = (a = x.a,)
        return {"a": self.a}


@functor
class MutTwo:
    def __init__(self, x, y):
        self.x, self.y = x, y


NEEDS_LEAF_EQ = "needs core change: Leaf == comparing rule, state and frozen (Optimisers.jl's ==(::Leaf, ::Leaf))"
NEEDS_HIGHER = ("needs core change: update_(state, model, grad, grad2) passing extra gradients "
                "(Optimisers.jl's apply!(rule, state, x, dx, dx2))")


# --- Features ----------------------------------------------------------------------------
def test_very_basics():
    m = (T(1.0, 2.0),)
    mid = id(m[0])
    g = (T(25, 33),)
    o = Descent(0.1)
    s = Optimisers.setup(o, m)

    s2, m2 = Optimisers.update(s, m, g)
    assert torch.equal(m[0], T(1, 2))        # not mutated
    close(m2[0], T(1, 2) - 0.1 * T(25, 33))

    s3, m3 = Optimisers.update_(s, m, g)
    assert id(m3[0]) == mid
    close(m3[0], T(1, 2) - 0.1 * T(25, 33))
    # g4 = Tangent{typeof(m)}(g...): ChainRules' Tangent is a Julia-only type

    o5 = Momentum(0.1)
    s5 = Optimisers.setup(o5, m)
    s6, m6 = Optimisers.update(s5, m, g)
    close(s6[0].state[0], [2.5, 3.3])
    assert torch.equal(s5[0].state[0], T(0, 0))     # not mutated -- wrong on v0.2.9

    s7, m7 = Optimisers.update_(s5, m, g)
    assert s7[0].state[0] is s5[0].state[0]         # same array
    assert s7[0] is s5[0]                           # same Leaf


def test_gradient_clipping():
    m = {"α": (T(0.0), torch.sin), "γ": torch.rand(3, dtype=D)}
    s1 = Optimisers.setup(ClipGrad(13), m)
    _, m1 = Optimisers.update(s1, m, {"α": None, "γ": T(1, 10, 100)})
    close(m["γ"] - m1["γ"], [1, 10, 13])

    s2 = Optimisers.setup(ClipNorm(10), m)
    _, m2 = Optimisers.update(s2, m, {"α": (T(0.1), None), "γ": T(1, 10, 100)})
    close(m["α"][0] - m2["α"][0], [0.1])
    close(torch.linalg.vector_norm(m["γ"] - m2["γ"]), 10.0)
    with pytest.raises(ValueError):     # Julia: DomainError, from NaN input
        Optimisers.update(s2, m, {"α": (T(0.1), None), "γ": T(1, 10, float("nan"))})

    s3 = Optimisers.setup(ClipNorm(5, 1, throw=False), m)
    _, m3 = Optimisers.update(s3, m, {"α": (T(0.1), None), "γ": T(1, 10, 100)})
    close(m["α"][0] - m3["α"][0], [0.1])
    close(torch.linalg.vector_norm(m["γ"] - m3["γ"], 1), 5.0)
    _, m3n = Optimisers.update_(s3, m, {"α": None, "γ": T(1, 10, float("inf"))})
    assert m3n["γ"][2].isnan()


def test_dict_support_simple():
    d = {"a": T(1.0, 2.0), "b": T(3.0, 4.0), "c": 1}
    s = Optimisers.setup(AdamW(0.1), d)
    assert isinstance(s, dict) and isinstance(s["a"], Leaf) and isinstance(s["b"], Leaf)
    assert s["c"] is None                           # Julia: ()
    g = Flux.gradient(lambda model: (model["a"] ** 2).sum(), d)[0]
    s2, d2 = Optimisers.update(s, d, g)
    assert isinstance(s2, dict) and isinstance(d2, dict)
    close(d2["a"], [0.9, 1.9])
    close(d2["b"], [3, 4])
    assert d2["c"] == 1


def test_dict_support_nested():
    C = namedtuple("C", "c")
    d = {1: T(1.0, 2.0), 2: {"a": C(T(3.0, 4.0)), "b": 1}}
    s = Optimisers.setup(AdamW(0.1), d)
    assert isinstance(s[2]["a"].c, Leaf)
    g = Flux.gradient(lambda d: d[2]["a"].c.sum(), d)[0]
    s2, d2 = Optimisers.update(s, d, g)
    close(d2[2]["a"].c, [2.9, 3.9])
    close(d2[1], [1, 2])
    assert d2[2]["b"] == 1


def up(rule, x, dx):
    return Optimisers.update(Optimisers.setup(rule, x), x, dx)[1]


def test_optimiser_chain():
    x, dx = T(1, 10, 100.0), T(1, 2, 3.0)
    close(up(WeightDecay(0.1), x, dx), [1 - 0.1 - 1, 10 - 1 - 2, 100 - 10 - 3])
    close(up(SignDecay(0.1), x, dx), [1 - 0.1 - 1, 10 - 0.1 - 2, 100 - 0.1 - 3])
    close(up(ClipGrad(2), x, dx), [1 - 1, 10 - 2, 100 - 2])

    o2 = OptimiserChain(ClipGrad(2), WeightDecay(0.1))
    close(up(o2, x, dx), [1 - 0.1 - 1, 10 - 1 - 2, 100 - 10 - 2])
    o2n = OptimiserChain(OptimiserChain(ClipGrad(2), WeightDecay(0.1)))     # nested
    close(up(o2n, x, dx), [1 - 0.1 - 1, 10 - 1 - 2, 100 - 10 - 2])
    o2r = OptimiserChain(WeightDecay(0.1), ClipGrad(2))                     # reversed
    assert not torch.equal(up(o2r, x, dx), T(1 - 0.1 - 1, 10 - 2, 100 - 2))

    # Trivial cases
    close(up(OptimiserChain(Descent(0.1)), x, dx), [0.9, 9.8, 99.7])
    close(up(OptimiserChain(), x, dx), [1 - 1, 10 - 2, 100 - 3])

    # L1 norm via sign
    xm, dxm = T(1, -10, 100.0), T(3, 2, -1)
    close(up(SignDecay(0.1), xm, dxm), [1 - 0.1 - 3, -10 + 0.1 - 2, 100 - 0.1 + 1])


def test_trainable_subset():
    # Foo has an old-style tuple trainable, both elements
    mf = Foo(T(1.0, 2.0), {"a": torch.sin, "b": T(3.0, 4.0), "c": 5})
    sf = Optimisers.setup(Descent(0.1), mf)
    gf = {"x": None, "y": {"a": None, "b": T(1, 1), "c": 1}}
    _, mf2 = Optimisers.update(sf, mf, gf)
    close(mf2.x, [1, 2])
    assert mf2.y["a"] is torch.sin and mf2.y["c"] == 5
    close(mf2.y["b"], [2.9, 3.9])
    # gf3 with ChainRules Tangent/NoTangent: Julia-only types

    # TwoThirds has functor a,c only, and trainable a only
    mt = TwoThirds(T(1, 2, dtype=torch.float32), T(3, 4, dtype=torch.float32),
                   T(5, 6, dtype=torch.float32))
    mt10 = Flux.fmap(lambda x: 10 * x if isinstance(x, torch.Tensor) else x, mt)
    close(mt10.a, [10, 20])
    close(mt10.b, [3, 4])
    close(mt10.c, [50, 60])
    st = Optimisers.setup(Momentum(0.1, 0.9), mt)
    gt = Flux.gradient(lambda m: (m.a ** 2).sum() + 100 * (m.b ** 2).sum(), mt)
    _, mtup = Optimisers.update(st, mt, *gt)
    close(mtup.a, [0.8, 1.6])
    close(mtup.b, [3, 4])
    close(mtup.c, [5, 6])


def test_trainable_subset_missing_branches():
    # Various kinds of missing branches together:
    m = Foo(TwoThirds(Foo(1.0, T(2, 3, 4, dtype=torch.float32)), 5.0, T(6, 7, dtype=torch.float32)),
            TwoThirds({"p": T(1, 2, 3, dtype=torch.float32)}, torch.sin,
                      {"q": 4.0, "r": torch.cos}))
    s = Optimisers.setup(Momentum(0.1, 0.9), m)
    g = Flux.gradient(lambda m: (m.x.a.y ** 2).sum() + m.x.b ** 2 + torch.log(torch.tensor(m.y.c["q"])), m)
    assert isinstance(Optimisers.update_(s, m, *g)[1], Foo)


def test_eltype_preservation():
    m = (T(1, 2, dtype=torch.float16), T(3, 4, dtype=torch.float32))
    s1 = Optimisers.setup(Descent(0.1), m)
    s2, m2 = Optimisers.update(s1, m, m)
    assert m2[0].dtype == torch.float16       # because update copies & calls update!
    assert m2[1].dtype == torch.float32
    # the same with static arrays: Julia-only type

    # Rprop re-creates its state arrays, check they don't get widened:
    s5 = Optimisers.setup(Rprop(0.1), m)  # Float64 rule
    grad64 = (T(1.0, 2.0), T(3.0, 4.0))  # Float64 gradients
    s6, m6 = Optimisers.update(s5, m, grad64)
    assert m6[0].dtype == torch.float16 and m6[1].dtype == torch.float32
    assert s6[0].state[0].dtype == s6[0].state[1].dtype == torch.float16
    assert s6[1].state[0].dtype == s6[1].state[1].dtype == torch.float32


def adjust_model():
    return {"α": (T(0.0), torch.sin), "γ": T(4, 3, 2, dtype=torch.float32)}


GRAD = {"α": None, "γ": T(1, 10, 100)}


def test_adjusting_parameters_out_of_place():
    m = adjust_model()
    s = Optimisers.setup(Momentum(0.1, 0.9), m)
    s1, m1 = Optimisers.update(s, m, GRAD)
    close(m["γ"] - m1["γ"], [0.1, 1, 10])
    assert s1["γ"].rule.eta == 0.1
    close(s1["γ"].state[0], [0.1, 1, 10])

    s2 = Optimisers.adjust(s1, 0.2)
    assert s2["γ"].rule.eta == 0.2 and s2["γ"].rule.rho == 0.9
    assert torch.equal(s2["γ"].state[0], s1["γ"].state[0])
    assert s2["α"][0].rule.eta == 0.2
    assert torch.equal(s2["α"][0].state[0], s1["α"][0].state[0])

    s3 = Optimisers.adjust(s1, eta=0.3, rho=0.7)
    assert s3["γ"].rule.eta == 0.3 and s3["γ"].rule.rho == 0.7
    assert torch.equal(s3["γ"].state[0], s1["γ"].state[0])
    assert s3["α"][0].rule.rho == 0.7

    _, m3 = Optimisers.update(s3, m, GRAD)
    assert not torch.allclose(m["γ"] - m3["γ"], T(1, 10, 100, dtype=torch.float32))

    # OptimiserChain
    sc = Optimisers.setup(OptimiserChain(ClipGrad(2), Adam()), m)
    sc1, mc1 = Optimisers.update(sc, m, GRAD)
    assert sc1["γ"].rule.opts[1].eta == 0.001
    close(sc1["γ"].state[1][0], [0.1, 0.2, 0.2])

    sc2 = Optimisers.adjust(sc1, 0.2)
    assert sc2["γ"].rule.opts[0].delta == 2     # unchanged
    assert sc2["γ"].rule.opts[1].eta == 0.2
    close(sc2["γ"].state[1][0], [0.1, 0.2, 0.2])

    sc2 = Optimisers.adjust(sc1, delta=2.5)     # ClipGrad(2) does not store an Int, for this reason
    assert sc2["γ"].rule.opts[0].delta == 2.5
    assert sc2["γ"].rule.opts[1].eta == 0.001   # unchanged
    close(sc2["γ"].state[1][0], [0.1, 0.2, 0.2])

    # MixedPrecision
    mp = Optimisers.setup(MixedPrecision(Momentum(0.1, 0.9)), m)
    mp1, _ = Optimisers.update(mp, m, GRAD)
    assert mp1["γ"].rule.rule.eta == 0.1
    close(mp1["γ"].state[1][0], [0.1, 1, 10])

    mp2 = Optimisers.adjust(mp1, 0.2)
    assert mp2["γ"].rule.rule.eta == 0.2 and mp2["γ"].rule.rule.rho == 0.9
    mp3 = Optimisers.adjust(mp1, eta=0.3, rho=0.7)
    assert mp3["γ"].rule.rule.eta == 0.3 and mp3["γ"].rule.rule.rho == 0.7


@pytest.mark.xfail(not hasattr(Leaf, "__eq__") or Leaf.__eq__ is object.__eq__,
                   reason=NEEDS_LEAF_EQ, strict=True)
def test_adjusting_parameters_nothing_is_a_copy_equal_to_the_original():
    m = adjust_model()
    s1, _ = Optimisers.update(Optimisers.setup(Momentum(0.1, 0.9), m), m, GRAD)
    assert s1 == Optimisers.adjust(s1, zeta="this does nothing")


def test_adjusting_parameters_in_place():
    m = adjust_model()
    s = Optimisers.setup(Momentum(0.1, 0.9), m)
    s1, m1 = Optimisers.update(s, m, GRAD)
    close(m["γ"] - m1["γ"], [0.1, 1, 10])
    assert s1["γ"].rule.eta == pytest.approx(0.1)
    close(s1["γ"].state[0], [0.1, 1, 10])

    Optimisers.adjust_(s1, 0.2)
    assert s1["γ"].rule.eta == pytest.approx(0.2) and s1["γ"].rule.rho == pytest.approx(0.9)
    close(s1["γ"].state[0], [0.1, 1, 10])
    assert s1["α"][0].rule.eta == pytest.approx(0.2)

    Optimisers.adjust_(s1, eta=0.3, rho=0.7)
    assert s1["γ"].rule.eta == pytest.approx(0.3) and s1["γ"].rule.rho == pytest.approx(0.7)
    close(s1["γ"].state[0], [0.1, 1, 10])
    assert s1["α"][0].rule.rho == pytest.approx(0.7)

    _, m3 = Optimisers.update(s1, m, GRAD)
    assert not torch.allclose(m["γ"] - m3["γ"], T(1, 10, 100, dtype=torch.float32))

    Optimisers.adjust_(s1, zeta="this does nothing")
    assert s1["γ"].rule.eta == pytest.approx(0.3)

    # OptimiserChain
    sc = Optimisers.setup(OptimiserChain(ClipGrad(2), Adam()), m)
    sc1, mc1 = Optimisers.update(sc, m, GRAD)
    assert sc1["γ"].rule.opts[1].eta == pytest.approx(0.001)
    close(sc1["γ"].state[1][0], [0.1, 0.2, 0.2])

    Optimisers.adjust_(sc1, 0.2)
    assert sc1["γ"].rule.opts[0].delta == 2     # unchanged
    assert sc1["γ"].rule.opts[1].eta == pytest.approx(0.2)
    close(sc1["γ"].state[1][0], [0.1, 0.2, 0.2])

    Optimisers.adjust_(sc1, delta=2.5)
    assert sc1["γ"].rule.opts[0].delta == pytest.approx(2.5)
    assert sc1["γ"].rule.opts[1].eta == pytest.approx(0.2)     # unchanged
    close(sc1["γ"].state[1][0], [0.1, 0.2, 0.2])

    # MixedPrecision
    mp = Optimisers.setup(MixedPrecision(Momentum(0.1, 0.9)), m)
    mp1, _ = Optimisers.update(mp, m, GRAD)
    assert mp1["γ"].rule.rule.eta == 0.1
    close(mp1["γ"].state[1][0], [0.1, 1, 10])

    Optimisers.adjust_(mp1, 0.2)
    assert mp1["γ"].rule.rule.eta == 0.2 and mp1["γ"].rule.rule.rho == 0.9
    Optimisers.adjust_(mp1, eta=0.3, rho=0.7)
    assert mp1["γ"].rule.rule.eta == 0.3 and mp1["γ"].rule.rule.rho == 0.7


def test_freeze_thaw():
    m = {"x": T(1.0, 2.0), "y": (T(3.0, 4.0), torch.sin)}
    st = Optimisers.setup(Descent(0.1), m)
    Optimisers.freeze_(st["y"])
    st, m = Optimisers.update(st, m, {"x": T(1, 10), "y": (T(100, 1000), None)})
    close(m["x"], [0.9, 1.0])
    close(m["y"][0], [3, 4])

    st = Optimisers.adjust(st, 0.2)
    Optimisers.thaw_(st)
    st, m = Optimisers.update(st, m, {"x": T(1, 10), "y": (T(100, 1000), None)})
    close(m["y"][0], [-17.0, -196.0])
    close(m["x"], [0.7, -1.0])

    with pytest.raises((TypeError, ValueError)):     # Julia: ArgumentError
        Optimisers.freeze_(m)
    with pytest.raises((TypeError, ValueError)):
        Optimisers.thaw_(m)


def test_keyword_arguments():
    assert Nesterov(rho=0.8, eta=0.1) == Nesterov(0.1, 0.8)
    # Julia's keyword `lambda` is a Python keyword: λ= or lambda_=
    assert AdamW(λ=0.3, eta=0.1) == AdamW(0.1, (0.9, 0.999), 0.3, 1.0e-8)
    assert AdamW(lambda_=0.3, eta=0.1) == AdamW(0.1, (0.9, 0.999), 0.3, 1.0e-8)


def test_forgotten_gradient():
    x = T(1.0, 2.0)
    sx = Optimisers.setup(Descent(), x)
    with pytest.raises(TypeError):      # Julia: MethodError
        Optimisers.update(sx, x)
    m = {"x": x, "y": torch.sin}
    sm = Optimisers.setup(Descent(), m)
    with pytest.raises(TypeError):
        Optimisers.update(sm, m)


@pytest.mark.skip(reason="Optimisers.@lazy and @.. are Julia broadcasting macros, with no "
                         "Python counterpart (rules use torch._foreach_* ops)")
def test_broadcasting_macros():
    pass


# --- tied weights --------------------------------------------------------------------------
def test_tied_tuples():
    twice = T(1, 2.0)
    mtup = (twice, (twice.clone(), twice))     # (tied (not tied, tied))
    # simplest rule for which opt(g1) + opt(g2) != opt(g1 + g2)
    stup = Optimisers.setup(Momentum(0.1), mtup)
    gtup = (T(3, 3), (T(10, 10), T(7, 7)))     # (g1, (g1 + g2, g2))

    snew, mnew = Optimisers.update(stup, mtup, gtup)
    close(mnew[0], mnew[1][0])                  # gradient was accumulated
    assert mnew[1][1] is mnew[0]                # and tie is not broken

    st3, mt3 = Optimisers.update(stup, mtup, (T(3, 3), None))
    close(mt3[0], T(1, 2) - 0.1 * T(3, 3))
    assert mt3[1][1] is mt3[0]

    st4, mt4 = Optimisers.update(stup, mtup, (None, (T(5, 5), T(7, 7))))
    close(mt4[0], T(1, 2) - 0.1 * T(7, 7))


def test_tied_named():
    N = namedtuple("N", "x y z")
    thrice = T(3, dtype=torch.float32)
    model = {"a": N(thrice, T(4, 5, 6, dtype=torch.float32), True),
             "b": ({"m": (0, 1, thrice)},),
             "c": {"x": T(7, 8, dtype=torch.float32), "y": thrice}}
    tree = Optimisers.setup(Momentum(0.1, 0.9), model)
    assert model["a"].x is model["b"][0]["m"][2] and torch.equal(model["a"].x, model["c"]["y"])

    def loss(m):
        if isinstance(m, torch.Tensor):
            return (m ** 2).sum()
        if isinstance(m, (bool, int, float)):
            return m ** 3
        items = m.values() if isinstance(m, dict) else m
        return sum(2 * loss(x) for x in items)

    _, m2 = Optimisers.update(tree, model, *Flux.gradient(loss, model))
    assert m2["a"].x is m2["b"][0]["m"][2] and torch.equal(m2["a"].x, m2["c"]["y"])

    def loss3(m):   # truncates the b limb
        return sum(0 if isinstance(x, tuple) and not hasattr(x, "_fields") else 2 * loss(x)
                   for x in m.values())
    _, m3 = Optimisers.update(tree, model, *Flux.gradient(loss3, model))
    assert m3["a"].x is m3["b"][0]["m"][2] and torch.equal(m3["a"].x, m3["c"]["y"])


TRANSPOSE = ("needs core change: a transposed view (Julia's transpose(mat)) kept tied to its parent by setup and "
             "update (functors)")


@pytest.mark.xfail(reason=TRANSPOSE, strict=True)
def test_tied_transpose():
    mat = torch.tensor([[1, 2, 3], [4, 5, 6.0]], dtype=D)
    bidir = {"m": mat, "f": torch.log, "t": mat.T, "v": T(7, 8, 9.0)}
    bigrad = Flux.gradient(lambda m, x: (m["m"] @ m["f"](m["t"] @ x + m["v"])).pow(2).sum(),
                           bidir, T(1, 0.1))[0]
    state = Optimisers.setup(Descent(0.1), bidir)
    s2, b2 = Optimisers.update(state, bidir, bigrad)
    assert b2["t"]._base is b2["m"]         # tie restored
    close(b2["m"], mat - 0.1 * (bigrad["m"] + bigrad["t"].T))


@pytest.mark.xfail(reason="needs core change: update_ treating one Leaf shared (by hand) between "
                          "different tensors as tying them; it refuses such a tree today",
                   raises=ValueError, strict=True)
def test_tied_artificial():
    # Interpret shared Leaf as implying shared parameters, even if this did not arise from
    # shared arrays. No API for setting this at the moment, but can construct one by hand:
    model = {k: T(1, 2.0) for k in "abcd"}
    auto = Optimisers.setup(Momentum(0.1), model)
    assert auto["a"] is not auto["b"]         # not tied just by value
    trick = {"a": auto["a"], "b": auto["a"], "c": auto["c"], "d": auto["d"]}   # makes a & b tied
    grad = {"a": T(3, 3), "b": T(7, 7), "c": T(3, 3), "d": T(10, 10)}
    trick2, model2 = Optimisers.update(trick, model, grad)
    trick3, model3 = Optimisers.update(trick2, model2, grad)
    close(model3["a"], model3["b"])
    close(model3["b"], model3["d"])             # same as having the gradients added
    assert not torch.allclose(model3["a"], model3["c"])
    assert trick3["a"] is trick3["b"]           # leaves remain shared


def test_tied_mutable_containers():
    tmp = MutTwo(T(1.0), T(2.0))
    M = namedtuple("M", "a b c")
    model = M(tmp, tmp, MutTwo(tmp.x, tmp.y))
    state = Optimisers.setup(Momentum(), model)
    assert model.a is model.b and model.a is not model.c   # fields are identified, but struct is not
    assert state.a.x is state.b.x
    assert state.a is state.b
    mgrad = M({"x": T(1), "y": T(10)}, {"x": T(100), "y": T(1000)}, {"x": T(1 / 3), "y": T(1 / 30)})
    state2, model2 = Optimisers.update(state, model, mgrad)
    assert model2.a is model2.b        # tie of MutTwo structs is restored
    assert model2.a is not model2.c    # but a new tie is not created


# --- 2nd-order interface --------------------------------------------------------------------
class BiRule(Rule):
    """A rule that needs two gradients and checks they agree."""

    def apply(self, states, xs, dxs, dx2s=None):
        if dx2s is None or not all(torch.equal(a, b) for a, b in zip(dxs, dx2s)):
            raise RuntimeError("expected 1st & 2nd gradients to agree")
        return dxs


def test_second_order_birule():
    m = {"α": (T(1.0), torch.sin), "γ": T(4, 3, 2, dtype=torch.float32)}
    s = Optimisers.setup(BiRule(), m)
    g = {"α": (T(0.1), None), "γ": T(1, 10, 100)}
    s1, m1 = Optimisers.update(s, m, g, g)
    close(m1["α"][0], [0.9])


def test_second_order_ordinary_rule_ignores_the_extra_gradient():
    m = {"α": (T(1.0), torch.sin), "γ": T(4, 3, 2, dtype=torch.float32)}
    g = {"α": (T(0.1), None), "γ": T(1, 10, 100)}
    s2 = Optimisers.setup(Adam(), m)
    s3, m3 = Optimisers.update(s2, m, g)
    s4, m4 = Optimisers.update(s2, m, g, g)
    close(m3["γ"], m4["γ"])


class DummyHigherOrder(Rule):
    """A rule using a second gradient: update a*dx + b*dx2, then a += 1, b += 1."""

    def init(self, x):
        return (torch.ones_like(x), torch.zeros_like(x))

    def apply(self, states, xs, dxs, dx2s=None):
        if dx2s is None:
            raise TypeError("DummyHigherOrder needs two gradients")
        out = []
        for (a, b), dx, dx2 in zip(states, dxs, dx2s):
            out.append(a * dx + b * dx2)
            a += 1
            b += 1
        return out


def dummy_update_rule(st, p, dx, dx2):
    return p - (st[0] * dx + st[1] * dx2)


def test_second_order_dummy_higher_order():
    g = torch.Generator().manual_seed(8)
    w, b = torch.rand(3, 4, generator=g, dtype=D), torch.rand(3, generator=g, dtype=D)
    o = DummyHigherOrder()
    psin = (w, b)
    dxs = tuple(torch.rand(x.shape, generator=g, dtype=D) for x in psin)
    dx2s = tuple(torch.rand(x.shape, generator=g, dtype=D) for x in psin)
    stin = Optimisers.setup(o, psin)
    stout, psout = Optimisers.update(stin, psin, dxs, dx2s)
    # hardcoded rule behavior for dummy rule
    assert torch.equal(psout[0], dummy_update_rule(stin[0].state, psin[0], dxs[0], dx2s[0]))
    assert torch.equal(psout[1], dummy_update_rule(stin[1].state, psin[1], dxs[1], dx2s[1]))
    assert torch.equal(stout[0].state[0], stin[0].state[0] + 1)
    assert torch.equal(stout[1].state[1], stin[1].state[1] + 1)
    with pytest.raises(TypeError):      # only one derivative given
        Optimisers.update(stin, psin, dxs)
    # first-order rules compose with second-order
    ochain = OptimiserChain(Descent(0.1), o)
    stin = Optimisers.setup(ochain, psin)
    stout, psout = Optimisers.update(stin, psin, dxs, dx2s)
    assert torch.equal(psout[0], dummy_update_rule(stin[0].state[1], psin[0], 0.1 * dxs[0], dx2s[0]))
    assert torch.equal(psout[1], dummy_update_rule(stin[1].state[1], psin[1], 0.1 * dxs[1], dx2s[1]))


def test_mixed_precision_takes_the_first_gradient_only():
    """Optimisers.jl has apply!(::MixedPrecision, state, x, dx) only: extra gradients reach it
    through the first-order fallback, which drops them, so the wrapped rule sees one gradient
    (a second-order rule inside then fails, as Julia's MethodError does)."""
    g = torch.Generator().manual_seed(9)
    w = torch.rand(3, 4, generator=g)
    dx, dx2 = torch.rand(3, 4, generator=g), torch.rand(3, 4, generator=g)
    one = Optimisers.update(Optimisers.setup(MixedPrecision(Adam(0.1)), (w.clone(),)), (w.clone(),), (dx,))
    two = Optimisers.update(Optimisers.setup(MixedPrecision(Adam(0.1)), (w.clone(),)), (w.clone(),), (dx,), (dx2,))
    assert torch.equal(one[1][0], two[1][0])
    psin = (w.clone(),)
    st = Optimisers.setup(MixedPrecision(torch.float64, DummyHigherOrder()), psin)
    with pytest.raises(TypeError):
        Optimisers.update(st, psin, (dx,), (dx2,))


@pytest.mark.skip(reason="subtract! and ChainRules' ZeroTangent are Julia internals; a None "
                         "gradient leaving the parameter alone is test_gradient_clipping's α")
def test_subtract_handles_zero():
    pass


@pytest.mark.parametrize("p", [float("-inf"), -3, -1, 0, 0.5, 1, 1.5, 2, 3, float("inf")])
def test_norm_dx_p_works(p):
    # Julia tests its internal _norm of a lazy Broadcasted against LinearAlgebra.norm; here
    # the same p-norms through ClipNorm, against torch.linalg.vector_norm.
    g = torch.Generator().manual_seed(7)
    arr = torch.randn(10, generator=g) + torch.randn(10, 1, generator=g)
    arr2 = torch.tensor([1.0, 0.0, -3.0, 4.0], dtype=D)
    for a in (arr, arr2):
        n = torch.linalg.vector_norm(a, p)
        got = ClipNorm(1e-3, p, throw=False).apply([()], [a], [a.clone()])[0]
        assert got.dtype == a.dtype
        close(got, a * min(1e-3 / n.item(), 1.0) if n > 0 else a, rtol=1e-5, atol=0)


@pytest.mark.skip(reason="Enzyme's Duplicated is a Julia-only type (flux_torch differentiates "
                         "with torch.autograd)")
def test_enzyme_duplicated():
    pass
