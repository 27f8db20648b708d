"""Flux v0.16's recurrence (``import flux_torch as Flux``): cells returning ``(y, state)``,
sequence layers with explicit state, ``Recurrence``, ``initialstates``, ``reset_``.

Oracles: ``torch.nn.RNN/LSTM/GRU(batch_first=True)`` with the weights copied in (Flux's one bias
is torch's ``bias_ih + bias_hh``, with ``bias_hn = 0`` for the GRU) and torch.autograd on them,
in float64; the cell stepped by hand; Flux v0.16's formulas written out in torch (GRUv3, which
has no torch twin); the parameter counts printed in Flux's docstrings.
"""
import warnings

import pytest
import torch
from torch import nn

import flux_torch as Flux
import flux_torch.v014 as v014
from flux_torch import (GRU, LSTM, RNN, Chain, Dense, GRUCell, GRUv3, GRUv3Cell, LSTMCell,
                        Recurrence, RNNCell, f64, gradient, initialstates, layer, reset_)
from flux_torch._show import inline
from flux_torch.layers import cells
from flux_torch.outputsize import autosize, outputsize

D = torch.float64
LAYERS = [RNN, LSTM, GRU, GRUv3]
TWINS = [(RNN, nn.RNN), (LSTM, nn.LSTM), (GRU, nn.GRU)]


@pytest.fixture(autouse=True, params=["fused", "python"])
def kernels(request):
    """Every test runs with torch's fused RNN kernels (the CPU default) and with the formulas."""
    cells._FUSED[0] = request.param == "fused"
    yield
    cells._FUSED[0] = True


def randomise(m, seed=0):
    """A float64 copy of ``m`` with every trainable tensor random (biases non-zero)."""
    g = torch.Generator().manual_seed(seed)
    m = f64(m)
    for p in Flux.trainables(m):
        p.copy_(torch.randn(p.shape, generator=g, dtype=D) * 0.5)
    return m


def rand(*shape, seed=1):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def twin(m, kind, seed=3):
    """torch's layer with ``m``'s weights: Flux's bias split at random into bias_ih + bias_hh
    (only the GRU's candidate part must stay in bias_ih, as torch's b_hn sits inside r ⊙ (...))."""
    c = m.cell
    out, in_ = c.Wh.shape[1], c.Wi.shape[1]
    t = kind(in_, out, batch_first=True).double()
    split = torch.rand(c._b.shape, generator=torch.Generator().manual_seed(seed), dtype=D)
    if kind is nn.GRU:
        split[2 * out:] = 0
    with torch.no_grad():
        t.weight_ih_l0.copy_(c.Wi)
        t.weight_hh_l0.copy_(c.Wh)
        t.bias_hh_l0.copy_(split)
        t.bias_ih_l0.copy_(c._b - split)
    return t


# ------------------------------------------------------------- construction, counts, printing

@pytest.mark.parametrize("m, n_ps, n_arr", [
    (RNNCell(2, 3), 18, 3), (RNN(4, 6), 66, 3), (LSTMCell(3, 5), 180, 3), (GRUCell(3, 5), 135, 3),
    (GRUv3Cell(3, 5), 160, 4), (LSTM(3, 5, bias=False), 160, 2)])
def test_parameter_counts_as_flux_docs(m, n_ps, n_arr):
    ps = Flux.trainables(m)
    assert len(ps) == n_arr and sum(p.numel() for p in ps) == n_ps
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in ps)
    assert f"# {n_ps} parameters" in repr(m)


def test_parameter_shapes_are_flux_and_torch_shapes():
    c = LSTM(3, 5).cell
    assert [tuple(p.shape) for p in Flux.trainables(c)] == [(20, 3), (20, 5), (20,)]
    assert torch.count_nonzero(c.bias) == 0          # v0.16: no forget-gate bias of 1 (v0.14 has one)
    assert torch.count_nonzero(v014.LSTM(3, 5).cell.b) == 5
    g = GRUv3Cell(3, 5)
    assert [tuple(p.shape) for p in Flux.trainables(g)] == [(15, 3), (15, 5), (15,), (5, 5)]
    assert g.Wh_h is g.Wh_h̃
    assert list(vars(RNNCell(1, 1))) == ["σ", "Wi", "Wh", "bias"]      # Flux's field names
    assert list(vars(GRUCell(1, 1))) == ["Wi", "Wh", "b"]


def test_printing_is_valid_python_and_rebuilds():
    assert repr(Recurrence(RNNCell(2, 3))) == (
        "Recurrence(\n"
        "  RNNCell(2, 3, tanh),                  # 18 parameters\n"
        ")                   # Total: 3 arrays, 18 parameters, 72 bytes.")
    for m in [RNN(2, 3, Flux.relu), LSTM(2, 3, bias=False), GRU(2, 3, return_state=True),
              GRUv3Cell(2, 3), RNNCell(2, 3, bias=False),
              Recurrence(LSTMCell(2, 3), return_state=True)]:
        again = eval(inline(m), vars(Flux))
        assert inline(again) == inline(m)
        assert [p.shape for p in Flux.trainables(again)] == [p.shape for p in Flux.trainables(m)]
    assert repr(Chain(LSTM(3, 4), Dense(4, 1))).splitlines()[1].strip() == \
        "LSTM(3, 4),                           # 128 parameters"


def test_constructor_forms():
    assert inline(RNN((3, 5), Flux.relu)) == inline(RNN(3, 5, Flux.relu)) == "RNN(3, 5, relu)"
    assert inline(LSTM((2, 4))) == "LSTM(2, 4)"
    cell = GRUCell(2, 4)
    assert GRU(cell, return_state=True).cell is cell
    c = RNNCell(3, 5, init_kernel=lambda *d: torch.ones(d),
                init_recurrent_kernel=lambda *d: torch.full(d, 2.0))
    assert torch.equal(c.Wi, torch.ones(5, 3)) and torch.equal(c.Wh, torch.full((5, 5), 2.0))
    # Flux's struct forms: RNNCell(σ, Wi, Wh, bias), LSTMCell(Wi, Wh, bias), GRUv3Cell(Wi, Wh, b, Wh_h̃)
    s = RNNCell(Flux.relu, torch.ones(2, 3, dtype=D), torch.ones(2, 2), False)
    assert s.bias is None and s.Wh.dtype == D and inline(s) == "RNNCell(3, 2, relu, bias=False)"
    s = GRUv3Cell(torch.ones(6, 1), torch.ones(6, 2), [1.0] * 6, torch.eye(2))
    assert torch.equal(s.b, torch.ones(6)) and torch.equal(s.Wh_h̃, torch.eye(2))


def test_constructor_errors_are_for_people():
    with pytest.raises(TypeError, match=r"\['init'\] are Flux v0.14's keywords.*flux_torch.v014"):
        LSTMCell(3, 5, init=torch.ones)
    with pytest.raises(TypeError, match="non-negative integers"):
        LSTM(3.0, 5)
    with pytest.raises(TypeError, match=r"RNN\(cell\) expects one RNNCell.*got LSTMCell\(2, 3\)"):
        RNN(LSTMCell(2, 3))
    with pytest.raises(TypeError, match="return_state=True or False"):
        GRU(2, 3, return_state=1)
    with pytest.raises(ValueError, match=r"expects Wi of shape \(4\*out, in\)"):
        LSTMCell(torch.rand(8, 3), torch.rand(8, 5), True)
    with pytest.raises(TypeError, match="v0.16 cell.*flux_torch.v014's LSTMCell"):
        Recurrence(v014.LSTMCell(2, 3))


# ------------------------------------------------------------- values against torch

@pytest.mark.parametrize("R, kind", TWINS)
def test_sequence_layers_equal_torch_forward_and_state(R, kind):
    m = randomise(R(3, 4, return_state=True), seed=2)
    t = twin(m, kind)
    x = rand(5, 7, 3)
    h0 = rand(5, 4, seed=4) - 0.5
    state = (h0, h0.flip(0)) if R is LSTM else h0
    torch_state = tuple(s[None] for s in state) if R is LSTM else h0[None]
    ys, last = m(x, state)
    want, want_last = t(x, torch_state)
    torch.testing.assert_close(ys, want)
    for a, b in zip(last if R is LSTM else (last,), want_last if R is LSTM else (want_last,)):
        torch.testing.assert_close(a, b[0])
    # no batch: (T, in) and a state (out,), as torch's unbatched input
    ys1, _ = m(x[0], tuple(s[0] for s in state) if R is LSTM else h0[0])
    torch.testing.assert_close(ys1, want[0])
    # m(x) starts from zeros, torch's default
    torch.testing.assert_close(m(x)[0], t(x)[0])


@pytest.mark.parametrize("R, kind", TWINS)
def test_sequence_gradients_equal_torch_autograd(R, kind):
    m = randomise(R(3, 4), seed=5)
    t = twin(m, kind)
    x = rand(2, 6, 3)
    h0 = rand(2, 4, seed=6)
    state = (h0, 2 * h0) if R is LSTM else h0
    w = rand(2, 6, 4, seed=7)

    def loss(m, x, state):
        return (m(x, state) * w).sum()
    gm, gx, gs = gradient(loss, m, x, state)

    xt = x.clone().requires_grad_()
    st = tuple(s[None].clone().requires_grad_() for s in (state if R is LSTM else (state,)))
    out = (t(xt, st if R is LSTM else st[0])[0] * w).sum()
    ps = [t.weight_ih_l0, t.weight_hh_l0, t.bias_ih_l0, t.bias_hh_l0]
    want = torch.autograd.grad(out, [xt, *st, *ps])
    torch.testing.assert_close(gx, want[0])
    for g, ref in zip(gs if R is LSTM else (gs,), want[1:1 + len(st)]):
        torch.testing.assert_close(g, ref[0])
    gWi, gWh, gb_ih, gb_hh = want[1 + len(st):]
    torch.testing.assert_close(gm.cell.Wi, gWi)
    torch.testing.assert_close(gm.cell.Wh, gWh)
    torch.testing.assert_close(gm.cell._b, gb_ih)       # one bias: the b_ih part's gradient


@pytest.mark.parametrize("Cell, kind", [(RNNCell, nn.RNNCell), (LSTMCell, nn.LSTMCell),
                                        (GRUCell, nn.GRUCell)])
def test_cells_equal_torch_cells(Cell, kind):
    c = randomise(Cell(3, 4), seed=8)
    t = kind(3, 4).double()
    with torch.no_grad():
        t.weight_ih.copy_(c.Wi)
        t.weight_hh.copy_(c.Wh)
        t.bias_ih.copy_(c._b)
        t.bias_hh.zero_()
    x, h = rand(6, 3), rand(6, 4, seed=9)
    if Cell is LSTMCell:
        y, (h2, c2) = c(x, (h, h / 2))
        want_h, want_c = t(x, (h, h / 2))
        torch.testing.assert_close(c2, want_c)
        assert y is h2
    else:
        y, h2 = c(x, h)
        want_h = t(x, h)
        assert y is h2
    torch.testing.assert_close(h2, want_h)


def sig(x):
    return 1 / (1 + torch.exp(-x))


def gruv3_math(c, h, x):
    """Flux v0.16.11's GRUv3Cell code: the third block of Wh is computed there but not used."""
    o = c.Wh.shape[1]
    gx, gh, b = x @ c.Wi.T, h @ c.Wh.T, c.b
    r = sig(gx[..., :o] + gh[..., :o] + b[:o])
    z = sig(gx[..., o:2 * o] + gh[..., o:2 * o] + b[o:2 * o])
    h̃ = torch.tanh(gx[..., 2 * o:] + (r * h) @ c.Wh_h̃.T + b[2 * o:])
    return (1 - z) * h̃ + z * h


def test_gruv3_follows_flux_formula_and_its_unused_rows_get_no_gradient():
    m = randomise(GRUv3(3, 4), seed=10)
    x, h = rand(2, 5, 3), rand(2, 4, seed=11)
    want, s = [], h
    for t in range(5):
        s = gruv3_math(m.cell, s, x[:, t])
        want.append(s)
    torch.testing.assert_close(m(x, h), torch.stack(want, dim=1))
    w = rand(2, 5, 4, seed=16)
    g, gx, gh = gradient(lambda m, x, h: (m(x, h) * w).sum(), m, x, h)
    ps = [m.cell.Wi, m.cell.Wh, m.cell.b, m.cell.Wh_h̃, x, h]
    for p in ps:
        p.requires_grad_(True)
    s, total = h, 0
    for t in range(5):                               # the formula unrolled, through torch.autograd
        s = gruv3_math(m.cell, s, x[:, t])
        total = total + (s * w[:, t]).sum()
    want = torch.autograd.grad(total, ps)
    for p in ps:
        p.requires_grad_(False)
    for got, ref in zip([g.cell.Wi, g.cell.Wh, g.cell.b, g.cell.Wh_h̃, gx, gh], want):
        torch.testing.assert_close(got, ref)
    assert torch.count_nonzero(g.cell.Wh[8:]) == 0 and torch.count_nonzero(g.cell.Wh[:8]) > 0
    gru = randomise(GRU(3, 4), seed=10)          # GRUv3 is not v1: the reset gate acts elsewhere
    gru.cell.Wi, gru.cell.Wh, gru.cell.b = m.cell.Wi, m.cell.Wh, m.cell.b
    assert not torch.allclose(gru(x, h), m(x, h))


@pytest.mark.parametrize("R", LAYERS)
def test_layer_equals_the_cell_stepped_by_hand(R):
    m = randomise(R(3, 4, return_state=True), seed=12)
    x = rand(3, 6, 3)
    state = initialstates(m)
    ys = []
    for t in range(6):
        y, state = m.cell(x[:, t], state)
        ys.append(y)
    got, last = m(x)
    torch.testing.assert_close(got, torch.stack(ys, dim=-2))
    for a, b in zip(last if R is LSTM else (last,), state if R is LSTM else (state,)):
        torch.testing.assert_close(a, b)
    rec = Recurrence(m.cell, return_state=True)
    torch.testing.assert_close(rec(x)[0], got)


# ------------------------------------------------------------- shapes and broadcasting

@pytest.mark.parametrize("R", LAYERS)
def test_states_broadcast_as_julias_arrays(R):
    m = randomise(R(3, 4, return_state=True), seed=13)

    def st(*shape):
        s = rand(*shape, seed=14)
        return (s, s + 1) if R is LSTM else s

    def expand(s, n):
        return tuple(v.expand(n, -1) for v in s) if R is LSTM else s.expand(n, -1)
    x = rand(5, 2, 3)
    # a vector state serves a whole batch; a batch of 1 broadcasts against a batch of 5
    torch.testing.assert_close(m(x, st(4))[0], m(x, expand(st(4), 5))[0])
    torch.testing.assert_close(m(x[:1], st(5, 4))[0], m(x[:1].expand(5, -1, -1), st(5, 4))[0])
    # no batch in x, a batch in the state: (T, in) with (N, out) gives (N, T, out)
    ys, last = m(x[0], st(5, 4))
    assert tuple(ys.shape) == (5, 2, 4)
    torch.testing.assert_close(ys, m(x[0].expand(5, -1, -1), st(5, 4))[0])
    # no batch anywhere: the state stays a vector (Flux's (out,))
    ys, last = m(x[0], st(4))
    assert tuple(ys.shape) == (2, 4)
    assert all(s.shape == (4,) for s in (last if R is LSTM else (last,)))
    # a cell step on vectors returns vectors
    y, s = m.cell(x[0, 0], st(4))
    assert tuple(y.shape) == (4,) and all(v.shape == (4,) for v in (s if R is LSTM else (s,)))


@pytest.mark.parametrize("R", LAYERS)
def test_empty_sequence_returns_no_steps_and_the_state(R):
    m = R(3, 4, return_state=True)
    h = initialstates(m)
    ys, last = m(torch.zeros(2, 0, 3), h)
    assert tuple(ys.shape) == (2, 0, 4)
    assert all(a is b for a, b in zip(last, h)) if R is LSTM else last is h


def test_float64_state_and_numpy_input_are_converted(monkeypatch):
    from flux_torch import devices as _device
    monkeypatch.setattr(_device, "_warned_f64", True)     # the once-per-process warning is tested elsewhere
    m = LSTM(2, 3)
    y = m([[0.1, 0.2], [0.3, 0.4]], (torch.zeros(3, dtype=D), torch.zeros(3, dtype=D)))
    assert y.dtype == torch.float32 and tuple(y.shape) == (2, 3)
    m64 = f64(m)
    assert all(s.dtype == D for s in initialstates(m64)) and m64(torch.rand(1, 2, 2)).dtype == D


# ------------------------------------------------------------- errors

def test_errors_name_the_layer_and_the_fix():
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\) expects a sequence x of shape \(T, 3\) or "
                                         r"\(N, T, 3\) \(batch first, time second\).*got a tensor "
                                         r"of shape \(3, 7, 5\).*permute\(2, 1, 0\)"):
        LSTM(3, 4)(torch.rand(3, 7, 5))              # Flux's (in, len, batch) order, not reversed
    with pytest.raises(ValueError, match=r"one time step.*layer.cell\(x, state\)"):
        GRU(3, 4)(torch.rand(3))
    with pytest.raises(ValueError, match="a cell takes one time step.*Recurrence"):
        RNNCell(3, 4)(torch.rand(2, 5, 3))
    with pytest.raises(ValueError, match=r"expects a state that is a pair \(h, c\).*got a Tensor"):
        LSTMCell(3, 4)(torch.rand(3), torch.zeros(4))
    with pytest.raises(ValueError, match=r"a pair \(h, c\) is an LSTM's state"):
        RNN(3, 4)(torch.rand(2, 3), (torch.zeros(4), torch.zeros(4)))
    with pytest.raises(ValueError, match=r"state that is a tensor of shape \(4,\) or \(N, 4\).*\(5,\)"):
        GRUv3Cell(3, 4)(torch.rand(3), torch.zeros(5))
    with pytest.raises(ValueError, match=r"batch of 2 and a state with a batch of 3; they must agree"):
        GRU(3, 4)(torch.rand(2, 5, 3), torch.zeros(3, 4))
    with pytest.raises(TypeError, match="has no initialstates"):
        Recurrence(lambda x, h: (x, h))(torch.rand(2, 3))


# ------------------------------------------------------------- Recurrence with any cell

def test_recurrence_runs_any_cell():
    class Accumulate:                                # Flux's docs: any callable with initialstates
        def __call__(self, x, state):
            state = state + x
            return 2 * state, state

        def initialstates(self):
            return torch.zeros(3)
    x = torch.arange(12.0).reshape(2, 2, 3)          # (batch, len, in)
    ys, last = Recurrence(Accumulate(), return_state=True)(x)
    torch.testing.assert_close(ys, 2 * x.cumsum(dim=1))
    torch.testing.assert_close(last, x.sum(dim=1))
    # a plain function as cell, with the state given
    ys = Recurrence(lambda x, h: (x * h, h + 1))(torch.ones(4, 2), torch.tensor(1.0))
    torch.testing.assert_close(ys, torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]))


# ------------------------------------------------------------- reset_, training, shapes

def test_reset_is_a_deprecated_no_op():
    m = Chain(LSTM(2, 3), Dense(3, 1))
    with pytest.warns(DeprecationWarning, match="reset_\\(m\\) is deprecated"):
        assert reset_(m) is m


def test_reset_still_resets_v014_layers_without_warning():
    old = v014.RNN(2, 3)
    old(torch.rand(4, 2))
    m = Chain(old, Dense(3, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert reset_(m) is m
    assert tuple(old.state.shape) == (1, 3)


def test_training_a_model_with_a_trainable_initial_state():
    @layer
    class Model:                                     # Flux's docs: a learnable h0 beside the RNN
        def __init__(self, rnn, h0, dense):
            self.rnn, self.h0, self.dense = rnn, h0, dense

        def __call__(self, x):
            return self.dense(self.rnn(x, self.h0))
    torch.manual_seed(0)
    model = Model(LSTM(2, 8), (torch.zeros(8), torch.zeros(8)), Dense(8, 1))
    x = torch.randn(16, 5, 2)
    y = x.cumsum(dim=1)[..., :1]                     # a running sum, one output per step
    opt_state = Flux.setup(Flux.Adam(0.03), model)

    def loss(m):
        return Flux.mse(m(x), y)
    first = float(loss(model))
    for _ in range(60):
        g = gradient(loss, model)[0]
        Flux.update_(opt_state, model, g)
    assert float(loss(model)) < first / 3
    assert torch.count_nonzero(model.h0[0]) > 0      # the initial state was trained too


def test_outputsize_and_autosize():
    for m in [LSTM(3, 5), Chain(GRU(3, 4), Dense(4, 2)), Recurrence(RNNCell(3, 2))]:
        assert outputsize(m, (7, 11, 3)) == tuple(m(torch.rand(7, 11, 3)).shape)
    m = autosize((7, 11, 3), lambda _: LSTM(_, 5), lambda _: Dense(_, 2))
    assert inline(m.layers[0]) == "LSTM(3, 5)" and tuple(m(torch.rand(7, 11, 3)).shape) == (7, 11, 2)


def test_meta_device_runs_the_formulas():
    m = Flux.fmap(lambda t: t.to("meta") if isinstance(t, torch.Tensor) else t, GRU(3, 4))
    assert tuple(m(torch.empty(2, 5, 3, device="meta")).shape) == (2, 5, 4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_matches_cpu():
    for R in LAYERS:
        m = randomise(R(3, 4), seed=15)
        x = rand(2, 5, 3)
        torch.testing.assert_close(Flux.gpu(f64(m))(x.cuda()).cpu(), m(x))
