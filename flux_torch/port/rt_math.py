"""Runtime: Julia's numbers, elementwise functions, reductions and broadcasting.

Elementwise functions take numbers or tensors alike; reductions with ``dim`` keep
the reduced dimension, as Julia's ``dims=`` does; ``rem``/``%`` truncates.

>>> rem(-7, 3), mod(-7, 3), div(-7, 2), sum(vect(1, 2, 3))
(-1, 2, -3, tensor(6))
>>> broadcast(lambda v: v + 1 if v > 1 else v, vect(1, 2)).tolist()
[1, 3]
"""
from __future__ import annotations

import builtins
import math
import numbers

import torch

from .rt_arrays import JRange, tensor, vect

__all__ = ["exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "abs", "abs2", "tanh", "sinh",
           "cosh", "sin", "cos", "tan", "asin", "acos", "atan", "sign", "exp2", "floor", "ceil",
           "round", "trunc", "isnan", "isinf", "isfinite", "iszero", "float", "max", "min",
           "clamp", "rem", "div", "mod", "fld", "cld", "sum", "prod", "maximum", "minimum",
           "mean", "std", "var", "median", "extrema", "any", "all", "broadcast", "add", "sub",
           "truediv", "pow", "lt", "gt", "le", "ge", "and_", "or_", "not_", "bnot", "in_",
           "compose", "Inf", "NaN", "pi", "e", "identity", "sigmoid_", "softplus_", "cor", "cov",
           "quantile", "lshift", "rshift", "rational", "hypot", "cbrt", "conj", "real", "imag",
           "xor", "isodd", "iseven", "gcd", "lcm", "factorial", "binomial", "eps", "floatmin",
           "floatmax", "typemax", "typemin", "mapreduce", "cumprod", "square", "inv_", "atan2",
           "deg2rad", "rad2deg", "mod1", "sinpi", "cospi", "exponent", "signbit", "Uniform", "Normal", "notin", "evalpoly", "pipe"]

Inf = math.inf
NaN = math.nan
pi = math.pi
e = math.e


def _elementwise(tfn, mfn):
    def f(x, *rest):
        if isinstance(x, JRange):
            x = x.tensor()
        if isinstance(x, torch.Tensor):
            if not x.is_floating_point() and tfn in _FLOAT_ONLY:
                x = x.double()
            return tfn(x, *rest)
        if isinstance(x, (list, tuple)):
            return tfn(tensor(vect(*x)), *rest)
        return mfn(x, *rest)
    f.elementwise = True
    return f


_FLOAT_ONLY = set()


def _reg(tfn):
    _FLOAT_ONLY.add(tfn)
    return tfn


exp = _elementwise(_reg(torch.exp), math.exp)
log = _elementwise(_reg(torch.log), lambda x, *b: math.log(b[0]) / math.log(x) if b else math.log(x))
log2 = _elementwise(_reg(torch.log2), math.log2)
log10 = _elementwise(_reg(torch.log10), math.log10)
log1p = _elementwise(_reg(torch.log1p), math.log1p)
expm1 = _elementwise(_reg(torch.expm1), math.expm1)
exp2 = _elementwise(_reg(torch.exp2), lambda x: 2.0 ** x)
sqrt = _elementwise(_reg(torch.sqrt), math.sqrt)
cbrt = _elementwise(lambda x: x.sign() * x.abs() ** (1 / 3), lambda x: math.copysign(builtins.abs(x) ** (1 / 3), x))
abs = _elementwise(torch.abs, builtins.abs)
abs2 = _elementwise(lambda x: x * x, lambda x: x * x)
square = abs2
tanh = _elementwise(_reg(torch.tanh), math.tanh)
sinh = _elementwise(_reg(torch.sinh), math.sinh)
cosh = _elementwise(_reg(torch.cosh), math.cosh)
sin = _elementwise(_reg(torch.sin), math.sin)
cos = _elementwise(_reg(torch.cos), math.cos)
tan = _elementwise(_reg(torch.tan), math.tan)
asin = _elementwise(_reg(torch.asin), math.asin)
acos = _elementwise(_reg(torch.acos), math.acos)
atan = _elementwise(_reg(torch.atan), lambda y, *x: math.atan2(y, x[0]) if x else math.atan(y))
atan2 = atan
sinpi = _elementwise(lambda x: torch.sin(math.pi * x), lambda x: math.sin(math.pi * x))
cospi = _elementwise(lambda x: torch.cos(math.pi * x), lambda x: math.cos(math.pi * x))
deg2rad = _elementwise(torch.deg2rad, math.radians)
rad2deg = _elementwise(torch.rad2deg, math.degrees)
sign = _elementwise(torch.sign, lambda x: (x > 0) - (x < 0) if not isinstance(x, builtins.float) else float((x > 0) - (x < 0)))
signbit = _elementwise(torch.signbit, lambda x: math.copysign(1, x) < 0)
isnan = _elementwise(torch.isnan, lambda x: isinstance(x, builtins.float) and math.isnan(x))
isinf = _elementwise(torch.isinf, lambda x: isinstance(x, builtins.float) and math.isinf(x))
isfinite = _elementwise(torch.isfinite, lambda x: not isinstance(x, builtins.float) or math.isfinite(x))
iszero = _elementwise(lambda x: bool((x == 0).all()), lambda x: x == 0)
conj = _elementwise(torch.conj, lambda x: x.conjugate())
real = _elementwise(torch.real, lambda x: x.real)
imag = _elementwise(torch.imag, lambda x: x.imag)
isodd = _elementwise(lambda x: x % 2 == 1, lambda x: x % 2 == 1)
iseven = _elementwise(lambda x: x % 2 == 0, lambda x: x % 2 == 0)
inv_ = _elementwise(lambda x: 1 / x, lambda x: 1 / x)
exponent = _elementwise(lambda x: torch.frexp(x)[1] - 1, lambda x: math.frexp(x)[1] - 1)
identity = lambda x: x                                 # noqa: E731
identity.elementwise = True


def _rounder(tfn, mfn, name):
    def f(*args, digits=None, sigdigits=None, base=None):
        t = None
        if args and hasattr(args[0], "dtype") and not isinstance(args[0], torch.Tensor):
            t, args = args[0], args[1:]                   # round(Int, x)
        x = args[0]
        if isinstance(x, JRange):
            x = x.tensor()
        if isinstance(x, torch.Tensor):
            out = tfn(x * 10 ** digits) / 10 ** digits if digits else tfn(x)
            return out.to(t.dtype) if t is not None else out
        out = mfn(x * 10 ** digits) / 10 ** digits if digits else mfn(x)
        return int(out) if t is not None and t.dtype is not None and not t.dtype.is_floating_point else (
            float(out) if isinstance(x, builtins.float) or digits else out)
    f.elementwise = True
    f.__name__ = name
    return f


round = _rounder(torch.round, builtins.round, "round")
floor = _rounder(torch.floor, math.floor, "floor")
ceil = _rounder(torch.ceil, math.ceil, "ceil")
trunc = _rounder(torch.trunc, math.trunc, "trunc")


def float(x):
    """Julia's float: Float32 stays Float32, integers become Float64."""
    if isinstance(x, torch.Tensor):
        return x if x.is_floating_point() else x.double()
    if isinstance(x, JRange):
        return x.tensor().double()
    return builtins.float(x)


float.elementwise = True


def max(*xs):
    if builtins.any(isinstance(x, torch.Tensor) for x in xs):
        out = tensor(xs[0])
        for x in xs[1:]:
            out = torch.maximum(out, torch.as_tensor(x, dtype=out.dtype))
        return out
    return builtins.max(xs)


def min(*xs):
    if builtins.any(isinstance(x, torch.Tensor) for x in xs):
        out = tensor(xs[0])
        for x in xs[1:]:
            out = torch.minimum(out, torch.as_tensor(x, dtype=out.dtype))
        return out
    return builtins.min(xs)


def clamp(x, lo, hi):
    if isinstance(x, torch.Tensor):
        return x.clamp(lo, hi)
    return builtins.min(builtins.max(x, lo), hi)


clamp.elementwise = True


def rem(a, b):
    """Julia's ``%``/``rem``: the sign of the dividend (truncated division)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return torch.fmod(tensor(a), b)
    if isinstance(a, int) and isinstance(b, int):
        return a - b * div(a, b)
    return math.fmod(a, b)


def div(a, b):
    """Julia's ``÷``/``div``: truncated integer division."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return torch.div(tensor(a), b, rounding_mode="trunc")
    if isinstance(a, int) and isinstance(b, int):
        q = builtins.abs(a) // builtins.abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    return math.trunc(a / b)


def mod(a, b):
    return a % b


def mod1(a, b):
    m = a % b
    return b if m == 0 else m


def fld(a, b):
    return a // b


def cld(a, b):
    return -(-a // b)


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


def add(a, b):
    return a + b


def sub(a, b=None):
    return -a if b is None else a - b


def truediv(a, b):
    return a / b


def pow(a, b):
    return a ** b


def lt(a, b):
    return a < b


def gt(a, b):
    return a > b


def le(a, b):
    return a <= b


def ge(a, b):
    return a >= b


def and_(a, b):
    return a & b


def or_(a, b):
    return a | b


def xor(a, b):
    return a ^ b


def not_(a):
    if callable(a) and not isinstance(a, torch.Tensor):
        return lambda *args, **kw: not a(*args, **kw)       # !f is the negated function
    return ~a if isinstance(a, torch.Tensor) else not a


def notin(a, b=None):
    if b is None:
        return lambda y: y not in a                          # ∉(xs) as a function
    return a not in b


def bnot(a):
    return ~a if isinstance(a, torch.Tensor) else not a


def in_(a, b):
    return a in b


def lshift(a, b):
    return a << b


def rshift(a, b):
    return a >> b


def rational(a, b):
    from fractions import Fraction
    return Fraction(a, b)


def compose(*fs):
    def composed(*args, **kw):
        out = fs[-1](*args, **kw)
        for f in reversed(fs[:-1]):
            out = f(out)
        return out
    return composed


def hypot(*xs):
    return math.hypot(*xs)


def gcd(a, b):
    return math.gcd(a, b)


def lcm(a, b):
    return math.lcm(a, b)


def factorial(n):
    return math.factorial(n)


def binomial(n, k):
    return math.comb(n, k)


def eps(t=None):
    return torch.finfo(getattr(t, "dtype", None) or torch.float64).eps


def floatmin(t):
    return torch.finfo(t.dtype).tiny


def floatmax(t):
    return torch.finfo(t.dtype).max


def typemax(t):
    return torch.finfo(t.dtype).max if t.dtype.is_floating_point else torch.iinfo(t.dtype).max


def typemin(t):
    return torch.finfo(t.dtype).min if t.dtype.is_floating_point else torch.iinfo(t.dtype).min


def sigmoid_(x):
    return torch.sigmoid(x) if isinstance(x, torch.Tensor) else 1 / (1 + math.exp(-x))


def softplus_(x):
    return torch.nn.functional.softplus(x) if isinstance(x, torch.Tensor) else math.log1p(math.exp(x))


def Uniform(a=0.0, b=1.0):
    """Distributions.Uniform as torch.distributions.Uniform (``rand(d)`` samples it)."""
    return torch.distributions.Uniform(builtins.float(a), builtins.float(b))


def Normal(mu=0.0, sigma=1.0):
    return torch.distributions.Normal(builtins.float(mu), builtins.float(sigma))


def evalpoly(x, coefs):
    """Julia's evalpoly: coefs[1] + coefs[2] x + coefs[3] x^2 + ... (Horner's rule)."""
    items = list(coefs) if not isinstance(coefs, torch.Tensor) else list(coefs.unbind(0))
    out = items[-1]
    for c in reversed(items[:-1]):
        out = out * x + c
    return out


def pipe(x, f):
    """``|>`` as a function: ``pipe(x, f) == f(x)``."""
    return f(x)
