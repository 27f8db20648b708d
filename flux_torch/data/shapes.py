"""Reshaping helpers from MLUtils.jl (``flatten``, ``unsqueeze``, ``stack``,
``unstack``, ``chunk``), translated to batch-first, 0-based ``dim``.

A Julia array of size ``(a, b, c)`` is a tensor of shape ``(c, b, a)`` here, so
Julia's ``dims=d`` is ``dim=-d`` and Julia's last (observation) dimension is
``dim=0``. The defaults below are those translations of MLUtils' defaults.
Array input (numpy, lists of numbers) is converted to a tensor.
"""
import math
from typing import Any, List, Optional, Sequence

import numpy as np
import torch

from ..devices import as_tensor
from .._dims import reject_dims
from .._types import TensorLike

__all__ = ["flatten", "unsqueeze", "stack", "unstack", "chunk"]

_MISSING = object()


def flatten(x: TensorLike) -> torch.Tensor:
    """Keep the first (batch) dimension of ``x`` and flatten the rest: shape
    ``(N, prod(rest))``, like Flux's ``flatten`` (which keeps the last Julia
    dimension). A vector of length ``N`` becomes ``(N, 1)``, as in Flux.

    >>> flatten(torch.zeros(5, 4, 3)).shape
    torch.Size([5, 12])
    >>> flatten([1.0, 2.0]).shape
    torch.Size([2, 1])
    """
    x = as_tensor(x)
    if x.dim() == 0:
        raise ValueError("flatten expects a tensor with a batch dimension, but got a 0-dim tensor; "
                         "use x.reshape(1, 1) if a single number is meant")
    return x.reshape(x.shape[0], -1)


def _unsqueeze_at(dim):
    return lambda x: unsqueeze(x, dim)


def unsqueeze(x: Any = _MISSING, dim: Optional[int] = None, **kwargs: Any) -> Any:
    """Insert a dimension of size 1 at position ``dim`` (``torch.unsqueeze``).

    Julia's ``unsqueeze(x, dims=d)`` is ``unsqueeze(x, -d)`` here. Called with
    only ``dim``, it returns a function, like MLUtils' ``unsqueeze(dims=d)``.

    >>> unsqueeze(torch.tensor([[1, 2], [3, 4]]), 1).shape
    torch.Size([2, 1, 2])
    >>> unsqueeze(dim=-2)(torch.zeros(23, 22, 21)).shape
    torch.Size([23, 22, 1, 21])
    """
    reject_dims("unsqueeze", kwargs)
    if dim is None:
        raise TypeError("unsqueeze needs `dim`, the position of the new axis, e.g. unsqueeze(x, 0)")
    if x is _MISSING:
        return _unsqueeze_at(dim)
    return torch.unsqueeze(as_tensor(x), dim)


def stack(xs: Sequence[TensorLike], dim: int = 0, **kwargs: Any) -> torch.Tensor:
    """Stack equally shaped arrays along a new dimension ``dim``
    (``torch.stack``). The default ``dim=0`` puts the new axis first, which is
    where Julia's ``stack`` puts it by default (last in Julia's order).

    >>> stack([[1, 2], [3, 4], [5, 6]])
    tensor([[1, 2],
            [3, 4],
            [5, 6]])
    >>> stack([[1, 2], [3, 4], [5, 6]], dim=1)
    tensor([[1, 3, 5],
            [2, 4, 6]])
    """
    reject_dims("stack", kwargs)
    xs = [as_tensor(x) for x in xs]
    if not xs:
        raise ValueError("stack needs at least one array, but got an empty collection")
    return torch.stack(xs, dim)


def unstack(x: TensorLike, dim: int = 0, **kwargs: Any) -> List[torch.Tensor]:
    """Split ``x`` along ``dim`` into a list of tensors with that dimension
    removed: the inverse of :func:`stack`. The pieces are views of ``x``
    (``torch.unbind``); Julia's ``unstack`` copies.

    >>> unstack(torch.tensor([[1, 2], [3, 4], [5, 6], [7, 8]]))
    [tensor([1, 2]), tensor([3, 4]), tensor([5, 6]), tensor([7, 8])]
    """
    reject_dims("unstack", kwargs)
    return list(torch.unbind(as_tensor(x), dim))


def _sizes_from_partition(ids, npartitions):
    ids = as_tensor(ids).to(torch.long).reshape(-1)
    if ids.numel() and bool((ids[1:] < ids[:-1]).any()):
        raise ValueError("chunk: the partition indices must be sorted, e.g. [0, 1, 1, 2, 2]")
    if ids.numel() and int(ids.min()) < 0:
        raise ValueError("chunk: partition indices are 0-based and must be >= 0, "
                         f"but got {int(ids.min())}")
    m = npartitions if npartitions is not None else (int(ids.max()) + 1 if ids.numel() else 0)
    return torch.bincount(ids, minlength=m).tolist()


def _slice_seq(x, sizes):
    out, start = [], 0
    for s in sizes:
        out.append(x[start:start + s])
        start += s
    return out


def chunk(x: TensorLike, n: Optional[int] = None, *, size: Optional[int] = None, dim: int = 0,
          npartitions: Optional[int] = None, **kwargs: Any) -> List[torch.Tensor]:
    """Split ``x`` along ``dim`` (default 0, the batch dimension, as MLUtils
    splits its last) into ``n`` parts of equal length except possibly the last,
    or into parts of length ``size`` (an int, or a list of lengths summing to
    the length of ``dim``).

    ``n`` may instead be a sorted list of 0-based partition ids, one per slice
    along ``dim`` (MLUtils' ``chunk(x, partition_idxs)``, 1-based there).
    Tensors are split into views (``torch.split``); a ``range``, list or
    tuple is split into slices of itself.

    >>> chunk(range(1, 11), 3)
    [range(1, 5), range(5, 9), range(9, 11)]
    >>> chunk(range(1, 7), size=[2, 4])
    [range(1, 3), range(3, 7)]
    >>> x = torch.arange(1, 21).reshape(4, 5)
    >>> [c.shape for c in chunk(x, 2, dim=1)]
    [torch.Size([4, 3]), torch.Size([4, 2])]
    >>> chunk(torch.arange(1, 11).reshape(5, 2), [0, 1, 1, 2, 2])[1]
    tensor([[3, 4],
            [5, 6]])
    """
    reject_dims("chunk", kwargs)
    if (n is None) == (size is None):
        raise TypeError("chunk takes either a number of parts `n` or `size=`, exactly one of them")
    is_seq = isinstance(x, (range, list, tuple, str))
    if is_seq:
        if dim != 0:
            raise ValueError(f"chunk: a {type(x).__name__} has only dim=0, but got dim={dim}")
        length = len(x)
    else:
        x = as_tensor(x)
        length = x.shape[dim]
    if n is not None and not isinstance(n, (int, np.integer)):
        size = _sizes_from_partition(n, npartitions)
    elif n is not None:
        if n < 1:
            raise ValueError(f"chunk: the number of parts must be at least 1, but got {n}")
        size = max(math.ceil(length / n), 1)
    if isinstance(size, (int, np.integer)):
        if size < 1:
            raise ValueError(f"chunk: size must be at least 1, but got {size}")
        sizes = [min(size, length - s) for s in range(0, length, size)]
    else:
        sizes = [int(s) for s in size]
        if sum(sizes) != length:
            raise ValueError(f"chunk: the sizes {sizes} sum to {sum(sizes)}, but they must sum to "
                             f"{length}, the length of dim={dim}")
    if is_seq:
        return _slice_seq(x, sizes)
    return list(torch.split(x, sizes, dim))
