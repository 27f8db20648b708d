"""Lazy views of observations (MLUtils.jl's ``obsview`` and ``ObsView``), batch first, 0-based.

A view stores its data and which observations it spans; nothing is copied until
``getobs`` (or indexing) asks for observations, and a view of a view stays one view.
Tensors and numpy arrays are the exception, as in MLUtils (where ``obsview`` of an
array is a ``SubArray``): ``obsview`` of an array is an array, a true view for a range
or slice of observations, an indexed copy for an arbitrary list of indices.

The lazy containers here and in :mod:`.obstransform`/:mod:`.batchview` are data
containers themselves: ``numobs`` is their ``len``, ``getobs`` calls their ``_getobs``.
"""
import numpy as np
import torch

from .dataloader import _summary
from .observations import _getobs, _is_array, _is_namedtuple, numobs

__all__ = ["ObsView", "obsview"]


def _index(idx, fname):
    """An observation index as an int, a slice, or a 1-D long tensor (not yet bounds-checked)."""
    if isinstance(idx, (int, np.integer)) and not isinstance(idx, (bool, np.bool_)):
        return int(idx)
    if isinstance(idx, slice):
        return idx
    if isinstance(idx, range):
        return torch.arange(idx.start, idx.stop, idx.step)
    if isinstance(idx, (list, tuple, np.ndarray, torch.Tensor)):
        try:
            t = torch.as_tensor(np.asarray(idx) if isinstance(idx, (list, tuple)) else idx)
        except (TypeError, ValueError, RuntimeError):
            t = torch.zeros(1)  # refused below
        if t.numel() == 0 and t.ndim <= 1:
            return torch.zeros(0, dtype=torch.long)
        if t.ndim == 0 and not t.dtype.is_floating_point and t.dtype != torch.bool:
            return int(t)
        if t.ndim == 1 and not t.dtype.is_floating_point and t.dtype != torch.bool:
            return t.long()
    raise TypeError(f"{fname}: observation indices must be an int, a slice, a range, or a list, "
                    f"array or 1-D tensor of 0-based integer indices, but got {idx!r}")


def _check_int(i, n, fname):
    if not -n <= i < n:
        raise IndexError(f"{fname}: index {i} is out of range for {n} observations "
                         f"(0-based: valid indices are -{n} to {n - 1})")
    return i + n if i < 0 else i


def _wrap(t, n, fname):
    """A long index tensor with negative entries counted from the end, bounds-checked."""
    t = torch.where(t < 0, t + n, t)
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= n):
        bad = t[(t < 0) | (t >= n)][0].item()
        raise IndexError(f"{fname}: index {bad} is out of range for {n} observations "
                         f"(0-based: valid indices are -{n} to {n - 1})")
    return t


def _positions(idx, n, fname):
    """Normalised positions among ``n``: an int, a range (for slices and in-range ranges)
    or a non-negative long tensor."""
    if isinstance(idx, range) and (not idx or (0 <= min(idx[0], idx[-1]) and max(idx[0], idx[-1]) < n)):
        return idx
    idx = _index(idx, fname)
    if isinstance(idx, int):
        return _check_int(idx, n, fname)
    if isinstance(idx, slice):
        return range(*idx.indices(n))
    return _wrap(idx, n, fname)


def _compose(base, sub):
    """``base[sub]`` for normalised positions (``base`` a range or tensor)."""
    if isinstance(sub, int):
        return base[sub] if isinstance(base, range) else int(base[sub])
    if isinstance(base, range):
        if isinstance(sub, range):  # element k: base.start + (sub.start + k*sub.step) * base.step
            return range(base.start + sub.start * base.step, base.start + sub.stop * base.step,
                         sub.step * base.step)
        return base.start + sub * base.step
    if isinstance(sub, range):
        return base[sub.start:sub.stop:sub.step] if sub.step > 0 else base[torch.arange(
            sub.start, sub.stop, sub.step)]
    return base[sub]


def _data_index(pos):
    """Positions as ``_getobs`` takes them: an int, a slice (a view of an array), or a tensor."""
    if isinstance(pos, range):
        return slice(pos.start, pos.stop, pos.step) if pos.step > 0 else torch.arange(
            pos.start, pos.stop, pos.step)
    return pos


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

    >>> from flux_torch.data.views import ObsView
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
        n = numobs(data, "ObsView") if base is None else len(base)
        pos = range(n) if indices is None else _positions(indices, n, "ObsView")
        if isinstance(pos, int):
            raise TypeError("ObsView: indices must be a range, a slice or a list of 0-based "
                            f"indices, but got the single index {indices!r}; one observation "
                            "is getobs(data, i)")
        self.data = data
        self.indices = pos if base is None else _compose(base, pos)

    def __len__(self):
        return len(self.indices)

    def _resolve(self, idx):
        """The index into ``self.data`` for observation(s) ``idx`` of the view."""
        pos = _positions(idx, len(self), "ObsView")
        return _data_index(_compose(self.indices, pos))

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


def obsview(data, indices=None):
    """A lazy view of observations ``indices`` (0-based; all by default) of ``data``
    (``MLUtils.obsview``). A tuple, named tuple or dict gives the same container of views,
    as MLUtils does for tuples. A tensor or numpy array gives an array: a view of it for a
    range or slice, an indexed copy for a list of indices (``torch`` has no lazy gather).
    An int gives that observation. Other data (lists, ``mapobs`` results, ...) gives an
    :class:`ObsView`; a view of an ``ObsView`` is an ``ObsView`` of the underlying data.

    >>> from flux_torch.data.views import obsview
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
        numobs(data, "obsview")
        if isinstance(data, dict):
            return {k: obsview(v, indices) for k, v in data.items()}
        parts = [obsview(v, indices) for v in data]
        return type(data)(*parts) if _is_namedtuple(data) else tuple(parts)
    if _is_array(data):
        if indices is None:
            return data
        return _getobs(data, _data_index(_positions(indices, numobs(data, "obsview"), "obsview")))
    idx = _index(indices, "obsview") if indices is not None else None
    if isinstance(idx, int):
        return _getobs(data, _check_int(idx, numobs(data, "obsview"), "obsview"))
    return ObsView(data, indices)
