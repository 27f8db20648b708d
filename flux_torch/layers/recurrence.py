"""Flux v0.16's sequence layers: ``RNN``, ``LSTM``, ``GRU``, ``GRUv3`` and ``Recurrence``.

Each runs its cell (``recurrent_cells.py``) over a whole sequence with an explicit state and
keeps no state between calls: ``m(x)`` starts from ``initialstates(m)``, ``m(x, state)`` from
``state``. ``x`` is ``(T, in)`` or ``(N, T, in)``: Flux's ``in × len`` and ``in × len × batch``
reversed, batch first and time second (torch's ``batch_first=True``). The output is every step's
``y``, ``(T, out)`` or ``(N, T, out)``; with ``return_state=True`` (Flux v0.16.1) the call returns
``(ys, last state)``. ``reset_`` is Flux v0.16's deprecated no-op. (``flux_torch.v014`` keeps
v0.14's stateful ``Recur`` layers, time first: ``recur.py``.)
"""
import warnings

import torch

from ..devices import as_tensor
from ..functors import functor, modules
from .._show import Showable, inline
from ..activation import tanh
from .cells import _Cell as _CellV014
from .recur import Recur, reset_ as reset_v014
from ._step_cell import _StepCell
from .recurrent_cells import GRUCell, GRUv3Cell, LSTMCell, RNNCell, initialstates
from .._types import Model

__all__ = ["Recurrence", "RNN", "LSTM", "GRU", "GRUv3", "reset_"]


class _Sequence(Showable):
    """What the sequence layers share: ``m(x, state=None)`` over the time dim (-2)."""

    __slots__ = ()

    def __call__(self, x, state=None):
        cell = self.cell
        if isinstance(cell, _StepCell):
            x = cell._input(x, self, 3)
            state = cell.initialstates() if state is None else cell._state(state, self)
            ys, state = cell._scan(x, state, self)
        else:
            ys, state = _loop(self, cell, x, initialstates(cell) if state is None else state)
        return (ys, state) if self.return_state else ys

    def initialstates(self):
        """The cell's :func:`initialstates`."""
        return initialstates(self.cell)


def _loop(m, cell, x, state):
    """Any cell ``y, state = cell(x_t, state)`` over dim -2 of ``x``; the ys stacked on dim -2."""
    x = as_tensor(x)
    if x.dim() < 2 or x.shape[-2] == 0:
        raise ValueError(f"{inline(m)} expects a sequence x of shape (T, in) or (N, T, in) with "
                         f"T >= 1 (time is dim -2), but got a tensor of shape {tuple(x.shape)}")
    ys = []
    for xt in x.unbind(-2):
        y, state = cell(xt, state)
        ys.append(y)
    return torch.stack(ys, dim=-2 if ys[0].dim() else 0), state


def _return_state(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} expects return_state=True or False, but got {value!r}")
    return value


@functor("cell")
class Recurrence(_Sequence):
    """Run any recurrent cell over a whole sequence (``Flux.Recurrence``, v0.16).

    ``Recurrence(cell, return_state=False)``: ``cell(x_t, state)`` returns ``(y_t, state)``,
    and the cell has an ``initialstates()`` method (or pass the state: ``m(x, state)``).
    ``m(x)`` steps over the time dim of ``(T, in)`` or ``(N, T, in)`` and stacks the ``y_t``
    into ``(T, out)`` or ``(N, T, out)``; ``Recurrence(LSTMCell(2, 3))`` is ``LSTM(2, 3)``.

    >>> rnn = Recurrence(RNNCell(2, 3))
    >>> rnn
    Recurrence(
      RNNCell(2, 3, tanh),                  # 18 parameters
    )                   # Total: 3 arrays, 18 parameters, 72 bytes.
    >>> rnn(torch.rand(4, 5, 2)).shape      # (batch, len, in) -> (batch, len, out)
    torch.Size([4, 5, 3])
    """

    def __init__(self, cell, *, return_state=False):
        if not callable(cell):
            raise TypeError(f"Recurrence expects a cell, a callable y, state = cell(x, state), "
                            f"but got {cell!r}")
        if isinstance(cell, _CellV014):
            raise TypeError(f"Recurrence expects a Flux v0.16 cell, y, state = cell(x, state), but got "
                            f"flux_torch.v014's {inline(cell)}, called h, y = cell(h, x); use "
                            f"flux_torch.{type(cell).__name__}, or Recur(cell) in flux_torch.v014")
        self.cell = cell
        self.return_state = _return_state("Recurrence", return_state)

    def _show_children(self):
        return [(None, self.cell)] + ([("return_state", True)] if self.return_state else [])

    def _inline(self):
        return f"Recurrence({inline(self.cell)}" + (", return_state=True)" if self.return_state else ")")


class _Layer(_Sequence):
    """``RNN``, ``LSTM``, ... : one cell class, built from sizes or given, printed on one line."""

    __slots__ = ()
    _cell_type = None

    def __init__(self, in_, out=None, *args, return_state=False, **cell_kw):
        name, kind = type(self).__name__, self._cell_type
        if isinstance(in_, _StepCell):
            if not isinstance(in_, kind) or out is not None or args or cell_kw:
                raise TypeError(f"{name}(cell) expects one {kind.__name__} and return_state= only, "
                                f"but got {inline(in_)}" + (" with more arguments" if isinstance(
                                    in_, kind) else ""))
            cell = in_
        else:
            cell = kind(in_, out, *args, **cell_kw)
        self.cell = cell
        self.return_state = _return_state(name, return_state)

    def _inline(self):
        rs = ", return_state=True" if self.return_state else ""
        return f"{type(self).__name__}({self.cell._args()}{rs})"


@functor("cell")
class RNN(_Layer):
    """The vanilla recurrent layer over a whole sequence (``Flux.RNN``, v0.16): ``RNNCell`` at each step.

    ``RNN(in, out, σ=tanh, return_state=False)`` or ``RNN((in, out), σ)`` (Flux's ``in => out``),
    with :class:`RNNCell`'s keywords, or ``RNN(cell)``. ``m(x, h)`` with ``x`` ``(T, in)`` or
    ``(N, T, in)`` and ``h`` ``(out,)`` or ``(N, out)`` returns every ``h_t``, ``(N, T, out)``;
    ``m(x)`` starts from zeros. No state is kept between calls.

    >>> rnn = RNN(4, 6)
    >>> rnn
    RNN(4, 6, tanh)  # 66 parameters
    >>> x = torch.rand(5, 3, 4)                  # Flux: rand(Float32, 4, 3, 5), in x len x batch
    >>> rnn(x, torch.zeros(5, 6)).shape          # (batch, len, out)
    torch.Size([5, 3, 6])
    >>> ys, h = RNN(4, 6, return_state=True)(x)
    >>> tuple(h.shape)
    (5, 6)
    """

    _cell_type = RNNCell

    def __init__(self, in_, out=None, σ=tanh, *, return_state=False, **cell_kw):
        if isinstance(in_, tuple) and out is not None and not isinstance(out, int):
            in_, out, σ = in_, None, out                       # RNN((in, out), σ)
        args = () if isinstance(in_, _StepCell) else (σ,)
        super().__init__(in_, out, *args, return_state=return_state, **cell_kw)


@functor("cell")
class LSTM(_Layer):
    """Long short-term memory over a whole sequence (``Flux.LSTM``, v0.16): ``LSTMCell`` at each step.

    ``LSTM(in, out, return_state=False)`` with :class:`LSTMCell`'s keywords, or ``LSTM(cell)``.
    ``m(x, (h, c))`` returns every ``h_t``, ``(N, T, out)``; with ``return_state=True`` also the
    last ``(h, c)``. ``m(x)`` starts from zeros.

    >>> lstm = LSTM(2, 3)
    >>> lstm
    LSTM(2, 3)  # 72 parameters
    >>> lstm(torch.rand(4, 2)).shape             # no batch: (len, in) -> (len, out)
    torch.Size([4, 3])
    """

    _cell_type = LSTMCell


@functor("cell")
class GRU(_Layer):
    """Gated recurrent unit (v1) over a whole sequence (``Flux.GRU``, v0.16): ``GRUCell`` at each
    step. Equal to torch's ``nn.GRU(batch_first=True)`` with ``bias_hh = 0``.

    >>> GRU(2, 3)
    GRU(2, 3)  # 54 parameters
    """

    _cell_type = GRUCell


@functor("cell")
class GRUv3(_Layer):
    """Gated recurrent unit (v3) over a whole sequence (``Flux.GRUv3``, v0.16): ``GRUv3Cell`` at
    each step. No ``torch.nn`` twin.

    >>> GRUv3(2, 3)
    GRUv3(2, 3)  # 63 parameters
    """

    _cell_type = GRUv3Cell


def reset_(m: Model) -> None:
    """``Flux.reset!`` in Flux v0.16: deprecated, and a no-op, since v0.16's layers keep no state.
    It warns as Flux does (a ``DeprecationWarning``) and returns ``m``. Should ``m`` hold
    v0.14's stateful ``Recur`` layers (``flux_torch.v014``, or ``from_torch`` of an ``nn.LSTM``),
    it resets them, silently, as ``flux_torch.v014.reset_`` does.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     m = reset_(LSTM(2, 3))
    >>> w[0].category.__name__, str(w[0].message)[:30]
    ('DeprecationWarning', 'reset_(m) is deprecated. You c')
    """
    if any(isinstance(x, Recur) for x in modules(m)):
        return reset_v014(m)
    warnings.warn("reset_(m) is deprecated. You can remove this call as it is no more needed "
                  "(Flux v0.15+ recurrent layers keep no state; v0.14's reset! is "
                  "flux_torch.v014.reset_).", DeprecationWarning, stacklevel=2)
    return m
