"""Flux's recurrent cells ``RNNCell``, ``LSTMCell``, ``GRUCell``, ``GRUv3Cell`` (the stateful
layers ``RNN``, ``LSTM``, ``GRU``, ``GRUv3`` wrap them in ``Recur``, in ``recur.py``).

A cell is called as ``cell(h, x) -> (h', y)`` on one time step ``x`` of shape
``(in,)`` or ``(N, in)``. Fields and layout are Flux 0.14's: the gates are stacked
in the rows of ``Wi`` ``(gates*out, in)`` and ``Wh`` ``(gates*out, out)``, one bias
``b`` ``(gates*out,)``, and a trainable initial state ``state0`` of shape ``(1, out)``
(Flux's ``(out, 1)`` reversed), broadcast over the batch on the first step.
Gate order: LSTM input, forget, cell, output (torch's i, f, g, o); GRU reset,
update, candidate (torch's r, z, n). On CPU the cells with a torch twin run torch's fused
kernels (``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh`` and their ``*_cell`` forms, with
``b_hh = 0``), which compute the same formulas; elsewhere they run the formulas below.
"""
import torch
import torch.nn.functional as F

from ..devices import as_tensor, match_input
from ..functors import functor
from .._show import Showable, fn_name, inline
from ..activation import identity, relu, tanh
from ..init import glorot_uniform, zeros32

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "GRUv3Cell"]

_FUSED = [True]   # use torch's fused RNN kernels on CPU (tests switch this off to check both paths)


class _Cell(Showable):
    """What the four cells share: input checks, state broadcasting, ``cell(h, x)``."""

    __slots__ = ()

    def __call__(self, h, x):
        return self._forward(h, self._input(x, self, 2), self)

    def _forward(self, h, x, who):
        """One step on a checked ``x`` of shape ``(in,)`` or ``(N, in)``: ``(h', y)``. A vector
        ``x`` with a vector state gives a vector state, as Julia's broadcasting does."""
        x2 = x if x.dim() == 2 else x.unsqueeze(0)
        vector = x.dim() == 1 and all(type(s) is torch.Tensor and s.dim() == 1
                                      for s in (h if type(h) is tuple else (h,)))
        h = self._batched(h, x2.shape[0], who)
        h2 = self._fused_step(h, x2) if self._fusable(x2) else None
        h = self._step(h, F.linear(x2, self.Wi, self.b)) if h2 is None else h2
        if vector:
            h = tuple(s[0] for s in h) if type(h) is tuple else h[0]
            return h, (h[0] if type(h) is tuple else h)
        y = h[0] if isinstance(h, tuple) else h
        return h, (y if x.dim() == 2 else y[0])

    def _sequence(self, h, x, who):
        """All steps of a checked ``(T, N, in)`` sequence: ``(h_T, ys)`` with ys ``(T, N, out)``."""
        T, n = x.shape[0], x.shape[1]
        h = self._batched(h, n, who)
        if T and self._fusable(x):
            done = self._fused_seq(h, x)
            if done is not None:
                return done
        gx = F.linear(x, self.Wi, self.b)       # every input product in one matmul
        ys = []
        for t in range(T):
            h = self._step(h, gx[t])
            ys.append(h[0] if isinstance(h, tuple) else h)
        return h, (torch.stack(ys) if ys else gx.new_zeros(0, n, self.Wh.shape[1]))

    def _fusable(self, x):
        b = self.b
        return _FUSED[0] and x.is_cpu and b is not None and b.dim() == 1

    def _fused_step(self, h, x):
        return None

    def _fused_seq(self, h, x):
        return None

    def _input(self, x, who, max_dim):
        """``x`` converted for the cell and checked: ``max_dim`` is 2 for a cell, 3 for Recur."""
        w = self.Wi
        if type(x) is not torch.Tensor or x.dtype != w.dtype or x.device != w.device:
            x = match_input(who, x, w)
        n, shape = w.shape[1], tuple(x.shape)
        if 1 <= x.dim() <= max_dim and shape[-1] == n:
            return x
        forms = f"({n},) or (N, {n})" + (f", or a sequence (T, N, {n})" if max_dim == 3 else "")
        msg = f"{inline(who)} expects x of shape {forms}, but got a tensor of shape {shape}"
        if x.dim() == 3 and max_dim == 2:
            msg += "; a cell takes one time step: wrap it in Recur (e.g. LSTM(in, out)) for a sequence"
        elif 2 <= x.dim() <= max_dim and shape[-2] == n:
            msg += "; flux_torch puts the batch first (and time before it): did you mean x.mT?"
        raise ValueError(msg)

    def _batched(self, h, n, who):
        """The state with its batch expanded to ``n`` rows (Flux broadcasts state0 ``(out, 1)``)."""
        if type(h) is tuple:
            return tuple([self._batched(s, n, who) for s in h])
        if type(h) is torch.Tensor:          # the usual (1, out) or (n, out): no checks to build
            shape = h.shape
            if len(shape) == 2 and shape[1] == self.Wh.shape[1]:
                rows = shape[0]
                if rows == n:
                    return h
                if rows == 1:
                    return h.expand(n, -1)
        if isinstance(h, tuple):
            return tuple(self._batched(s, n, who) for s in h)
        out = self.Wh.shape[1]
        if not isinstance(h, torch.Tensor) or h.dim() > 2 or h.shape[-1] != out:
            got = f"shape {tuple(h.shape)}" if isinstance(h, torch.Tensor) else repr(h)
            raise ValueError(f"{inline(who)} expects a state of shape (1, {out}) or (N, {out}), "
                             f"but got {got}")
        rows = h.shape[0] if h.dim() == 2 else 1
        if rows not in (1, n):
            raise ValueError(f"{inline(who)} holds a state for a batch of {rows} but got a batch of "
                             f"{n}; call reset_(model) when the batch size changes")
        return h.expand(n, out)

    def _inline(self):
        in_, out = self.Wi.shape[1], self.Wh.shape[1]
        return f"{type(self).__name__}({in_}, {out})"


def _pair(name, in_, out):
    """(in, out) from ``Cell(in, out)`` or ``Cell((in, out))`` (Flux's ``in => out``)."""
    if isinstance(in_, tuple) and out is None:
        if len(in_) != 2:
            raise ValueError(f"{name} expects a pair (in, out), but got {in_!r}")
        in_, out = in_
    ok = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (in_, out))
    if not ok:
        raise TypeError(f"{name} expects sizes {name}(in, out) with non-negative integers, "
                        f"but got in={in_!r}, out={out!r}")
    return in_, out


def _none(name, **extra):
    """In the sizes form, the struct form's array arguments must be absent."""
    given = [k for k, v in extra.items() if v is not None]
    if given:
        raise TypeError(f"{name}(in, out) got extra arguments {given}; build it from sizes, "
                        f"{name}(in, out), or from arrays, {name}(Wi, Wh, b, ..., state0)")


def _arrays(name, gates, *arrays):
    """Flux's struct form ``Cell(Wi, Wh, b, ..., state0)``: tensors of one float dtype (Wi's)."""
    ts = [as_tensor(v) for v in arrays[:-1]]
    dtype = ts[0].dtype if ts[0].is_floating_point() else torch.float32
    s0 = arrays[-1]
    ts = [t.to(dtype) for t in ts]
    ts.append(tuple(as_tensor(v).to(dtype) for v in s0) if isinstance(s0, tuple)
              else as_tensor(s0).to(dtype))
    Wi, Wh = ts[0], ts[1]
    if Wi.dim() != 2 or Wh.dim() != 2 or Wi.shape[0] != gates * Wh.shape[1]:
        raise ValueError(f"{name} expects Wi of shape ({gates}*out, in) and Wh with out columns, "
                         f"but got Wi {tuple(Wi.shape)} and Wh {tuple(Wh.shape)}")
    return ts


@functor
class RNNCell(_Cell):
    """The vanilla recurrent cell ``h' = σ(Wi x + Wh h + b)`` (``Flux.RNNCell``).

    ``RNNCell(in, out, σ=tanh)`` or ``RNNCell((in, out), σ)``; keywords ``init``
    (``glorot_uniform``), ``initb`` (``zeros32``), ``init_state`` (``zeros32``). Flux's struct
    form ``RNNCell(σ, Wi, Wh, b, state0)`` builds one from arrays. Use :func:`RNN` for the
    stateful layer.

    >>> c = RNNCell(3, 5)
    >>> c
    RNNCell(3, 5, tanh)  # 50 parameters
    >>> h, y = c(c.state0, torch.rand(3))
    >>> tuple(h.shape), tuple(y.shape)
    ((1, 5), (5,))
    """

    def __init__(self, in_, out=None, σ=tanh, b=None, state0=None, *, init=glorot_uniform,
                 initb=zeros32, init_state=zeros32, **kw):
        if "sigma" in kw:
            σ = kw.pop("sigma")
        if kw:
            raise TypeError(f"RNNCell got unexpected keyword arguments {sorted(kw)}; "
                            "it takes init=, initb= and init_state=")
        if callable(in_) and not isinstance(in_, (int, tuple)):   # RNNCell(σ, Wi, Wh, b, state0)
            σ, (Wi, Wh, b, state0) = in_, _arrays("RNNCell", 1, out, σ, b, state0)
        else:
            if isinstance(in_, tuple) and out is not None and not isinstance(out, int):
                σ, out = out, None
            in_, out = _pair("RNNCell", in_, out)
            _none("RNNCell", b=b, state0=state0)
            Wi, Wh, b, state0 = init(out, in_), init(out, out), initb(out), init_state(1, out)
        if not callable(σ):
            raise TypeError(f"RNNCell expects an activation function, but got {σ!r}")
        self.σ, self.Wi, self.Wh, self.b, self.state0 = σ, Wi, Wh, b, state0

    def _step(self, h, gx):
        z = torch.addmm(gx, h, self.Wh.t())
        σ = self.σ
        if σ is tanh:
            return torch.tanh(z)
        return z if σ is identity else σ(z)

    def _kind(self):
        σ = self.σ
        return "tanh" if σ is tanh or σ is torch.tanh else "relu" if σ is relu or σ is torch.relu else None

    def _fused_step(self, h, x):
        kind = self._kind()
        if kind is None:
            return None
        f = torch.rnn_tanh_cell if kind == "tanh" else torch.rnn_relu_cell
        return f(x, h, self.Wi, self.Wh, self.b, None)

    def _fused_seq(self, h, x):
        kind = self._kind()
        if kind is None:
            return None
        f = torch.rnn_tanh if kind == "tanh" else torch.rnn_relu
        ys, hT = f(x, h.unsqueeze(0), _weights(self), True, 1, 0.0, True, False, False)
        return hT[0], ys

    def _inline(self):
        return f"RNNCell({self.Wi.shape[1]}, {self.Wh.shape[1]}, {fn_name(self.σ)})"


@functor
class LSTMCell(_Cell):
    """Long short-term memory cell (``Flux.LSTMCell``); the state is a pair ``(h, c)``.

    ``g = Wi x + Wh h + b`` split into input, forget, cell, output gates (rows of ``Wi``,
    in that order, as torch's ``i, f, g, o``); ``c' = σ(f) c + σ(i) tanh(g)``,
    ``h' = σ(o) tanh(c')``. The forget-gate bias starts at 1, as in Flux. Keywords
    ``init``, ``initb``, ``init_state``; struct form ``LSTMCell(Wi, Wh, b, (h0, c0))``.

    >>> c = LSTMCell(3, 5)
    >>> c
    LSTMCell(3, 5)  # 190 parameters
    >>> c.b.reshape(4, 5)[:, 0]
    tensor([0., 1., 0., 0.])
    >>> (h, cc), y = c(c.state0, torch.rand(10, 3))
    >>> tuple(h.shape), tuple(y.shape)
    ((10, 5), (10, 5))
    """

    def __init__(self, in_, out=None, b=None, state0=None, *, init=glorot_uniform, initb=zeros32,
                 init_state=zeros32):
        if isinstance(in_, torch.Tensor) or hasattr(in_, "__array__"):    # LSTMCell(Wi, Wh, b, state0)
            Wi, Wh, b, state0 = _arrays("LSTMCell", 4, in_, out, b, state0)
        else:
            in_, out = _pair("LSTMCell", in_, out)
            _none("LSTMCell", b=b, state0=state0)
            Wi, Wh, b = init(out * 4, in_), init(out * 4, out), initb(out * 4)
            state0 = (init_state(1, out), init_state(1, out))
            b[out:2 * out] = 1            # Flux: cell.b[gate(out, 2)] .= 1
        self.Wi, self.Wh, self.b, self.state0 = Wi, Wh, b, state0

    def _step(self, state, gx):
        h, c = state
        g = torch.addmm(gx, h, self.Wh.t())
        i, f, cc, o = g.chunk(4, -1)
        c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(cc)
        return torch.sigmoid(o) * torch.tanh(c2), c2

    def _fused_step(self, h, x):      # torch's gate order is Flux's: i, f, g, o
        return torch.lstm_cell(x, h, self.Wi, self.Wh, self.b, None)

    def _fused_seq(self, h, x):
        ys, hT, cT = torch.lstm(x, (h[0].unsqueeze(0), h[1].unsqueeze(0)), _weights(self),
                                True, 1, 0.0, True, False, False)
        return (hT[0], cT[0]), ys


@functor
class GRUCell(_Cell):
    """Gated recurrent unit cell, v1 of Cho et al. (``Flux.GRUCell``); torch's ``GRUCell`` twin.

    Rows of ``Wi``/``Wh``/``b``: reset ``r``, update ``z``, candidate. ``r, z = σ(Wi x + Wh h + b)``,
    ``h̃ = tanh(Wi_n x + r ⊙ (Wh_n h) + b_n)``, ``h' = (1 - z) ⊙ h̃ + z ⊙ h``. Keywords
    ``init``, ``initb``, ``init_state``; struct form ``GRUCell(Wi, Wh, b, state0)``.

    >>> c = GRUCell(3, 5)
    >>> c
    GRUCell(3, 5)  # 140 parameters
    >>> tuple(c(c.state0, torch.rand(3))[1].shape)
    (5,)
    """

    def __init__(self, in_, out=None, b=None, state0=None, *, init=glorot_uniform, initb=zeros32,
                 init_state=zeros32):
        if isinstance(in_, torch.Tensor) or hasattr(in_, "__array__"):
            Wi, Wh, b, state0 = _arrays("GRUCell", 3, in_, out, b, state0)
        else:
            in_, out = _pair("GRUCell", in_, out)
            _none("GRUCell", b=b, state0=state0)
            Wi, Wh, b = init(out * 3, in_), init(out * 3, out), initb(out * 3)
            state0 = init_state(1, out)
        self.Wi, self.Wh, self.b, self.state0 = Wi, Wh, b, state0

    def _step(self, h, gx):
        o = h.shape[-1]
        gh = F.linear(h, self.Wh)
        r, z = torch.sigmoid(gx[:, :2 * o] + gh[:, :2 * o]).chunk(2, -1)
        h̃ = torch.tanh(torch.addcmul(gx[:, 2 * o:], r, gh[:, 2 * o:]))
        return torch.lerp(h̃, h, z)

    def _fused_step(self, h, x):      # torch's GRU with b_hh = 0 is Flux's v1 formula
        return torch.gru_cell(x, h, self.Wi, self.Wh, self.b, None)

    def _fused_seq(self, h, x):
        ys, hT = torch.gru(x, h.unsqueeze(0), _weights(self), True, 1, 0.0, True, False, False)
        return hT[0], ys


@functor
class GRUv3Cell(_Cell):
    """Gated recurrent unit cell, v3 of Cho et al. (``Flux.GRUv3Cell``): the reset gate
    acts before the candidate's matrix product, which has its own matrix ``Wh_h̃`` (also
    readable as ``Wh_h``): ``h̃ = tanh(Wi_n x + Wh_h̃ (r ⊙ h) + b_n)``. ``Wh`` holds only the
    reset and update rows ``(2*out, out)``. No ``torch.nn`` twin.

    >>> c = GRUv3Cell(3, 5)
    >>> c
    GRUv3Cell(3, 5)  # 140 parameters
    >>> tuple(c.Wh.shape), tuple(c.Wh_h.shape)
    ((10, 5), (5, 5))
    """

    def __init__(self, in_, out=None, b=None, Wh_h̃=None, state0=None, *, init=glorot_uniform,
                 initb=zeros32, init_state=zeros32):
        if isinstance(in_, torch.Tensor) or hasattr(in_, "__array__"):
            Wi, Wh, b, Wh_h̃, state0 = _arrays("GRUv3Cell", 3, in_, out, b, Wh_h̃, state0)
        else:
            in_, out = _pair("GRUv3Cell", in_, out)
            _none("GRUv3Cell", b=b, Wh_h̃=Wh_h̃, state0=state0)
            Wi, Wh, b = init(out * 3, in_), init(out * 2, out), initb(out * 3)
            Wh_h̃, state0 = init(out, out), init_state(1, out)
        self.Wi, self.Wh, self.b, self.Wh_h̃, self.state0 = Wi, Wh, b, Wh_h̃, state0

    @property
    def Wh_h(self):
        """ASCII name of the field ``Wh_h̃``."""
        return self.Wh_h̃

    def _step(self, h, gx):
        o = h.shape[-1]
        r, z = torch.sigmoid(torch.addmm(gx[:, :2 * o], h, self.Wh.t())).chunk(2, -1)
        h̃ = torch.tanh(torch.addmm(gx[:, 2 * o:], r * h, self.Wh_h̃.t()))
        return torch.lerp(h̃, h, z)


def _weights(cell):
    """torch's flat RNN parameters for one layer: Flux's single bias is torch's b_ih, b_hh = 0."""
    b = cell.b
    return [cell.Wi, cell.Wh, b, b.new_zeros(b.shape)]
