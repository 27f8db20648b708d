"""Observations of a data container (MLUtils.jl): ``numobs``, ``getobs``, ``shuffleobs``, ``splitobs``.

A data container is a tensor, numpy array or list, or a tuple, namedtuple or dict
of them; observations run along the first dimension (batch first). ``DataLoader``
draws its batches with the same functions.
"""
import numpy as np
import torch

__all__ = ["numobs", "getobs", "shuffleobs", "splitobs"]


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _is_array(x):
    return isinstance(x, (torch.Tensor, np.ndarray))


def _sources(data, path="data"):
    """(path, array-like) for every leaf of a tuple/dict data container."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _sources(v, f"{path}[{k!r}]")
    elif isinstance(data, tuple):
        names = data._fields if _is_namedtuple(data) else range(len(data))
        for k, v in zip(names, data):
            yield from _sources(v, f"{path}.{k}" if _is_namedtuple(data) else f"{path}[{k}]")
    else:
        yield path, data


def _numobs(path, x):
    if _is_array(x):
        if x.ndim == 0:
            raise ValueError(f"{path} is a 0-dim array, which has no observations; "
                             "give arrays with the observations along the first dimension")
        return x.shape[0]
    try:
        return len(x)
    except TypeError:
        raise TypeError(f"{path} is a {type(x).__name__}, which has no observations; "
                        "expected a tensor, numpy array, list, or a tuple or dict of them") from None


def _getobs(data, idx):
    """Observations ``idx`` (a slice, an index tensor, or an int) of ``data``."""
    if isinstance(data, dict):
        return {k: _getobs(v, idx) for k, v in data.items()}
    if isinstance(data, tuple):
        parts = [_getobs(v, idx) for v in data]
        return type(data)(*parts) if _is_namedtuple(data) else tuple(parts)
    if isinstance(data, torch.Tensor):
        if isinstance(idx, torch.Tensor):  # index_select: far faster than x[idx] here
            return data.index_select(0, idx.to(data.device))
        return data[idx]
    if isinstance(data, np.ndarray):
        return data[idx.numpy() if isinstance(idx, torch.Tensor) else idx]
    getter = getattr(type(data), "_getobs", None)  # lazy containers: ObsView, mapobs, BatchView...
    if getter is not None:
        return getter(data, idx)
    if isinstance(idx, int):
        return data[idx]
    rng = idx.tolist() if isinstance(idx, torch.Tensor) else range(*idx.indices(len(data)))
    return [data[i] for i in rng]



def numobs(data, fname="numobs"):
    """The number of observations of ``data`` (its first dimension; ``MLUtils.numobs``).

    Every array of a tuple or dict must hold the same number.

    >>> numobs((torch.zeros(5, 3), torch.zeros(5)))
    5
    """
    found = [(p, _numobs(f"{fname}: {p}", x)) for p, x in _sources(data)]
    for p, n in found[1:]:
        if n != found[0][1]:
            p0, n0 = found[0]
            raise ValueError(
                f"{fname}: all arrays must hold the same number of observations (their "
                f"first dimension: batch first), but {p0} has {n0} and {p} has {n}. Data in "
                "Flux's layout (features × N) needs transposing, e.g. x.T")
    return found[0][1] if found else 0


def getobs(data, idx=None):
    """Observation(s) ``idx`` of ``data``: an int, a slice, or a list/tensor of 0-based
    indices (``MLUtils.getobs``, 1-based there). Without ``idx``, all observations (a lazy
    container such as an ``ObsView`` or ``mapobs`` result is materialised).

    >>> getobs({"x": torch.arange(6).reshape(3, 2), "y": [10, 20, 30]}, [2, 0])
    {'x': tensor([[4, 5],
            [0, 1]]), 'y': [30, 10]}
    """
    if idx is None:
        idx = slice(None)
    if isinstance(idx, (list, range)) or (isinstance(idx, np.ndarray) and idx.ndim == 1):
        idx = torch.as_tensor(list(idx) if isinstance(idx, range) else idx, dtype=torch.long)
    return _getobs(data, idx)


def _generator(fname, rng, first=None):
    """``rng`` as a ``torch.Generator`` (or None); refuses Julia's leading-rng call form."""
    if isinstance(first, torch.Generator):
        raise TypeError(f"{fname} takes the random generator as the keyword rng=, not as its first "
                        f"argument (Julia's {fname}(rng, data, ...)): write {fname}(data, ..., rng=rng)")
    if rng is None or isinstance(rng, torch.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return torch.Generator().manual_seed(int(rng))
    raise TypeError(f"{fname}: rng must be a torch.Generator or an int seed, but got "
                    f"{type(rng).__name__}")


def shuffleobs(data, rng=None):
    """``data`` with its observations in a random order (``MLUtils.shuffleobs``); ``rng``
    is a ``torch.Generator`` or an int seed.

    >>> sorted(shuffleobs(torch.arange(5), rng=0).tolist())
    [0, 1, 2, 3, 4]
    """
    rng = _generator("shuffleobs", rng, data)
    return _getobs(data, torch.randperm(numobs(data, "shuffleobs"), generator=rng))


def splitobs(data, at=0.7, shuffle=False, rng=None):
    """Split ``data`` into consecutive parts (``MLUtils.splitobs``): ``at`` is the fraction
    of the first part, or a tuple of fractions for more parts; the last takes the rest.
    Each part holds ``round(at * n)`` observations, as in MLUtils.

    >>> train, test = splitobs(torch.arange(10), at=0.7)
    >>> train.tolist(), test.tolist()
    ([0, 1, 2, 3, 4, 5, 6], [7, 8, 9])
    >>> [len(p) for p in splitobs(list(range(10)), at=(0.5, 0.3))]
    [5, 3, 2]
    """
    fractions = at if isinstance(at, (tuple, list)) else (at,)
    if any(not 0 <= a <= 1 for a in fractions) or sum(fractions) > 1:
        raise ValueError(f"splitobs: at must be fractions in [0, 1] adding up to at most 1, "
                         f"but got {at!r}")
    if shuffle:
        data = shuffleobs(data, rng)
    n = numobs(data, "splitobs")
    edges, start = [], 0
    for a in fractions:
        stop = min(start + int(round(a * n)), n)
        edges.append((start, stop))
        start = stop
    edges.append((start, n))
    return tuple(_getobs(data, slice(lo, hi)) for lo, hi in edges)
