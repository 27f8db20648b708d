"""Collecting observations into batches and back (MLUtils' ``batch``, ``unbatch``,
``batchseq``) and padding arrays at the end (``rpad_constant``), batch first.

Julia puts the observation index last (``batch`` of vectors of length 3 is a ``3 × N``
matrix); flux_torch puts it first, giving ``(N, 3)``, so ``batch(xs)[i]`` is ``xs[i]``.
Observations that are not arrays (strings, characters, images as objects) batch into a
plain list, as MLUtils' ``batch`` of non-arrays is their vector.

Julia's ``rpad_constant(x, n, val; dims=d)`` is ``rpad_constant(x, n, val, dim=-d)`` here
(0-based ``dim``); the default, every dimension, is ``dim=None``, and with ``dim=None`` a
tuple ``n`` is the smallest wanted shape, in torch order.
"""
import numbers
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

from ..devices import as_tensor
from .._dims import reject_dims
from .._types import TensorLike

__all__ = ["batch", "unbatch", "batchseq", "rpad_constant"]


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def batch(xs: Sequence[Any]) -> Any:
    """Stack the observations ``xs`` along a new first (batch) dimension.

    When the observations are tuples, named tuples or dicts, each field is
    batched separately and the result has the same structure, as in MLUtils.
    Observations that are not arrays or numbers (strings, say) give a list.

    >>> batch([[1, 2, 3], [4, 5, 6]])
    tensor([[1, 2, 3],
            [4, 5, 6]])
    >>> b = batch([{"a": [1, 2], "b": 3}, {"a": [5, 6], "b": 7}])
    >>> b["a"], b["b"]
    (tensor([[1, 2],
            [5, 6]]), tensor([3, 7]))
    >>> batch([("x", 1.0), ("y", 2.0)])
    (['x', 'y'], tensor([1., 2.]))
    """
    xs = list(xs)
    if not xs:
        raise ValueError("batch needs at least one observation, but got an empty collection")
    first = xs[0]
    if isinstance(first, dict):
        keys = set(first)
        for x in xs:
            if not isinstance(x, dict) or set(x) != keys:
                raise ValueError("batch: cannot batch dicts with different keys: "
                                 f"{sorted(map(str, keys))} and "
                                 f"{sorted(map(str, x)) if isinstance(x, dict) else type(x).__name__}")
        return {k: batch([x[k] for x in xs]) for k in first}
    if isinstance(first, tuple):
        n = len(first)
        for x in xs:
            if not isinstance(x, tuple) or len(x) != n:
                raise ValueError(f"batch: cannot batch tuples of different lengths ({n} and "
                                 f"{len(x) if isinstance(x, tuple) else type(x).__name__})")
        fields = [batch([x[i] for x in xs]) for i in range(n)]
        return type(first)(*fields) if _is_namedtuple(first) else tuple(fields)
    try:
        as_tensor(first)
    except (TypeError, ValueError):
        return xs  # not arrays: MLUtils' batch of non-arrays is the vector of them
    ts = [as_tensor(x) for x in xs]
    shape = ts[0].shape
    for t in ts:
        if t.shape != shape:
            raise ValueError(f"batch: all observations must have the same shape, but got "
                             f"{tuple(shape)} and {tuple(t.shape)}; pad sequences with batchseq")
    return torch.stack(ts, 0)


def _collated(collate, obs):
    """A batch of the observations ``obs`` as MLUtils' ``collate`` option makes it: ``False``
    a list of them, ``True`` their :func:`batch`, a function its result of the list."""
    if collate is False:
        return obs
    return batch(obs) if collate is True else collate(obs)


def unbatch(x: Any) -> List[Any]:
    """Split ``x`` along its first (batch) dimension into a list of
    observations: the inverse of :func:`batch`. The pieces are views of ``x``.
    A list is returned as it is (MLUtils' ``unbatch`` of a vector).

    >>> unbatch(torch.tensor([[1, 2], [3, 4], [5, 6], [7, 8]]))
    [tensor([1, 2]), tensor([3, 4]), tensor([5, 6]), tensor([7, 8])]
    """
    if isinstance(x, list):
        return x
    x = as_tensor(x)
    if x.dim() == 0:
        raise ValueError("unbatch expects a tensor with a batch dimension, but got a 0-dim tensor")
    return list(torch.unbind(x, 0))


def _as_tensors(seqs):
    """The sequences as tensors, or None when one of them is not an array of numbers."""
    try:
        return [as_tensor(s) for s in seqs]
    except (TypeError, ValueError, RuntimeError):
        return None


def _is_scalar(v):
    return isinstance(v, (numbers.Number, np.generic)) or (
        isinstance(v, torch.Tensor) and v.dim() == 0)


def batchseq(seqs: Sequence[Any], val: Any = 0) -> List[Any]:
    """Turn ``N`` sequences into one sequence whose items are batches of ``N``:
    item ``t`` holds step ``t`` of every sequence, batched with :func:`batch` (shape
    ``(N, ...)`` for arrays). Short sequences are padded with ``val``. A sequence is
    anything with steps along its first dimension: a tensor or array, or a list of
    numbers, arrays or other values (characters, say, as the model zoo's char-rnn has).

    >>> batchseq([[1, 2, 3], [4, 5]], 0)
    [tensor([1, 4]), tensor([2, 5]), tensor([3, 0])]
    >>> batchseq([list("abc"), list("de")], "_")
    [['a', 'd'], ['b', 'e'], ['c', '_']]
    """
    seqs = list(seqs)
    if not seqs:
        raise ValueError("batchseq needs at least one sequence, but got an empty collection")
    ts = _as_tensors(seqs) if _is_scalar(val) else None
    if ts is not None:  # arrays of numbers, padded with a number: one pad_sequence call
        for t in ts:
            if t.dim() == 0 or t.shape[1:] != ts[0].shape[1:]:
                raise ValueError("batchseq: sequences must have time steps along dim 0 and equal "
                                 f"shapes otherwise, but got {tuple(ts[0].shape)} and {tuple(t.shape)}")
        dtype = ts[0].dtype
        for t in ts[1:]:
            dtype = torch.promote_types(dtype, t.dtype)
        fill = val.item() if isinstance(val, (torch.Tensor, np.generic)) else val
        padded = pad_sequence([t.to(dtype) for t in ts], batch_first=False, padding_value=fill)
        return list(torch.unbind(padded, 0))
    lengths = [len(s) for s in seqs]
    return [batch([s[t] if t < n else val for s, n in zip(seqs, lengths)])
            for t in range(max(lengths))]


def _is_int(d):
    return isinstance(d, numbers.Integral) and not isinstance(d, bool)


def _target(x, n, dim):
    """{dimension: wanted length} for the dimensions to pad."""
    nd = x.dim()
    dims = list(range(nd)) if dim is None else [dim] if _is_int(dim) else list(dim)
    if not all(_is_int(d) for d in dims):
        raise TypeError(f"rpad_constant: dim must be None, an int or a tuple of ints, but got {dim!r}")
    for d in dims:
        if not -nd <= d < nd:
            raise ValueError(f"rpad_constant: dim={d} is out of range for a tensor with {nd} "
                             f"dimensions (shape {tuple(x.shape)})")
    dims = [d % nd for d in dims]
    if len(set(dims)) != len(dims):
        raise ValueError(f"rpad_constant: dim={dim!r} names a dimension twice")
    ns = [n] * len(dims) if _is_int(n) else list(n)
    if not all(_is_int(k) for k in ns):
        raise TypeError(f"rpad_constant: n must be an int or a tuple of ints, but got {n!r}")
    if len(ns) != len(dims):
        raise ValueError(f"rpad_constant: n={tuple(ns)} gives {len(ns)} lengths but {len(dims)} "
                         f"dimensions are padded (dim={dim!r}, tensor shape {tuple(x.shape)}); "
                         "give one length per padded dimension")
    return dict(zip(dims, ns))


def rpad_constant(v: TensorLike, n: Union[int, Sequence[int]], val: Any = 0, *, dim: Optional[int] = None,
                  **kwargs: Any) -> torch.Tensor:
    """Pad ``v`` at the end of each dimension in ``dim`` (all by default) with the
    value ``val``, up to length ``n`` (an int for all of them, or one per
    dimension). Dimensions already at least that long are left alone.

    >>> rpad_constant([1, 2], 4, -1)
    tensor([ 1,  2, -1, -1])
    >>> rpad_constant([1, 2, 3], 2)
    tensor([1, 2, 3])
    >>> rpad_constant(torch.tensor([[1, 2], [3, 4]]), 3, dim=0)
    tensor([[1, 2],
            [3, 4],
            [0, 0]])
    """
    reject_dims("rpad_constant", kwargs)
    x = as_tensor(v)
    if x.dim() == 0:
        raise ValueError("rpad_constant expects an array with at least one dimension, but got a 0-dim "
                         "tensor; use x.reshape(1) first")
    want = _target(x, n, dim)
    pads = []
    for d in reversed(range(x.dim())):  # F.pad takes (before, after) pairs from the last dim back
        pads += [0, max(want.get(d, 0) - x.shape[d], 0)]
    return F.pad(x, pads, mode="constant", value=val)
