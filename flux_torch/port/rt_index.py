"""Runtime: Julia's indexing (1-based, dims reversed, dicts by key) for translated scripts.

>>> from flux_torch.port import runtime as jl
>>> x = jl.hvcat((1, 2, 3), (4, 5, 6))              # Julia's [1 2 3; 4 5 6]
>>> jl.getindex(x, 2, 1), jl.getindex(x, 1, jl.colon(2, 3)).tolist(), jl.getindex(x, 5)
(tensor(4), [2, 3], tensor(3))
>>> jl.getindex({"a": 1}, "a"), jl.ix(jl.colon(2, 4))
(1, slice(1, 4, None))
"""
from __future__ import annotations

import numbers

import torch

from .rt_arrays import length, size
from .rt_ranges import JRange
from .rt_layout import julia_layout
from .rt_types import Colon

__all__ = ["getindex", "setindex_", "ix", "lastindex", "firstindex", "eachindex", "axes", "view"]


def ix(i):
    """One Julia index (1-based; ranges and arrays too) as a Python/torch index."""
    if i is Colon:
        return slice(None)
    if isinstance(i, bool):
        return i
    if isinstance(i, numbers.Integral):
        return i - 1
    if isinstance(i, JRange):
        if i.step == 1:
            return slice(i.start - 1, i.stop)
        if i.step > 0:
            return slice(i.start - 1, i.stop, i.step)
        return torch.tensor([v - 1 for v in i])
    if isinstance(i, range):
        return slice(i.start - 1, i.stop - 1, i.step) if i.step > 0 else torch.tensor([v - 1 for v in i])
    if isinstance(i, torch.Tensor):
        if i.dtype == torch.bool:
            return i
        return i.long() - 1
    if isinstance(i, (list, tuple)):
        if i and all(isinstance(v, bool) for v in i):
            return torch.tensor(i)
        return torch.tensor([v - 1 for v in i], dtype=torch.long)
    if isinstance(i, float) and i.is_integer():
        raise TypeError(f"ArgumentError: invalid index {i} of type Float64")
    return i


def _has_keys(x):
    return isinstance(x, dict) or type(x).__name__ in ("Grads", "IdDict") or hasattr(x, "keys")


def getindex(x, *idx):
    """Julia's ``x[i...]`` for any container: dicts by key, arrays 1-based, reversed dims."""
    if not idx:
        return x.item() if isinstance(x, torch.Tensor) else x[()]
    if _has_keys(x) and not isinstance(x, torch.Tensor) and len(idx) == 1:
        return x[idx[0]]
    if len(idx) == 1 and isinstance(idx[0], str) and not isinstance(x, (str, list, tuple)) or (
            isinstance(x, tuple) and hasattr(x, "_fields") and isinstance(idx[0], str)):
        return julia_layout(x, idx[0])       # nt[:field], a gradient's g[:layers], g[:weight]
    user = getattr(type(x), "getindex", None)
    if user is not None and not isinstance(x, torch.Tensor):
        return user(x, *idx)
    if isinstance(x, JRange):
        x = x.tensor() if not isinstance(idx[0], numbers.Integral) else x
    if isinstance(x, torch.Tensor):
        return _tensor_index(x, idx)
    if isinstance(x, str):
        i = ix(idx[0])
        return x[i] if not isinstance(i, torch.Tensor) else "".join(x[k] for k in i.tolist())
    i = ix(idx[0])
    if isinstance(i, torch.Tensor):
        if i.dtype == torch.bool:
            return [v for v, keep in zip(x, i.tolist()) if keep]
        return [x[k] for k in i.tolist()]
    out = x[i]
    return out


def _tensor_index(x, idx):
    if len(idx) == 1 and x.ndim > 1:
        i = idx[0]
        if isinstance(i, torch.Tensor) and i.dtype == torch.bool and i.shape == x.shape:
            return x[i.reshape(x.shape)]            # a mask of the same shape
        return x.reshape(-1)[ix(i)]                  # Julia's linear (column-major) index
    keys = [ix(i) for i in idx]
    while len(keys) < x.ndim:                        # trailing singleton dims may be omitted
        keys.append(0)
    keys = keys[::-1][-x.ndim:] if len(keys) > x.ndim else keys[::-1]
    advanced = [k for k in keys if isinstance(k, torch.Tensor)]
    if len(advanced) <= 1:
        return x[tuple(keys)]
    out = x
    for d in reversed(range(len(keys))):             # one dim at a time: Julia's outer product
        k = keys[d]
        if isinstance(k, torch.Tensor):
            k = k.nonzero().reshape(-1) if k.dtype == torch.bool else k
            out = out.index_select(d, k.to(x.device))
        elif isinstance(k, slice):
            out = out[(slice(None),) * d + (k,)]
        else:
            out = out.select(d, k)
    return out


def setindex_(x, value, *idx):
    """Julia's ``x[i...] = value``."""
    if _has_keys(x) and not isinstance(x, torch.Tensor) and len(idx) == 1:
        x[idx[0]] = value
        return value
    user = getattr(type(x), "setindex_", None)
    if user is not None and not isinstance(x, torch.Tensor):
        return user(x, value, *idx)
    if isinstance(x, torch.Tensor):
        if len(idx) == 1 and x.ndim > 1:
            flat = x.view(-1)
            flat[ix(idx[0])] = value
            return value
        keys = [ix(i) for i in idx][::-1]
        x[tuple(keys)] = value
        return value
    i = ix(idx[0])
    x[i] = value
    return value


def lastindex(x, d=1, n=1):
    if n == 1:
        return length(x)
    return size(x, d)


def firstindex(x, d=1):
    return 1


def eachindex(x):
    return range(1, length(x) + 1)


def axes(x, d=None):
    if d is None:
        return tuple(range(1, s + 1) for s in size(x))
    return range(1, size(x, d) + 1)


def view(x, *idx):
    return getindex(x, *idx)
