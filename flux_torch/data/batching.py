"""Collecting observations into batches and back (MLUtils' ``batch``,
``unbatch``, ``batchseq``), batch first.

Julia puts the observation index last (``batch`` of vectors of length 3 is a
``3 × N`` matrix); flux_torch puts it first, giving ``(N, 3)``, so
``batch(xs)[i]`` is ``xs[i]``.
"""
import torch
from torch.nn.utils.rnn import pad_sequence

from ..devices import as_tensor

__all__ = ["batch", "unbatch", "batchseq"]


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def batch(xs):
    """Stack the observations ``xs`` along a new first (batch) dimension.

    When the observations are tuples, named tuples or dicts, each field is
    batched separately and the result has the same structure, as in MLUtils.

    >>> batch([[1, 2, 3], [4, 5, 6]])
    tensor([[1, 2, 3],
            [4, 5, 6]])
    >>> b = batch([{"a": [1, 2], "b": 3}, {"a": [5, 6], "b": 7}])
    >>> b["a"], b["b"]
    (tensor([[1, 2],
            [5, 6]]), tensor([3, 7]))
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
    ts = [as_tensor(x) for x in xs]
    shape = ts[0].shape
    for t in ts:
        if t.shape != shape:
            raise ValueError(f"batch: all observations must have the same shape, but got "
                             f"{tuple(shape)} and {tuple(t.shape)}; pad sequences with batchseq")
    return torch.stack(ts, 0)


def unbatch(x):
    """Split ``x`` along its first (batch) dimension into a list of
    observations: the inverse of :func:`batch`. The pieces are views of ``x``.

    >>> unbatch(torch.tensor([[1, 2], [3, 4], [5, 6], [7, 8]]))
    [tensor([1, 2]), tensor([3, 4]), tensor([5, 6]), tensor([7, 8])]
    """
    x = as_tensor(x)
    if x.dim() == 0:
        raise ValueError("unbatch expects a tensor with a batch dimension, but got a 0-dim tensor")
    return list(torch.unbind(x, 0))


def batchseq(seqs, val=0):
    """Turn ``N`` sequences into one sequence whose items are batches of ``N``:
    item ``t`` has shape ``(N, ...)`` and holds step ``t`` of every sequence.
    Short sequences are padded with ``val``. Each sequence has its time steps
    along its first dimension.

    >>> batchseq([[1, 2, 3], [4, 5]], 0)
    [tensor([1, 4]), tensor([2, 5]), tensor([3, 0])]
    """
    ts = [as_tensor(s) for s in seqs]
    if not ts:
        raise ValueError("batchseq needs at least one sequence, but got an empty collection")
    for t in ts:
        if t.dim() == 0 or t.shape[1:] != ts[0].shape[1:]:
            raise ValueError("batchseq: sequences must have time steps along dim 0 and equal "
                             f"shapes otherwise, but got {tuple(ts[0].shape)} and {tuple(t.shape)}")
    dtype = ts[0].dtype
    for t in ts[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    padded = pad_sequence([t.to(dtype) for t in ts], batch_first=False, padding_value=val)
    return list(torch.unbind(padded, 0))
