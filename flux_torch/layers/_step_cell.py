"""What Flux v0.16's recurrent cells share (``recurrent_cells.py``): input and state checks,
Julia's broadcasting of a state against a batch, one step, and a whole sequence (``_scan``,
which the sequence layers of ``recurrence.py`` call), with torch's fused kernels on the CPU.
"""
import torch
import torch.nn.functional as F

from ..devices import as_tensor, match_input
from .._show import Showable, inline
from ..init import create_bias
from .cells import _FUSED

_KERNEL_DTYPES = (torch.float32, torch.float64)


class _StepCell(Showable):
    """What the four cells share: checks, broadcasting, one step and a whole sequence."""

    __slots__ = ()
    _gates = 1
    _bias_name = "bias"

    @property
    def _b(self):
        return getattr(self, self._bias_name)

    def __call__(self, x, state=None):
        x = self._input(x, self, 2)
        state = self.initialstates() if state is None else self._state(state, self)
        n = self._batch(x.shape[0] if x.dim() == 2 else None, state, self)
        if self._fusable(x):
            out = self._fused_step(x, state, n)
            if out is not None:
                return out
        return self._step(state, F.linear(x, self.Wi, self._b))

    def initialstates(self):
        """Zeros ``(out,)`` with the parameters' dtype and device."""
        return self.Wh.new_zeros(self.Wh.shape[1])

    # ---------------------------------------------------------------- a whole sequence

    def _scan(self, x, state, who):
        """All steps of a checked ``x`` ``(T, in)`` or ``(N, T, in)`` from a checked state:
        ``(ys, final state)``, ys ``(T, out)`` or ``(N, T, out)`` (time is dim -2)."""
        T = x.shape[-2]
        n = self._batch(x.shape[0] if x.dim() == 3 else None, state, who)
        if T and self._fusable(x):
            out = self._fused_scan(x, state, n)
            if out is not None:
                return out
        gx = F.linear(x, self.Wi, self._b)            # every input product in one matmul
        ys = []
        for t in range(T):
            y, state = self._step(state, gx[..., t, :])
            ys.append(y)
        if ys:
            return torch.stack(ys, dim=-2), state
        return gx.new_zeros(((n,) if n is not None else ()) + (0, self.Wh.shape[1])), state

    def _fused_scan(self, x, state, n):
        kernel = self._seq_kernel()
        if kernel is None:
            return None
        rows = 1 if n is None else n
        xs = (x.unsqueeze(0) if x.dim() == 2 else x).expand(rows, -1, -1)
        hx = tuple(_rows(s, n).unsqueeze(0) for s in _tensors(state))
        weights = [self.Wi, self.Wh] if self._b is None else [self.Wi, self.Wh, self._b,
                                                              self._b.new_zeros(self._b.shape)]
        out = kernel(xs, hx if len(hx) == 2 else hx[0], weights, self._b is not None,
                     1, 0.0, False, False, True)     # one layer, no dropout, one way, batch first
        ys, last = out[0], tuple(h[0] for h in out[1:])
        if n is None:
            ys, last = ys[0], tuple(h[0] for h in last)
        return ys, (last if len(last) == 2 else last[0])

    def _fused_step(self, x, state, n):
        return None

    def _seq_kernel(self):
        return None

    def _fusable(self, x):
        return _FUSED[0] and x.is_cpu and x.dtype in _KERNEL_DTYPES

    # ---------------------------------------------------------------- checks

    def _input(self, x, who, max_dim):
        """``x`` converted for the cell and checked: ``max_dim`` 2 for a step, 3 for a sequence."""
        w = self.Wi
        if type(x) is not torch.Tensor or x.dtype != w.dtype or x.device != w.device:
            x = match_input(who, x, w)
        n, shape = w.shape[1], tuple(x.shape)
        lo = max_dim - 1
        if lo <= x.dim() <= max_dim and shape[-1] == n:
            return x
        if max_dim == 2:
            forms = f"one time step x of shape ({n},) or (N, {n})"
        else:
            forms = f"a sequence x of shape (T, {n}) or (N, T, {n}) (batch first, time second)"
        msg = f"{inline(who)} expects {forms}, but got a tensor of shape {shape}"
        if max_dim == 2 and x.dim() == 3:
            msg += ("; a cell takes one time step: use the sequence layer (RNN, LSTM, GRU, GRUv3) "
                    "or Recurrence(cell) for a sequence")
        elif max_dim == 3 and x.dim() == 1 and shape[0] == n:
            msg += "; for one time step call the cell, layer.cell(x, state), or pass x[None]"
        elif x.dim() >= 2 and shape[0] == n:
            fix = "x.T" if x.dim() == 2 else f"x.permute({', '.join(map(str, range(x.dim() - 1, -1, -1)))})"
            msg += ("; flux_torch reverses Flux's shapes (batch first, features last): did you mean "
                    f"{fix}?")
        raise ValueError(msg)

    def _state(self, state, who):
        """The state converted to the parameters' dtype and checked: shapes (out,) or (N, out)."""
        out, pair = self.Wh.shape[1], self._gates == 4
        want = (f"a pair (h, c) of tensors of shape ({out},) or (N, {out})" if pair
                else f"a tensor of shape ({out},) or (N, {out})")
        if pair != isinstance(state, (tuple, list)) or (pair and len(state) != 2):
            got = (f"a {type(state).__name__} of {len(state)}" if isinstance(state, (tuple, list))
                   else f"a {type(state).__name__}")
            hint = ("; an LSTM's state is (h, c)" if pair else
                    "; a pair (h, c) is an LSTM's state" if isinstance(state, (tuple, list)) else "")
            raise ValueError(f"{inline(who)} expects a state that is {want}, but got {got}{hint}")
        parts = [match_input(who, s, self.Wh) for s in (state if pair else (state,))]
        for s in parts:
            if not 1 <= s.dim() <= 2 or s.shape[-1] != out:
                raise ValueError(f"{inline(who)} expects a state that is {want}, but got a tensor of "
                                 f"shape {tuple(s.shape)}")
        return tuple(parts) if pair else parts[0]

    def _batch(self, nx, state, who):
        """The batch size x and state broadcast to (None: no batch), or an error naming both."""
        sizes = [nx] + [s.shape[0] for s in _tensors(state) if s.dim() == 2]
        sizes = [s for s in sizes if s is not None]
        if not sizes:
            return None
        n = max(sizes)
        if any(s not in (1, n) for s in sizes):
            rows = " and ".join(sorted({str(s.shape[0]) for s in _tensors(state) if s.dim() == 2}))
            raise ValueError(f"{inline(who)} got x with a batch of {nx} and a state with a batch of "
                             f"{rows}; they must agree (a state of shape (out,) serves any batch)")
        return n

    # ---------------------------------------------------------------- printing

    def _args(self):
        s = f"{self.Wi.shape[1]}, {self.Wh.shape[1]}"
        return s + (", bias=False" if self._b is None else "")

    def _inline(self):
        return f"{type(self).__name__}({self._args()})"


def _tensors(state):
    return state if isinstance(state, tuple) else (state,)


def _rows(t, n):
    """``t`` ``(k,)`` or ``(1 or n, k)`` as a matrix ``(n, k)`` (one row when ``n`` is None)."""
    return t.unsqueeze(0) if n is None else t.expand(n, t.shape[-1])


def _arrays(name, gates, Wi, Wh, bias, extra=None):
    """Flux's struct form ``Cell(Wi, Wh, bias...)``: tensors of one float dtype (Wi's)."""
    Wi, Wh = as_tensor(Wi), as_tensor(Wh)
    dtype = Wi.dtype if Wi.is_floating_point() else torch.float32
    Wi, Wh = Wi.to(dtype), Wh.to(dtype)
    if Wi.dim() != 2 or Wh.dim() != 2 or Wi.shape[0] != gates * Wh.shape[1] or Wh.shape[0] != Wi.shape[0]:
        raise ValueError(f"{name} expects Wi of shape ({gates}*out, in) and Wh of shape "
                         f"({gates}*out, out), but got Wi {tuple(Wi.shape)} and Wh {tuple(Wh.shape)}")
    extra = None if extra is None else as_tensor(extra).to(dtype)
    return Wi, Wh, create_bias(Wi, bias, Wi.shape[0]), extra


def _is_array(x):
    return isinstance(x, torch.Tensor) or hasattr(x, "__array__")


def _keywords(name, kw):
    if not kw:
        return
    old = sorted(set(kw) & {"init", "initb", "init_state"})
    hint = (f"; {old} are Flux v0.14's keywords (import flux_torch.v014 as Flux for v0.14's cells)"
            if old else "")
    raise TypeError(f"{name} got unexpected keyword arguments {sorted(kw)}; it takes init_kernel=, "
                    f"init_recurrent_kernel= and bias={hint}")
