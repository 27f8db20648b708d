"""``Recur``, the stateful wrapper of a recurrent cell, and ``reset_`` (``Flux.reset!``).

``Recur(cell)`` keeps the cell's hidden state between calls, as Flux 0.14 does.
Each call is one time step ``(in,)`` or ``(N, in)``, or a whole sequence
``(T, N, in)`` giving ``(T, N, out)``: Flux's ``in × N × T`` array with every shape
reversed, torch's ``nn.LSTM`` layout (``batch_first=False``).

Gradients run through time within one gradient call (BPTT). As in Flux, where
Zygote stores plain arrays, the kept state holds no graph once a gradient call's
backward pass has run: the next call starts from the state's values (truncated
BPTT). Outside flux_torch's ``gradient``, plain torch autograd keeps its usual rules.
"""
import weakref

import torch

from ..functors import functor, modules
from ..modes import istraining
from .._show import Showable, inline
from .cells import _Cell, GRUCell, GRUv3Cell, LSTMCell, RNNCell

__all__ = ["Recur", "reset_", "RNN", "LSTM", "GRU", "GRUv3"]

_UNSET = object()


@functor("cell", "state")
class Recur(Showable):
    """Make a cell ``h, y = cell(h, x)`` stateful: ``m(x)`` returns ``y`` and keeps ``h``
    in ``m.state`` (``Flux.Recur``). Only the cell is trainable; the state is not, and
    ``loadmodel_`` leaves it alone (a trained model's state has its last batch's size).

    ``Recur(cell)`` starts from ``cell.state0``; ``Recur(cell, state)`` from ``state``
    (needed for a plain function as cell). :func:`reset_` goes back to the start.
    A tensor ``(T, N, in)`` is a sequence: the cell steps over its first dimension.

    >>> def accum(h, x):
    ...     return h + x, x
    >>> rnn = Recur(accum, 0)
    >>> rnn(2), rnn(3), rnn.state
    (2, 3, 5)
    >>> m = Recur(LSTMCell(3, 5))
    >>> m
    Recur(
      LSTMCell(3, 5),                       # 190 parameters
    )         # Total: 5 trainable arrays, 190 parameters,
              # plus 2 non-trainable, 10 parameters, summarysize 800 bytes.
    >>> tuple(m(torch.rand(7, 4, 3)).shape)       # a sequence: (T, N, in) -> (T, N, out)
    (7, 4, 5)
    >>> tuple(m.state[0].shape)
    (4, 5)
    """

    def __init__(self, cell, state=_UNSET):
        if not callable(cell):
            raise TypeError(f"Recur expects a cell, a callable h, y = cell(h, x), but got {cell!r}")
        if state is _UNSET and not hasattr(cell, "state0"):
            raise TypeError(f"Recur({inline(cell)}) needs an initial state: the cell has no "
                            "state0, so pass one as Recur(cell, state)")
        object.__setattr__(self, "cell", cell)
        object.__setattr__(self, "_init", None if state is _UNSET else state)
        _reset(self)
        if state is not _UNSET:
            self.state = state

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name == "state":      # a state set by hand is used as it is
            object.__setattr__(self, "_fresh", False)
            object.__setattr__(self, "_graph", False)

    _transient_fields = ("state", "_fresh", "_graph")     # not loaded by loadmodel_

    def trainable(self):
        return {"cell": self.cell}

    def __call__(self, x):
        cell = self.cell
        if not isinstance(cell, _Cell):                     # any function h, y = cell(h, x)
            if isinstance(x, torch.Tensor) and x.dim() == 3:
                return torch.stack([self(xt) for xt in x])
            h, y = cell(self._current(), x)
            self._store(h, y)
            return y
        x = cell._input(x, self, 3)
        if x.dim() < 3:
            h, y = cell._forward(self._current(), x, self)
        else:
            h, y = cell._sequence(self._current(), x, self)
        self._store(h, y)
        return y

    def _current(self):
        """The state the next step starts from."""
        if self._fresh:
            return self.cell.state0
        if self._graph and not istraining():           # a gradient call ended: keep values only
            _cut(self)
        return self.state

    def _store(self, h, y):
        object.__setattr__(self, "state", h)
        object.__setattr__(self, "_fresh", False)
        if not self._graph and istraining():
            self._watch(h, y)

    def _watch(self, *objs):
        """Inside a gradient call, hook the first states (and outputs) of a chain of
        states: when that call's backward pass reaches them, the kept state is detached."""
        tensors = [t for o in objs for t in (o if isinstance(o, tuple) else (o,))
                   if isinstance(t, torch.Tensor) and t.requires_grad]
        if tensors:
            ref = weakref.ref(self)
            for t in tensors:
                t.register_hook(lambda g, ref=ref: _backward_ran(ref))
            object.__setattr__(self, "_graph", True)

    def _show_children(self):
        return [(None, self.cell)]

    def _show_pre_post(self):
        return "Recur(", ")"

    def _inline(self):
        return f"Recur({inline(self.cell)})"


def _backward_ran(ref):
    # A backward pass that builds no graph (top level, not nested) frees this graph.
    if not torch.is_grad_enabled():
        m = ref()
        if m is not None and m._graph:
            _cut(m)


def _cut(m):
    s = m.state
    s = tuple(_detach(t) for t in s) if isinstance(s, tuple) else _detach(s)
    object.__setattr__(m, "state", s)
    object.__setattr__(m, "_graph", False)


def _detach(t):
    return t.detach() if isinstance(t, torch.Tensor) else t


def _reset(m):
    s0 = getattr(m.cell, "state0", _UNSET)
    fresh = s0 is not _UNSET
    if fresh:       # a copy: the kept state is not a trainable array, state0 is
        state = tuple(_copy(t) for t in s0) if isinstance(s0, tuple) else _copy(s0)
    else:
        state = m._init
    object.__setattr__(m, "state", state)
    object.__setattr__(m, "_fresh", fresh)
    object.__setattr__(m, "_graph", False)


def _copy(t):
    return t.detach().clone() if isinstance(t, torch.Tensor) else t


def reset_(m):
    """Put every :class:`Recur` inside ``m`` back to its initial state (``Flux.reset!``):
    ``cell.state0``, or the state given to ``Recur(cell, state)``. Returns ``m``.

    >>> m = RNN(2, 3)
    >>> y = m(torch.ones(4, 2))
    >>> tuple(m.state.shape)
    (4, 3)
    >>> tuple(reset_(m).state.shape)
    (1, 3)
    """
    for x in modules(m):
        if isinstance(x, Recur):
            _reset(x)
    return m


def RNN(*args, **kw):
    """``Recur(RNNCell(...))``: the stateful vanilla RNN layer (``Flux.RNN``).

    ``RNN(in, out, σ=tanh)`` or ``RNN((in, out), σ)`` (Flux's ``RNN(in => out, σ)``). Input:
    one step ``(in,)`` or ``(N, in)``, or a sequence ``(T, N, in)``. Call ``reset_(m)`` between
    sequences and whenever the batch size changes.

    >>> r = RNN(3, 5)
    >>> r
    Recur(
      RNNCell(3, 5, tanh),                  # 50 parameters
    )         # Total: 4 trainable arrays, 50 parameters,
              # plus 1 non-trainable, 5 parameters, summarysize 220 bytes.
    >>> r(torch.rand(3)).shape
    torch.Size([5])
    >>> r(torch.rand(10, 3)).shape      # a batch of 10: the state now has 10 rows
    torch.Size([10, 5])
    >>> r(torch.rand(3))                # Flux would silently give a vector of 50 here
    Traceback (most recent call last):
    ValueError: Recur(RNNCell(3, 5, tanh)) holds a state for a batch of 10 but got a batch of 1; ...
    """
    return Recur(RNNCell(*args, **kw))


def LSTM(*args, **kw):
    """``Recur(LSTMCell(...))``: the stateful LSTM layer (``Flux.LSTM``), ``LSTM(in, out)``.

    >>> m = LSTM(3, 5)
    >>> m(torch.rand(10, 3)).shape      # batch of 10: state0 is broadcast
    torch.Size([10, 5])
    >>> m(torch.rand(2, 10, 3)).shape   # a sequence (T, N, in)
    torch.Size([2, 10, 5])
    """
    return Recur(LSTMCell(*args, **kw))


def GRU(*args, **kw):
    """``Recur(GRUCell(...))``: the stateful GRU layer, v1 of Cho et al. (``Flux.GRU``).

    >>> GRU(3, 5)
    Recur(
      GRUCell(3, 5),                        # 140 parameters
    )         # Total: 4 trainable arrays, 140 parameters,
              # plus 1 non-trainable, 5 parameters, summarysize 580 bytes.
    """
    return Recur(GRUCell(*args, **kw))


def GRUv3(*args, **kw):
    """``Recur(GRUv3Cell(...))``: the stateful GRU layer, v3 of Cho et al. (``Flux.GRUv3``).

    >>> GRUv3(3, 5)
    Recur(
      GRUv3Cell(3, 5),                      # 140 parameters
    )         # Total: 5 trainable arrays, 140 parameters,
              # plus 1 non-trainable, 5 parameters, summarysize 580 bytes.
    """
    return Recur(GRUv3Cell(*args, **kw))
