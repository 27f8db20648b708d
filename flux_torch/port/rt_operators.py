"""Runtime: Julia's operators as functions (``SkipConnection(m, +)``, ``==(x)``, ``!f``, ``∘``, ``|>``).

>>> from flux_torch.port import runtime as jl
>>> jl.add(1, 2), jl.compose(jl.abs, jl.sub)(3), jl.not_(jl.isempty)([]), jl.pipe(4, jl.sqrt)
(3, 3, False, 2.0)
"""
from __future__ import annotations

import math

import torch

__all__ = ["ComposedFunction", "forwarddiff", "add", "sub", "truediv", "pow", "lt", "gt", "le", "ge", "and_", "or_",
           "not_", "bnot",
           "in_", "compose", "lshift", "rshift", "rational", "hypot", "xor", "gcd", "lcm",
           "factorial", "binomial", "notin", "evalpoly", "pipe"]


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


class ComposedFunction:
    """Julia's ``f ∘ g``: calls ``g`` then ``f``; its fields are ``outer`` and ``inner``."""

    def __init__(self, outer, inner):
        self.outer, self.inner = outer, inner

    def __call__(self, *args, **kw):
        return self.outer(self.inner(*args, **kw))

    def __repr__(self):
        return f"compose({self.outer!r}, {self.inner!r})"


def compose(*fs):
    out = fs[-1]
    for f in reversed(fs[:-1]):
        out = ComposedFunction(f, out)
    return out


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


def forwarddiff(f, x):
    """Zygote's ``forwarddiff(f, x)``: ``f(x)``, differentiated in forward mode in Julia;
    torch's reverse mode gives the same gradient."""
    return f(x)
