"""Runtime: flux_torch's tensors kept in Julia's layout, and values handed to Flux's layers.

flux_torch keeps ``Dense``, ``Bilinear`` and the recurrent cells' weights as Julia's
``(out, in)`` while data is reversed; scripts read them through a reversing view.

>>> import flux_torch
>>> from flux_torch.port import runtime as jl
>>> m = flux_torch.Dense(3, 2)
>>> tuple(jl.julia_layout(m, "weight").shape), jl.size(jl.julia_layout(m, "weight"))
((3, 2), (2, 3))
"""
from __future__ import annotations

import torch

from .rt_arrays import tensor

__all__ = ["julia_layout", "julia_init", "subtract_", "typed_array", "num", "one_based"]


def julia_layout(x, attr=None):
    """A tensor flux_torch keeps in Julia's ``(out, in)`` layout, seen reversed (a view)."""
    from .tables import LAYOUT_FIELDS
    if attr is not None:
        value = getattr(x, attr)
        owners = LAYOUT_FIELDS.get(attr, ())
        if type(x).__name__ not in owners or not isinstance(value, torch.Tensor):
            return value
        x = value
    if not isinstance(x, torch.Tensor):
        return x                              # Dense(in, out) with sizes held in variables
    return x.permute(*reversed(range(x.ndim))) if x.ndim > 1 else x


def julia_init(f, layer="Dense"):
    """Wrap a user's ``init`` so it receives Julia's dims and its array fits flux_torch."""
    def init(*dims, **kw):
        if layer in ("Dense", "Bilinear"):
            return julia_layout(tensor(f(*dims)))
        return tensor(f(*reversed(dims)))
    return init


def subtract_(x, dx):
    """Flux ≤ v0.13's ``update!(x, x̄)``: ``x .-= x̄`` in place."""
    with torch.no_grad():
        x -= dx
    return x


def typed_array(t, x):
    """``Float32[1 2; 3 4]``: the array with Julia's element type."""
    x = tensor(x)
    return x.to(t.dtype) if getattr(t, "dtype", None) is not None else x


def num(x):
    """A 0-d tensor as a Python number (layer sizes read out of an array)."""
    return x.item() if isinstance(x, torch.Tensor) and x.ndim == 0 else x


_ONE_BASED = {}


def _shift(x):
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return x - 1
    if isinstance(x, torch.Tensor) and not x.is_floating_point() and x.dtype != torch.bool:
        return x - 1
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, int) for v in x):
        return type(x)(v - 1 for v in x)
    return x                                 # one-hot or other input: unchanged


def one_based(layer):
    """An ``Embedding`` taking Julia's token ids (1 to n); flux_torch's count from 0.

    The layer keeps its class for flux_torch (a subclass of the same name), so ``params``,
    ``gpu`` and saving see it as before.

    >>> import flux_torch
    >>> e = one_based(flux_torch.Embedding(3, 2))
    >>> bool((e(1) == e.weight[0]).all()), type(e).__name__
    (True, 'Embedding')
    """
    cls = type(layer)
    sub = _ONE_BASED.get(cls)
    if sub is None:
        def __call__(self, x, *args, **kw):
            return cls.__call__(self, _shift(x), *args, **kw)
        sub = type(cls.__name__, (cls,), {"__call__": __call__, "__module__": cls.__module__,
                                          "__qualname__": cls.__qualname__})
        _ONE_BASED[cls] = sub
    layer.__class__ = sub
    return layer
