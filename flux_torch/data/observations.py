"""The data-container protocol of MLUtils.jl: ``numobs``, ``getobs`` and ``getobs_``
(``getobs!``), batch first and 0-based.

A data container is a tensor, numpy array or list (observations along the first
dimension), a torch map-style ``Dataset``, a tuple, named tuple or dict of containers,
or any object with ``__len__`` and ``__getitem__``. flux_torch's lazy containers
(``ObsView``, ``mapobs``, ``BatchView``, ...) define ``_getobs`` themselves. Every other
data function (views, transforms, splits, resampling, ``DataLoader``) reads data through
the private ``_getobs``, which takes an int, a slice or an index tensor.
"""
from typing import Any

import numpy as np
import torch
import torch.utils.data as tud

from .batching import batch as _batch
from .indices import _data_index, _index, _positions

__all__ = ["numobs", "getobs", "getobs_"]


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
    if isinstance(x, tud.IterableDataset):
        raise TypeError(f"{path} is an IterableDataset, which has no numbered observations; "
                        "iterate over it with torch.utils.data.DataLoader, or give a map-style "
                        "Dataset (with __len__ and __getitem__)")
    try:
        return len(x)
    except TypeError:
        raise TypeError(f"{path} is a {type(x).__name__}, which has no observations; "
                        "expected a tensor, numpy array, list, torch Dataset, or a tuple or "
                        "dict of them") from None


def _getobs(data, idx):
    """Observations ``idx`` (an int, a slice, or an index tensor) of ``data``."""
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
    ids = idx.tolist() if isinstance(idx, torch.Tensor) else range(*idx.indices(len(data)))
    if isinstance(data, tud.TensorDataset):
        return tuple(_getobs(t, idx) for t in data.tensors)
    if isinstance(data, tud.Dataset):  # a batch of a torch Dataset is collated, as torch's is
        many = getattr(data, "__getitems__", None)
        items = many(list(ids)) if many is not None else [data[i] for i in ids]
        return _batch(items) if len(items) else []
    return [data[i] for i in ids]


def numobs(data: Any) -> int:
    """The number of observations of ``data`` (its first dimension; ``MLUtils.numobs``).

    Every array of a tuple or dict must hold the same number.

    >>> numobs((torch.zeros(5, 3), torch.zeros(5)))
    5
    """
    return _count_obs(data, "numobs")


def _count_obs(data, fname):
    """``numobs(data)``, with errors that name the function ``fname`` the user called."""
    found = [(p, _numobs(f"{fname}: {p}", x)) for p, x in _sources(data)]
    for p, n in found[1:]:
        if n != found[0][1]:
            p0, n0 = found[0]
            raise ValueError(
                f"{fname}: all arrays must hold the same number of observations (their "
                f"first dimension: batch first), but {p0} has {n0} and {p} has {n}. Data in "
                "Flux's layout (features × N) needs transposing, e.g. x.T")
    return found[0][1] if found else 0


def getobs(data: Any, idx: Any = None) -> Any:
    """Observation(s) ``idx`` of ``data``: an int, a slice, or a range, list or tensor of
    0-based indices (``MLUtils.getobs``, 1-based there). Without ``idx``, all observations
    (a lazy container such as an ``ObsView`` or ``mapobs`` result is materialised). A slice
    of a tensor is a view of it; other indices copy. A batch of a torch ``Dataset`` is its
    observations stacked with :func:`batch` (a ``TensorDataset`` gives a tuple of tensors).

    >>> getobs({"x": torch.arange(6).reshape(3, 2), "y": [10, 20, 30]}, [2, 0])
    {'x': tensor([[4, 5],
            [0, 1]]), 'y': [30, 10]}
    >>> getobs(torch.utils.data.TensorDataset(torch.arange(4), torch.arange(4) * 10), range(1, 3))
    (tensor([1, 2]), tensor([10, 20]))
    """
    if idx is None or (isinstance(data, tuple) and not data):  # MLUtils: getobs((), i) is ()
        return _getobs(data, slice(None))
    pos = _positions(idx, _count_obs(data, "getobs"), "getobs")
    if isinstance(pos, range):
        pos = _data_index(pos) if isinstance(idx, slice) else torch.arange(
            pos.start, pos.stop, pos.step)
    return _getobs(data, pos)


def _summary(x):
    """A short description of a data container, for the ``repr`` of views and loaders."""
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_summary(v)}" for k, v in x.items()) + "}"
    if _is_namedtuple(x):
        return f"{type(x).__name__}(" + ", ".join(
            f"{k}={_summary(v)}" for k, v in zip(x._fields, x)) + ")"
    if isinstance(x, tuple):
        return "(" + ", ".join(_summary(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if _is_array(x):
        kind = "Tensor" if isinstance(x, torch.Tensor) else "ndarray"
        return f"<{kind} {tuple(x.shape)} {str(x.dtype).replace('torch.', '')}>"
    return f"<{type(x).__name__} of {len(x)}>" if hasattr(x, "__len__") else f"<{type(x).__name__}>"


# ---- getobs_: MLUtils' getobs!, filling a preallocated buffer -------------------------

def _source(data, idx, fname):
    """The index for ``data`` (an int, a slice or a non-negative long tensor), or None for all."""
    if idx is None:
        return None
    return _data_index(_positions(_index(idx, fname), _count_obs(data, fname), fname))


def _check_shape(buffer, shape):
    if tuple(buffer.shape) != tuple(shape):
        raise ValueError(f"getobs_: the buffer has shape {tuple(buffer.shape)}, but the "
                         f"observations have shape {tuple(shape)}; allocate it as getobs(data, "
                         "idx) returns them, e.g. buffer = getobs(data, idx).clone()")


def _fill_tensor(buffer, data, idx):
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(np.ascontiguousarray(data))
    if isinstance(idx, torch.Tensor):
        _check_shape(buffer, (len(idx),) + tuple(data.shape[1:]))
        if (buffer.dtype == data.dtype and buffer.device == data.device and buffer.is_contiguous()
                and not (buffer.requires_grad or data.requires_grad)):
            return torch.index_select(data, 0, idx.to(data.device), out=buffer)
        src = data.index_select(0, idx.to(data.device))
    else:
        src = data if idx is None else data[idx]
    _check_shape(buffer, src.shape)
    return buffer.copy_(src)


def _fill_array(buffer, data, idx):
    if isinstance(idx, torch.Tensor):
        idx = idx.numpy()
        _check_shape(buffer, (len(idx),) + data.shape[1:])
        if buffer.dtype == data.dtype and buffer.flags.c_contiguous:
            return np.take(data, idx, axis=0, out=buffer)
    src = data if idx is None else data[idx]
    _check_shape(buffer, np.shape(src))
    np.copyto(buffer, src)
    return buffer


def _kind(x):
    return f"a {type(x).__name__} of {len(x)}" if isinstance(x, tuple) else type(x).__name__


def getobs_(buffer: Any, data: Any, idx: Any = None) -> Any:
    """Observations ``idx`` of ``data`` (all of them when ``idx`` is None) written into
    ``buffer`` in place, which is returned (``MLUtils.getobs!``, 1-based there).

    A tensor or numpy buffer is filled from tensor or numpy data (shapes must match, as
    ``getobs(data, idx)`` would return them); a list buffer is refilled from a list batch;
    tuples and dicts of buffers are filled field by field (a dict's entries are replaced
    where they cannot be filled). Where no in-place fill applies (a ``None`` buffer, data
    of another kind) ``buffer`` is ignored and ``getobs(data, idx)`` returned, as in MLUtils.
    An ``ObsView`` fills from its underlying data; a ``BatchView`` fills its batch (a list of
    buffers, one per observation, where it collates).

    >>> X = torch.arange(12.0).reshape(6, 2)
    >>> buf = torch.zeros(2, 2)
    >>> getobs_(buf, X, [4, 1]) is buf
    True
    >>> buf
    tensor([[8., 9.],
            [2., 3.]])
    >>> getobs_(None, ["a", "b", "c"], 1)
    'b'
    """
    fill = getattr(type(data), "_getobs_", None)  # lazy containers: ObsView, BatchView
    if fill is not None:
        return fill(data, buffer, slice(None) if idx is None else idx)
    if isinstance(data, dict):
        if not isinstance(buffer, dict) or set(buffer) != set(data):
            raise ValueError(f"getobs_: data is a dict with keys {list(data)}, so buffer must be "
                             f"a dict with the same keys, but got {_kind(buffer)}")
        _count_obs(data, "getobs_")
        for k, v in data.items():
            buffer[k] = getobs_(buffer[k], v, idx)
        return buffer
    if isinstance(data, tuple):
        if not isinstance(buffer, tuple) or len(buffer) != len(data):
            raise ValueError(f"getobs_: data is a tuple of {len(data)}, so buffer must be a tuple "
                             f"of {len(data)} buffers (None where there is none), but got "
                             f"{_kind(buffer)}")
        _count_obs(data, "getobs_")
        parts = [getobs_(b, v, idx) for b, v in zip(buffer, data)]
        return type(buffer)(*parts) if _is_namedtuple(buffer) else tuple(parts)
    if isinstance(buffer, torch.Tensor) and isinstance(data, (torch.Tensor, np.ndarray)):
        return _fill_tensor(buffer, data, _source(data, idx, "getobs_"))
    if isinstance(buffer, np.ndarray) and isinstance(data, np.ndarray):
        return _fill_array(buffer, data, _source(data, idx, "getobs_"))
    result = getobs(data, idx)
    if isinstance(buffer, list) and isinstance(result, list):
        if len(buffer) != len(result):
            raise ValueError(f"getobs_: the buffer is a list of {len(buffer)}, but there are "
                             f"{len(result)} observations")
        buffer[:] = result
        return buffer
    return result
