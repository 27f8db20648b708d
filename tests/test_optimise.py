"""setup / update_ / adjust_ / freeze_ / thaw_, in both styles.

Oracles: torch.optim (SGD, SGD with momentum, Adam) step for step in float64,
the values printed in Optimisers.jl's and Flux's docstrings, and arithmetic
done by hand in the tests.
"""
import copy
from collections import namedtuple

import pytest
import torch
from torch import nn

import flux_torch as Flux
from flux_torch import Chain, Dense, gradient, params, relu
from flux_torch.optimise import (Adam, Descent, Leaf, Momentum, Nesterov, OptimiserChain, Rule,
                                 WeightDecay, adjust_, freeze_, setup, thaw_, update_)

D = torch.float64


def mlp(seed=0):
    torch.manual_seed(seed)
    return Chain(Dense(torch.randn(5, 3, dtype=D), torch.randn(5, dtype=D), relu),
                 Dense(torch.randn(2, 5, dtype=D), torch.randn(2, dtype=D)))


def data(seed=1, n=4):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(8, 3, generator=g, dtype=D), torch.randn(8, 2, generator=g, dtype=D))
            for _ in range(n)]


def loss(m, x, y):
    return ((m(x) - y) ** 2).mean()


def torch_twin(model):
    """The same network as torch.nn, sharing nothing."""
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).to(D)
    with torch.no_grad():
        for lin, d in ((net[0], model.layers[0]), (net[2], model.layers[1])):
            lin.weight.copy_(d.weight)
            lin.bias.copy_(d.bias)
    return net


# ------------------------------------------------------------------------ setup

def test_setup_mirrors_the_model():
    m = Chain(Dense(2, 3, relu), Dense(3, 1), torch.tanh)
    st = setup(Momentum(0.1), m)
    assert type(st) is Chain and type(st.layers) is tuple
    w = st.layers[0].weight
    assert isinstance(w, Leaf) and w.rule == w.rule and not w.frozen
    assert torch.equal(w.state[0], torch.zeros(3, 2))
    assert st.layers[0].σ is None and st.layers[2] is None


def test_setup_like_optimisers_docstring():
    # Optimisers.setup(Momentum(), (x = rand(3), y = (true, false), z = tanh))
    # gives (x = Leaf(Momentum(0.01, 0.9), [0.0, 0.0, 0.0]), y = ((), ()), z = ())
    st = setup(Momentum(), {"x": torch.rand(3), "y": (True, False), "z": torch.tanh})
    assert repr(st["x"]) == "Leaf(Momentum(0.01, 0.9), (tensor([0., 0., 0.]),))"
    assert st["y"] == (None, None) and st["z"] is None


def test_setup_skips_integers_and_non_trainable():
    @Flux.layer(trainable=("w",))
    class Scaled:
        def __init__(self):
            self.w, self.shift, self.ids = torch.ones(2), torch.zeros(2), torch.arange(3)

    st = setup(Descent(), Scaled())
    assert isinstance(st.w, Leaf) and st.shift is None and st.ids is None


def test_setup_torch_module_becomes_dict():
    lin = nn.Linear(2, 3)
    st = setup(Adam(), Chain(lin))
    assert set(st.layers[0]) == {"weight", "bias"}
    assert all(isinstance(v, Leaf) for v in st.layers[0].values())


def test_setup_ties_share_one_leaf():
    W = torch.ones(2, 2)
    st = setup(Momentum(), Chain(Dense(W, False), Dense(W, False)))
    assert st.layers[0].weight is st.layers[1].weight


def test_setup_errors_and_warning():
    with pytest.raises(TypeError, match=r"call it: Adam\(\)"):
        setup(Adam, Dense(2, 1))
    st = setup(Adam(), Dense(2, 1))
    with pytest.raises(TypeError, match="already set up"):
        setup(Adam(), st)
    with pytest.warns(UserWarning, match="no trainable parameters"):
        setup(Adam(), (1, torch.arange(3)))


def test_leaf_repr_is_python():
    leaf = Leaf(Momentum(0.01, 0.9), (torch.tensor([0.5, 0.0]),), frozen=True)
    text = repr(leaf)
    assert text == "Leaf(Momentum(0.01, 0.9), (tensor([0.5000, 0.0000]),), frozen=True)"
    back = eval(text, {"Leaf": Leaf, "Momentum": Momentum, "tensor": torch.tensor})
    assert back.frozen and back.rule.eta == 0.01 and torch.equal(back.state[0], leaf.state[0])


# ------------------------------------------------------------ explicit update_

@pytest.mark.parametrize("rule, make", [
    (Descent(0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    (Momentum(0.05, 0.8), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8)),
    (Nesterov(0.05, 0.8), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    (Adam(0.01), lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-8)),
])
def test_explicit_matches_torch_optim(rule, make):
    model = mlp()
    net = torch_twin(model)
    opt = make(net.parameters())
    st = setup(rule, model)
    for x, y in data(n=6):
        g = gradient(loss, model, x, y)[0]
        update_(st, model, g)
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    torch.testing.assert_close(model.layers[0].weight, net[0].weight.detach())
    torch.testing.assert_close(model.layers[1].bias, net[2].bias.detach())


def test_explicit_with_torch_module_inside():
    torch.manual_seed(3)
    lin = nn.Linear(3, 2).to(D)
    model = Chain(lin)
    twin = copy.deepcopy(lin)
    opt = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    st = setup(Momentum(0.1, 0.9), model)
    for x, _ in data(n=3):
        update_(st, model, gradient(lambda m: m(x).pow(2).sum(), model)[0])
        opt.zero_grad()
        twin(x).pow(2).sum().backward()
        opt.step()
    torch.testing.assert_close(lin.weight.detach(), twin.weight.detach())


def test_update_leaves_the_gradient_alone():
    model = {"w": torch.tensor([1.0, 2.0])}
    g = {"w": torch.tensor([3.0, 4.0])}
    update_(setup(Momentum(0.1), model), model, g)
    assert torch.equal(g["w"], torch.tensor([3.0, 4.0]))


def test_expanded_and_shared_gradients():
    # autograd hands back one expanded tensor for both a and b here
    model = {"a": torch.ones(3), "b": torch.ones(3)}
    g = gradient(lambda m: (m["a"] + m["b"]).sum(), model)[0]
    assert g["a"] is g["b"] and g["a"].stride() == (0,)
    update_(setup(Descent(0.5), model), model, g)
    assert torch.equal(model["a"], torch.full((3,), 0.5))
    assert torch.equal(model["b"], torch.full((3,), 0.5))


def test_tied_weights_updated_once():
    W = torch.tensor([[1.0, 2.0]], dtype=D)
    tied = Chain(Dense(W, False), Dense(W.new_ones(2, 1), False), Dense(W, False))
    st = setup(Momentum(0.1, 0.9), tied)
    assert st.layers[0].weight is st.layers[2].weight
    x = torch.tensor([0.5, -1.0], dtype=D)
    f = lambda m: m(x).sum()  # noqa: E731
    g = gradient(f, tied)[0]
    total = g.layers[0].weight.clone()
    assert g.layers[0].weight is g.layers[2].weight       # the total, at both places
    update_(st, tied, g)
    # one Momentum step on the total gradient: v = 0.1 * total, W -= v
    torch.testing.assert_close(W, torch.tensor([[1.0, 2.0]], dtype=D) - 0.1 * total)
    torch.testing.assert_close(st.layers[0].weight.state[0], 0.1 * total)


def test_tied_partial_gradients_are_added():
    # Optimisers.jl adds the gradients found at the places of a tied array
    W = torch.tensor([1.0, 1.0])
    model = {"a": W, "b": W}
    update_(setup(Descent(1.0), model), model,
            {"a": torch.tensor([1.0, 0.0]), "b": torch.tensor([0.0, 2.0])})
    assert torch.equal(W, torch.tensor([0.0, -1.0]))


def test_none_gradient_leaves_parameter_and_state_alone():
    model = mlp()
    before = [p.clone() for p in params(model)]
    st = setup(Momentum(0.1), model)
    g = gradient(loss, model, *data()[0])[0]
    g.layers = (None, g.layers[1])
    update_(st, model, g)
    assert torch.equal(model.layers[0].weight, before[0])
    assert torch.equal(st.layers[0].weight.state[0], torch.zeros(5, 3, dtype=D))
    assert not torch.equal(model.layers[1].weight, before[2])
    update_(st, model, None)     # nothing at all
    g2 = gradient(loss, model, *data()[0])[0]
    g2.layers[1].bias = None
    b = model.layers[1].bias.clone()
    update_(st, model, g2)
    assert torch.equal(model.layers[1].bias, b)


def test_gradient_shape_mismatch_names_the_place():
    model = Chain(Dense(3, 2))
    st = setup(Descent(), model)
    g = gradient(lambda m: m(torch.ones(3)).sum(), model)[0]
    g.layers[0].bias = torch.ones(3)
    with pytest.raises(ValueError, match=r"\.layers\[0\]\.bias has shape \(3,\).*\(2,\)"):
        update_(st, model, g)


def test_state_tree_mismatch():
    st = setup(Descent(), Chain(Dense(3, 2)))
    with pytest.raises(ValueError, match=r"does not match the model.*\.layers\[1\]\.weight"):
        update_(st, Chain(Dense(3, 2), Dense(2, 1)), {"layers": (None, None)})
    with pytest.raises(TypeError, match="state tree from setup"):
        update_({"w": 1}, {"w": torch.ones(1)}, {"w": torch.ones(1)})
    with pytest.raises(TypeError, match="does not match the model: it has no"):
        model = Chain(Dense(3, 2), Dense(2, 1))
        update_(setup(Descent(), model), model, {"layers": (None,)})


def test_gradient_tuple_instead_of_its_first_element_warns():
    model = Chain(Dense(2, 1))
    st = setup(Descent(0.1), model)
    grads = gradient(lambda m: m(torch.ones(2)).sum(), model)
    w = model.layers[0].weight.clone()
    with pytest.warns(UserWarning, match=r"you probably want grads\[0\]"):
        update_(st, model, grads)
    torch.testing.assert_close(model.layers[0].weight, w - 0.1)


def test_mixing_styles_gives_flux_errors():
    model = Chain(Dense(2, 1))
    ps = params(model)
    gs = gradient(lambda: model(torch.ones(2)).sum(), ps)
    g = gradient(lambda m: m(torch.ones(2)).sum(), model)[0]
    with pytest.raises(TypeError, match="(?s)Invalid input to update_.*setup"):
        update_(Descent(), model, g)
    with pytest.raises(TypeError, match="can't mix implicit Params with explicit gradients"):
        update_(Descent(), ps, g)
    with pytest.raises(TypeError, match="can't mix implicit Params with explicit state"):
        update_(setup(Descent(), model), ps, gs)
    with pytest.raises(TypeError, match="not the Grads"):
        update_(setup(Descent(), model), model, gs)
    with pytest.raises(TypeError, match=r"call it: Descent\(\)"):
        update_(Descent, model, g)


class Boom(Rule):
    """A rule whose apply fails, after a first group has been applied."""
    _spec = (("eta", 0.1, lambda r, n, v: v),)

    def apply(self, states, xs, dxs):
        raise RuntimeError("boom")


def test_atomic_when_a_rule_fails_part_way():
    model = mlp()
    before = [p.clone() for p in params(model)]
    st = setup(Descent(0.1), model)
    st.layers[1].weight.rule = Boom()       # the second group fails
    g = gradient(loss, model, *data()[0])[0]
    with pytest.raises(RuntimeError, match="boom"):
        update_(st, model, g)
    assert all(torch.equal(p, b) for p, b in zip(params(model), before))


def test_atomic_when_a_later_gradient_is_wrong():
    model = mlp()
    before = [p.clone() for p in params(model)]
    g = gradient(loss, model, *data()[0])[0]
    g.layers[1].bias = torch.ones(7, dtype=D)
    with pytest.raises(ValueError):
        update_(setup(Adam(), model), model, g)
    assert all(torch.equal(p, b) for p, b in zip(params(model), before))


def test_plan_follows_a_replaced_parameter():
    model = Chain(Dense(2, 1))
    st = setup(Descent(1.0), model)
    g = gradient(lambda m: m(torch.ones(2)).sum(), model)[0]
    update_(st, model, g)
    model.layers[0].weight = torch.zeros(1, 2)       # a new tensor in the same place
    update_(st, model, g)
    assert torch.equal(model.layers[0].weight, -torch.ones(1, 2))
    model = Chain([Dense(2, 1)])
    st = setup(Descent(), model)
    model.layers.append(Dense(1, 1))                  # a layer the state does not know
    with pytest.raises(ValueError, match=r"\.layers\[1\]"):
        update_(st, model, gradient(lambda m: m(torch.ones(2)).sum(), model)[0])


def test_namedtuple_model():
    P = namedtuple("P", "w b")
    model = P(torch.tensor([1.0]), torch.tensor([2.0]))
    st = setup(Descent(0.5), model)
    update_(st, model, P(torch.tensor([2.0]), None))
    assert model.w.item() == 0.0 and model.b.item() == 2.0


# ------------------------------------------------------------ freeze, adjust

def test_freeze_like_optimisers_docstring():
    # m = (x = ([1.0], 2.0), y = [3.0]); s = setup(Momentum(), m); freeze!(s.x)
    # update!(s, m, (x = ([pi], 10pi), y = [100pi])) -> m.y == [-0.14159265358979312]
    import math
    m = {"x": (torch.tensor([1.0], dtype=D), 2.0), "y": torch.tensor([3.0], dtype=D)}
    s = setup(Momentum(), m)
    freeze_(s["x"])
    update_(s, m, {"x": (torch.tensor([math.pi], dtype=D), 10 * math.pi),
                   "y": torch.tensor([100 * math.pi], dtype=D)})
    assert m["x"][0].item() == 1.0
    assert m["y"].item() == pytest.approx(-0.14159265358979312, abs=1e-15)
    assert repr(s["x"][0]) == "Leaf(Momentum(0.01, 0.9), (tensor([0.], dtype=torch.float64),), frozen=True)"
    thaw_(s)
    assert not s["x"][0].frozen


def test_freeze_part_of_a_chain_then_thaw():
    model = mlp()
    st = setup(Descent(0.1), model)
    freeze_(st.layers[0])
    w0, w1 = model.layers[0].weight.clone(), model.layers[1].weight.clone()
    update_(st, model, gradient(loss, model, *data()[0])[0])
    assert torch.equal(model.layers[0].weight, w0) and not torch.equal(model.layers[1].weight, w1)
    thaw_(st)
    update_(st, model, gradient(loss, model, *data()[0])[0])
    assert not torch.equal(model.layers[0].weight, w0)


def test_freeze_refuses_a_model():
    with pytest.raises(TypeError, match="must not be applied to a model"):
        freeze_(Dense(2, 1))
    with pytest.raises(TypeError, match="must not be applied to a model"):
        thaw_([torch.ones(1)])


def test_adjust_like_optimisers_docstring():
    # st = setup(Nesterov(), (vec = ..., fun = sin)); update with gradient [16, 88]
    # -> Leaf(Nesterov(0.001, 0.9), [-0.016, -0.088]); adjust!(st, 0.123) keeps the state
    m = {"vec": torch.rand(2, dtype=D), "fun": torch.sin}
    st = setup(Nesterov(), m)
    update_(st, m, {"vec": torch.tensor([16.0, 88.0], dtype=D), "fun": None})
    torch.testing.assert_close(st["vec"].state[0], torch.tensor([-0.016, -0.088], dtype=D))
    adjust_(st, 0.123)
    assert repr(st["vec"].rule) == "Nesterov(0.123, 0.9)"
    torch.testing.assert_close(st["vec"].state[0], torch.tensor([-0.016, -0.088], dtype=D))


def test_adjust_keywords_and_parts():
    model = mlp()
    st = setup(OptimiserChain(WeightDecay(0.1), Adam(0.1)), model)
    adjust_(st, beta=(0.8, 0.99))
    assert st.layers[0].weight.rule.opts[1].beta == (0.8, 0.99)
    assert st.layers[0].weight.rule is st.layers[1].bias.rule      # still one rule object
    adjust_(st.layers[1], 0.03)
    assert st.layers[1].weight.rule.opts[1].eta == 0.03
    assert st.layers[0].weight.rule.opts[1].eta == 0.1
    adjust_(st, η=0.5)
    assert st.layers[0].weight.rule.opts[1].eta == 0.5
    with pytest.raises(TypeError, match="needs something to change"):
        adjust_(st)
    with pytest.raises(TypeError, match="got the rule"):
        adjust_(Adam(), 0.1)


def test_adjust_then_update_matches_torch_lr_change():
    model = mlp()
    net = torch_twin(model)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    st = setup(Momentum(0.1, 0.9), model)
    for i, (x, y) in enumerate(data(n=2)):
        update_(st, model, gradient(loss, model, x, y)[0])
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    # Flux's velocity holds η: after adjust_ it keeps the old η inside, so compare by hand
    adjust_(st, 0.01)
    v = st.layers[0].weight.state[0].clone()
    w = model.layers[0].weight.clone()
    x, y = data(seed=5)[0]
    g = gradient(loss, model, x, y)[0]
    update_(st, model, g)
    torch.testing.assert_close(model.layers[0].weight, w - (0.9 * v + 0.01 * g.layers[0].weight))


# ------------------------------------------------------------ implicit update_

@pytest.mark.parametrize("rule, make", [
    (Descent(0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    (Adam(0.01), lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-8)),
])
def test_implicit_matches_torch_optim(rule, make):
    model = mlp()
    net = torch_twin(model)
    opt = make(net.parameters())
    ps = params(model)
    for x, y in data(n=5):
        gs = gradient(lambda: loss(model, x, y), ps)
        update_(rule, ps, gs)
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    torch.testing.assert_close(model.layers[0].weight, net[0].weight.detach())
    torch.testing.assert_close(model.layers[1].bias, net[2].bias.detach())


def test_implicit_and_explicit_agree_exactly():
    m1, m2 = mlp(), mlp()
    st, rule, ps = setup(Adam(0.01), m1), Adam(0.01), params(m2)
    for x, y in data(n=5):
        update_(st, m1, gradient(loss, m1, x, y)[0])
        update_(rule, ps, gradient(lambda: loss(m2, x, y), ps))
    assert all(torch.equal(a, b) for a, b in zip(params(m1), params(m2)))


def test_implicit_single_tensor_and_state_on_the_rule():
    x = torch.tensor([1.0, 2.0])
    opt = Momentum(0.1, 0.9)
    g = torch.tensor([1.0, 1.0])
    update_(opt, x, g)
    update_(opt, x, g)          # v = 0.1, then 0.9 * 0.1 + 0.1 = 0.19
    torch.testing.assert_close(x, torch.tensor([1.0, 2.0]) - 0.29)
    assert torch.equal(g, torch.ones(2))            # the gradient is not changed
    assert repr(opt) == "Momentum(0.1, 0.9)"        # the state does not show
    update_(opt, x, None)                           # nothing to do
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        update_(opt, x, torch.ones(3))


def test_implicit_none_gradients_are_skipped():
    W, b = torch.tensor([1.0, 2.0]), torch.tensor([5.0])
    ps = params(W, b)
    gs = gradient(lambda: (W ** 2).sum(), ps)
    assert gs[b] is None
    update_(Descent(0.5), ps, gs)
    assert torch.equal(W, torch.tensor([0.0, 0.0])) and torch.equal(b, torch.tensor([5.0]))


def test_explicit_update_returns_the_state_and_the_model_as_optimisers_does():
    # Optimisers.jl: `state, model = Optimisers.update!(state, model, grad)`
    import flux_torch as Flux
    model = Flux.Dense(2, 1)
    state = Flux.setup(Flux.Descent(0.1), model)
    g = Flux.gradient(lambda m: m(torch.ones(2)).sum(), model)[0]
    st2, m2 = Flux.update_(state, model, g)
    assert st2 is state and m2 is model


def test_implicit_repeated_steps_follow_changes_to_params_and_gradients():
    """The implicit update remembers its last Params; adding or removing a tensor, a
    missing gradient or a gradient of another shape is still seen (arithmetic oracle)."""
    W, b, c = torch.tensor([1.0, 2.0]), torch.tensor([5.0]), torch.tensor([3.0])
    ps, opt = params(W, b), Descent(0.5)
    for _ in range(3):                        # the same Params, step after step
        update_(opt, ps, gradient(lambda: (W ** 2).sum() + b.sum(), ps))
    torch.testing.assert_close(W, torch.tensor([0.0, 0.0]))    # halved to 0 on the first step
    torch.testing.assert_close(b, torch.tensor([3.5]))          # -0.5 a step
    ps.add(c)                                 # a new tensor joins
    update_(opt, ps, gradient(lambda: (W ** 2).sum() + b.sum() + 2 * c.sum(), ps))
    torch.testing.assert_close(c, torch.tensor([2.0]))
    ps.remove(b)                              # and one leaves
    update_(opt, ps, gradient(lambda: b.sum() + c.sum(), ps))
    torch.testing.assert_close(b, torch.tensor([3.0]))
    torch.testing.assert_close(c, torch.tensor([1.5]))
    update_(opt, ps, gradient(lambda: c.sum(), ps))             # W has no gradient now
    torch.testing.assert_close(W, torch.tensor([0.0, 0.0]))
    torch.testing.assert_close(c, torch.tensor([1.0]))
    gs = gradient(lambda: c.sum() + W.sum(), ps)
    gs[W] = torch.ones(3)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        update_(opt, ps, gs)


def test_explicit_repeated_steps_see_adjust_freeze_and_thaw():
    """The explicit update groups leaves by rule once; adjust_, freeze_ and thaw_ between
    steps still take effect (oracle: the arithmetic of Descent)."""
    model = {"a": torch.tensor([1.0]), "b": torch.tensor([1.0])}
    st = setup(Descent(0.1), model)
    g = {"a": torch.tensor([1.0]), "b": torch.tensor([1.0])}
    for _ in range(3):
        update_(st, model, g)
    torch.testing.assert_close(model["a"], torch.tensor([0.7]))
    adjust_(st["b"], 0.5)
    update_(st, model, g)
    torch.testing.assert_close(model["a"], torch.tensor([0.6]))
    torch.testing.assert_close(model["b"], torch.tensor([0.2]))
    freeze_(st["a"])
    update_(st, model, g)
    torch.testing.assert_close(model["a"], torch.tensor([0.6]))
    thaw_(st)
    update_(st, model, {"a": torch.tensor([1.0]), "b": None})
    torch.testing.assert_close(model["a"], torch.tensor([0.5]))
    torch.testing.assert_close(model["b"], torch.tensor([-0.3]))


# --- Optimisers.update / Optimisers.adjust: the non-mutating forms ---------------------------
def test_optimisers_update_is_a_function_and_changes_nothing():
    assert callable(Flux.Optimisers.update) and Flux.Optimise.update is Flux.Optimisers.update
    model = mlp()
    st = setup(Adam(0.01), model)
    x, y = data()[0]
    g = gradient(loss, model, x, y)[0]
    before = [p.clone() for p in params(model)]
    st2, m2 = Flux.Optimisers.update(st, model, g)
    assert all(torch.equal(p, b) for p, b in zip(params(model), before))        # model as it was
    assert all(torch.equal(t, torch.zeros_like(t)) for t in
               [st.layers[0].weight.state[0], st.layers[0].weight.state[1]])   # state as it was
    assert st.layers[0].weight.state[2] == [0.9, 0.999]
    # the result is the in-place step taken on a copy (the oracle: update_ on deepcopies)
    st3, m3 = update_(copy.deepcopy(st), copy.deepcopy(model), g)
    assert all(torch.equal(a, b) for a, b in zip(params(m2), params(m3)))
    assert torch.equal(st2.layers[1].bias.state[0], st3.layers[1].bias.state[0])
    assert st2.layers[1].bias.state[2] == [0.81, 0.999 ** 2]
    assert type(m2) is Chain and m2 is not model and st2 is not st
    # and the new pair continues like the old one would have
    st4, m4 = Flux.Optimisers.update(st2, m2, g)
    update_(st3, m3, g)
    assert all(torch.equal(a, b) for a, b in zip(params(m4), params(m3)))


def test_optimisers_update_keeps_ties_and_frozen():
    w = torch.tensor([1.0, 2.0])
    model = {"a": w, "b": w, "c": torch.tensor([3.0]), "n": 3}
    st = setup(Momentum(0.1), model)
    freeze_(st["c"])
    st2, m2 = Flux.Optimisers.update(st, model, {"a": torch.ones(2), "b": torch.ones(2),
                                                 "c": torch.ones(1), "n": None})
    assert m2["a"] is m2["b"] and st2["a"] is st2["b"] and st2["a"] is not st["a"]
    assert torch.allclose(m2["a"], torch.tensor([0.8, 1.8]))     # the two gradients added
    assert torch.equal(m2["c"], torch.tensor([3.0])) and st2["c"].frozen and m2["n"] == 3
    assert torch.equal(w, torch.tensor([1.0, 2.0]))


def test_optimisers_update_torch_module():
    net = nn.Linear(2, 1).double()
    st = setup(Descent(0.5), net)
    g = {"weight": torch.ones(1, 2, dtype=D), "bias": torch.ones(1, dtype=D)}
    w0 = net.weight.detach().clone()
    _, net2 = Flux.Optimisers.update(st, net, g)
    assert torch.equal(net.weight.detach(), w0) and isinstance(net2, nn.Linear)
    assert torch.allclose(net2.weight.detach(), w0 - 0.5)


def test_optimisers_adjust_returns_a_new_tree():
    m = {"alpha": [torch.zeros(1), "sin"], "gamma": torch.tensor([4.0, 3.0, 2.0])}
    st = setup(Momentum(0.1, 0.9), m)
    st1, _ = Flux.Optimisers.update(st, m, {"alpha": None, "gamma": torch.tensor([1.0, 10.0, 100.0])})
    st2 = Flux.Optimisers.adjust(st1, 0.2)
    assert st2["gamma"].rule == Momentum(0.2, 0.9) and st1["gamma"].rule == Momentum(0.1, 0.9)
    assert torch.equal(st2["gamma"].state[0], st1["gamma"].state[0])
    assert st2["gamma"].state[0] is not st1["gamma"].state[0]        # a copy
    st3 = Flux.Optimisers.adjust(st1, eta=0.3, rho=0.7)
    assert st3["alpha"][0].rule == Momentum(0.3, 0.7)
    assert Flux.Optimisers.adjust(Adam(), 0.1) == Adam(0.1)
