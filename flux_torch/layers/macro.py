"""Flux's ``@layer``: ``functor`` (the kernel's opt-in) with ``trainable=`` and Flux's printing.

>>> @layer
... class Pair:
...     def __init__(self, a, b):
...         self.a, self.b = a, b
...     def __call__(self, x):
...         return self.b(self.a(x))
>>> Pair(Dense(2, 3), Dense(3, 1))
Pair(
  Dense(2, 3),                          # 9 parameters
  Dense(3, 1),                          # 4 parameters
)                   # Total: 4 arrays, 13 parameters, 52 bytes.
"""
from typing import Any, Optional, Sequence

from .._show import set_show
from ..functors import functor

__all__ = ["layer"]

_SHOWS = {"expand": "expand", ":expand": "expand", "noexpand": "noexpand", ":noexpand": "noexpand",
          "ignore": "ignore", ":ignore": "ignore"}


def layer(cls: Any = None, *fields: str, trainable: Optional[Sequence[str]] = None,
          show: str = "expand") -> Any:
    """``Flux.@layer``: :func:`functor`, with ``trainable=`` naming the trainable fields, and Flux's
    printing. ``@layer`` (or ``@layer("expand")``, Flux's ``@layer :expand``) prints the layer as
    Flux prints ``Chain``, its trainable children one per line with their parameter counts;
    ``@layer("noexpand")`` prints it on one line with its count, as ``Dense``; ``@layer("ignore")``
    leaves printing alone. A class's own ``__repr__`` is kept.

    >>> @layer(trainable=("W",))
    ... class Scale2:
    ...     def __init__(self, W, shift):
    ...         self.W, self.shift = W, shift
    >>> s = Scale2(torch.ones(2), torch.zeros(2))
    >>> list(trainable(s))
    ['W']
    >>> @layer
    ... class Trio:
    ...     def __init__(self, a, b, c):
    ...         self.a, self.b, self.c = a, b, c
    >>> Trio(Dense(torch.tensor([[1.1, 2.2]]), torch.tensor([0.0]), tanh), Dense(1, 1, bias=False), Dropout(0.4))
    Trio(
      Dense(2, 1, tanh),                    # 3 parameters
      Dense(1, 1, bias=False),              # 1 parameters
      Dropout(0.4),
    )                   # Total: 3 arrays, 4 parameters, 16 bytes.
    >>> layer("noexpand", trainable=("a", "b"))(Trio)(Dense(2, 1), Dense(1, 1), Dropout(0.4))
    Trio(Dense(2, 1), Dense(1, 1), Dropout(0.4))  # 5 parameters
    """
    if isinstance(cls, str) and cls in _SHOWS:
        mode = _SHOWS[cls]
        return lambda c: layer(c, *fields, trainable=trainable, show=mode)
    if isinstance(cls, str) or cls is None:
        return lambda c: layer(c, *((cls,) if cls else ()) + fields, trainable=trainable, show=show)
    if show not in _SHOWS:
        raise ValueError(f"layer accepts show='expand', 'noexpand' or 'ignore' (Flux's :expand, "
                         f":noexpand, :ignore), but got {show!r}")
    out = functor(cls, *fields, trainable=trainable)
    if isinstance(cls, type):
        set_show(cls, _SHOWS[show])
    return out
