"""Runtime: sorting and searching with Julia's 1-based answers (argmax, findall, onecold).

>>> from flux_torch.port.rt_arrays import vect
>>> argmax(vect(3, 9, 2)), findall(vect(1, 5, 7) > 2).tolist(), sortperm(vect(3, 1, 2)).tolist()
(2, [2, 3], [2, 3, 1])
"""
from __future__ import annotations

import torch

from .rt_arrays import tensor, vect

__all__ = ["cumsum", "diff", "sort", "sortperm", "unique", "count", "findall", "findfirst",
           "findmax", "findmin", "argmax", "argmin", "onecold"]


def cumsum(x, *, dim=-1):
    return tensor(x).cumsum(dim)


def diff(x, *, dim=-1):
    return tensor(x).diff(dim=dim)


def sort(x, *, rev=False, by=None):
    if isinstance(x, torch.Tensor) and by is None:
        return x.sort(descending=rev).values
    return sorted(x, key=by, reverse=rev)


def sortperm(x, *, rev=False):
    return tensor(x).argsort(descending=rev) + 1


def unique(x):
    if isinstance(x, torch.Tensor):
        seen = dict.fromkeys(x.tolist())
        return torch.tensor(list(seen), dtype=x.dtype)
    return list(dict.fromkeys(x))


def count(f, x=None):
    if x is None:
        return int(tensor(f).sum()) if isinstance(f, torch.Tensor) else sum(1 for v in f if v)
    if isinstance(x, torch.Tensor):
        return int(tensor(f(x)).sum())
    return sum(1 for v in x if f(v))


def findall(f, x=None):
    if x is None:
        t = tensor(f)
        return (t.reshape(-1).nonzero().reshape(-1) + 1)
    if isinstance(x, torch.Tensor):
        return (f(x).reshape(-1).nonzero().reshape(-1) + 1)
    return vect(*[i for i, v in enumerate(x, start=1) if f(v)])


def findfirst(f, x=None):
    items = (list(tensor(f).reshape(-1).tolist()) if x is None
             else (x.tolist() if isinstance(x, torch.Tensor) else list(x)))
    for i, v in enumerate(items, start=1):
        if (v if x is None else f(v)):
            return i
    return None


def findmax(x, *, dim=None):
    t = tensor(x)
    if dim is None:
        i = int(t.reshape(-1).argmax())
        return t.reshape(-1)[i], i + 1
    v, i = t.max(dim=dim, keepdim=True)
    return v, i + 1


def findmin(x, *, dim=None):
    t = tensor(x)
    if dim is None:
        i = int(t.reshape(-1).argmin())
        return t.reshape(-1)[i], i + 1
    v, i = t.min(dim=dim, keepdim=True)
    return v, i + 1


def argmax(x, *, dim=None):
    """1-based, as Julia's (a linear index without ``dim``)."""
    if not isinstance(x, torch.Tensor) and hasattr(x, "__iter__"):
        items = list(x)
        return max(range(len(items)), key=lambda i: items[i]) + 1
    t = tensor(x)
    t = t.to(torch.uint8) if t.dtype == torch.bool else t
    if dim is None:
        return int(t.reshape(-1).argmax()) + 1
    return t.argmax(dim=dim, keepdim=True) + 1


def argmin(x, *, dim=None):
    if not isinstance(x, torch.Tensor) and hasattr(x, "__iter__"):
        items = list(x)
        return min(range(len(items)), key=lambda i: items[i]) + 1
    t = tensor(x)
    if dim is None:
        return int(t.reshape(-1).argmin()) + 1
    return t.argmin(dim=dim, keepdim=True) + 1


def onecold(y, labels=None):
    """Flux's onecold with Julia's values: positions from 1 (labels when given)."""
    import flux_torch
    if labels is not None:
        return flux_torch.onecold(y, list(labels))
    out = flux_torch.onecold(y)
    return out + 1
