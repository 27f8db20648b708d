"""Runtime: Julia arrays on reversed torch tensors (construction, shape, indexing, products).

A Julia array of size ``(a, b)`` is a tensor of shape ``(b, a)``; indices stay
1-based in the script and become 0-based here, where they reach the tensor.

>>> x = hvcat((1, 2, 3), (4, 5, 6))                 # Julia's [1 2 3; 4 5 6], 2×3
>>> size(x), getindex(x, 2, 1), getindex(x, 1, colon(2, 3)).tolist()
((2, 3), tensor(4), [2, 3])
>>> mul(x, vect(1, 0, 0)).tolist()                  # Julia's x * [1, 0, 0]
[1, 4]
"""
from __future__ import annotations

import math
import numbers

import torch

from .rt_types import Colon, JuliaType

__all__ = ["JRange", "colon", "vect", "typed_vect", "collect", "hcat", "vcat", "hvcat", "cat",
           "size", "length", "ndims", "reshape", "rev", "dim", "permutedims", "transpose",
           "adjoint", "mul", "eq", "ne", "egal", "isapprox", "not_isapprox", "getindex",
           "setindex_", "ix", "lastindex", "firstindex", "eachindex", "axes", "vec", "zeros",
           "ones", "fill", "similar", "zero", "one", "julia_layout", "julia_init", "dropdims",
           "repeat", "eachcol", "eachrow", "eachslice", "selectdim", "view", "copy", "deepcopy",
           "range_", "LinRange", "kron", "ldiv", "Pair_", "reverse", "fill_", "copyto_",
           "tensor", "cumsum", "diff", "sort", "sortperm", "unique", "count", "findall",
           "findfirst", "findmax", "findmin", "argmax", "argmin", "onecold", "dot", "norm",
           "diag", "I", "triu", "tril", "inv", "det", "tr", "Diagonal", "normalize", "cross",
           "hvcat_rows", "stack_", "splat_", "subtract_", "typed_array", "dot_eq", "dot_ne", "num"]


class JRange:
    """Julia's ``a:b`` / ``a:s:b`` (inclusive) used as a value; arithmetic gives tensors."""

    def __init__(self, start, step, stop):
        self.start, self.step, self.stop = start, step, stop
        if not step:
            n = 0
        elif all(isinstance(v, int) for v in (start, step, stop)):
            n = (stop - start) // step + 1
        else:                            # -3:0.1:3 has 61 elements, as Julia rounds it
            n = math.floor((stop - start) / step + 1e-10) + 1
        self.n = max(n, 0)

    def __len__(self):
        return self.n

    def __iter__(self):
        return (self.start + i * self.step for i in range(self.n))

    def __getitem__(self, i):                 # Python's protocol: 0-based
        if isinstance(i, slice):
            return list(self)[i]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.start + i * self.step

    def __contains__(self, x):
        return any(x == v for v in self)

    def reshape(self, *shape):
        return self.tensor().reshape(*shape)

    def tensor(self):
        dtype = torch.int64 if all(isinstance(v, int) for v in (self.start, self.step)) else torch.float64
        return torch.tensor(list(self), dtype=dtype)

    def __eq__(self, other):
        return list(self) == list(other) if hasattr(other, "__iter__") else NotImplemented

    def __hash__(self):
        return hash((self.start, self.step, self.stop))

    def __repr__(self):
        return f"{self.start}:{self.stop}" if self.step == 1 else f"{self.start}:{self.step}:{self.stop}"

    def _op(self, other, f):
        other = other.tensor() if isinstance(other, JRange) else other
        return f(self.tensor(), other)

    __add__ = lambda s, o: s._op(o, lambda a, b: a + b)
    __radd__ = __add__
    __sub__ = lambda s, o: s._op(o, lambda a, b: a - b)
    __rsub__ = lambda s, o: s._op(o, lambda a, b: b - a)
    __mul__ = lambda s, o: s._op(o, lambda a, b: a * b)
    __rmul__ = __mul__
    __truediv__ = lambda s, o: s._op(o, lambda a, b: a / b)
    __pow__ = lambda s, o: s._op(o, lambda a, b: a ** b)
    __neg__ = lambda s: -s.tensor()
    __lt__ = lambda s, o: s._op(o, lambda a, b: a < b)
    __gt__ = lambda s, o: s._op(o, lambda a, b: a > b)


class IntVector(torch.Tensor):
    """A Julia vector of integers (``[32, 64, 128]``): reading one element gives a Python int,
    as Julia's ``v[i]`` gives an Int, so sizes read from it work wherever numbers do."""

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, torch.Tensor) and out.ndim == 0 and not out.is_floating_point():
            return out.item()
        return out

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        with torch._C.DisableTorchFunctionSubclass():     # results are plain tensors
            return func(*args, **(kwargs or {}))


def colon(a, b, c=None):
    """``a:b`` or ``a:s:b`` (``'a':'z'`` is the list of characters)."""
    if isinstance(a, str):
        return [chr(k) for k in range(ord(a), ord(c if c is not None else b) + 1, 1 if c is None else b)]
    start, step, stop = (a, 1, b) if c is None else (a, b, c)
    return JRange(start, step, stop)


def range_(start, stop=None, *, length=None, step=None, stop_=None):
    if length is not None and stop is not None:
        if length == 1:
            return JRange(start, 1, start)
        step = (stop - start) / (length - 1)
        return JRange(start, step, stop)
    return JRange(start, step or 1, stop)


def LinRange(start, stop, n):
    return torch.linspace(start, stop, n, dtype=torch.float64)


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


def view(x, *idx):
    return getindex(x, *idx)


def reverse(x, *, dim=None):
    if isinstance(x, torch.Tensor):
        return x.flip(dim if dim is not None else tuple(range(x.ndim)))
    if isinstance(x, str):
        return x[::-1]
    return list(x)[::-1]


def kron(a, b):
    return torch.kron(tensor(b), tensor(a))


def ldiv(a, b):
    return torch.linalg.solve(tensor(a).T, tensor(b).T).T if tensor(b).ndim > 1 else torch.linalg.solve(
        tensor(a).T, tensor(b))


def Pair_(a, b):
    return (a, b)


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
    items = list(tensor(f).reshape(-1).tolist()) if x is None else (x.tolist() if isinstance(x, torch.Tensor) else list(x))
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


def splat_(f):
    return lambda args: f(*args)


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
