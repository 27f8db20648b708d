"""Flux v0.16's recurrent cells: one time step, ``y, state = cell(x, state)``.

``RNNCell``, ``LSTMCell``, ``GRUCell`` and ``GRUv3Cell`` as ``import flux_torch as Flux``
gives them, and :func:`initialstates`. (``flux_torch.v014`` keeps v0.14's cells,
``h, y = cell(h, x)`` with a trainable ``state0``: ``cells.py``.)

A step takes ``x`` of shape ``(in,)`` or ``(N, in)`` and a state of shape ``(out,)`` or
``(N, out)`` (an LSTM's is a pair ``(h, c)``): Flux's ``in``, ``in × N`` and ``out × N``
reversed. The two broadcast as Julia's arrays do, so a state ``(out,)`` serves a whole batch.
The cell returns ``(y, state)``: for RNN and GRU cells ``y`` *is* the new state, for an LSTM
``y`` is ``state[0]``. Without a state the step starts from ``initialstates(cell)``, zeros.

Parameters keep Flux's shapes, which are torch's: ``Wi (gates*out, in)``, ``Wh (gates*out, out)``
and one bias ``(gates*out,)``, named ``bias`` (RNN, LSTM) or ``b`` (GRU, GRUv3) as in Flux.
Gate order: LSTM input, forget, cell, output (torch's i, f, g, o); GRU reset, update,
candidate (torch's r, z, n). On CPU the cells with a torch twin run torch's fused kernels
(``torch.lstm_cell``, ``torch.lstm`` ..., with ``b_hh = 0``), elsewhere the formulas below.
"""
from typing import Any

import torch
import torch.nn.functional as F

from ..functors import functor
from .._show import fn_name, inline
from ..activation import relu, tanh
from ..init import create_bias, glorot_uniform
from ._step_cell import _arrays, _is_array, _keywords, _rows, _StepCell
from .cells import _pair

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "GRUv3Cell", "initialstates"]


def initialstates(m: Any) -> Any:
    """The state a recurrent cell or layer starts from (``Flux.initialstates``): zeros of shape
    ``(out,)``, a pair ``(h, c)`` of them for an LSTM. Not trainable; a custom cell used with
    :class:`Recurrence` defines an ``initialstates(self)`` method.

    >>> initialstates(RNNCell(3, 5))
    tensor([0., 0., 0., 0., 0.])
    >>> [tuple(s.shape) for s in initialstates(LSTMCell(3, 2))]
    [(2,), (2,)]
    """
    method = getattr(m, "initialstates", None)
    if not callable(method):
        raise TypeError(f"initialstates: {inline(m)} has no initialstates() method; give the cell "
                        "one returning its starting state, or pass the state to the call: "
                        "layer(x, state)")
    return method()


@functor
class RNNCell(_StepCell):
    """The vanilla recurrent cell, one step ``h' = σ(Wi x + Wh h + bias)`` (``Flux.RNNCell``, v0.16).

    ``RNNCell(in, out, σ=tanh)`` or ``RNNCell((in, out), σ)`` (Flux's ``in => out``); keywords
    ``init_kernel``, ``init_recurrent_kernel`` (``glorot_uniform``), ``bias=True``. Struct form
    ``RNNCell(σ, Wi, Wh, bias)``. ``cell(x, h)`` returns ``(h', h')``; ``cell(x)`` starts from
    zeros. :class:`RNN` runs it over a sequence.

    >>> cell = RNNCell(3, 5)
    >>> cell
    RNNCell(3, 5, tanh)  # 45 parameters
    >>> y, h = cell(torch.rand(4, 3), torch.zeros(5))      # a batch of 4, one state for all
    >>> y is h, tuple(h.shape)
    (True, (4, 5))
    """

    def __init__(self, in_, out=None, σ=tanh, bias=True, *, init_kernel=glorot_uniform,
                 init_recurrent_kernel=glorot_uniform, **kw):
        if "sigma" in kw:
            σ = kw.pop("sigma")
        _keywords("RNNCell", kw)
        if callable(in_) and not isinstance(in_, (int, tuple)):    # RNNCell(σ, Wi, Wh, bias)
            σ, (Wi, Wh, bias, _) = in_, _arrays("RNNCell", 1, out, σ, bias)
        else:
            if isinstance(in_, tuple) and out is not None and not isinstance(out, int):
                σ, out = out, None                                  # RNNCell((in, out), σ)
            in_, out = _pair("RNNCell", in_, out)
            Wi, Wh = init_kernel(out, in_), init_recurrent_kernel(out, out)
            bias = create_bias(Wi, bias, out)
        if not callable(σ):
            raise TypeError(f"RNNCell expects an activation function, but got {σ!r}")
        self.σ, self.Wi, self.Wh, self.bias = σ, Wi, Wh, bias

    def _step(self, h, gx):
        z = gx + F.linear(h, self.Wh)
        h = self.σ(z)
        return h, h

    def _kind(self):
        σ = self.σ
        return "tanh" if σ is tanh or σ is torch.tanh else "relu" if σ is relu or σ is torch.relu else None

    def _fused_step(self, x, h, n):
        kind = self._kind()
        if kind is None:
            return None
        f = torch.rnn_tanh_cell if kind == "tanh" else torch.rnn_relu_cell
        h = f(_rows(x, n), _rows(h, n), self.Wi, self.Wh, self.bias, None)
        h = h[0] if n is None else h
        return h, h

    def _seq_kernel(self):
        kind = self._kind()
        return None if kind is None else torch.rnn_tanh if kind == "tanh" else torch.rnn_relu

    def _args(self):
        s = f"{self.Wi.shape[1]}, {self.Wh.shape[1]}, {fn_name(self.σ)}"
        return s + (", bias=False" if self.bias is None else "")


@functor
class LSTMCell(_StepCell):
    """Long short-term memory cell, one step (``Flux.LSTMCell``, v0.16); the state is ``(h, c)``.

    ``g = Wi x + Wh h + bias`` split into input, forget, cell, output gates (rows of ``Wi``, in
    that order, torch's ``i, f, g, o``); ``c' = σ(f) c + σ(i) tanh(g)``, ``h' = σ(o) tanh(c')``.
    ``cell(x, (h, c))`` returns ``(h', (h', c'))``. The bias starts at zero, forget gate included
    (v0.14's started at 1). Keywords ``init_kernel``, ``init_recurrent_kernel``, ``bias``; struct
    form ``LSTMCell(Wi, Wh, bias)``.

    >>> cell = LSTMCell(3, 5)
    >>> cell
    LSTMCell(3, 5)  # 180 parameters
    >>> y, (h, c) = cell(torch.rand(4, 3))
    >>> y is h, tuple(c.shape)
    (True, (4, 5))
    """

    _gates = 4

    def __init__(self, in_, out=None, bias=True, *, init_kernel=glorot_uniform,
                 init_recurrent_kernel=glorot_uniform, **kw):
        _keywords("LSTMCell", kw)
        if _is_array(in_):                                         # LSTMCell(Wi, Wh, bias)
            Wi, Wh, bias, _ = _arrays("LSTMCell", 4, in_, out, bias)
        else:
            in_, out = _pair("LSTMCell", in_, out)
            Wi, Wh = init_kernel(out * 4, in_), init_recurrent_kernel(out * 4, out)
            bias = create_bias(Wi, bias, out * 4)
        self.Wi, self.Wh, self.bias = Wi, Wh, bias

    def initialstates(self):
        """A pair of zeros ``(h, c)``, each ``(out,)``."""
        out = self.Wh.shape[1]
        return self.Wh.new_zeros(out), self.Wh.new_zeros(out)

    def _step(self, state, gx):
        h, c = state
        i, f, g, o = (gx + F.linear(h, self.Wh)).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)

    def _fused_step(self, x, state, n):       # torch's gate order is Flux's: i, f, g, o
        h, c = torch.lstm_cell(_rows(x, n), tuple(_rows(s, n) for s in state), self.Wi, self.Wh,
                               self.bias, None)
        if n is None:
            h, c = h[0], c[0]
        return h, (h, c)

    def _seq_kernel(self):
        return torch.lstm


@functor
class GRUCell(_StepCell):
    """Gated recurrent unit cell, v1 of Cho et al., one step (``Flux.GRUCell``, v0.16).

    Rows of ``Wi``/``Wh``/``b``: reset ``r``, update ``z``, candidate. ``r, z = σ(Wi x + Wh h + b)``,
    ``h̃ = tanh(Wi_n x + r ⊙ (Wh_n h) + b_n)``, ``h' = (1 - z) ⊙ h̃ + z ⊙ h``: torch's
    ``nn.GRUCell`` with ``bias_hh = 0``. ``cell(x, h)`` returns ``(h', h')``. Keywords
    ``init_kernel``, ``init_recurrent_kernel``, ``bias``; struct form ``GRUCell(Wi, Wh, b)``.

    >>> cell = GRUCell(3, 5)
    >>> cell
    GRUCell(3, 5)  # 135 parameters
    >>> y, h = cell(torch.rand(3))
    >>> tuple(y.shape)
    (5,)
    """

    _gates, _bias_name = 3, "b"

    def __init__(self, in_, out=None, bias=True, *, init_kernel=glorot_uniform,
                 init_recurrent_kernel=glorot_uniform, **kw):
        _keywords("GRUCell", kw)
        if _is_array(in_):                                         # GRUCell(Wi, Wh, b)
            Wi, Wh, b, _ = _arrays("GRUCell", 3, in_, out, bias)
        else:
            in_, out = _pair("GRUCell", in_, out)
            Wi, Wh = init_kernel(out * 3, in_), init_recurrent_kernel(out * 3, out)
            b = create_bias(Wi, bias, out * 3)
        self.Wi, self.Wh, self.b = Wi, Wh, b

    def _step(self, h, gx):
        o = self.Wh.shape[1]
        gh = F.linear(h, self.Wh)
        r, z = torch.sigmoid(gx[..., :2 * o] + gh[..., :2 * o]).chunk(2, -1)
        h̃ = torch.tanh(gx[..., 2 * o:] + r * gh[..., 2 * o:])
        h = torch.lerp(h̃, h, z)
        return h, h

    def _fused_step(self, x, h, n):           # torch's GRU with b_hh = 0 is Flux's GRU
        h = torch.gru_cell(_rows(x, n), _rows(h, n), self.Wi, self.Wh, self.b, None)
        h = h[0] if n is None else h
        return h, h

    def _seq_kernel(self):
        return torch.gru


@functor
class GRUv3Cell(_StepCell):
    """Gated recurrent unit cell, v3 of Cho et al., one step (``Flux.GRUv3Cell``, v0.16): the reset
    gate acts before the candidate's own matrix ``Wh_h̃`` (also readable as ``Wh_h``):
    ``h̃ = tanh(Wi_n x + Wh_h̃ (r ⊙ h) + b_n)``. ``Wh`` is ``(3*out, out)`` as in Flux v0.16, whose
    code leaves its candidate rows unused (their gradient is zero); v0.14's ``Wh`` had only the
    ``2*out`` gate rows. No ``torch.nn`` twin. Struct form ``GRUv3Cell(Wi, Wh, b, Wh_h̃)``.

    >>> cell = GRUv3Cell(3, 5)
    >>> cell
    GRUv3Cell(3, 5)  # 160 parameters
    >>> tuple(cell.Wh.shape), tuple(cell.Wh_h.shape)
    ((15, 5), (5, 5))
    """

    _gates, _bias_name = 3, "b"

    def __init__(self, in_, out=None, bias=True, Wh_h̃=None, *, init_kernel=glorot_uniform,
                 init_recurrent_kernel=glorot_uniform, **kw):
        _keywords("GRUv3Cell", kw)
        if _is_array(in_):                                         # GRUv3Cell(Wi, Wh, b, Wh_h̃)
            if Wh_h̃ is None:
                raise TypeError("GRUv3Cell(Wi, Wh, b, Wh_h̃) needs the candidate's matrix Wh_h̃")
            Wi, Wh, b, Wh_h̃ = _arrays("GRUv3Cell", 3, in_, out, bias, Wh_h̃)
            o = Wh.shape[1]
            if tuple(Wh_h̃.shape) != (o, o):
                raise ValueError(f"GRUv3Cell expects Wh_h̃ of shape ({o}, {o}), but got "
                                 f"{tuple(Wh_h̃.shape)}")
        else:
            if Wh_h̃ is not None:
                raise TypeError("GRUv3Cell(in, out) got a matrix Wh_h̃; build it from sizes, "
                                "GRUv3Cell(in, out), or from arrays, GRUv3Cell(Wi, Wh, b, Wh_h̃)")
            in_, out = _pair("GRUv3Cell", in_, out)
            Wi, Wh = init_kernel(out * 3, in_), init_recurrent_kernel(out * 3, out)
            Wh_h̃ = init_recurrent_kernel(out, out)
            b = create_bias(Wi, bias, out * 3)
        self.Wi, self.Wh, self.b, self.Wh_h̃ = Wi, Wh, b, Wh_h̃

    @property
    def Wh_h(self):
        """ASCII name of the field ``Wh_h̃``."""
        return self.Wh_h̃

    def _step(self, h, gx):
        o = self.Wh.shape[1]
        r, z = torch.sigmoid(gx[..., :2 * o] + F.linear(h, self.Wh[:2 * o])).chunk(2, -1)
        h̃ = torch.tanh(gx[..., 2 * o:] + F.linear(r * h, self.Wh_h̃))
        h = torch.lerp(h̃, h, z)
        return h, h
