"""Splitting a data container (MLUtils.jl): ``shuffleobs``, ``splitobs`` and the
cross-validation folds ``kfolds`` and ``leavepout``, 0-based and batch first.

``splitobs`` cuts consecutive parts (optionally after a shuffle, optionally per class so
that every part keeps the class proportions); ``kfolds`` gives ``k`` train/validation
repartitions, each observation in exactly one validation part. Given an int ``n`` they
return 0-based index ranges or lists; given data, the parts themselves (``splitobs``) or a
lazy sequence of ``(train, validation)`` pairs of ``obsview``s (``kfolds``). Random draws
take ``rng=``: a ``torch.Generator``, a ``numpy.random.Generator`` or an int seed.
"""
import operator
from typing import Any, Iterable, Sequence, Tuple, Union

import numpy as np
import torch

from .indices import _generator, _randperm
from .observations import _count_obs, _getobs, _numobs, _summary, numobs
from .resampling import group_indices
from .views import obsview
from .._types import DataRNG

__all__ = ["shuffleobs", "splitobs", "kfolds", "leavepout"]


def _int(x, name, fname):
    try:
        return operator.index(x)
    except TypeError:
        raise TypeError(f"{fname}: {name} must be an int, but got {type(x).__name__}") from None


def _is_count(data):
    return isinstance(data, (int, np.integer)) and not isinstance(data, (bool, np.bool_))


def shuffleobs(data: Any, rng: DataRNG = None) -> Any:
    """``data`` with its observations in a random order (``MLUtils.shuffleobs``); every
    array of a tuple or dict is permuted alike.

    >>> sorted(shuffleobs(torch.arange(5), rng=0).tolist())
    [0, 1, 2, 3, 4]
    """
    rng = _generator("shuffleobs", rng, data, numpy=True)
    return _getobs(data, _randperm(_count_obs(data, "shuffleobs"), rng))


def _fractions(n, at):
    """``at`` as a tuple of fractions of ``n`` (ints count observations, as in MLUtils)."""
    parts = at if isinstance(at, (tuple, list)) else (at,)
    out = []
    for a in parts:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, float, np.integer, np.floating)):
            raise TypeError(f"splitobs: at must be a fraction, a number of observations, or a tuple "
                            f"of them, but got {at!r}")
        out.append(a / n if _is_count(a) and n else float(a))
    if any(not 0 <= a <= 1 for a in out) or sum(out) > 1 + 1e-12:
        raise ValueError(f"splitobs: at must be fractions in [0, 1] (or numbers of observations) "
                         f"adding up to at most all of them, but got {at!r} for {n} observations")
    return tuple(out)


def _split_ranges(n, at):
    """Consecutive ranges cutting ``range(n)`` at the fractions ``at``: each part holds
    ``round(a * n)`` observations (ties to even, as Julia's ``round``), the last the rest."""
    if not at:
        return (range(0, n),)
    n1 = min(round(n * at[0]), n)
    m = n - n1
    rest = _split_ranges(m, tuple(a * n / m for a in at[1:])) if m else (range(0, 0),) * len(at)
    return (range(0, n1),) + tuple(range(n1 + r.start, n1 + r.stop) for r in rest)


def _labels(fname, labels, n, perm):
    m = _numobs(f"{fname}: stratified", labels)
    if m != n:
        raise ValueError(f"{fname}: stratified must hold one label per observation, but the data "
                         f"has {n} observations and stratified has {m}")
    if perm is None:
        return labels
    return _getobs(labels, perm) if not isinstance(labels, (list, tuple, range)) else [
        labels[i] for i in perm.tolist()]


def splitobs(data: Any, at: Union[float, int, Sequence[float]] = 0.7, shuffle: bool = False,
             rng: DataRNG = None, stratified: Any = None) -> Tuple[Any, ...]:
    """Split ``data`` into consecutive parts (``MLUtils.splitobs``). ``at`` is the fraction of
    the first part, or a number of observations, or a tuple of them for more parts; the last
    part takes the rest. A part holds ``round(at * n)`` observations, as in MLUtils.

    ``shuffle=True`` permutes the observations first (``rng`` as for ``shuffleobs``).
    ``stratified``, one class label per observation, splits every class separately, so each
    part keeps the class proportions (parts list the classes in sorted order). ``splitobs(n)``
    for an int ``n`` gives 0-based index ranges.

    >>> splitobs(10, at=(0.5, 0.3))
    (range(0, 5), range(5, 8), range(8, 10))
    >>> train, test = splitobs(torch.arange(10), at=0.7)
    >>> train.tolist(), test.tolist()
    ([0, 1, 2, 3, 4, 5, 6], [7, 8, 9])
    >>> splitobs(list(range(10)), at=0.5, stratified=[0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    ([0, 1, 4, 5, 6], [2, 3, 7, 8, 9])
    """
    count = _is_count(data)
    n = int(data) if count else _count_obs(data, "splitobs")
    at = _fractions(n, at)
    if count and not shuffle and stratified is None:
        return _split_ranges(n, at)
    if count:
        data = range(n)
    perm = _randperm(n, _generator("splitobs", rng, data, numpy=True)) if shuffle else None
    if stratified is None:
        parts = [slice(r.start, r.stop) if perm is None else perm[r.start:r.stop]
                 for r in _split_ranges(n, at)]
        return tuple(_getobs(data, p) for p in parts)
    labels = _labels("splitobs", stratified, n, perm)
    parts = [[] for _ in range(len(at) + 1)]
    for idxs in group_indices(labels).values():
        for part, r in zip(parts, _split_ranges(len(idxs), at)):
            part.extend(idxs[r.start:r.stop])
    parts = [torch.tensor(p, dtype=torch.long) for p in parts]
    return tuple(_getobs(data, p if perm is None else perm[p]) for p in parts)


def _fold_indices(n, k, fname):
    k = _int(k, "k", fname)
    if not 2 <= k <= n:
        raise ValueError(f"{fname}: k must lie within 2..n, i.e. 2..{max(2, n)} for n = {n} "
                         f"observations (every fold needs one), but got k={k}")
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    val, start = [], 0
    for s in sizes:
        val.append(range(start, start + s))
        start += s
    train = [list(range(0, v.start)) + list(range(v.stop, n)) for v in val]
    return train, val


def _stratified_folds(labels, n, k):
    """Folds whose validation parts each take 1/k of every class (MLUtils' stratified kfolds)."""
    val = [[] for _ in range(_int(k, "k", "kfolds"))]
    for label, idxs in group_indices(labels).items():
        if not 2 <= k <= len(idxs):
            raise ValueError(f"kfolds: k={k} must lie within 2..{len(idxs)} for stratified folds: "
                             f"class {label!r} has {len(idxs)} observations, one per fold needed")
        for part, r in zip(val, _fold_indices(len(idxs), k, "kfolds")[1]):
            part.extend(idxs[r.start:r.stop])
    val = [sorted(v) for v in val]
    train = [sorted(set(range(n)).difference(v)) for v in val]
    return train, val


class _Folds:
    """The ``(train, val)`` views of each fold of ``data``, made when indexed or reached."""

    def __init__(self, data, train, val, label):
        self.data, self.train, self.val, self.label = data, train, val, label

    def __len__(self):
        return len(self.val)

    def __getitem__(self, i):
        return obsview(self.data, self.train[i]), obsview(self.data, self.val[i])

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        return f"{self.label}  # {len(self)} folds of {numobs(self.data)} observations"


def kfolds(data: Any, k: int = 5, *, shuffle: bool = False, stratified: Any = None,
           rng: DataRNG = None) -> Iterable[Tuple[Any, Any]]:
    """The ``k`` train/validation repartitions of ``data`` (``MLUtils.kfolds``): each
    observation is in the validation part of exactly one fold. Folds are consecutive blocks
    (the first ``n % k`` one larger) unless ``shuffle=True`` assigns observations at random
    (``rng`` as for ``shuffleobs``); ``stratified``, one class label per observation, makes
    every validation part keep the class proportions (each class needs ``k`` observations).

    ``kfolds(n, k)`` for an int ``n`` returns ``(train_indices, val_indices)``: two lists of
    ``k`` 0-based index vectors (lists for training, ranges for validation). ``kfolds(data, k)``
    returns a lazy sequence of ``k`` pairs ``(train, val)`` of ``obsview(data, ...)``; for a
    tensor, ``val`` is a view of it and ``train`` a copy of the rest.

    >>> train_idx, val_idx = kfolds(10, 5)
    >>> train_idx[1]
    [0, 1, 4, 5, 6, 7, 8, 9]
    >>> val_idx
    [range(0, 2), range(2, 4), range(4, 6), range(6, 8), range(8, 10)]
    >>> [(len(tr), len(va)) for tr, va in kfolds(torch.arange(7), k=3)]
    [(4, 3), (5, 2), (5, 2)]
    >>> [va.tolist() for tr, va in kfolds(torch.arange(6), 2, stratified=[0, 0, 1, 1, 1, 1])]
    [[0, 2, 3], [1, 4, 5]]
    """
    if _is_count(data):
        if shuffle or stratified is not None:
            raise TypeError("kfolds(n, k) gives index lists; shuffle= and stratified= apply to "
                            "data: write kfolds(range(n), k, ...)")
        return _fold_indices(int(data), k, "kfolds")
    n = _count_obs(data, "kfolds")
    perm = _randperm(n, _generator("kfolds", rng, data, numpy=True)) if shuffle else None
    if stratified is None:
        train, val = _fold_indices(n, k, "kfolds")
    else:
        train, val = _stratified_folds(_labels("kfolds", stratified, n, perm), n, k)
    if perm is not None:
        train = [perm[torch.tensor(t, dtype=torch.long)].tolist() for t in train]
        val = [perm[torch.tensor(list(v), dtype=torch.long)].tolist() for v in val]
    return _Folds(data, train, val, f"kfolds({_summary(data)}, k={len(val)})")


def _p_to_k(n, p, fname):
    p = _int(p, "p", fname)
    if not 1 <= p <= n // 2:
        raise ValueError(f"{fname}: p must lie within 1..n // 2, i.e. 1..{n // 2} for n = {n} "
                         f"observations (at least two folds), but got p={p}")
    return n // p


def leavepout(data: Any, p: int = 1) -> Iterable[Tuple[Any, Any]]:
    """Folds whose validation parts hold about ``p`` observations each (``MLUtils.leavepout``):
    ``kfolds`` with ``k = n // p``, so a part holds ``p`` or more observations when ``p`` does
    not divide ``n``. ``p=1`` is leave-one-out. An int ``n`` gives index lists, as ``kfolds``.

    >>> train_idx, val_idx = leavepout(10, 2)
    >>> val_idx
    [range(0, 2), range(2, 4), range(4, 6), range(6, 8), range(8, 10)]
    >>> [list(va) for tr, va in leavepout(["a", "b", "c"])]
    [['a'], ['b'], ['c']]
    """
    if _is_count(data):
        n = int(data)
        return _fold_indices(n, _p_to_k(n, p, "leavepout"), "leavepout")
    n = _count_obs(data, "leavepout")
    train, val = _fold_indices(n, _p_to_k(n, p, "leavepout"), "leavepout")
    return _Folds(data, train, val, f"leavepout({_summary(data)}, p={p})")
