"""Runtime: Julia's random numbers on torch's generator (values differ from Julia's).

>>> from flux_torch.port import runtime as jl
>>> _ = jl.seed_(0)
>>> x = jl.rand(jl.Float32, 3, 2)                    # Julia's 3×2 Float32 matrix
>>> tuple(x.shape), x.dtype, sorted(jl.randperm(3).tolist())
((2, 3), torch.float32, [1, 2, 3])
"""
from __future__ import annotations

import builtins
import random

import torch

from .rt_arrays import tensor, vect
from .rt_ranges import JRange

__all__ = ["seed_", "shuffle", "shuffle_", "randperm", "rand", "randn", "sample", "wsample",
           "MersenneTwister", "default_rng", "randsubseq", "bitrand", "countmap", "statmode",
           "zscore", "Weights", "randn_", "rand_"]


def seed_(*args):
    seed = args[-1] if args else 0
    if isinstance(seed, torch.Generator):
        return seed
    torch.manual_seed(seed)
    random.seed(seed)
    return None


def MersenneTwister(seed=0):
    return torch.Generator().manual_seed(seed)


def default_rng():
    return torch.default_generator


def _rng(args):
    if args and isinstance(args[0], torch.Generator):
        return args[0], args[1:]
    return None, args


def shuffle(*args):
    rng, (xs,) = _rng(args)
    if isinstance(xs, torch.Tensor):
        return xs[torch.randperm(xs.shape[0], generator=rng)]
    items = list(xs)
    perm = torch.randperm(len(items), generator=rng).tolist()
    out = [items[i] for i in perm]
    return vect(*out) if isinstance(xs, JRange) else out


def shuffle_(*args):
    rng, (xs,) = _rng(args)
    out = shuffle(*(([rng] if rng else []) + [xs]))
    xs[:] = out
    return xs


def randperm(*args):
    rng, (n,) = _rng(args)
    return torch.randperm(n, generator=rng) + 1


def _float_dtype(args):
    from .rt_types import JuliaType
    if args and isinstance(args[0], JuliaType):
        return args[0], args[1:]
    return None, args


def rand(*args):
    """Julia's rand: a Float64 number, an array of sizes, or picks from a collection."""
    rng, args = _rng(args)
    if args and isinstance(args[0], torch.distributions.Distribution):   # rand(Uniform(a, b), dims...)
        shape = tuple(reversed(args[1:]))
        out = args[0].sample(shape).double()
        return builtins.float(out) if not shape else out
    t, args = _float_dtype(args)
    if len(args) == 1 and isinstance(args[0], (tuple, list)) and builtins.all(isinstance(a, int) for a in args[0]):
        args = tuple(args[0]) if isinstance(args[0], tuple) else args
    if args and not isinstance(args[0], int):             # rand(collection[, n])
        items = list(args[0])
        if len(args) == 1:
            return items[int(torch.randint(len(items), (), generator=rng))]
        idx = torch.randint(len(items), tuple(reversed(args[1:])), generator=rng)
        picked = vect(*[items[i] for i in idx.reshape(-1).tolist()])
        return picked.reshape(idx.shape) if isinstance(picked, torch.Tensor) else picked
    dtype = t.dtype if t is not None and t.dtype is not None else torch.float64
    if not args:
        if t is not None and t.name == "Bool":
            return bool(torch.rand((), generator=rng) < 0.5)
        return builtins.float(torch.rand((), generator=rng, dtype=torch.float64))
    if dtype == torch.bool:
        return torch.rand(tuple(reversed(args)), generator=rng) < 0.5
    return torch.rand(tuple(reversed(args)), generator=rng, dtype=dtype)


def randn(*args):
    rng, args = _rng(args)
    t, args = _float_dtype(args)
    if len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    dtype = t.dtype if t is not None and t.dtype is not None else torch.float64
    if not args:
        return builtins.float(torch.randn((), generator=rng, dtype=torch.float64))
    return torch.randn(tuple(reversed(args)), generator=rng, dtype=dtype)


def bitrand(*dims):
    return torch.rand(tuple(reversed(dims))) < 0.5


def randsubseq(xs, p):
    return [x for x in xs if random.random() < p]


def sample(*args, replace=True):
    rng, args = _rng(args)
    items = list(args[0])
    if len(args) == 1:
        return items[int(torch.randint(len(items), (), generator=rng))]
    n = args[1]
    if replace:
        return [items[int(i)] for i in torch.randint(len(items), (n,), generator=rng)]
    return [items[int(i)] for i in torch.randperm(len(items), generator=rng)[:n]]


def wsample(items, weights, n=None):
    w = tensor(weights).double()
    idx = torch.multinomial(w / w.sum(), 1 if n is None else n, replacement=True)
    items = list(items)
    return items[int(idx[0])] if n is None else [items[int(i)] for i in idx]


def Weights(w):
    return w


def countmap(xs):
    out = {}
    for x in (xs.tolist() if isinstance(xs, torch.Tensor) else xs):
        out[x] = out.get(x, 0) + 1
    return out


def statmode(xs):
    counts = countmap(xs)
    return max(counts, key=counts.get)


def zscore(x, *args):
    x = tensor(x).double()
    return (x - x.mean()) / x.std()


def randn_(*args):
    x = args[-1]
    rng = args[0] if len(args) == 2 else None
    x.copy_(torch.randn(x.shape, generator=rng, dtype=x.dtype))
    return x


def rand_(*args):
    x = args[-1]
    rng = args[0] if len(args) == 2 else None
    x.copy_(torch.rand(x.shape, generator=rng, dtype=x.dtype))
    return x
