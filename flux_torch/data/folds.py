"""Cross-validation folds (MLUtils.jl's ``kfolds`` and ``leavepout``), 0-based.

Given an int ``n`` they return index lists; given data, a lazy sequence of
``(train, validation)`` pairs of ``obsview``s, one per fold, built when it is reached.
Folds are consecutive blocks (no shuffling: use ``shuffleobs`` first for random folds);
when ``k`` does not divide ``n``, the first ``n % k`` folds hold one observation more.
"""
import operator

import numpy as np

from .dataloader import _summary
from .observations import numobs
from .views import obsview

__all__ = ["kfolds", "leavepout"]


def _int(x, name, fname):
    try:
        return operator.index(x)
    except TypeError:
        raise TypeError(f"{fname}: {name} must be an int, but got {type(x).__name__}") from None


def _is_count(data):
    return isinstance(data, (int, np.integer)) and not isinstance(data, (bool, np.bool_))


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


def kfolds(data, k=5):
    """The ``k`` train/validation repartitions of ``data`` (``MLUtils.kfolds``): each
    observation is in the validation part of exactly one fold.

    ``kfolds(n, k)`` for an int ``n`` returns ``(train_indices, val_indices)``: two lists of
    ``k`` 0-based index vectors (lists for training, ranges for validation). ``kfolds(data, k)``
    returns a lazy sequence of ``k`` pairs ``(train, val)`` of ``obsview(data, ...)``; for a
    tensor, ``val`` is a view of it and ``train`` a copy of the rest.

    >>> from flux_torch.data.folds import kfolds
    >>> train_idx, val_idx = kfolds(10, 5)
    >>> train_idx[1]
    [0, 1, 4, 5, 6, 7, 8, 9]
    >>> val_idx
    [range(0, 2), range(2, 4), range(4, 6), range(6, 8), range(8, 10)]
    >>> [(len(tr), len(va)) for tr, va in kfolds(torch.arange(7), k=3)]
    [(4, 3), (5, 2), (5, 2)]
    """
    if _is_count(data):
        return _fold_indices(int(data), k, "kfolds")
    n = numobs(data, "kfolds")
    train, val = _fold_indices(n, k, "kfolds")
    return _Folds(data, train, val, f"kfolds({_summary(data)}, k={len(val)})")


def _p_to_k(n, p, fname):
    p = _int(p, "p", fname)
    if not 1 <= p <= n // 2:
        raise ValueError(f"{fname}: p must lie within 1..n // 2, i.e. 1..{n // 2} for n = {n} "
                         f"observations (at least two folds), but got p={p}")
    return n // p


def leavepout(data, p=1):
    """Folds whose validation parts hold about ``p`` observations each (``MLUtils.leavepout``):
    ``kfolds`` with ``k = n // p``, so a part holds ``p`` or more observations when ``p`` does
    not divide ``n``. ``p=1`` is leave-one-out. An int ``n`` gives index lists, as ``kfolds``.

    >>> from flux_torch.data.folds import leavepout
    >>> train_idx, val_idx = leavepout(10, 2)
    >>> val_idx
    [range(0, 2), range(2, 4), range(4, 6), range(6, 8), range(8, 10)]
    >>> [list(va) for tr, va in leavepout(["a", "b", "c"])]
    [['a'], ['b'], ['c']]
    """
    if _is_count(data):
        n = int(data)
        return _fold_indices(n, _p_to_k(n, p, "leavepout"), "leavepout")
    n = numobs(data, "leavepout")
    train, val = _fold_indices(n, _p_to_k(n, p, "leavepout"), "leavepout")
    return _Folds(data, train, val, f"leavepout({_summary(data)}, p={p})")
