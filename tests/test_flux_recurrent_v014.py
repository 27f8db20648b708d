"""Flux's own recurrent tests, v0.14, run against ``import flux_torch.v014 as Flux``.

Source: github.com/FluxML/Flux.jl, test/layers/recurrent.jl at tag v0.14.25,
commit ca638852754d7405cb12a52a0867d6e701ec924d.

Translated by the porting rules: every data shape reversed (Julia's ``in x batch x len`` is
``(len, batch, in)``, ``state0`` ``out x 1`` is ``(1, out)``), ``reset!`` is ``reset_``,
0-based indices. Tests of Flux-internal helpers and of Julia's type inference are skipped
with their reason.
"""
import warnings

import numpy as np
import pytest
import torch

import flux_torch.v014 as Flux
from flux_torch import devices as _device
from flux_torch.v014 import GRU, LSTM, RNN, GRUv3, gradient, outputsize


def rand(*shape):
    return torch.rand(*shape)


def _rnn_1_1():
    layer = Flux.Recur(Flux.RNNCell(1, 1, Flux.identity))
    layer.cell.Wi.fill_(5.0)
    layer.cell.Wh.fill_(4.0)
    layer.cell.b.fill_(0.0)
    layer.cell.state0.fill_(7.0)
    x = [torch.tensor([2.0]), torch.tensor([3.0])]
    c = layer.cell
    # theoretical primal gradients
    primal = c.Wh * (c.Wh * c.state0 + x[0] * c.Wi) + x[1] * c.Wi
    grads = dict(Wi=x[0] * c.Wh + x[1], Wh=2 * c.Wh * c.state0 + x[0] * c.Wi, b=c.Wh + 1,
                 state0=c.Wh ** 2)
    return layer, x, primal, grads


def test_RNN_gradients_implicit():
    layer, x, primal, want = _rnn_1_1()
    Flux.reset_(layer)
    ps = Flux.params(layer)
    e, g = Flux.withgradient(lambda: [layer(xi) for xi in x][1].sum(), ps)

    assert torch.allclose(primal[0], e)
    assert torch.allclose(want["Wi"], g[ps[0]])
    assert torch.allclose(want["Wh"], g[ps[1]])
    assert torch.allclose(want["b"], g[ps[2]])
    assert torch.allclose(want["state0"], g[ps[3]])


def test_RNN_gradients_explicit():
    # @test_broken in Flux v0.14 (Zygote's explicit gradient of a Recur loses the state's path);
    # flux_torch gets these values, so the test asserts them.
    layer, x, primal, want = _rnn_1_1()
    Flux.reset_(layer)
    e, g = Flux.withgradient(lambda m: [m(xi) for xi in x][1].sum(), layer)
    grads = g[0].cell

    assert torch.allclose(primal[0], e)
    assert torch.allclose(want["Wi"], grads.Wi)
    assert torch.allclose(want["Wh"], grads.Wh)
    assert torch.allclose(want["b"], grads.b)
    assert torch.allclose(want["state0"], grads.state0)


def _bptt(rnn, xs):
    """Flux's hand-written unrolling of three steps, as a function of Wh."""
    c = rnn.cell

    def f(Wh):
        h = c.state0
        for x in xs:
            h = torch.tanh(x @ c.Wi.T + h @ Wh.T + c.b)
        return h.sum()
    return f


@pytest.mark.parametrize("shape", [(2,), (1, 2)], ids=["BPTT-1D", "BPTT-2D"])
def test_BPTT_1D_2D(shape):   # Ref FluxML/Flux.jl#1209
    seq = [rand(*shape) for _ in range(3)]
    for r in [RNN]:
        rnn = r(2, 3)
        Flux.reset_(rnn)
        grads_seq = gradient(lambda: [rnn(s) for s in seq][2].sum(), Flux.params(rnn))
        Flux.reset_(rnn)
        bptt = gradient(_bptt(rnn, seq), rnn.cell.Wh)
        assert torch.allclose(grads_seq[rnn.cell.Wh], bptt[0])


def test_BPTT_3D():
    seq = rand(3, 1, 2)                  # Julia's (2, 1, 3): in x batch x len
    rnn = RNN(2, 3)
    Flux.reset_(rnn)
    grads_seq = gradient(lambda: rnn(seq)[2].sum(), Flux.params(rnn))
    Flux.reset_(rnn)
    bptt = gradient(_bptt(rnn, list(seq)), rnn.cell.Wh)
    assert torch.allclose(grads_seq[rnn.cell.Wh], bptt[0])


@pytest.mark.parametrize("R", [RNN, GRU, LSTM, GRUv3])
def test_RNN_shapes(R):
    m1 = R(3, 5)
    m2 = R(3, 5)
    m3 = R((3, 5))        # Flux's m3 uses the deprecated "," form; here (in, out) is the pair form
    x1 = rand(3)
    x2 = rand(1, 3)
    x3 = rand(2, 1, 3)
    Flux.reset_(m1)
    Flux.reset_(m2)
    Flux.reset_(m3)
    assert tuple(m1(x1).shape) == (5,)
    assert tuple(m1(x1).shape) == (5,)     # repeat in case of effect from change in state shape
    assert tuple(m2(x2).shape) == (1, 5)
    assert tuple(m2(x2).shape) == (1, 5)
    assert tuple(m3(x3).shape) == (2, 1, 5)
    assert tuple(m3(x3).shape) == (2, 1, 5)


@pytest.mark.skip(reason="Flux.multigate is a Flux-internal gate-slicing helper with a custom "
                         "rrule; flux_torch's cells slice gates with torch.chunk, differentiated "
                         "by torch.autograd")
def test_multigate():
    pass


@pytest.mark.skip(reason="Flux.eachlastdim and ∇eachlastdim are Flux-internal iteration helpers "
                         "(with @inferred and ChainRules' ZeroTangent/NoTangent, Julia-only); "
                         "flux_torch iterates a tensor's first dimension")
def test_eachlastdim():
    pass


def test_different_internal_matrix_types():
    # Julia's Tridiagonal becomes a dense matrix (no structured matrix types in torch); the
    # integer matrices rand(1:20, ...) stay integer data, converted to Wi's dtype.
    g = np.random.default_rng(0)
    R = Flux.Recur(Flux.RNNCell(torch.tanh, g.random((5, 3)), np.diag(g.random(5)), g.random(5),
                                g.random((1, 5))))
    L = Flux.Recur(Flux.LSTMCell(g.random((5 * 4, 3)), g.integers(1, 21, (5 * 4, 5)), g.random(5 * 4),
                                 (g.random((1, 5)), g.random((1, 5)))))
    G = Flux.Recur(Flux.GRUCell(g.random((5 * 3, 3)), g.integers(1, 21, (5 * 3, 5)), g.random(5 * 3),
                                g.random((1, 5))))
    G3 = Flux.Recur(Flux.GRUv3Cell(g.random((5 * 3, 3)), g.integers(1, 21, (5 * 2, 5)), g.random(5 * 3),
                                   np.diag(g.random(5)), g.random((1, 5))))

    for m in [R, L, G, G3]:
        x1 = torch.rand(3, dtype=torch.float64)
        x2 = torch.rand(1, 3, dtype=torch.float64)
        x3 = torch.rand(2, 1, 3, dtype=torch.float64)
        Flux.reset_(m)
        assert tuple(m(x1).shape) == (5,)
        Flux.reset_(m)
        assert tuple(m(x1).shape) == (5,)   # repeat in case of effect from change in state shape
        assert tuple(m(x2).shape) == (1, 5)
        Flux.reset_(m)
        assert tuple(m(x2).shape) == (1, 5)
        Flux.reset_(m)
        assert tuple(m(x3).shape) == (2, 1, 5)
        Flux.reset_(m)
        assert tuple(m(x3).shape) == (2, 1, 5)


def test_type_matching(monkeypatch):
    monkeypatch.setattr(_device, "_warned_f64", False)
    x = torch.rand(4, 2, dtype=torch.float64)
    m1 = RNN(2, 3)
    with pytest.warns(UserWarning, match="float64 input"):     # uses _match_eltype, may print a warning
        assert m1(x).dtype == torch.float32
    assert m1.state.dtype == torch.float32 and m1.state.dim() == 2
    # @inferred has no meaning in Python: the calls' result types are checked above
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert outputsize(m1, tuple(x.shape)) == tuple(m1(x).shape)

        for R in (LSTM, GRU, GRUv3):
            m = R(2, 3)
            assert m(x).dtype == torch.float32 and m(x).dim() == 2
            assert outputsize(m, tuple(x.shape)) == tuple(m(x).shape)
