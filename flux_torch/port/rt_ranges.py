"""Runtime: Julia's ranges as values: ``a:b``, ``a:s:b``, ``range``, ``LinRange``.

A range stays lazy (:class:`JRange`) until arithmetic needs its elements, which
gives a tensor, as broadcasting over a Julia range gives an array.

>>> r = colon(2, 2, 10)
>>> list(r), len(r), r
([2, 4, 6, 8, 10], 5, 2:2:10)
>>> (colon(1, 3) * 2).tolist(), list(range_(0, 1, length=3))
([2, 4, 6], [0.0, 0.5, 1.0])
"""
from __future__ import annotations

import math

import torch

__all__ = ["JRange", "colon", "range_", "LinRange"]


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
