"""Train/test mode: automatic inside a gradient call, as in Flux.

Layers such as ``Dropout`` and ``BatchNorm`` ask :func:`istraining` (or, when a
user forced a mode, their own ``active`` field) whether to behave as in
training. ``gradient`` and friends mark the region they differentiate with
:class:`differentiating`. The count of regions is per thread: a gradient call in one
thread never puts another thread's inference in training mode.
"""
import threading
from typing import Union

from .functors import AbstractWalk, execute, node_of
from ._types import T

__all__ = ["istraining", "testmode_", "trainmode_"]


class _PerThread(threading.local):
    depth = 0          # how many gradient calls are running in this thread


_local = _PerThread()


def depth():
    """How many gradient calls are running in this thread (0 outside any)."""
    return _local.depth


class differentiating:
    """``with differentiating() as nested:`` marks a gradient call; ``nested`` says whether
    another one was already running in this thread."""

    __slots__ = ()

    def __enter__(self):
        local = _local
        local.depth += 1
        return local.depth > 1

    def __exit__(self, *exc):
        _local.depth -= 1
        return False


def istraining() -> bool:
    """True inside a ``gradient`` call of this thread (``NNlib.within_gradient``).

    >>> istraining()
    False
    >>> gradient(lambda x: x * istraining(), 3.0)
    (1.0,)
    """
    return _local.depth > 0


def isactive(layer):
    """Whether ``layer`` (with an ``active`` field) should act as in training."""
    active = layer.active
    return _local.depth > 0 if active is None else active


def testmode_(model: T, mode: Union[bool, str] = True) -> T:
    """Put every layer with an ``active`` field in test mode (``Flux.testmode!``).

    ``mode=False`` forces training mode instead and ``mode="auto"`` returns to the
    automatic behaviour. A layer class with its own ``testmode_(self, mode)`` method has it
    called instead (and decides about what is inside it). Returns ``model``.

    >>> class Drop:
    ...     active = None
    >>> d = testmode_(Drop())
    >>> d.active
    False
    """
    _check_mode(mode, "testmode_")
    return _set_modes(model, "testmode_", mode, _active_for(mode, invert=True))


def trainmode_(model: T, mode: Union[bool, str] = True) -> T:
    """Force training behaviour (``Flux.trainmode!``); ``mode="auto"`` restores automatic.

    >>> class Drop:
    ...     active = None
    >>> trainmode_(Drop()).active
    True
    """
    _check_mode(mode, "trainmode_")
    return _set_modes(model, "trainmode_", mode, _active_for(mode, invert=False))


def _check_mode(mode, name):
    if mode not in ("auto", None) and not isinstance(mode, bool):
        raise ValueError(f"{name} expects mode True, False or 'auto', but got {mode!r}")


def _active_for(mode, invert):
    if mode in ("auto", None):
        return None
    return (not mode) if invert else mode


class _ModeWalk(AbstractWalk):
    """Sets ``active`` on every node that has one, or calls the node's own method ``name``."""

    __slots__ = ("name", "mode", "active", "seen")

    def __init__(self, name, mode, active):
        self.name, self.mode, self.active, self.seen = name, mode, active, set()

    def __call__(self, recurse, x):
        if id(x) in self.seen:
            return
        self.seen.add(id(x))
        own = getattr(type(x), self.name, None)
        if own is not None and callable(own):
            own(x, self.mode)
            return
        if hasattr(x, "active") and not isinstance(x, type):
            x.active = self.active
        node = node_of(type(x))
        if node is not None:
            for v in node.parts(x)[1]:
                recurse(v)


def _set_modes(model, name, mode, active):
    execute(_ModeWalk(name, mode, active), model)
    return model
