"""Runtime: reductions that keep Julia's reduced dims, and broadcasting ``f.(x)``.

>>> from flux_torch.port.rt_arrays import hvcat, vect
>>> x = hvcat((1, 2), (3, 4))
>>> sum(x).item(), sum(x, dim=-1).tolist(), mean(vect(1.0, 2.0, 3.0)).item()
(10, [[4], [6]], 2.0)
>>> broadcast(lambda v: v + 1 if v > 1 else v, vect(1, 2)).tolist()
[1, 3]
"""
from __future__ import annotations

import builtins
import math
import numbers

import torch

from .rt_arrays import tensor, vect
from .rt_ranges import JRange

__all__ = ["sum", "prod", "maximum", "minimum", "mean", "std", "var", "median", "extrema", "any",
           "all", "broadcast", "cor", "cov", "quantile", "mapreduce", "cumprod"]


def _reduce(tname, pyfn):
    def f(*args, dim=None, init=None):
        if len(args) == 2 and callable(args[0]):               # sum(f, x)
            fn, x = args
            if isinstance(x, (torch.Tensor, JRange)):
                return f(broadcast(fn, x), dim=dim)
            return f([fn(v) for v in x], dim=dim)
        x = args[0]
        if isinstance(x, JRange):
            x = x.tensor()
        if isinstance(x, torch.Tensor):
            if dim is None:
                return getattr(x, tname)() if tname not in ("amax", "amin") else getattr(x, tname)()
            return getattr(x, tname)(dim=dim, keepdim=True)
        items = list(x)
        if items and builtins.all(isinstance(v, torch.Tensor) and v.ndim > 0 for v in items) and tname != "sum":
            return pyfn(items)
        return pyfn(items) if init is None else pyfn([init] + items)
    return f


sum = _reduce("sum", lambda xs: builtins.sum(xs[1:], xs[0]) if xs else 0)


prod = _reduce("prod", lambda xs: math.prod(xs))


maximum = _reduce("amax", lambda xs: builtins.max(xs))


minimum = _reduce("amin", lambda xs: builtins.min(xs))


def mean(*args, dim=None):
    if len(args) == 2 and callable(args[0]):
        return mean(broadcast(args[0], args[1]), dim=dim)
    x = args[0]
    if isinstance(x, JRange):
        x = x.tensor()
    if not isinstance(x, torch.Tensor):
        items = list(x)
        if items and isinstance(items[0], torch.Tensor):
            return builtins.sum(items[1:], items[0]) / len(items)
        return builtins.sum(items) / len(items)
    x = x if x.is_floating_point() else x.double()
    return x.mean() if dim is None else x.mean(dim=dim, keepdim=True)


def std(x, *, dim=None, corrected=True, mean=None):
    x = tensor(x)
    x = x if x.is_floating_point() else x.double()
    c = 1 if corrected else 0
    return x.std(correction=c) if dim is None else x.std(dim=dim, correction=c, keepdim=True)


def var(x, *, dim=None, corrected=True, mean=None):
    x = tensor(x)
    x = x if x.is_floating_point() else x.double()
    c = 1 if corrected else 0
    return x.var(correction=c) if dim is None else x.var(dim=dim, correction=c, keepdim=True)


def median(x, *, dim=None):
    x = tensor(x).double()
    return x.quantile(0.5) if dim is None else x.quantile(0.5, dim=dim, keepdim=True)


def quantile(x, p):
    return tensor(x).double().quantile(p)


def cor(x, y=None):
    if y is None:
        return torch.corrcoef(tensor(x))
    return torch.corrcoef(torch.stack([tensor(x).double(), tensor(y).double()]))[0, 1]


def cov(x, y=None):
    if y is None:
        return torch.cov(tensor(x))
    return torch.cov(torch.stack([tensor(x).double(), tensor(y).double()]))[0, 1]


def extrema(x):
    return minimum(x), maximum(x)


def any(*args, dim=None):
    if len(args) == 2:
        f, x = args
        return builtins.any(bool(f(v)) for v in x) if not isinstance(x, torch.Tensor) else bool(f(x).any())
    x = args[0]
    if isinstance(x, torch.Tensor):
        return bool(x.any()) if dim is None else x.any(dim=dim, keepdim=True)
    return builtins.any(x)


def all(*args, dim=None):
    if len(args) == 2:
        f, x = args
        return builtins.all(bool(f(v)) for v in x) if not isinstance(x, torch.Tensor) else bool(f(x).all())
    x = args[0]
    if isinstance(x, torch.Tensor):
        return bool(x.all()) if dim is None else x.all(dim=dim, keepdim=True)
    return builtins.all(x)


def mapreduce(f, op, xs, *more, init=None):
    items = [f(*vs) for vs in zip(xs, *more)]
    import functools
    return functools.reduce(op, items) if init is None else functools.reduce(op, items, init)


def cumprod(x, *, dim=-1):
    return tensor(x).cumprod(dim)


def _is_scalar_arg(a):
    from .rt_types import Colon, JuliaType
    return (isinstance(a, tuple) and len(a) == 1) or isinstance(a, (str, numbers.Number, JuliaType)) \
        or a is None or a is Colon or callable(a) and not hasattr(a, "__len__")


def broadcast(f, *args, **kw):
    """``f.(args...)``: the whole array when ``f`` vectorises, else elementwise."""
    args = [a.tensor() if isinstance(a, JRange) else a for a in args]
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if getattr(f, "elementwise", False) or _is_activation(f):
        if tensors or builtins.all(isinstance(a, numbers.Number) for a in args):
            return f(*args, **kw)
    if tensors and builtins.all(isinstance(a, torch.Tensor) or isinstance(a, numbers.Number) for a in args):
        try:
            out = f(*args, **kw)
            if isinstance(out, torch.Tensor) and out.shape == torch.broadcast_shapes(
                    *[a.shape for a in tensors]):
                return out
        except Exception:                     # not vectorisable: go element by element
            pass
        shape = torch.broadcast_shapes(*[a.shape for a in tensors])
        flat = [torch.as_tensor(a).expand(shape).reshape(-1).tolist() if isinstance(a, torch.Tensor)
                else [a] * math.prod(shape) for a in args]
        if not shape:
            return f(*[v[0] for v in flat], **kw)
        out = vect(*[f(*vs, **kw) for vs in zip(*flat)])
        return out.reshape(shape) if isinstance(out, torch.Tensor) else out
    seqs = [a[0] if isinstance(a, tuple) and len(a) == 1 else a for a in args]
    lengths = [len(a) for a, orig in zip(seqs, args) if not _is_scalar_arg(orig) and hasattr(a, "__len__")]
    n = lengths[0] if lengths else 1
    cols = [[a] * n if _is_scalar_arg(orig) else list(a) for a, orig in zip(seqs, args)]
    out = [f(*vs, **kw) for vs in zip(*cols)]
    if builtins.any(isinstance(a, tuple) and not _is_scalar_arg(a) for a in args):
        return tuple(out)
    return vect(*out) if out and builtins.all(isinstance(v, numbers.Number) for v in out) else out


def _is_activation(f):
    mod = getattr(f, "__module__", "") or ""
    return mod.startswith("flux_torch.activation")
