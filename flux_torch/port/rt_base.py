"""Runtime: Julia's collections, iterators and strings for translated scripts.

>>> from flux_torch.port import runtime as jl
>>> list(jl.enumerate(["a", "b"])), jl.first(jl.vect(4, 5)), jl.only([7])
([(1, 'a'), (2, 'b')], 4, 7)
>>> jl.push_([], 1, 2)
[1, 2]
>>> jl.replace("a-b", ("-", "+")), jl.join(["a", "b"], ", "), jl.partition([1, 2, 3], 2)
('a+b', 'a, b', [[1, 2], [3]])
"""
from __future__ import annotations

import builtins
import itertools

import torch

from .rt_arrays import tensor, vect
from .rt_ranges import JRange

__all__ = ["push_", "pushfirst_", "append_", "pop_", "popfirst_", "insert_", "deleteat_", "empty_",
           "first", "last", "only", "map", "map_", "filter", "reduce", "foldl", "foldr",
           "enumerate", "keys", "values", "pairs", "haskey", "get", "get_", "delete_", "merge",
           "isempty", "partition", "repeated", "take", "drop", "cycle", "iflatten", "iproduct",
           "countfrom", "peel", "last_of", "nameof", "summary", "ones_", "setdiff", "union",
           "intersect", "issubset", "sum_", "ntuple", "getproperty", "zip", "tuple_",
           "struct2dict", "pairs_", "CircularBuffer", "hasproperty", "Set", "isassigned"]


def push_(xs, *vs):
    xs.extend(vs)
    return xs


def pushfirst_(xs, *vs):
    xs[:0] = list(vs)
    return xs


def append_(xs, ys):
    xs.extend(ys)
    return xs


def pop_(xs, *key):
    return xs.pop(*key) if isinstance(xs, dict) else xs.pop()


def popfirst_(xs):
    return xs.pop(0)


def insert_(xs, i, v):
    xs.insert(i - 1, v)
    return xs


def deleteat_(xs, i):
    del xs[i - 1]
    return xs


def empty_(xs):
    xs.clear()
    return xs


def first(x, n=None):
    if isinstance(x, torch.Tensor):
        flat = x.reshape(-1) if x.ndim != 1 else x
        return flat[0] if n is None else flat[:n]
    if n is not None:
        return list(itertools.islice(x, n))
    if isinstance(x, (list, tuple, str, JRange)):
        return x[0]
    return next(iter(x))


def last(x, n=None):
    if isinstance(x, torch.Tensor):
        flat = x.reshape(-1)
        return flat[-1] if n is None else flat[-n:]
    items = x if isinstance(x, (list, tuple, str)) else list(x)
    return items[-1] if n is None else items[-n:]


def only(x):
    items = list(x) if not isinstance(x, torch.Tensor) else x.reshape(-1)
    if len(items) != 1:
        raise ValueError(f"ArgumentError: collection has {len(items)} elements, must contain exactly 1")
    return items[0]


def map(f, *xs):
    if len(xs) == 1 and isinstance(xs[0], torch.Tensor):
        from .rt_reduce import broadcast
        return broadcast(f, xs[0])
    if len(xs) == 1 and isinstance(xs[0], dict):
        xs = (list(xs[0].items()),)
    out = [f(*vs) for vs in zip(*xs)]
    if out and builtins.all(isinstance(v, (int, float, bool)) for v in out):
        return vect(*out)
    if isinstance(xs[0], tuple):
        return tuple(out)
    return out


def map_(f, dst, *xs):
    dst[...] = map(f, *xs)
    return dst


def filter(f, xs):
    if isinstance(xs, torch.Tensor):
        return xs[tensor([bool(f(v)) for v in xs.tolist()])]
    if isinstance(xs, dict):
        return {k: v for k, v in xs.items() if f((k, v))}
    return [x for x in xs if f(x)]


def reduce(f, xs, *, init=None):
    import functools
    return functools.reduce(f, xs) if init is None else functools.reduce(f, xs, init)


foldl = reduce


def foldr(f, xs, *, init=None):
    items = list(xs)[::-1]
    g = (lambda acc, x: f(x, acc))
    import functools
    return functools.reduce(g, items) if init is None else functools.reduce(g, items, init)


def enumerate(x):
    return builtins.enumerate(x, start=1)


def keys(x):
    if isinstance(x, dict):
        return list(x.keys())
    return range(1, len(x) + 1)


def values(x):
    return list(x.values()) if isinstance(x, dict) else x


def pairs(x):
    return list(x.items()) if isinstance(x, dict) else list(enumerate(x))


def haskey(d, k):
    return k in d


def get(d, k, default=None):
    if callable(d) and not isinstance(d, dict):         # get(f, d, k) with a do block
        return k.get(default) if default in k else d()
    return d.get(k, default)


def get_(d, k, default=None):
    if callable(d) and not isinstance(d, dict):
        f, d, k = d, k, default
        if k not in d:
            d[k] = f()
        return d[k]
    return d.setdefault(k, default)


def delete_(d, k):
    d.pop(k, None)
    return d


def merge(*ds):
    out = {}
    for d in ds:
        out.update(d)
    return out


def isempty(x):
    return (x.numel() == 0) if isinstance(x, torch.Tensor) else len(x) == 0


def partition(xs, n):
    """Iterators.partition: consecutive chunks of ``n`` (tensors along Julia's last dim)."""
    if isinstance(xs, torch.Tensor):
        return [xs[i:i + n] for i in range(0, xs.shape[0], n)]
    items = list(xs)
    return [items[i:i + n] for i in range(0, len(items), n)]


def repeated(x, n=None):
    return itertools.repeat(x) if n is None else itertools.repeat(x, n)


def take(xs, n):
    return itertools.islice(xs, n)


def drop(xs, n):
    return itertools.islice(xs, n, None)


def cycle(xs):
    return itertools.cycle(xs)


def iflatten(xs):
    return itertools.chain.from_iterable(xs)


def iproduct(*xs):
    return (tuple(reversed(t)) for t in itertools.product(*reversed(xs)))


def countfrom(start=1, step=1):
    return itertools.count(start, step)


def peel(xs):
    it = iter(xs)
    return next(it), it


def last_of(*xs):
    return xs[-1]


def nameof(x):
    return getattr(x, "__name__", type(x).__name__)


def summary(x):
    return f"{'×'.join(map(str, reversed(x.shape)))} {type(x).__name__}" if isinstance(x, torch.Tensor) else repr(x)


def ones_(x):
    return x


def setdiff(a, b):
    return [x for x in a if x not in b]


def union(a, b):
    return list(dict.fromkeys(list(a) + list(b)))


def intersect(a, b):
    return [x for x in a if x in b]


def issubset(a, b):
    return all(x in b for x in a)


def sum_(xs):
    return builtins.sum(xs)


def ntuple(f, n):
    return tuple(f(i) for i in range(1, n + 1))


def getproperty(x, name):
    return getattr(x, name)


def hasproperty(x, name):
    return hasattr(x, name)


def Set(xs=()):
    return set(xs)


def isassigned(xs, i):
    return 1 <= i <= len(xs)


zip = builtins.zip


def tuple_(*xs):
    return xs


def struct2dict(obj):
    return {k: getattr(obj, k) for k in type(obj)._fields()} if hasattr(type(obj), "_fields") else dict(vars(obj))


def pairs_(a, b):
    """``a .=> b``: pairs taken elementwise."""
    a = a.tolist() if isinstance(a, torch.Tensor) else list(a)
    b = b.tolist() if isinstance(b, torch.Tensor) else list(b)
    return [(x, y) for x, y in zip(a, b)]


def CircularBuffer(n):
    """DataStructures' CircularBuffer: the newest n items."""
    import collections
    return collections.deque(maxlen=n)
