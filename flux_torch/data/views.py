"""Lazy views of a data container (MLUtils.jl's ``ObsView``/``obsview`` and
``BatchView``/``batchsize``), batch first and 0-based.

A view stores its data and which observations it spans; nothing is copied until
``getobs`` (or indexing) asks for observations, and a view of a view stays one view.
Tensors and numpy arrays are the exception, as in MLUtils (where ``obsview`` of an
array is a ``SubArray``): ``obsview`` of an array is an array, a true view for a range
or slice of observations, an indexed copy for an arbitrary list of indices.

The lazy containers here and in :mod:`.transforms` are data containers themselves:
``numobs`` is their ``len``, ``getobs`` calls their ``_getobs``.
"""
import operator
import warnings
from typing import Any

import numpy as np
import torch

from .batching import _collated
from .dataloader import DataLoader
from .indices import _check_int, _compose, _data_index, _index, _positions
from .observations import _count_obs, _getobs, _is_array, _is_namedtuple, _summary, getobs_

__all__ = ["ObsView", "obsview", "BatchView", "batchsize"]


class _DataContainer:
    """Indexing and iteration of the lazy containers: ``c[i]`` is an observation, ``c[idxs]``
    the batch of observations ``idxs`` (what ``getobs(c, i)`` gives). Subclasses define
    ``__len__`` and ``_get(pos)`` for an int, a range or a non-negative index tensor."""

    def _getobs(self, idx):
        return self._get(_positions(idx, len(self), type(self).__name__))

    def __getitem__(self, idx):
        return self._getobs(idx)

    def __iter__(self):
        for i in range(len(self)):
            yield self._get(i)


class ObsView(_DataContainer):
    """A lazy view of the observations ``indices`` (0-based; all by default) of ``data``
    (``MLUtils.ObsView``). ``len`` and ``numobs`` count its observations; ``v[i]`` and
    iteration give single observations, ``v[2:5]`` or ``v[[3, 0]]`` a narrower view (as
    ``obsview`` of the data), ``getobs(v, idx)`` observations of the view and ``getobs(v)``
    all of them. ``v.data`` is the underlying data, ``v.indices`` the positions in it (a
    ``range`` or an index tensor); a view of a view is a view of the underlying data.

    >>> v = ObsView(torch.arange(10) * 10, range(2, 8))
    >>> len(v), v[0], v[-1]
    (6, tensor(20), tensor(70))
    >>> getobs(v, [3, 0])
    tensor([50, 20])
    >>> w = ObsView(v, [4, 1]); w
    ObsView(<Tensor (10,) int64>, [6, 3])  # 2 observations
    >>> [int(x) for x in w]
    [60, 30]
    """

    def __init__(self, data, indices=None):
        base = None
        if isinstance(data, ObsView):
            base, data = data.indices, data.data
        n = _count_obs(data, "ObsView") if base is None else len(base)
        pos = range(n) if indices is None else _positions(indices, n, "ObsView")
        if isinstance(pos, int):
            raise TypeError("ObsView: indices must be a range, a slice or a list of 0-based "
                            f"indices, but got the single index {indices!r}; one observation "
                            "is getobs(data, i)")
        self.data = data
        self.indices = pos if base is None else _compose(base, pos)

    def __len__(self):
        return len(self.indices)

    def _getobs_(self, buffer, idx):
        """``getobs_``: observation(s) ``idx`` of the view, filled from the underlying data."""
        pos = _positions(idx, len(self), "ObsView")
        return getobs_(buffer, self.data, _data_index(_compose(self.indices, pos)))

    def _get(self, pos):
        return _getobs(self.data, _data_index(_compose(self.indices, pos)))

    def __getitem__(self, idx):
        idx = _index(idx, "ObsView")
        if isinstance(idx, int):
            return self._getobs(idx)
        return obsview(self.data, _compose(self.indices, _positions(idx, len(self), "ObsView")))

    def __eq__(self, other):
        if not isinstance(other, ObsView):
            return NotImplemented
        a, b = (torch.as_tensor(list(i)) if isinstance(i, range) else i
                for i in (self.indices, other.indices))
        return self.data is other.data and torch.equal(a, b)

    __hash__ = None

    def __repr__(self):
        ix = self.indices
        if not isinstance(ix, range):
            ix = ix.tolist()
            ix = str(ix) if len(ix) <= 20 else f"[{ix[0]}, {ix[1]}, {ix[2]}, ..., {ix[-1]}]"
        n = len(self)
        return f"ObsView({_summary(self.data)}, {ix})  # {n} observation{'' if n == 1 else 's'}"


def obsview(data: Any, indices: Any = None) -> Any:
    """A lazy view of observations ``indices`` (0-based; all by default) of ``data``
    (``MLUtils.obsview``). A tuple, named tuple or dict gives the same container of views,
    as MLUtils does for tuples. A tensor or numpy array gives an array: a view of it for a
    range or slice, an indexed copy for a list of indices (``torch`` has no lazy gather).
    An int gives that observation. Other data (lists, ``mapobs`` results, ...) gives an
    :class:`ObsView`; a view of an ``ObsView`` is an ``ObsView`` of the underlying data.

    >>> x = torch.arange(12).reshape(6, 2)
    >>> obsview(x, range(1, 3))
    tensor([[2, 3],
            [4, 5]])
    >>> obsview(x, slice(4, None)).add_(100)   # a view: x changes too
    tensor([[108, 109],
            [110, 111]])
    >>> x[5]
    tensor([110, 111])
    >>> obsview((x, ["a", "b", "c", "d", "e", "f"]), [3, 1])
    (tensor([[6, 7],
            [2, 3]]), ObsView(<list of 6>, [3, 1])  # 2 observations)
    """
    if isinstance(data, ObsView):
        return data[indices] if isinstance(indices, (int, np.integer)) else ObsView(data, indices)
    if isinstance(data, (dict, tuple)):
        _count_obs(data, "obsview")
        if isinstance(data, dict):
            return {k: obsview(v, indices) for k, v in data.items()}
        parts = [obsview(v, indices) for v in data]
        return type(data)(*parts) if _is_namedtuple(data) else tuple(parts)
    if _is_array(data):
        if indices is None:
            return data
        return _getobs(data, _data_index(_positions(indices, _count_obs(data, "obsview"), "obsview")))
    idx = _index(indices, "obsview") if indices is not None else None
    if isinstance(idx, int):
        return _getobs(data, _check_int(idx, _count_obs(data, "obsview"), "obsview"))
    return ObsView(data, indices)


class BatchView(_DataContainer):
    """``data`` seen as a sequence of batches of ``batchsize`` observations
    (``MLUtils.BatchView``); nothing is fetched until a batch is indexed or iterated.

    - ``len(bv)`` (and ``numobs(bv)``) is the number of batches; ``bv[i]`` (0-based) and
      iteration give batches; ``bv[[0, 2]]`` or ``bv[1:3]`` give ONE batch holding the
      observations of those batches, as MLUtils does for a vector of batch indices.
    - ``partial=False`` drops the last, smaller batch.
    - ``collate``: ``None`` (a batch is ``getobs(data, indices)``), ``False`` (a list of
      single observations), ``True`` (:func:`batch` of that list) or a function of that list.
    - Fewer observations than ``batchsize`` warn and shrink the batch size, as in MLUtils.

    >>> bv = BatchView(torch.arange(10), batchsize=4); bv
    BatchView(<Tensor (10,) int64>, batchsize=4, partial=True)  # 3 batches
    >>> list(bv)
    [tensor([0, 1, 2, 3]), tensor([4, 5, 6, 7]), tensor([8, 9])]
    >>> len(BatchView(torch.arange(10), batchsize=4, partial=False))
    2
    >>> bv[[0, 2]]
    tensor([0, 1, 2, 3, 8, 9])
    >>> BatchView(([1, 2, 3], [4, 5, 6]), batchsize=2, collate=True)[0]
    (tensor([1, 2]), tensor([4, 5]))
    """

    def __init__(self, data, batchsize=1, partial=True, collate=None):
        try:
            bs = operator.index(batchsize)
        except TypeError:
            raise TypeError(f"BatchView: batchsize must be an int, but got "
                            f"{type(batchsize).__name__}") from None
        if bs < 1:
            raise ValueError(f"BatchView: batchsize must be at least 1, but got {bs}; for single "
                             "observations iterate over the data (or obsview(data)) instead")
        if collate not in (None, True, False) and not callable(collate):
            raise ValueError(f"BatchView: collate must be None, True, False or a function of a "
                             f"list of observations, but got {collate!r}")
        n = _count_obs(data, "BatchView")
        if 0 < n < bs:
            warnings.warn(f"BatchView: the data has {n} observations, fewer than batchsize={bs}; "
                          f"decreasing the batch size to {n}", stacklevel=2)
            bs = n
        self.data = data
        self.batchsize = bs
        self.partial = bool(partial)
        self.collate = collate
        self.count = -(-n // bs) if self.partial else n // bs
        self._n = n

    def __len__(self):
        return self.count

    def _observations(self, b):
        start = b * self.batchsize
        return range(start, min(start + self.batchsize, self._n))

    def _get(self, pos):
        if isinstance(pos, int):
            return self._collate(self._observations(pos))
        seen = dict.fromkeys(i for b in pos for i in self._observations(int(b)))  # union, in order
        obs = list(seen)
        if obs and obs[-1] - obs[0] + 1 == len(obs) and obs == list(range(obs[0], obs[-1] + 1)):
            return self._collate(range(obs[0], obs[-1] + 1))
        return self._collate(obs)

    def _getobs_(self, buffer, idx):
        """``getobs_``: batch ``idx`` into ``buffer`` (one buffer per observation where the
        view collates, as MLUtils' ``getobs!``)."""
        pos = _positions(idx, len(self), "BatchView")
        if not isinstance(pos, int):  # several batches make one: nothing to fill in place
            return self._get(pos)
        obs = self._observations(pos)
        if self.collate is None:
            return getobs_(buffer, self.data, _data_index(obs))
        return _collated(self.collate, [getobs_(b, self.data, i) for b, i in zip(buffer, obs)])

    def _collate(self, obs):
        if self.collate is None:
            idx = _data_index(obs) if isinstance(obs, range) else torch.tensor(obs, dtype=torch.long)
            return _getobs(self.data, idx)
        return _collated(self.collate, [_getobs(self.data, i) for i in obs])

    def __repr__(self):
        return (f"BatchView({_summary(self.data)}, batchsize={self.batchsize}, "
                f"partial={self.partial})  # {self.count} batches")


def batchsize(x: Any) -> int:
    """The fixed number of observations per batch of a :class:`BatchView` (or a
    ``DataLoader``) (``MLUtils.batchsize``).

    >>> batchsize(BatchView(torch.zeros(150, 4), batchsize=30))
    30
    """
    if isinstance(x, (BatchView, DataLoader)):
        return x.batchsize
    raise TypeError(f"batchsize expects a BatchView or a DataLoader, but got {type(x).__name__}")
