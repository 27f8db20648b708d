"""train_ in both styles, end to end.

Oracles: the values in Flux's ``setup``/``train!`` docstring, torch.optim loops
written by hand, and the exact answer of a least-squares line.
"""
import copy
import io

import pytest
import torch
from torch import nn

from flux_torch import Chain, DataLoader, Dense, gradient, leakyrelu, params, relu
from flux_torch.optimisers import (Adam, Descent, Momentum, adjust_, freeze_, setup, thaw_,
                                 train_, update_)

D = torch.float64


def mlp(seed=0):
    torch.manual_seed(seed)
    return Chain(Dense(torch.randn(5, 3, dtype=D), torch.randn(5, dtype=D), relu),
                 Dense(torch.randn(2, 5, dtype=D), torch.randn(2, dtype=D)))


def batches(n=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(8, 3, generator=g, dtype=D), torch.randn(8, 2, generator=g, dtype=D))
            for _ in range(n)]


def mse(m, x, y):
    return ((m(x) - y) ** 2).mean()


def test_flux_setup_docstring_example():
    # model = Dense(2 => 1, leakyrelu; init=ones); opt_state = Flux.setup(Momentum(0.1), model)
    # two steps on x1, y1 = [0.2, -0.3], [0.4] with loss sum(abs.(m(x) .- y)) * 100:
    # model.bias == [10.19], opt_state.weight.state == [-2.018 3.027], bias state == [-10.09]
    model = Dense(torch.ones(1, 2, dtype=D), torch.zeros(1, dtype=D), leakyrelu)
    opt_state = setup(Momentum(0.1), model)
    x1, y1 = torch.tensor([0.2, -0.3], dtype=D), torch.tensor([0.4], dtype=D)
    out = train_(lambda m, x, y: (m(x) - y).abs().sum() * 100, model, [(x1, y1), (x1, y1)], opt_state)
    assert out is None
    torch.testing.assert_close(model.bias, torch.tensor([10.19], dtype=D))
    torch.testing.assert_close(opt_state.weight.state[0], torch.tensor([[-2.018, 3.027]], dtype=D))
    torch.testing.assert_close(opt_state.bias.state[0], torch.tensor([-10.09], dtype=D))


def test_fitting_a_straight_line():
    # Flux's overview page: fit 4x + 2 with Descent, 200 passes over one batch.
    x = torch.arange(6.0).reshape(6, 1)
    y = 4 * x + 2
    model = Dense(torch.tensor([[0.5]]), torch.tensor([0.0]))
    data = [(x, y)]
    losses = []
    for _ in range(200):
        train_(mse, model, data, Descent(0.05))
        losses.append(mse(model, x, y).item())
    assert losses[-1] < losses[0] and losses[-1] < 1e-3
    assert model.weight.item() == pytest.approx(4.0, abs=0.02)
    assert model.bias.item() == pytest.approx(2.0, abs=0.06)


def test_explicit_matches_a_torch_adam_loop():
    model = mlp()
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).to(D)
    with torch.no_grad():
        for lin, d in ((net[0], model.layers[0]), (net[2], model.layers[1])):
            lin.weight.copy_(d.weight)
            lin.bias.copy_(d.bias)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    data = batches()
    train_(mse, model, data, setup(Adam(0.01), model))
    for x, y in data:
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    torch.testing.assert_close(model.layers[0].weight, net[0].weight.detach())
    torch.testing.assert_close(model.layers[1].bias, net[2].bias.detach())


def test_explicit_and_implicit_give_identical_parameters():
    m1, m2 = mlp(), mlp()
    data = batches()
    st, rule = setup(Adam(0.01), m1), Adam(0.01)
    for _ in range(3):
        train_(mse, m1, data, st)
        train_(lambda x, y: mse(m2, x, y), params(m2), data, rule)
    assert all(torch.equal(a, b) for a, b in zip(params(m1), params(m2)))


def test_train_equals_the_hand_written_loop():
    m1, m2 = mlp(), mlp()
    s1, s2 = setup(Momentum(0.05), m1), setup(Momentum(0.05), m2)
    data = batches()
    train_(mse, m1, data, s1)
    for x, y in data:
        update_(s2, m2, gradient(mse, m2, x, y)[0])
    assert all(torch.equal(a, b) for a, b in zip(params(m1), params(m2)))


def test_loss_decreases_with_a_dataloader():
    torch.manual_seed(0)
    X = torch.randn(64, 3, dtype=D)
    Y = X @ torch.tensor([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]], dtype=D)
    model = mlp()
    st = setup(Adam(0.01), model)
    before = mse(model, X, Y).item()
    for _ in range(20):
        train_(mse, model, DataLoader((X, Y), batchsize=16), st)
    assert mse(model, X, Y).item() < before / 2


def test_nan_loss_stops_before_the_update_and_names_the_item():
    model = mlp()
    data = batches(3)
    data[1] = (data[1][0], torch.full((8, 2), float("nan"), dtype=D))
    reference = mlp()
    update_(setup(Descent(0.1), reference), reference, gradient(mse, reference, *data[0])[0])
    with pytest.raises(FloatingPointError, match="Loss is nan on data item 1"):
        train_(mse, model, data, setup(Descent(0.1), model))
    assert all(torch.equal(a, b) for a, b in zip(params(model), params(reference)))


def test_infinite_loss_implicit_style():
    W = torch.tensor([1.0])
    ps = params(W)
    with pytest.raises(FloatingPointError, match="Loss is inf on data item 0"):
        train_(lambda x: (W * x).sum(), ps, [torch.tensor([float("inf")])], Descent())
    assert W.item() == 1.0


def test_data_items_tuples_lists_and_single_values():
    seen = []

    def loss(m, *args):
        seen.append(len(args))
        return (m["w"] * sum(args)).sum()

    model = {"w": torch.ones(1)}
    train_(loss, model, [(1.0, 2.0), [1.0, 2.0, 3.0], torch.tensor(4.0)], Descent(0.0))
    assert seen == [2, 3, 1]


def test_callbacks_run_after_each_step():
    model = {"w": torch.ones(1)}
    calls, values = [], []
    train_(lambda m, x: (m["w"] * x).sum(), model, [1.0, 1.0, 1.0], Descent(0.1),
           cb=lambda: values.append(model["w"].item()))
    assert values == pytest.approx([0.9, 0.8, 0.7])
    train_(lambda m, x: (m["w"] * x).sum(), model, [1.0], Descent(0.1),
           cb=[lambda: calls.append("a"), lambda: calls.append("b")])
    assert calls == ["a", "b"]
    ps = params(model["w"])
    train_(lambda x: (model["w"] * x).sum(), ps, [1.0, 1.0], Descent(0.1),
           cb=lambda: calls.append("c"))
    assert calls == ["a", "b", "c", "c"]
    with pytest.raises(TypeError, match="cb must be a function"):
        train_(lambda m, x: (m["w"] * x).sum(), model, [1.0], Descent(), cb=3)


def test_a_rule_with_state_warns_that_it_is_lost():
    model = mlp()
    with pytest.warns(UserWarning, match=r"Adam has state which will be discarded.*setup\(Adam\(\)"):
        train_(mse, model, batches(1), Adam())
    train_(mse, model, batches(1), Descent())      # stateless: no warning (errors here if any)


def test_mixing_styles_gives_flux_errors():
    model = mlp()
    with pytest.raises(TypeError, match="can't mix implicit Params with explicit state"):
        train_(lambda x, y: mse(model, x, y), params(model), batches(1), setup(Adam(), model))
    with pytest.raises(TypeError, match=r"call it: Adam\(\)"):
        train_(mse, model, batches(1), Adam)
    with pytest.raises(TypeError, match=r"call it: Adam\(\)"):
        train_(lambda x, y: mse(model, x, y), params(model), batches(1), Adam)


def test_progress_bar(monkeypatch):
    model = {"w": torch.ones(1)}
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    train_(lambda m, x: (m["w"] * x).sum(), model, [1.0, 1.0], Descent(0.1))
    assert err.getvalue() == ""                      # not a terminal: silent
    train_(lambda m, x: (m["w"] * x).sum(), model, [1.0, 1.0], Descent(0.1), progress=True)
    assert "train_:" in err.getvalue() and "/2" in err.getvalue()
    n = len(err.getvalue())
    train_(lambda m, x: (m["w"] * x).sum(), model, [1.0], Descent(0.1), progress=False)
    assert len(err.getvalue()) == n


def test_torch_module_model_and_dataset_lists():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    twin = copy.deepcopy(net)
    data = [[torch.randn(5, 3), torch.randn(5, 1)] for _ in range(3)]   # lists, as torch gives
    train_(lambda m, x, y: ((m(x) - y) ** 2).mean(), Chain(net), data, setup(Descent(0.1), Chain(net)))
    opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    for x, y in data:
        opt.zero_grad()
        ((twin(x) - y) ** 2).mean().backward()
        opt.step()
    torch.testing.assert_close(net[0].weight, twin[0].weight)


def test_train_sees_freeze_and_adjust_between_epochs():
    """train_ keeps its step from one epoch to the next; freeze_ / adjust_ / thaw_ in
    between still change what it does (oracle: the hand-written update_ loop)."""
    m1, m2 = mlp(), mlp()
    s1, s2 = setup(Descent(0.1), m1), setup(Descent(0.1), m2)
    data = batches(3)
    changes = [lambda st: None, lambda st: freeze_(st.layers[0]),
               lambda st: adjust_(st, 0.01), lambda st: thaw_(st)]
    for i, change in enumerate(changes):
        change(s1)
        change(s2)
        before = m1.layers[0].weight.clone()
        train_(mse, m1, data, s1)
        for x, y in data:
            update_(s2, m2, gradient(mse, m2, x, y)[0])
        for a, b in zip(params(m1), params(m2)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert torch.equal(m1.layers[0].weight, before) == (i in (1, 2))   # frozen in epochs 1, 2

