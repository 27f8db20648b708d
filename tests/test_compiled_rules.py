"""Every built-in rule updates inside the compiled graph (issue 14 §3), against the eager step
(the oracle): the same parameters, the same optimiser state (tensors and the Python numbers a
state keeps, of the same type), the same printed rule, no recompilation as βᵗ changes, and a
refused step (NaN loss) that changes nothing."""
import pytest
import torch

import flux_torch as Flux
from flux_torch import Chain, Dense, relu
from flux_torch.optimise.graph import traceable

O = Flux.Optimisers

RULES = {
    "Descent": lambda: O.Descent(0.1),
    "Momentum": lambda: O.Momentum(0.05),
    "Nesterov": lambda: O.Nesterov(0.05),
    "RMSProp": lambda: O.RMSProp(0.01),
    "RMSProp-centred": lambda: O.RMSProp(0.01, centred=True),
    "Rprop": lambda: O.Rprop(0.01),
    "AdaGrad": lambda: O.AdaGrad(0.05),
    "AdaDelta": lambda: O.AdaDelta(0.9),
    "Adam": lambda: O.Adam(0.01),
    "RAdam": lambda: O.RAdam(0.01),
    "AdaMax": lambda: O.AdaMax(0.01),
    "AMSGrad": lambda: O.AMSGrad(0.01),
    "NAdam": lambda: O.NAdam(0.01),
    "OAdam": lambda: O.OAdam(0.01),
    "AdaBelief": lambda: O.AdaBelief(0.01),
    "Lion": lambda: O.Lion(0.001),
    "AdamW": lambda: O.AdamW(0.01, (0.9, 0.999), 0.1),
    "MixedPrecision": lambda: O.MixedPrecision(torch.float64, O.Adam(0.01)),
    "chain": lambda: O.OptimiserChain(O.ClipGrad(0.5), O.WeightDecay(0.01), O.SignDecay(0.001),
                                      O.ClipNorm(1.0, throw=False), O.Adam(0.01)),
}


def mse(m, x, y):
    return ((m(x) - y) ** 2).mean()


def twins():
    torch.manual_seed(0)
    a = Chain(Dense(3, 5, relu), Dense(5, 2))
    torch.manual_seed(0)
    return a, Chain(Dense(3, 5, relu), Dense(5, 2))


def same(u, v, tol):
    """``u`` and ``v`` (a leaf's optimiser state) hold the same tensors (to ``tol``) and the same
    numbers, of the same types."""
    assert type(u) is type(v)
    if isinstance(u, torch.Tensor):
        torch.testing.assert_close(u, v, atol=tol, rtol=tol)
    elif isinstance(u, (tuple, list)):
        assert len(u) == len(v)
        for a, b in zip(u, v):
            same(a, b, tol)
    elif isinstance(u, float):
        assert u == pytest.approx(v, rel=1e-12)
    else:
        assert u == v


def states_equal(sa, sb, tol):
    la, lb = ([leaf for leaf in Flux.functors.fleaves(s) if isinstance(leaf, O.Leaf)] for s in (sa, sb))
    assert len(la) == len(lb) == 4
    for u, v in zip(la, lb):
        same(u.state, v.state, tol)


@pytest.mark.parametrize("name", list(RULES))
def test_rule_updates_in_the_graph_as_eagerly(name):
    a, b = twins()
    sa, sb = Flux.setup(RULES[name](), a), Flux.setup(RULES[name](), b)
    step = Flux.compile_step(mse, a, sa)
    torch.manual_seed(1)
    x, y = torch.rand(16, 3), torch.rand(16, 2)
    counters = torch._dynamo.utils.counters
    for i in range(12):
        la = step(x, y)
        if i == 1:
            graphs = counters["stats"]["unique_graphs"]
        lb, gb = Flux.withgradient(lambda m: mse(m, x, y), b)
        Flux.update_(sb, b, gb[0])
        assert float(la) == pytest.approx(float(lb), rel=1e-4, abs=1e-6)
    assert counters["stats"]["unique_graphs"] == graphs      # βᵗ and step counts did not recompile
    assert step._inner._last.update is not None, "the update ran eagerly, not in the graph"
    for p, q in zip(Flux.params(a), Flux.params(b)):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-5)
    states_equal(sa, sb, 1e-5)
    assert repr(sa.layers[0].weight.rule) == repr(sb.layers[0].weight.rule) == repr(RULES[name]())


def test_a_refused_step_leaves_adam_state_and_counters_alone():
    model = Chain(Dense(2, 3), Dense(3, 1))
    state = Flux.setup(O.Adam(0.01), model)
    step = Flux.compile_step(mse, model, state)
    good = (torch.rand(4, 2), torch.rand(4, 1))
    for _ in range(3):
        step(*good)
    before = [t.clone() if isinstance(t, torch.Tensor) else list(t) if isinstance(t, list) else t
              for t in Flux.functors.fleaves(state)]
    params = [p.clone() for p in Flux.params(model)]
    with pytest.raises(FloatingPointError):
        step(torch.full((4, 2), float("nan")), good[1])
    after = Flux.functors.fleaves(state)
    for u, v in zip(before, after):
        assert torch.equal(u, v) if isinstance(u, torch.Tensor) else u == v
    assert all(torch.equal(p, q) for p, q in zip(params, Flux.params(model)))


def test_which_rules_join_the_graph():
    assert traceable(O.Adam()) and traceable(O.OptimiserChain(O.ClipGrad(), O.Momentum()))
    assert not traceable(O.AccumGrad(2)) and not traceable(O.ClipNorm(1.0, throw=True))
    assert not traceable(O.OptimiserChain(O.AccumGrad(2), O.Descent()))

    class Mine(O.Descent):
        pass
    assert not traceable(Mine())


def test_an_eager_rule_still_trains_as_eagerly():
    """AccumGrad's update stays outside the graph, on the gradients the graph returns."""
    a, b = twins()
    rule = lambda: O.OptimiserChain(O.AccumGrad(2), O.Descent(0.1))  # noqa: E731
    sa, sb = Flux.setup(rule(), a), Flux.setup(rule(), b)
    step = Flux.compile_step(mse, a, sa)
    x, y = torch.rand(8, 3), torch.rand(8, 2)
    for _ in range(6):
        step(x, y)
        Flux.update_(sb, b, Flux.gradient(lambda m: mse(m, x, y), b)[0])
    assert step._inner._last.update is None
    for p, q in zip(Flux.params(a), Flux.params(b)):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-6)


def test_a_learning_rate_schedule_does_not_compile_a_graph_per_value():
    """adjust_ every step (a schedule): one more graph at most, then no compilation, and the
    steps still equal the eager ones."""
    a, b = twins()
    sa, sb = Flux.setup(O.Adam(0.01), a), Flux.setup(O.Adam(0.01), b)
    step = Flux.compile_step(mse, a, sa)
    x, y = torch.rand(8, 3), torch.rand(8, 2)
    counters = torch._dynamo.utils.counters
    step(x, y)
    Flux.update_(sb, b, Flux.gradient(lambda m: mse(m, x, y), b)[0])
    graphs = counters["stats"]["unique_graphs"]
    for i in range(1, 10):
        for s in (sa, sb):
            Flux.adjust_(s, 0.01 / (1 + i))
        step(x, y)
        Flux.update_(sb, b, Flux.gradient(lambda m: mse(m, x, y), b)[0])
    assert counters["stats"]["unique_graphs"] <= graphs + 1
    for p, q in zip(Flux.params(a), Flux.params(b)):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-6)
    states_equal(sa, sb, 1e-6)
    assert repr(sa.layers[1].bias.rule) == repr(O.Adam(0.001))


@pytest.mark.parametrize("name", ["Adam", "RAdam", "chain"])
def test_the_copy_out_path_of_cuda_graphs_trains_as_eagerly(name):
    """With CUDA graphs the graph returns the new values and the step copies them in after the
    finite check (a replayed graph may not write into its inputs), and the optimiser's numbers
    are made from the state each step. mode='reduce-overhead' takes that path on the CPU too."""
    a, b = twins()
    sa, sb = Flux.setup(RULES[name](), a), Flux.setup(RULES[name](), b)
    step = Flux.compile_step(mse, a, sa, mode="reduce-overhead")
    assert step._inner._cudagraphs
    torch.manual_seed(1)
    x, y = torch.rand(16, 3), torch.rand(16, 2)
    for _ in range(12):
        la = step(x, y)
        lb, gb = Flux.withgradient(lambda m: mse(m, x, y), b)
        Flux.update_(sb, b, gb[0])
        assert float(la) == pytest.approx(float(lb), rel=1e-4, abs=1e-6)
    assert step._inner._last.update is not None
    for p, q in zip(Flux.params(a), Flux.params(b)):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-5)
    states_equal(sa, sb, 1e-5)
