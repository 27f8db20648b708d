"""Runtime: Julia's products, adjoints, permutations and equality on reversed tensors.

>>> from flux_torch.port.rt_arrays import hvcat, vect
>>> x = hvcat((1, 2, 3), (4, 5, 6))
>>> mul(x, vect(1, 0, 0)).tolist(), eq(adjoint(x), permutedims(x))
([1, 4], True)
>>> v = vect(1, 2, 3)
>>> mul(adjoint(v), v)                              # v' * v is a number
tensor(14)
"""
from __future__ import annotations

import numbers

import torch

from .rt_arrays import _numeric, tensor
from .rt_ranges import JRange

__all__ = ["permutedims", "transpose", "adjoint", "mul", "eq", "ne", "egal", "isapprox",
           "not_isapprox", "kron", "ldiv", "dot", "norm", "diag", "I", "triu", "tril", "inv",
           "det", "tr", "Diagonal", "normalize", "cross", "dot_eq", "dot_ne"]


def permutedims(x, perm=None):
    if perm is None and isinstance(x, (list, tuple)) and not all(_numeric(v) for v in x):
        return JRow(x)                       # a 1×n row of strings, symbols, ...
    x = tensor(x)
    n = x.ndim
    if perm is None:
        return x.t() if n == 2 else x.reshape(-1, 1) if n == 1 else x
    perm = list(perm)
    q = [0] * n
    for i, p in enumerate(perm, start=1):
        q[n - i] = n - p
    return x.permute(q)


def transpose(x):
    x = tensor(x)
    return x.unsqueeze(-1) if x.ndim == 1 else x.transpose(-1, -2)


def adjoint(x):
    """``x'``: a matrix's transpose, a vector as a 1×n row (shape ``(n, 1)`` here)."""
    if isinstance(x, (numbers.Number,)):
        return x.conjugate() if isinstance(x, complex) else x
    x = tensor(x)
    if x.ndim == 0:
        return x
    if x.ndim == 1:
        row = x.unsqueeze(-1)
        row._jl_adjoint = True               # v' * w is a number in Julia
        return row
    return x.transpose(-1, -2).conj()


def mul(a, b):
    """Julia's ``*``: a matrix product for two arrays (``b @ a`` reversed), else ``*``."""
    if isinstance(a, str) or isinstance(b, str):
        return str(a) + str(b)
    if isinstance(a, JRange):
        a = a.tensor()
    if isinstance(b, JRange):
        b = b.tensor()
    ta, tb = isinstance(a, torch.Tensor) and a.ndim >= 1, isinstance(b, torch.Tensor) and b.ndim >= 1
    if ta and tb:
        if a.is_floating_point() != b.is_floating_point():
            if a.is_floating_point():
                b = b.to(a.dtype)
            else:
                a = a.to(b.dtype)
        elif a.dtype != b.dtype:
            dt = torch.promote_types(a.dtype, b.dtype)
            a, b = a.to(dt), b.to(dt)
        if a.ndim == 1:                    # a column vector times a row
            return b @ a.unsqueeze(0)
        if b.ndim == 1 and getattr(a, "_jl_adjoint", False):
            return (a.squeeze(-1) * b).sum()
        return b @ a
    return a * b


_NO = object()


def eq(a, b=_NO):
    """Julia's ``==``: one Bool for arrays; ``==(x)`` is the function ``y -> y == x``."""
    if b is _NO:
        return lambda y: eq(y, a)
    if isinstance(a, JRange):
        a = a.tensor()
    if isinstance(b, JRange):
        b = b.tensor()
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and bool((a == b).all())
    if isinstance(a, torch.Tensor) and a.ndim == 0:
        return bool(a == b)
    if isinstance(b, torch.Tensor) and b.ndim == 0:
        return bool(a == b)
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return False
    return bool(a == b) if not isinstance(a, (list, tuple)) else a == b


def ne(a, b=_NO):
    if b is _NO:
        return lambda y: not eq(y, a)
    return not eq(a, b)


class JRow(list):
    """A 1×n row of non-numbers (``permutedims(v)``): ``.==`` against a column makes a matrix."""


def dot_eq(a, b):
    """``a .== b``: elementwise, for tensors and for lists (of strings, symbols, ...)."""
    if isinstance(b, JRow) and isinstance(a, (list, tuple)) and not isinstance(a, JRow):
        return torch.tensor([[x == y for x in a] for y in b])     # Julia's column .== row
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor) or not (
            isinstance(a, (list, tuple)) or isinstance(b, (list, tuple))):
        return a == b
    if not isinstance(a, (list, tuple)):
        a = [a] * len(b)
    if not isinstance(b, (list, tuple)):
        b = [b] * len(a)
    return torch.tensor([x == y for x, y in zip(a, b)])


def dot_ne(a, b):
    out = dot_eq(a, b)
    return ~out if isinstance(out, torch.Tensor) else not out


def egal(a, b):
    if isinstance(a, (numbers.Number, str)) and isinstance(b, (numbers.Number, str)):
        return type(a) is type(b) and a == b
    return a is b


def _f64(x):
    if isinstance(x, numbers.Number):
        return torch.tensor(x, dtype=torch.float64)
    return tensor(x).double()


def isapprox(a, b, *, atol=0.0, rtol=None):
    ta, tb = _f64(a), _f64(b)
    if rtol is None:
        rtol = 0.0 if atol > 0 else 1.4901161193847656e-08 if (
            ta.dtype == torch.float64 and not _f32(a, b)) else 0.0003452669770922512
    if ta.ndim or tb.ndim:                     # arrays: norm(a - b) <= atol + rtol * max norm
        d = torch.linalg.vector_norm(ta - tb)
        return bool(d <= atol + rtol * max(torch.linalg.vector_norm(ta), torch.linalg.vector_norm(tb)))
    return bool(abs(ta - tb) <= atol + rtol * max(abs(ta), abs(tb)))


def _f32(*xs):
    return any(isinstance(x, torch.Tensor) and x.dtype in (torch.float32, torch.float16) for x in xs)


def not_isapprox(a, b, **kw):
    return not isapprox(a, b, **kw)


def kron(a, b):
    return torch.kron(tensor(b), tensor(a))


def ldiv(a, b):
    return torch.linalg.solve(tensor(a).T, tensor(b).T).T if tensor(b).ndim > 1 else torch.linalg.solve(
        tensor(a).T, tensor(b))


def dot(a, b):
    return (tensor(a).reshape(-1).double() * tensor(b).reshape(-1).double()).sum().to(
        torch.promote_types(tensor(a).dtype, tensor(b).dtype))


def norm(x, p=2):
    return torch.linalg.vector_norm(tensor(x).double() if not tensor(x).is_floating_point() else tensor(x), p)


def diag(x):
    return tensor(x).diagonal()


def I(n):
    return torch.eye(n)


def triu(x, k=0):
    return tensor(x).tril(-k)


def tril(x, k=0):
    return tensor(x).triu(-k)


def inv(x):
    return torch.linalg.inv(tensor(x))


def det(x):
    return torch.linalg.det(tensor(x))


def tr(x):
    return tensor(x).diagonal().sum()


def Diagonal(v):
    return torch.diag(tensor(v))


def normalize(x):
    return tensor(x) / norm(x)


def cross(a, b):
    return torch.linalg.cross(tensor(a), tensor(b))
