"""Runtime: Julia's numbers and elementwise functions (numbers or tensors alike).

``rem``/``%`` truncates, ``mod`` floors, ``÷`` truncates; ``float`` keeps Float32.

>>> from flux_torch.port import runtime as jl
>>> jl.rem(-7, 3), jl.mod(-7, 3), jl.div(-7, 2), jl.exp(0.0), jl.exp(jl.vect(0.0)).tolist()
(-1, 2, -3, 1.0, [1.0])
"""
from __future__ import annotations

import builtins
import math

import torch

from .rt_arrays import tensor, vect
from .rt_ranges import JRange

__all__ = ["exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "abs", "abs2", "tanh", "sinh",
           "cosh", "sin", "cos", "tan", "asin", "acos", "atan", "sign", "exp2", "floor", "ceil",
           "round", "trunc", "isnan", "isinf", "isfinite", "iszero", "float", "max", "min",
           "clamp", "rem", "div", "mod", "fld", "cld", "Inf", "NaN", "pi", "e", "identity",
           "sigmoid_", "softplus_", "cbrt", "conj", "real", "imag", "isodd", "iseven", "eps",
           "floatmin", "floatmax", "typemax", "typemin", "square", "inv_", "atan2", "deg2rad",
           "rad2deg", "mod1", "sinpi", "cospi", "exponent", "signbit", "Uniform", "Normal"]


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
    f.__name__ = f.__qualname__ = getattr(mfn, "__name__", "f")     # Dense(2, 3, tanh) prints tanh
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


sign = _elementwise(torch.sign,
                    lambda x: (x > 0) - (x < 0) if not isinstance(x, builtins.float) else float((x > 0) - (x < 0)))


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


