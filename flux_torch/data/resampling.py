"""Random observations and class rebalancing (MLUtils.jl): ``randobs``,
``group_counts``, ``group_indices``, ``oversample``, ``undersample``.

Observations run along the first dimension (batch first) and indices are
0-based. Data containers are those of :mod:`.observations`
(tensors, numpy arrays, lists, and tuples/dicts of them); the results are
materialised with ``getobs`` where MLUtils returns lazy ``obsview``s. Random
draws take ``rng=``: a ``torch.Generator`` or an int seed, as ``shuffleobs``.
"""
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch

from .indices import _generator
from .observations import _count_obs, _getobs, _numobs
from .._types import DataRNG

__all__ = ["randobs", "group_counts", "group_indices", "oversample", "undersample"]


def _device(rng):
    return rng.device if rng is not None else torch.device("cpu")


def _codes(fname, classes):
    """(keys, codes): the distinct values of ``classes`` (sorted where they can be) and,
    for every observation, the position of its value among ``keys``."""
    if isinstance(classes, np.ndarray):
        keys, codes = np.unique(classes.reshape(-1), return_inverse=True)
        return keys.tolist(), torch.from_numpy(codes.reshape(-1).astype(np.int64))
    if isinstance(classes, torch.Tensor):
        keys, codes = torch.unique(classes.reshape(-1), sorted=True, return_inverse=True)
        return keys.tolist(), codes.cpu()
    try:
        classes = list(classes)
        keys = list(dict.fromkeys(classes))
    except TypeError:
        raise TypeError(f"{fname}: expected a tensor, numpy array or list of hashable class labels, "
                        f"but got {type(classes).__name__} (or unhashable elements in it)") from None
    try:
        keys = sorted(keys)
    except TypeError:
        pass  # mixed, unorderable labels keep their first-appearance order
    pos = {k: i for i, k in enumerate(keys)}
    return keys, torch.tensor([pos[c] for c in classes], dtype=torch.long)


def _vector(fname, classes):
    if isinstance(classes, (torch.Tensor, np.ndarray)) and classes.ndim != 1:
        raise ValueError(f"{fname} expects the classes as a vector, one label per observation, but "
                         f"got an array of shape {tuple(classes.shape)}; for one-hot labels "
                         "(N, classes) pass onecold(y)")
    return classes


def _groups(codes, nkeys):
    """The 0-based indices of each class, in order of appearance."""
    order = torch.argsort(codes, stable=True)
    return list(torch.split(order, torch.bincount(codes, minlength=nkeys).tolist()))


def group_counts(x: Iterable[Any]) -> Dict[Any, int]:
    """How many times each value of ``x`` occurs, as a dict value -> count
    (``MLUtils.group_counts``). Tensor and numpy values become Python numbers.

    >>> group_counts(['a', 'b', 'b'])
    {'a': 1, 'b': 2}
    >>> group_counts(torch.tensor([3, 1, 3, 3]))
    {1: 1, 3: 3}
    """
    keys, codes = _codes("group_counts", x)
    return dict(zip(keys, torch.bincount(codes, minlength=len(keys)).tolist()))


def group_indices(classes: Iterable[Any]) -> Dict[Any, List[int]]:
    """The 0-based positions of each distinct value of ``classes``, as a dict
    value -> list of indices (``MLUtils.group_indices``, 1-based there).

    >>> group_indices(['yes', 'no', 'maybe', 'yes'])
    {'maybe': [2], 'no': [1], 'yes': [0, 3]}
    """
    keys, codes = _codes("group_indices", _vector("group_indices", classes))
    return {k: g.tolist() for k, g in zip(keys, _groups(codes, len(keys)))}


def randobs(data: Any, n: Optional[int] = None, *, rng: DataRNG = None) -> Any:
    """A random observation of ``data`` (its first dimension dropped), or a batch of
    ``n`` observations drawn with replacement (``MLUtils.randobs``).

    >>> randobs(torch.zeros(10, 3), rng=0).shape, randobs(torch.zeros(10, 3), 4, rng=0).shape
    (torch.Size([3]), torch.Size([4, 3]))
    """
    rng = _generator("randobs", rng, data)
    total = _count_obs(data, "randobs")
    if total == 0:
        raise ValueError("randobs: data has no observations to draw from")
    if n is None:
        return _getobs(data, int(torch.randint(total, (), generator=rng, device=_device(rng)).cpu()))
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"randobs: n is the number of observations to draw, a non-negative int, "
                         f"but got {n!r}")
    return _getobs(data, torch.randint(total, (int(n),), generator=rng, device=_device(rng)).cpu())


def _labelled(fname, data, classes):
    """(labels, resample): the class of each observation, and a function of the chosen
    indices giving the result in MLUtils' form."""
    if classes is None:
        if not isinstance(data, tuple) or len(data) == 0:
            raise TypeError(f"{fname} needs the class labels: pass {fname}(data, classes), or a tuple "
                            f"(X, ..., y) whose last element holds them; got a {type(data).__name__} "
                            "without classes")
        _count_obs(data, fname)
        return _vector(fname, data[-1]), lambda idx: _getobs(data, idx.cpu())
    n, m = _count_obs(data, fname), _numobs(f"{fname}: classes", classes)
    if n != m:
        raise ValueError(f"{fname}: classes must hold one label per observation, but data has {n} "
                         f"observations (its first dimension: batch first) and classes has {m}")
    return _vector(fname, classes), lambda idx: (_getobs(data, idx.cpu()), _getobs(classes, idx.cpu()))


def _classes(fname, data, classes, rng):
    """What over- and undersampling start from: the generator and its device, each
    observation's class code, the indices of each class, and the function that
    gathers the resampled observations."""
    rng = _generator(fname, rng, data)
    labels, resample = _labelled(fname, data, classes)
    keys, codes = _codes(fname, labels)
    if not keys:
        raise ValueError(f"{fname}: data has no observations to resample")
    dev = _device(rng)
    return rng, dev, codes, [g.to(dev) for g in _groups(codes, len(keys))], resample


def oversample(data: Any, classes: Any = None, *, fraction: float = 1, shuffle: bool = True,
               rng: DataRNG = None) -> Tuple[Any, Any]:
    """Rebalance ``data`` by repeating observations until every class has at least
    ``round(fraction * largest class count)`` of them (``MLUtils.oversample``).

    All original observations are kept; the repeats come from each class in turn,
    whole copies first, then a random subset (the first ones when ``shuffle=False``,
    which also leaves the repeats at the end, sorted by class). Returns
    ``(resampled data, resampled classes)``; with a tuple ``(X, ..., y)`` and no
    ``classes``, ``y`` holds the classes and the result is the resampled tuple.

    >>> X, y = torch.arange(6).reshape(6, 1), ['a', 'b', 'b', 'b', 'b', 'a']
    >>> Xb, yb = oversample(X, y, rng=0)
    >>> Xb.shape, yb.count('a'), yb.count('b')
    (torch.Size([8, 1]), 4, 4)
    """
    rng, dev, codes, groups, resample = _classes("oversample", data, classes, rng)
    target = int(round(fraction * max(len(g) for g in groups)))
    parts = [torch.arange(len(codes), device=dev)]
    for g in groups:
        extra = target - len(g)
        if extra <= 0:
            continue
        copies = (extra - 1) // len(g)  # whole copies, then 1..len(g) more
        parts.append(g.repeat(copies))
        rest = extra - copies * len(g)
        pick = torch.randperm(len(g), generator=rng, device=dev)[:rest] if shuffle else slice(0, rest)
        parts.append(g[pick])
    idx = torch.cat(parts)
    if shuffle:
        idx = idx[torch.randperm(len(idx), generator=rng, device=dev)]
    return resample(idx)


def undersample(data: Any, classes: Any = None, *, shuffle: bool = True,
                rng: DataRNG = None) -> Tuple[Any, Any]:
    """Rebalance ``data`` by keeping, of every class, as many observations as the
    smallest class has (``MLUtils.undersample``).

    With ``shuffle=True`` a random subset of each class is kept, in random order;
    with ``shuffle=False`` the first ones, in their original order. Returns as
    :func:`oversample` does.

    >>> X, y = torch.arange(6).reshape(6, 1), ['a', 'b', 'b', 'b', 'b', 'a']
    >>> Xb, yb = undersample(X, y, shuffle=False)
    >>> Xb.flatten().tolist(), yb
    ([0, 1, 2, 5], ['a', 'b', 'b', 'a'])
    """
    rng, dev, codes, groups, resample = _classes("undersample", data, classes, rng)
    keep = min(len(g) for g in groups)
    if shuffle:
        idx = torch.cat([g[torch.randperm(len(g), generator=rng, device=dev)[:keep]] for g in groups])
        idx = idx[torch.randperm(len(idx), generator=rng, device=dev)]
    else:
        idx = torch.sort(torch.cat([g[:keep] for g in groups])).values
    return resample(idx)
