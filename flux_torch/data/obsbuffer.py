"""Fetching observations into a preallocated buffer: MLUtils.jl's ``getobs!``, here
``getobs_`` (torch's in-place suffix), batch first and 0-based."""
import numpy as np
import torch

from .observations import _is_namedtuple, getobs, numobs
from .views import ObsView, _data_index, _index, _positions

__all__ = ["getobs_"]


def _source(data, idx, fname):
    """The index for ``data`` (an int, a slice or a non-negative long tensor), or None for all."""
    if idx is None:
        return None
    return _data_index(_positions(_index(idx, fname), numobs(data, fname), fname))


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


def getobs_(buffer, data, idx=None):
    """Observations ``idx`` of ``data`` (all of them when ``idx`` is None) written into
    ``buffer`` in place, which is returned (``MLUtils.getobs!``, 1-based there).

    A tensor or numpy buffer is filled from tensor or numpy data (shapes must match, as
    ``getobs(data, idx)`` would return them); a list buffer is refilled from a list batch;
    tuples and dicts of buffers are filled field by field (a dict's entries are replaced
    where they cannot be filled). Where no in-place fill applies (a ``None`` buffer, data
    of another kind) ``buffer`` is ignored and ``getobs(data, idx)`` returned, as in MLUtils.
    An :class:`ObsView` fills from its underlying data.

    >>> from flux_torch.data.obsbuffer import getobs_
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
    if isinstance(data, ObsView):
        sub = data._resolve(slice(None) if idx is None else idx)
        return getobs_(buffer, data.data, sub)
    if isinstance(data, dict):
        if not isinstance(buffer, dict) or set(buffer) != set(data):
            raise ValueError(f"getobs_: data is a dict with keys {list(data)}, so buffer must be "
                             f"a dict with the same keys, but got {_kind(buffer)}")
        numobs(data, "getobs_")
        for k, v in data.items():
            buffer[k] = getobs_(buffer[k], v, idx)
        return buffer
    if isinstance(data, tuple):
        if not isinstance(buffer, tuple) or len(buffer) != len(data):
            raise ValueError(f"getobs_: data is a tuple of {len(data)}, so buffer must be a tuple "
                             f"of {len(data)} buffers (None where there is none), but got "
                             f"{_kind(buffer)}")
        numobs(data, "getobs_")
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


def _kind(x):
    return f"a {type(x).__name__} of {len(x)}" if isinstance(x, tuple) else type(x).__name__
