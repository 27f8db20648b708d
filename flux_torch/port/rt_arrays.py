"""Runtime: Julia arrays as reversed torch tensors: literals, shapes, constructors.

A Julia array of size ``(a, b)`` is a tensor of shape ``(b, a)``.

>>> x = hvcat((1, 2, 3), (4, 5, 6))                 # Julia's [1 2 3; 4 5 6], 2×3
>>> tuple(x.shape), size(x), length(x)
((3, 2), (2, 3), 6)
>>> from flux_torch.port.rt_ranges import colon
>>> list(colon(2, 2, 10)), reshape(colon(1, 6), 2, 3).tolist()
([2, 4, 6, 8, 10], [[1, 2], [3, 4], [5, 6]])
"""
from __future__ import annotations

import numbers

import torch

from .rt_ranges import JRange
from .rt_types import Colon, JuliaType

__all__ = ["vect", "typed_vect", "collect", "hcat", "vcat", "hvcat", "cat",
           "size", "length", "ndims", "reshape", "rev", "dim", "vec", "zeros", "ones", "fill",
           "similar", "zero", "one", "dropdims", "repeat", "eachcol", "eachrow", "eachslice",
           "selectdim", "copy", "deepcopy", "Pair_", "reverse", "fill_",
           "copyto_", "tensor", "hvcat_rows", "stack_", "splat_"]


class IntVector(torch.Tensor):
    """A Julia vector of integers (``[32, 64, 128]``): reading one element gives a Python int,
    as Julia's ``v[i]`` gives an Int, so sizes read from it work wherever numbers do."""

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, torch.Tensor) and not out.is_floating_point():
            return out.item() if out.ndim == 0 else out.as_subclass(IntVector)
        return out

    def __iter__(self):
        return iter(self.tolist()) if self.ndim == 1 else super().__iter__()

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        with torch._C.DisableTorchFunctionSubclass():     # results are plain tensors
            return func(*args, **(kwargs or {}))


def tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, JRange):
        return x.tensor()
    return torch.as_tensor(x)


def _numeric(v):
    return (isinstance(v, numbers.Number) and not isinstance(v, complex)) or (
        isinstance(v, torch.Tensor) and v.ndim == 0)


def vect(*xs):
    """``[a, b, c]``: a tensor of numbers (Julia's element type), else a list."""
    if xs and all(_numeric(v) for v in xs):
        if all(isinstance(v, torch.Tensor) for v in xs):
            return torch.stack(list(xs))
        if all(isinstance(v, bool) for v in xs):
            return torch.tensor(xs, dtype=torch.bool)
        if all(isinstance(v, int) for v in xs):
            return torch.tensor(xs, dtype=torch.int64).as_subclass(IntVector)
        if any(isinstance(v, torch.Tensor) for v in xs):
            return torch.stack([torch.as_tensor(v) for v in xs])
        return torch.tensor([float(v) for v in xs], dtype=torch.float64)
    return list(xs)


def typed_vect(t, *xs):
    if not xs:
        return []                   # Float64[]: a vector to push! onto
    if isinstance(t, JuliaType) and t.dtype is not None:
        return torch.tensor([float(x) if t.dtype.is_floating_point else x for x in xs], dtype=t.dtype)
    return list(xs)


def collect(x, *more):
    if more:                                  # collect(T, itr)
        return typed_vect(x, *list(more[0]))
    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, str):
        return list(x)
    if isinstance(x, dict):
        return list(x.items())
    items = list(x)
    if items and all(isinstance(v, list) for v in items) and all(
            v and all(_numeric(e) for e in v) for v in items):
        return torch.stack([vect(*v) for v in items])
    if items and all(_numeric(v) for v in items):
        return vect(*items)
    return items


def _as_tensors(xs):
    return [x.tensor() if isinstance(x, JRange) else (
        torch.as_tensor(x) if not isinstance(x, torch.Tensor) else x) for x in xs]


def _promote(ts):
    dtype = ts[0].dtype
    for t in ts[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return [t.to(dtype) for t in ts]


def vcat(*xs):
    """Julia's vcat: along Julia's first dim, the tensor's last."""
    if any(isinstance(x, str) or (isinstance(x, (list, tuple)) and not all(_numeric(e) for e in x))
           for x in xs):
        return [e for x in xs for e in (x if isinstance(x, (list, tuple)) else [x])]
    ts = _promote(_as_tensors(xs))
    ts = [t.reshape(1) if t.ndim == 0 else t for t in ts]
    return torch.cat(ts, dim=-1)


def hcat(*xs):
    """Julia's hcat: along Julia's second dim (vectors become columns)."""
    ts = _promote(_as_tensors(xs))
    ts = [t.reshape(1, 1) if t.ndim == 0 else (t.unsqueeze(0) if t.ndim == 1 else t) for t in ts]
    return torch.cat(ts, dim=-2)


def hvcat(*rows):
    """``[a b; c d]``: each row is hcat, rows are vcat."""
    return vcat(*[hcat(*r) for r in rows])


hvcat_rows = hvcat


def cat(*xs, dim):
    ts = _promote(_as_tensors(xs))
    need = max(-d for d in (dim if isinstance(dim, tuple) else (dim,)))
    ts = [t.reshape((1,) * (need - t.ndim) + tuple(t.shape)) if t.ndim < need else t for t in ts]
    return torch.cat(ts, dim=dim)


def stack_(xs, dim=None):
    ts = _as_tensors(list(xs))
    return torch.stack(ts, dim=0 if dim is None else dim + 1 if dim < 0 else dim)


def size(x, d=None):
    """Julia's size: the reversed shape; ``size(x, d)`` is ``x.shape[-d]`` (1 past the end)."""
    shape = _shape(x)
    if d is None:
        return shape
    return shape[d - 1] if d <= len(shape) else 1


def _shape(x):
    if isinstance(x, torch.Tensor) or type(x).__name__ == "ndarray":
        return tuple(reversed(tuple(x.shape)))
    if hasattr(x, "__len__"):
        return (len(x),)
    return ()


def length(x):
    if isinstance(x, torch.Tensor):
        return x.numel()
    if type(x).__name__ == "ndarray":
        return int(x.size)
    return len(x)


def ndims(x):
    return x.ndim if isinstance(x, torch.Tensor) else 1


def rev(t):
    """A Julia shape, kernel or permutation tuple in torch's order."""
    if isinstance(t, (tuple, list)):
        return tuple(reversed(tuple(t)))
    return t


def dim(d):
    """Julia's ``dims=d`` as torch's ``dim=-d``."""
    if isinstance(d, (tuple, list, JRange, range)):
        return tuple(-k for k in d)
    return -d


def reshape(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    shape = tuple(-1 if d is Colon else d for d in reversed(dims))
    return tensor(x).reshape(shape)


def vec(x):
    if hasattr(type(x), "getindex") and not isinstance(x, torch.Tensor):
        return x.getindex(Colon)
    if isinstance(x, (list, tuple)) and not all(_numeric(v) for v in x):
        return list(x)
    return tensor(x).reshape(-1)


def _dtype_and_dims(args):
    dtype = torch.float64
    if args and isinstance(args[0], JuliaType):
        dtype, args = args[0].dtype, args[1:]
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return dtype, tuple(reversed(args))


def zeros(*args):
    dtype, shape = _dtype_and_dims(args)
    return torch.zeros(shape, dtype=dtype)


def ones(*args):
    dtype, shape = _dtype_and_dims(args)
    return torch.ones(shape, dtype=dtype)


def fill(v, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if isinstance(v, (numbers.Number, torch.Tensor)):
        dtype = torch.int64 if isinstance(v, int) and not isinstance(v, bool) else (
            torch.bool if isinstance(v, bool) else torch.float64)
        if isinstance(v, torch.Tensor):
            dtype = v.dtype
        return torch.full(tuple(reversed(dims)), v, dtype=dtype)
    if len(dims) == 1:
        return [v for _ in range(dims[0])]
    raise TypeError("fill of a non-number with several dims")


def fill_(x, v):
    x.fill_(v)
    return x


def similar(x, *dims):
    x = tensor(x)
    if dims and isinstance(dims[0], JuliaType):
        return torch.empty(tuple(reversed(dims[1:])) or x.shape, dtype=dims[0].dtype)
    return torch.empty(tuple(reversed(dims)) if dims else x.shape, dtype=x.dtype)


def zero(x):
    return torch.zeros_like(x) if isinstance(x, torch.Tensor) else type(x)(0)


def one(x):
    return torch.ones_like(x) if isinstance(x, torch.Tensor) else type(x)(1)


def copy(x):
    if isinstance(x, torch.Tensor):
        return x.clone()
    import copy as _copy
    return _copy.copy(x)


def deepcopy(x):
    import copy as _copy
    return _copy.deepcopy(x)


def copyto_(dst, src):
    dst.copy_(tensor(src).reshape(dst.shape))
    return dst


def dropdims(x, *, dim):
    return tensor(x).squeeze(dim)


def repeat(x, *counts, inner=None, outer=None):
    if isinstance(x, str):
        return x * counts[0]
    x = tensor(x)
    counts = counts or outer or (1,)
    counts = tuple(counts) + (1,) * (x.ndim - len(counts))
    shape = (1,) * (len(counts) - x.ndim) + tuple(x.shape)
    return x.reshape(shape).repeat(*reversed(counts))


def eachcol(x):
    return list(tensor(x).unbind(-2))


def eachrow(x):
    return list(tensor(x).unbind(-1))


def eachslice(x, *, dim):
    return list(tensor(x).unbind(dim if not isinstance(dim, tuple) else dim[0]))


def selectdim(x, d, i):
    return tensor(x).select(-d, i - 1)


def reverse(x, *, dim=None):
    if isinstance(x, torch.Tensor):
        return x.flip(dim if dim is not None else tuple(range(x.ndim)))
    if isinstance(x, str):
        return x[::-1]
    return list(x)[::-1]


def Pair_(a, b):
    return (a, b)


def splat_(f):
    return lambda args: f(*args)


