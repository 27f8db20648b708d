"""Flux v0.14's recurrent layers (``flux_torch.v014``: Recur, RNNCell, LSTMCell, GRUCell, GRUv3Cell).

Oracles: Flux's formulas written out in torch, torch.nn.RNNCell/LSTMCell/GRUCell/LSTM with
the weights mapped (bias_ih = b, bias_hh = 0), torch.autograd, and the numbers in Flux's
docs and test/layers/recurrent.jl.
"""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from flux_torch import Chain, Dense, f32, f64, fleaves, gpu, gradient, params, withgradient
from flux_torch import devices as _device
from flux_torch._show import inline
from flux_torch.activation import identity, relu
from flux_torch.layers import cells
from flux_torch.layers.cells import GRUCell, GRUv3Cell, LSTMCell, RNNCell
from flux_torch.layers.recur import GRU, LSTM, RNN, GRUv3, Recur, reset_

D = torch.float64
CONSTRUCTORS = [RNN, LSTM, GRU, GRUv3]


@pytest.fixture(autouse=True, params=["fused", "python"])
def kernels(request):
    """Run every test with torch's fused RNN kernels (CPU default) and with the Python formulas."""
    cells._FUSED[0] = request.param == "fused"
    yield
    cells._FUSED[0] = True


def rand(*shape):
    return torch.rand(*shape, dtype=D)


def randomise(m, seed=0):
    """An f64 copy of ``m`` with every trainable tensor random (biases and state0 non-zero)."""
    g = torch.Generator().manual_seed(seed)
    m = f64(m)
    for p in params(m):
        p.copy_(torch.randn(p.shape, generator=g, dtype=D) * 0.5)
    reset_(m)
    return m


# ------------------------------------------------------------- Flux's formulas by hand

def sig(x):
    return 1 / (1 + torch.exp(-x))


def rnn_math(c, h, x):
    return torch.tanh(x @ c.Wi.T + h @ c.Wh.T + c.b)


def lstm_math(c, state, x):
    h, cc = state
    o = h.shape[-1]
    g = x @ c.Wi.T + h @ c.Wh.T + c.b
    i, f, cell, out = g[:, :o], g[:, o:2 * o], g[:, 2 * o:3 * o], g[:, 3 * o:]
    c2 = sig(f) * cc + sig(i) * torch.tanh(cell)
    return sig(out) * torch.tanh(c2), c2


def gru_math(c, h, x):
    o = h.shape[-1]
    gx, gh = x @ c.Wi.T, h @ c.Wh.T
    r = sig(gx[:, :o] + gh[:, :o] + c.b[:o])
    z = sig(gx[:, o:2 * o] + gh[:, o:2 * o] + c.b[o:2 * o])
    h̃ = torch.tanh(gx[:, 2 * o:] + r * gh[:, 2 * o:] + c.b[2 * o:])
    return (1 - z) * h̃ + z * h


def gruv3_math(c, h, x):
    o = h.shape[-1]
    gx, gh = x @ c.Wi.T, h @ c.Wh.T
    r = sig(gx[:, :o] + gh[:, :o] + c.b[:o])
    z = sig(gx[:, o:2 * o] + gh[:, o:2 * o] + c.b[o:2 * o])
    h̃ = torch.tanh(gx[:, 2 * o:] + (r * h) @ c.Wh_h̃.T + c.b[2 * o:])
    return (1 - z) * h̃ + z * h


MATH = {RNN: rnn_math, LSTM: lstm_math, GRU: gru_math, GRUv3: gruv3_math}


def unroll(math, cell, xs):
    """Flux's recurrence by hand from state0 broadcast over the batch: the outputs (T, N, out)."""
    n = xs.shape[1]
    s0 = cell.state0
    h = tuple(s.expand(n, -1) for s in s0) if isinstance(s0, tuple) else s0.expand(n, -1)
    ys = []
    for x in xs:
        h = math(cell, h, x)
        ys.append(h[0] if isinstance(h, tuple) else h)
    return torch.stack(ys)


# ------------------------------------------------------------- construction, counts, printing

@pytest.mark.parametrize("R, n_ps, n_arr, n_state", [
    (RNN, 50, 4, 1), (LSTM, 190, 5, 2), (GRU, 140, 4, 1), (GRUv3, 140, 5, 1)])
def test_parameter_counts_as_flux_docs(R, n_ps, n_arr, n_state):
    m = R(3, 5)
    ps = params(m)
    assert len(ps) == n_arr and sum(p.numel() for p in ps) == n_ps
    others = [t for t in fleaves(m) if isinstance(t, torch.Tensor) and t not in ps]
    assert len(others) == n_state and sum(t.numel() for t in others) == 5 * n_state
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in ps)


def test_parameter_layout_and_order():
    c = LSTM(3, 5).cell
    assert [tuple(p.shape) for p in params(c)] == [(20, 3), (20, 5), (20,), (1, 5), (1, 5)]
    assert params(c)[0] is c.Wi and params(c)[2] is c.b
    # Flux: cell.b[gate(out, 2)] .= 1, the forget gate (second block of rows)
    assert torch.equal(c.b, torch.tensor([0.] * 5 + [1.] * 5 + [0.] * 10))
    g = GRUv3(3, 5).cell
    assert [tuple(p.shape) for p in params(g)] == [(15, 3), (10, 5), (15,), (5, 5), (1, 5)]
    assert g.Wh_h is g.Wh_h̃
    assert torch.count_nonzero(GRU(3, 5).cell.b) == 0 and torch.count_nonzero(RNN(3, 5).cell.state0) == 0


def test_constructor_forms():
    assert inline(RNN((3, 5), relu)) == inline(RNN(3, 5, relu)) == "Recur(RNNCell(3, 5, relu))"
    assert inline(RNNCell(1, 1, identity)) == "RNNCell(1, 1, identity)"
    assert inline(LSTM((2, 4))) == "Recur(LSTMCell(2, 4))"
    c = RNNCell(3, 5, init=lambda *d: torch.ones(d), initb=lambda n: torch.full((n,), 2.0))
    assert torch.equal(c.Wh, torch.ones(5, 5)) and torch.equal(c.b, torch.full((5,), 2.0))
    with pytest.raises(TypeError, match="non-negative integers"):
        LSTM(3.0, 5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        RNN(3, 5, bias=False)


def test_struct_forms_flux_internal_matrix_types():
    # Flux's "Different Internal Matrix Types": arrays of mixed types; here one float dtype (Wi's)
    g = np.random.default_rng(0)
    R = Recur(RNNCell(torch.tanh, g.random((5, 3)), g.random((5, 5)), g.random(5), g.random((1, 5))))
    L = Recur(LSTMCell(g.random((20, 3)), g.integers(1, 20, (20, 5)), g.random(20),
                       (g.random((1, 5)), g.random((1, 5)))))
    G = Recur(GRUCell(g.random((15, 3)), g.integers(1, 20, (15, 5)), g.random(15), g.random((1, 5))))
    G3 = Recur(GRUv3Cell(g.random((15, 3)), g.integers(1, 20, (10, 5)), g.random(15),
                         g.random((5, 5)), g.random((1, 5))))
    for m in [R, L, G, G3]:
        assert all(p.dtype == D for p in params(m))
        for x, shape in [(rand(3), (5,)), (rand(1, 3), (1, 5)), (rand(2, 1, 3), (2, 1, 5))]:
            reset_(m)
            assert m(x).shape == shape
    with pytest.raises(ValueError, match="expects Wi of shape"):
        LSTMCell(torch.rand(8, 3), torch.rand(8, 5), torch.rand(8), (torch.rand(1, 5),) * 2)
    with pytest.raises(TypeError, match="extra arguments"):
        LSTMCell(3, 5, 7)


def test_printing_as_flux():
    assert repr(LSTM(3, 5)) == (
        "Recur(\n"
        "  LSTMCell(3, 5),                       # 190 parameters\n"
        ")         # Total: 5 trainable arrays, 190 parameters,\n"
        "          # plus 2 non-trainable, 10 parameters, summarysize 800 bytes.")
    assert repr(RNN(3, 5)).splitlines()[1].strip() == "RNNCell(3, 5, tanh),                  # 50 parameters"
    assert repr(GRUCell(3, 5)) == "GRUCell(3, 5)  # 140 parameters"
    assert inline(GRUv3(3, 5)) == "Recur(GRUv3Cell(3, 5))"
    assert inline(Recur(lambda h, x: (h, x), 0)).startswith("Recur(")


# ------------------------------------------------------------- values

@pytest.mark.parametrize("R", CONSTRUCTORS)
def test_steps_match_flux_formulas(R):
    m = randomise(R(3, 4), seed=1)
    xs = rand(5, 2, 3)
    want = unroll(MATH[R], m.cell, xs)
    got = torch.stack([m(x) for x in xs])
    torch.testing.assert_close(got, want)
    reset_(m)
    torch.testing.assert_close(m(xs), want)          # a whole sequence at once == stepping
    torch.testing.assert_close(m(xs[:2]), unroll(MATH[R], m.cell, torch.cat([xs, xs[:2]]))[5:])


def _twin(kind, cell):
    out, in_ = cell.Wh.shape[1], cell.Wi.shape[1]
    t = kind(in_, out).double()
    with torch.no_grad():
        t.weight_ih.copy_(cell.Wi)
        t.weight_hh.copy_(cell.Wh)
        t.bias_ih.copy_(cell.b)
        t.bias_hh.zero_()      # Flux has one bias; torch's b_hn sits inside r ⊙ (...) so must be 0
    return t


@pytest.mark.parametrize("R, kind", [(RNN, nn.RNNCell), (LSTM, nn.LSTMCell), (GRU, nn.GRUCell)])
def test_matches_torch_cells(R, kind):
    m = randomise(R(3, 4), seed=2)
    t = _twin(kind, m.cell)
    s0 = m.cell.state0
    h = tuple(s.expand(6, -1) for s in s0) if isinstance(s0, tuple) else s0.expand(6, -1)
    for x in rand(4, 6, 3):
        h = t(x, h)
        torch.testing.assert_close(m(x), h[0] if isinstance(h, tuple) else h)


def test_gruv3_is_not_torchs_gru():
    # torch.nn.GRUCell is Flux's GRU (v1): reset gate after the matrix product; v3 differs
    m = randomise(GRUv3(3, 4), seed=3)
    t = nn.GRUCell(3, 4).double()
    with torch.no_grad():
        t.weight_ih.copy_(m.cell.Wi)
        t.weight_hh.copy_(torch.cat([m.cell.Wh, m.cell.Wh_h̃]))
        t.bias_ih.copy_(m.cell.b)
        t.bias_hh.zero_()
    x = rand(2, 3)
    assert not torch.allclose(m(x), t(x, m.cell.state0.expand(2, -1)))


def test_sequence_vs_torch_lstm():
    m = randomise(LSTM(3, 4), seed=4)
    t = nn.LSTM(3, 4).double()           # batch_first=False: (T, N, in), our sequence layout
    with torch.no_grad():
        t.weight_ih_l0.copy_(m.cell.Wi)
        t.weight_hh_l0.copy_(m.cell.Wh)
        t.bias_ih_l0.copy_(m.cell.b)
        t.bias_hh_l0.zero_()
    xs = rand(6, 2, 3)
    h0, c0 = (s.expand(2, -1)[None] for s in m.cell.state0)
    want, (hT, cT) = t(xs, (h0, c0))
    torch.testing.assert_close(m(xs), want)
    torch.testing.assert_close(m.state[0], hT[0])
    torch.testing.assert_close(m.state[1], cT[0])


def test_unbatched_and_batched_shapes():   # Flux's "RNN-shapes" test, shapes reversed
    for R in CONSTRUCTORS:
        m1, m2, m3 = R(3, 5), R((3, 5)), R(3, 5)
        for _ in range(2):
            assert m1(torch.rand(3)).shape == (5,)
            assert m2(torch.rand(1, 3)).shape == (1, 5)
            assert m3(torch.rand(2, 1, 3)).shape == (2, 1, 5)
        s = m1.state[0] if isinstance(m1.state, tuple) else m1.state
        assert s.shape == (1, 5)          # Flux v0.14 keeps state0's (out, 1) after a vector step


@pytest.mark.parametrize("R", CONSTRUCTORS)
def test_a_vector_state_stays_a_vector(R):
    # Julia broadcasts Wi * x (out,) with Wh * h (out,) to (out,): a cell or Recur given an
    # unbatched x and an unbatched state returns an (out,) state, not (1, out).
    m = randomise(R(3, 5), seed=4)
    cell, x = m.cell, rand(3)
    s0 = tuple(s[0] for s in cell.state0) if isinstance(cell.state0, tuple) else cell.state0[0]
    h, y = cell(s0, x)
    parts = h if isinstance(h, tuple) else (h,)
    assert all(p.shape == (5,) for p in parts) and y.shape == (5,)
    want = MATH[R](cell, cell.state0, x[None])           # the same step from (1, out), by hand
    torch.testing.assert_close(parts[0], (want[0] if isinstance(want, tuple) else want)[0])
    r = Recur(cell, s0)
    for _ in range(2):
        assert r(x).shape == (5,)
        assert all(p.shape == (5,) for p in (r.state if isinstance(r.state, tuple) else (r.state,)))
    assert r(rand(4, 3)).shape == (4, 5)                 # a vector state serves a batch too


def test_inputs_lists_numpy_and_f64_data(monkeypatch):
    m = RNN(2, 3)
    y1 = m([1.0, 2.0])
    reset_(m)
    y2 = m(np.array([1.0, 2.0], dtype=np.float32))
    torch.testing.assert_close(y1, y2)
    reset_(m)
    monkeypatch.setattr(_device, "_warned_f64", False)
    with pytest.warns(UserWarning, match=r"Recur\(RNNCell\(2, 3, tanh\)\) has float32 parameters"):
        y3 = m(torch.tensor([[1.0, 2.0]], dtype=D))    # Flux: _match_eltype converts to Float32
    assert y3.dtype == torch.float32 and m.state.dtype == torch.float32


# ------------------------------------------------------------- state

def test_state_kept_and_reset():
    m = randomise(GRU(3, 4), seed=5)
    x1, x2 = rand(3), rand(3)
    y1 = m(x1)
    assert torch.equal(m.state[0], y1)
    y2 = m(x2)
    torch.testing.assert_close(y2, gru_math(m.cell, y1[None], x2[None])[0])
    assert reset_(m) is m
    assert torch.equal(m.state, m.cell.state0) and m.state is not m.cell.state0
    torch.testing.assert_close(m(x1), y1)


def test_reset_walks_a_model():
    m = Chain(LSTM(3, 4), Dense(4, 4), GRU(4, 2))
    m(torch.rand(5, 3))
    assert m[2].state.shape == (5, 2) and m[0].state[1].shape == (5, 4)
    reset_(m)
    assert m[2].state.shape == (1, 2) and m[0].state[1].shape == (1, 4)
    assert m(torch.rand(7, 3)).shape == (7, 2)


def test_flux_reset_docstring_example():
    r = RNNCell(relu, np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1)), np.zeros((1, 1)))
    y = Recur(r, torch.ones(1, 1, dtype=D))
    assert y.state.item() == 1.0
    assert y(torch.ones(1, 1, dtype=D)).item() == 2.0       # relu(1*1 + 0*1 + 1)
    assert y.state.item() == 2.0
    reset_(y)
    assert y.state.item() == 0.0


def test_function_cell_as_flux_docs():
    def accum(h, x):
        return h + x, x
    rnn = Recur(accum, torch.zeros(1, 1, dtype=torch.int64))
    assert rnn(torch.tensor([2])).tolist() == [2]
    rnn(torch.tensor([3]))
    assert rnn.state.tolist() == [[5]]
    out = rnn(torch.arange(1, 11).reshape(10, 1, 1))        # Flux's (1, 1, 10) reversed
    assert out.shape == (10, 1, 1) and out.flatten().tolist() == list(range(1, 11))
    assert rnn.state.tolist() == [[60]]
    reset_(rnn)
    assert rnn.state.tolist() == [[0]]
    with pytest.raises(TypeError, match="needs an initial state"):
        Recur(accum)


def test_errors_name_the_layer():
    m = LSTM(3, 5)
    with pytest.raises(ValueError, match=r"Recur\(LSTMCell\(3, 5\)\) expects x of shape \(3,\)"):
        m(torch.rand(4))
    with pytest.raises(ValueError, match="batch first"):
        m(torch.rand(3, 8))
    with pytest.raises(ValueError, match="expects x of shape"):
        m(torch.rand(2, 2, 2, 3))
    with pytest.raises(ValueError, match="wrap it in Recur"):
        m.cell(m.cell.state0, torch.rand(2, 4, 3))
    m(torch.rand(4, 3))
    with pytest.raises(ValueError, match="batch of 4 but got a batch of 6; call reset_"):
        m(torch.rand(6, 3))


# ------------------------------------------------------------- gradients

def _flux_rnn_1x1():
    layer = Recur(RNNCell(1, 1, identity))
    layer.cell.Wi.fill_(5.0)
    layer.cell.Wh.fill_(4.0)
    layer.cell.b.fill_(0.0)
    layer.cell.state0.fill_(7.0)
    return reset_(layer)


def test_flux_rnn_gradients_implicit():   # numbers from Flux's test/layers/recurrent.jl
    layer = _flux_rnn_1x1()
    x = [torch.tensor([2.0]), torch.tensor([3.0])]
    ps = params(layer)
    e, g = withgradient(lambda: [layer(xi) for xi in x][1].sum(), ps)
    assert e.item() == 167.0                       # Wh*(Wh*state0 + x1*Wi) + x2*Wi
    assert [g[p].item() for p in ps] == [11.0, 66.0, 5.0, 16.0]   # ∇Wi, ∇Wh, ∇b, ∇state0


def test_flux_rnn_gradients_explicit():   # @test_broken in Flux 0.14; works here
    layer = _flux_rnn_1x1()
    x = [torch.tensor([2.0]), torch.tensor([3.0])]
    e, g = withgradient(lambda m: [m(xi) for xi in x][1].sum(), layer)
    c = g[0].cell
    assert e.item() == 167.0
    assert [c.Wi.item(), c.Wh.item(), c.b.item(), c.state0.item()] == [11.0, 66.0, 5.0, 16.0]
    assert g[0].state is None


@pytest.mark.parametrize("shape", [(3, 2), (3, 1, 2)])
def test_bptt_vs_torch_autograd(shape):   # Flux's BPTT-1D/2D tests
    rnn = RNN(2, 3)
    seq = torch.rand(*shape)
    gs = gradient(lambda m: [m(s) for s in seq][2].sum(), rnn)[0]
    reset_(rnn)
    c = rnn.cell
    Wh = c.Wh.clone().requires_grad_()
    s = c.state0
    for x in seq:
        s = torch.tanh(x @ c.Wi.T + s @ Wh.T + c.b)
    want, = torch.autograd.grad(s.sum(), Wh)
    torch.testing.assert_close(gs.cell.Wh, want)


def _leaf_copy(cell):
    """A stand-in for ``cell`` whose tensors are fresh autograd leaves (the torch.autograd oracle)."""
    leaves = []

    def leaf(v):
        if isinstance(v, tuple):
            return tuple(leaf(t) for t in v)
        if isinstance(v, torch.Tensor):
            leaves.append(v.detach().clone().requires_grad_())
            return leaves[-1]
        return v
    return SimpleNamespace(**{k: leaf(v) for k, v in vars(cell).items()}), leaves


@pytest.mark.parametrize("R", CONSTRUCTORS)
def test_sequence_gradient_vs_autograd(R):
    m = randomise(R(3, 4), seed=6)
    xs = rand(5, 2, 3)
    g, gx = gradient(lambda m, xs: (m(xs) ** 2).sum(), m, xs)
    cell, leaves = _leaf_copy(m.cell)
    xs2 = xs.clone().requires_grad_()
    want = torch.autograd.grad((unroll(MATH[R], cell, xs2) ** 2).sum(), leaves + [xs2])
    got = [t for t in fleaves(g.cell) if isinstance(t, torch.Tensor)] + [gx]
    assert len(got) == len(want) == len(params(m)) + 1
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


def test_torch_lstm_gradients_including_initial_state():
    m = randomise(LSTM(3, 4), seed=7)
    t = nn.LSTM(3, 4).double()
    with torch.no_grad():
        t.weight_ih_l0.copy_(m.cell.Wi)
        t.weight_hh_l0.copy_(m.cell.Wh)
        t.bias_ih_l0.copy_(m.cell.b)
        t.bias_hh_l0.zero_()
    xs = rand(4, 3, 3)
    g = gradient(lambda m: m(xs).sin().sum(), m)[0].cell
    h0, c0 = (s.clone().requires_grad_() for s in m.cell.state0)
    y, _ = t(xs, (h0.expand(3, -1)[None], c0.expand(3, -1)[None]))
    want = torch.autograd.grad(y.sin().sum(), [t.weight_ih_l0, t.weight_hh_l0, t.bias_ih_l0, h0, c0])
    for a, b in zip([g.Wi, g.Wh, g.b, *g.state0], want):
        torch.testing.assert_close(a, b)


def test_state_is_truncated_between_gradient_calls():
    m = randomise(LSTM(3, 4), seed=8)
    xs1, xs2 = rand(3, 2, 3), rand(3, 2, 3)
    gradient(lambda m: m(xs1).sum(), m)
    assert all(not s.requires_grad and s.grad_fn is None for s in m.state)   # plain values kept
    h = tuple(s.clone() for s in m.state)
    g = gradient(lambda m: m(xs2).sum(), m)[0].cell     # continues from h, graph cut at h
    leaves = [p.clone().requires_grad_() for p in (m.cell.Wi, m.cell.Wh, m.cell.b)]
    cell = type("C", (), {})()
    cell.Wi, cell.Wh, cell.b = leaves
    ys = torch.autograd.grad(_seq_sum(cell, h, xs2), leaves)   # h is a constant: truncated BPTT
    for a, b in zip([g.Wi, g.Wh, g.b], ys):
        torch.testing.assert_close(a, b)
    assert g.state0 == (None, None)      # state0 was not used in this call


def _seq_sum(cell, h, xs):
    total = 0
    for x in xs:
        h = lstm_math(cell, h, x)
        total = total + h[0].sum()
    return total


def test_truncation_implicit_and_step_calls():
    m = RNN(2, 3)
    ps = params(m)
    for _ in range(3):          # back-to-back implicit gradients without reset_
        gs = gradient(lambda: sum(m(x).sum() for x in torch.rand(4, 2)), ps)
        assert gs[m.cell.Wh] is not None
        assert not m.state.requires_grad
    y = m(torch.rand(2))
    assert not y.requires_grad


def test_nested_gradient_through_rnn():
    m = randomise(RNN(2, 2), seed=9)
    x = rand(3, 2)

    def f(x):
        reset_(m)
        return (torch.stack([m(xt) for xt in x]) ** 2).sum()

    got = gradient(lambda x: gradient(f, x)[0].sum(), x)[0]
    reset_(m)
    want = torch.autograd.functional.hessian(f, x.clone()).sum((0, 1))
    torch.testing.assert_close(got, want)


def test_torch_func_grad_sees_the_model():
    m = randomise(GRU(3, 4), seed=10)
    xs = rand(3, 2, 3)
    g = torch.func.grad(lambda m: m(xs).sum())(m)
    want = gradient(lambda m: m(xs).sum(), reset_(m))[0]
    torch.testing.assert_close(g.cell.Wh, want.cell.Wh)
    torch.testing.assert_close(g.cell.state0, want.cell.state0)


def test_f64_round_trip():
    m = LSTM(3, 4)
    x = torch.rand(2, 3)
    y = m(x)
    reset_(m)
    m64 = f64(m)
    assert all(p.dtype == D for p in params(m64)) and m64.state[0].dtype == D
    y64 = m64(x.double())
    assert y64.dtype == D
    torch.testing.assert_close(y64.float(), y)
    back = f32(m64)
    assert all(p.dtype == torch.float32 for p in params(back))
    assert m64.state[0].shape == (2, 4) and back.state[0].dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_gpu():
    m = gpu(LSTM(3, 4))
    xs = gpu(torch.rand(5, 2, 3))
    assert m(xs).device.type == "cuda"
    g = gradient(lambda m: m(xs).sum(), reset_(m))[0]
    assert g.cell.Wi.device.type == "cuda" and not m.state[0].requires_grad
