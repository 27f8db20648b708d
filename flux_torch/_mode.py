"""Train/test mode: automatic inside a gradient call, as in Flux.

Layers such as ``Dropout`` and ``BatchNorm`` ask :func:`istraining` (or, when a
user forced a mode, their own ``active`` field) whether to behave as in
training. ``gradient`` and friends mark the region they differentiate.
"""
from ._functor import modules

__all__ = ["istraining", "testmode_", "trainmode_"]

_depth = [0]   # how many gradient calls are running (a list: mutable from _grad)


def istraining():
    """True inside a ``gradient`` call (``NNlib.within_gradient``).

    >>> istraining()
    False
    """
    return _depth[0] > 0


def isactive(layer):
    """Whether ``layer`` (with an ``active`` field) should act as in training."""
    active = layer.active
    return _depth[0] > 0 if active is None else active


def testmode_(model, mode=True):
    """Put every layer with an ``active`` field in test mode (``Flux.testmode!``).

    ``mode=False`` forces training mode instead and ``mode="auto"`` returns to the
    automatic behaviour. Returns ``model``.

    >>> class Drop:
    ...     active = None
    >>> d = testmode_(Drop())
    >>> d.active
    False
    """
    return _set_active(model, _active_for(mode, "testmode_", invert=True))


def trainmode_(model, mode=True):
    """Force training behaviour (``Flux.trainmode!``); ``mode="auto"`` restores automatic.

    >>> class Drop:
    ...     active = None
    >>> trainmode_(Drop()).active
    True
    """
    return _set_active(model, _active_for(mode, "trainmode_", invert=False))


def _active_for(mode, name, invert):
    if mode in ("auto", None):
        return None
    if not isinstance(mode, bool):
        raise ValueError(f"{name} expects mode True, False or 'auto', but got {mode!r}")
    return (not mode) if invert else mode


def _set_active(model, active):
    for m in modules(model) or [model]:
        if hasattr(m, "active"):
            m.active = active
    return model
