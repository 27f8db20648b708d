"""Flux's own recurrent tests, v0.16, run against ``import flux_torch as Flux``.

Source: github.com/FluxML/Flux.jl, test/layers/recurrent.jl at tag v0.16.11,
commit 4b5df370546378b7d7304bc88c23897df8757acf (``test_gradients`` from test/test_module.jl).

Translated by the porting rules: every data shape reversed (Julia's ``in x len x batch`` is
``(batch, len, in)``, a state ``out x batch`` is ``(batch, out)``), 0-based indices,
``x === y`` is ``x is y``. Flux's ``test_gradients(f, xs...; loss)`` compares Zygote's gradient
of ``loss(f, xs...)`` in float32 with finite differences of the float64 model; here flux_torch's
``withgradient`` in float32 is compared with central differences of the float64 copy, for every
trainable parameter and every float input, at Flux's ``rtol = atol = 1e-4``.
"""
import pytest
import torch

import flux_torch as Flux
from flux_torch import (GRU, LSTM, RNN, GRUCell, GRUv3, GRUv3Cell, LSTMCell, Recurrence, RNNCell,
                        f64, fmap, layer, withgradient)


def mean(x):
    return x.mean()


def test_gradients(f, *xs, loss=lambda f, *xs: mean(f(*xs)), rtol=1e-4, atol=1e-4):
    """Flux's test_gradients: flux_torch's float32 gradient against float64 finite differences."""
    l = loss(f, *xs)
    assert isinstance(l, torch.Tensor) and l.dim() == 0
    f64_model, xs64 = f64(f), f64(xs)
    leaves = []
    fmap(lambda t: leaves.append(t) if isinstance(t, torch.Tensor) else t, (f64_model, *xs64),
         cache=False)
    want = {}
    with torch.no_grad():
        y = loss(f64_model, *xs64)
        for t in leaves:
            g, flat = torch.zeros_like(t), t.view(-1)
            for i in range(flat.numel()):
                v = float(flat[i])
                flat[i] = v + 1e-6
                up = float(loss(f64_model, *xs64))
                flat[i] = v - 1e-6
                down = float(loss(f64_model, *xs64))
                flat[i] = v
                g.view(-1)[i] = (up - down) / 2e-6
            want[id(t)] = g
    torch.testing.assert_close(l.double(), y, rtol=rtol, atol=atol)
    val, grads = withgradient(loss, f, *xs)
    torch.testing.assert_close(val.double(), y, rtol=rtol, atol=atol)
    pairs = []
    fmap(lambda t, g: pairs.append((t, g)) if isinstance(t, torch.Tensor) else t,
         (f64_model, *xs64), tuple(grads), cache=False)
    assert len(pairs) == len(leaves)
    for t, g in pairs:
        if g is None:         # Flux compares only where both sides hold an array
            assert torch.count_nonzero(want[id(t)].abs() > atol) == 0
            continue
        torch.testing.assert_close(g.double(), want[id(t)], rtol=rtol, atol=atol)
    return True


test_gradients.__test__ = False       # a helper, not a test


def cell_loss1(r, x, state):
    for x_t in x:
        _, state = r(x_t, state)
    return mean(state[0])


def cell_loss2(r, x, state):
    y = [r(x_t, state)[0] for x_t in x]
    return sum(mean(yt) for yt in y)


def cell_loss3(r, x, state):
    y = []
    for x_t in x:
        y_t, state = r(x_t, state)
        y = [*y, y_t]
    return sum(mean(yt) for yt in y)


def cell_loss4(r, x, state):
    y = []
    for x_t in x:
        y_t, state = r(x_t, state)
        y = y + [y_t]
    y = torch.stack(y, dim=-2)           # Julia's stack(y, dims=2): [D, L] or [D, L, B], reversed
    return mean(y ** 2)


def rand(*shape):
    return torch.rand(*shape)


def randn(*shape):
    return torch.randn(*shape)


def zeros(*shape):
    return torch.zeros(*shape)


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def test_RNNCell():
    r = RNNCell(3, 5)
    assert len(Flux.trainables(r)) == 3
    # An input sequence of length 6 and batch size 4.
    x = [rand(4, 3) for _ in range(6)]

    # Initial State is a single vector
    h = randn(5)
    test_gradients(r, x, h, loss=cell_loss1)   # for loop
    test_gradients(r, x, h, loss=cell_loss2)   # comprehension
    test_gradients(r, x, h, loss=cell_loss3)   # splat
    test_gradients(r, x, h, loss=cell_loss4)   # vcat and stack

    # initial states are zero
    assert torch.allclose(Flux.initialstates(r), zeros(5))

    # no initial state same as zero initial state
    out, state = r(x[0])
    assert out is state
    assert torch.allclose(out, r(x[0], zeros(5))[0])

    # Now initial state has a batch dimension.
    h = randn(4, 5)
    test_gradients(r, x, h, loss=cell_loss4)

    # The input sequence has no batch dimension.
    x = [rand(3) for _ in range(6)]
    h = randn(5)
    test_gradients(r, x, h, loss=cell_loss4)

    # No Bias
    r = RNNCell(3, 5, bias=False)
    assert len(Flux.trainables(r)) == 2
    test_gradients(r, x, h, loss=cell_loss4)


@layer
class ModelRNN:
    def __init__(self, rnn, h0):
        self.rnn, self.h0 = rnn, h0

    def __call__(self, x):
        return self.rnn(x, self.h0)


def test_RNN():
    model = ModelRNN(RNN(2, 4), zeros(4))

    x = rand(1, 3, 2)
    y = model(x)
    assert y.dtype == torch.float32 and y.dim() == 3
    assert tuple(y.shape) == (1, 3, 4)
    test_gradients(model, x)

    rnn = model.rnn
    # initial states are zero
    assert torch.allclose(Flux.initialstates(rnn), zeros(4))

    # no initial state same as zero initial state
    assert torch.allclose(rnn(x), rnn(x, zeros(4)))

    x = rand(3, 2)
    y = model(x)
    assert y.dtype == torch.float32 and y.dim() == 2
    assert tuple(y.shape) == (3, 4)
    test_gradients(model, x)

    # testing return state
    model = ModelRNN(RNN(2, 4, return_state=True), zeros(4))
    x = rand(1, 3, 2)
    y, last_state = model(x)
    assert y.dtype == torch.float32 and y.dim() == 3
    assert tuple(y.shape) == (1, 3, 4)

    assert last_state.dtype == torch.float32 and last_state.dim() == 2
    assert tuple(last_state.shape) == (1, 4)


def test_LSTMCell():
    cell = LSTMCell(3, 5)
    assert len(Flux.trainables(cell)) == 3
    x = [rand(4, 3) for _ in range(6)]
    h = zeros(4, 5)
    c = zeros(4, 5)
    out, state = cell(x[0], (h, c))
    hnew, cnew = state
    assert out is hnew
    assert hnew.dtype == torch.float32 and hnew.dim() == 2
    assert cnew.dtype == torch.float32 and cnew.dim() == 2
    assert tuple(hnew.shape) == (4, 5)
    assert tuple(cnew.shape) == (4, 5)
    test_gradients(cell, x[0], (h, c), loss=lambda m, x, hc: mean(m(x, hc)[0]))
    test_gradients(cell, x, (h, c), loss=cell_loss4)

    # initial states are zero
    h0, c0 = Flux.initialstates(cell)
    assert torch.allclose(h0, zeros(5))
    assert torch.allclose(c0, zeros(5))

    # no initial state same as zero initial state
    _, (hnew1, cnew1) = cell(x[0])
    _, (hnew2, cnew2) = cell(x[0], (zeros(5), zeros(5)))
    assert torch.allclose(hnew1, hnew2)
    assert torch.allclose(cnew1, cnew2)

    # no bias
    cell = LSTMCell(3, 5, bias=False)
    assert len(Flux.trainables(cell)) == 2


@layer
class ModelLSTM:
    def __init__(self, lstm, h0, c0):
        self.lstm, self.h0, self.c0 = lstm, h0, c0

    def __call__(self, x):
        return self.lstm(x, (self.h0, self.c0))


def test_LSTM():
    model = ModelLSTM(LSTM(2, 4), zeros(4), zeros(4))

    x = rand(1, 3, 2)
    h = model(x)
    assert h.dtype == torch.float32 and h.dim() == 3
    assert tuple(h.shape) == (1, 3, 4)
    test_gradients(model, x)

    x = rand(3, 2)
    h = model(x)
    assert h.dtype == torch.float32 and h.dim() == 2
    assert tuple(h.shape) == (3, 4)
    # Julia's m(x)[1] is the first element in memory, the same element here
    test_gradients(model, x, loss=lambda m, x: mean(m(x).reshape(-1)[0]))

    # test default initial states
    lstm = model.lstm
    h = lstm(x)
    assert h.dtype == torch.float32 and h.dim() == 2
    assert tuple(h.shape) == (3, 4)

    # initial states are zero
    h0, c0 = Flux.initialstates(lstm)
    assert torch.allclose(h0, zeros(4))
    assert torch.allclose(c0, zeros(4))

    # no initial state same as zero initial state
    h1 = lstm(x, (zeros(4), zeros(4)))
    assert torch.allclose(h, h1)

    # testing return state
    model = ModelLSTM(LSTM(2, 4, return_state=True), zeros(4), zeros(4))
    x = rand(1, 3, 2)
    y, last_state = model(x)
    assert y.dtype == torch.float32 and y.dim() == 3
    assert tuple(y.shape) == (1, 3, 4)

    assert last_state[0].dtype == torch.float32 and last_state[0].dim() == 2
    assert last_state[1].dtype == torch.float32 and last_state[1].dim() == 2
    assert tuple(last_state[0].shape) == (1, 4)
    assert tuple(last_state[1].shape) == (1, 4)


def test_GRUCell():
    r = GRUCell(3, 5)
    assert len(Flux.trainables(r)) == 3
    # An input sequence of length 6 and batch size 4.
    x = [rand(4, 3) for _ in range(6)]

    # Initial State is a single vector
    h = randn(5)
    out, state = r(x[0], h)
    assert out is state
    test_gradients(r, x, h, loss=cell_loss4)

    # initial states are zero
    assert torch.allclose(Flux.initialstates(r), zeros(5))

    # no initial state same as zero initial state
    assert torch.allclose(r(x[0])[0], r(x[0], zeros(5))[0])

    # Now initial state has a batch dimension.
    h = randn(4, 5)
    test_gradients(r, x, h, loss=cell_loss4)

    # The input sequence has no batch dimension.
    x = [rand(3) for _ in range(6)]
    h = randn(5)
    test_gradients(r, x, h, loss=cell_loss4)

    # No Bias
    r = GRUCell(3, 5, bias=False)
    assert len(Flux.trainables(r)) == 2


@layer
class ModelGRU:
    def __init__(self, gru, h0):
        self.gru, self.h0 = gru, h0

    def __call__(self, x):
        return self.gru(x, self.h0)


def test_GRU():
    model = ModelGRU(GRU(2, 4), zeros(4))

    x = rand(1, 3, 2)
    y = model(x)
    assert y.dtype == torch.float32 and y.dim() == 3
    assert tuple(y.shape) == (1, 3, 4)
    test_gradients(model, x)

    gru = model.gru
    # initial states are zero
    assert torch.allclose(Flux.initialstates(gru), zeros(4))

    # no initial state same as zero initial state
    assert torch.allclose(gru(x), gru(x, zeros(4)))

    # No Bias
    gru = GRU(2, 4, bias=False)
    assert len(Flux.trainables(gru)) == 2
    test_gradients(gru, x)

    # testing return state
    model = ModelGRU(GRU(2, 4, return_state=True), zeros(4))
    x = rand(1, 3, 2)
    y, last_state = model(x)
    assert y.dtype == torch.float32 and y.dim() == 3
    assert tuple(y.shape) == (1, 3, 4)

    assert last_state.dtype == torch.float32 and last_state.dim() == 2
    assert tuple(last_state.shape) == (1, 4)


def test_GRUv3Cell():
    r = GRUv3Cell(3, 5)
    assert len(Flux.trainables(r)) == 4
    x = rand(3)

    # Initial State is a single vector
    h = randn(5)
    out, state = r(x, h)
    assert out is state
    test_gradients(r, x, h, loss=lambda m, x, h: mean(m(x, h)[0]))

    # initial states are zero
    assert torch.allclose(Flux.initialstates(r), zeros(5))

    # no initial state same as zero initial state
    assert torch.allclose(r(x)[0], r(x, zeros(5))[0])

    # Now initial state has a batch dimension.
    h = randn(4, 5)
    test_gradients(r, x, h, loss=lambda m, x, h: mean(m(x, h)[0]))

    # The input sequence has no batch dimension.
    x = rand(3)
    h = randn(5)
    test_gradients(r, x, h, loss=lambda m, x, h: mean(m(x, h)[0]))


@layer
class ModelGRUv3:
    def __init__(self, gru, h0):
        self.gru, self.h0 = gru, h0

    def __call__(self, x):
        return self.gru(x, self.h0)


def test_GRUv3():
    model = ModelGRUv3(GRUv3(2, 4), zeros(4))

    x = rand(1, 3, 2)
    y = model(x)
    assert y.dtype == torch.float32 and y.dim() == 3
    assert tuple(y.shape) == (1, 3, 4)
    test_gradients(model, x)

    gru = model.gru
    # initial states are zero
    assert torch.allclose(Flux.initialstates(gru), zeros(4))

    # no initial state same as zero initial state
    assert torch.allclose(gru(x), gru(x, zeros(4)))

    # testing return state
    model = ModelGRUv3(GRUv3(2, 4, return_state=True), zeros(4))
    x = rand(1, 3, 2)
    y, last_state = model(x)
    assert y.dtype == torch.float32 and y.dim() == 3
    assert tuple(y.shape) == (1, 3, 4)

    assert last_state.dtype == torch.float32 and last_state.dim() == 2
    assert tuple(last_state.shape) == (1, 4)


def test_Recurrence():
    x = rand(4, 3, 2)
    for rnn in [RNN(2, 3), LSTM(2, 3), GRU(2, 3), GRUv3(2, 3)]:
        cell = rnn.cell
        rec = Recurrence(cell)
        assert torch.allclose(rec(x), rnn(x))

    for rnn in [RNN(2, 3, return_state=True), LSTM(2, 3, return_state=True),
                GRU(2, 3, return_state=True), GRUv3(2, 3, return_state=True)]:
        cell = rnn.cell
        rec = Recurrence(cell, return_state=True)
        assert torch.allclose(rec(x)[0], rnn(x)[0])
        if not isinstance(rnn, LSTM):
            assert torch.allclose(rec(x)[1], rnn(x)[1])
        else:
            assert torch.allclose(rec(x)[1][0], rnn(x)[1][0])
            assert torch.allclose(rec(x)[1][1], rnn(x)[1][1])
