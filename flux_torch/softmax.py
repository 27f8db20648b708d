"""NNlib's ``softmax``, ``logsoftmax`` and ``logsumexp``, batch first.

Flux normalises over ``dims=1``, the feature dimension of a batch-last array.
flux_torch puts the batch first, so the feature dimension is the last one and the
keyword is torch's 0-based ``dim``: the default ``dim=-1`` is Flux's default
``dims=1``. ``dim`` may also be a tuple of dimensions, or ``None`` for all of them
(Flux's ``dims=:``). Passing ``dims=`` raises a ``TypeError`` that says so.
"""
import numbers
from typing import Any, Optional

import torch
import torch.nn.functional as F

from .devices import as_tensor
from ._dims import reject_dims
from ._types import TensorLike

__all__ = ["softmax", "logsoftmax", "logsumexp"]


def _float_tensor(fname, x):
    if isinstance(x, numbers.Number):
        raise TypeError(
            f"{fname}(x) was called with the number {x!r}, but it normalises over an "
            f"array: pass a tensor, numpy array or list")
    x = as_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.get_default_dtype())
    return x


def _all_dims(x, dim):
    """``dim`` as a tuple of dims for torch reductions (``None`` means all)."""
    if dim is None:
        return tuple(range(x.dim()))
    return tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)


def _lse(x, dims, keepdim):
    if x.dim() == 0:
        return x.clone()
    return torch.logsumexp(x, dim=dims, keepdim=keepdim)


def _has_nan(y):
    """Whether ``y`` holds a NaN (skipped while torch.compile traces: no data-dependent branch)."""
    return not torch.compiler.is_compiling() and not y.is_complex() and bool(torch.isnan(y).any())


def _shifted(x, dims):
    """``x - max(x)`` over ``dims``, except where that max is +Inf (NNlib's rule): there the
    +Inf entries become 0 and the others -Inf, so the +Inf entries share the whole mass."""
    m = x.amax(dim=dims, keepdim=True)
    hit = torch.isposinf(m)
    safe = torch.where(hit, torch.zeros_like(m), m)
    inf_part = torch.where(torch.isposinf(x), 0.0, float("-inf")).to(x.dtype)
    return torch.where(hit, inf_part, torch.where(hit, torch.zeros_like(x), x) - safe)


def softmax(x: TensorLike, dim: int = -1, **kwargs: Any) -> torch.Tensor:
    """softmax(x, dim=-1): ``exp.(x) ./ sum(exp.(x), dims)``, computed stably.

    Each slice along ``dim`` becomes a probability distribution. The default
    ``dim=-1`` normalises the features of a batch-first ``(N, C)`` array, as
    Flux's default ``dims=1`` does for its ``C × N`` arrays; a vector works too.
    As NNlib, a slice holding ``+Inf`` shares its mass among its ``+Inf`` entries
    (torch gives NaN).

    >>> softmax([1, 2, 3])
    tensor([0.0900, 0.2447, 0.6652])
    >>> softmax([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]], dim=0)  # dim=0 of a 2-D array is Flux's dims=2
    tensor([[0.2689, 0.5000, 0.7311],
            [0.7311, 0.5000, 0.2689]])
    >>> softmax([1.0, float("inf"), float("inf")])
    tensor([0.0000, 0.5000, 0.5000])
    """
    reject_dims("softmax", kwargs)
    x = _float_tensor("softmax", x)
    if isinstance(dim, int):
        y = F.softmax(x, dim=dim)
    else:
        y = torch.exp(x - _lse(x, _all_dims(x, dim), True))
    if _has_nan(y):
        dims = _all_dims(x, dim)
        e = torch.exp(_shifted(x, dims))
        y = e / e.sum(dim=dims, keepdim=True)
    return y


def logsoftmax(x: TensorLike, dim: int = -1, **kwargs: Any) -> torch.Tensor:
    """logsoftmax(x, dim=-1) = x .- logsumexp(x, dim), i.e. log(softmax(x)) computed stably;
    ``+Inf`` entries as in :func:`softmax`.

    >>> logsoftmax([0.0, 0.0])
    tensor([-0.6931, -0.6931])
    """
    reject_dims("logsoftmax", kwargs)
    x = _float_tensor("logsoftmax", x)
    if isinstance(dim, int):
        y = F.log_softmax(x, dim=dim)
    else:
        y = x - _lse(x, _all_dims(x, dim), True)
    if _has_nan(y):
        dims = _all_dims(x, dim)
        z = _shifted(x, dims)
        y = z - torch.log(torch.exp(z).sum(dim=dims, keepdim=True))
    return y


def logsumexp(x: TensorLike, dim: Optional[int] = None, keepdim: Optional[bool] = None,
              **kwargs: Any) -> torch.Tensor:
    """logsumexp(x, dim=None) = log(sum(exp(x), dim)), computed stably.

    As in NNlib, the default ``dim=None`` (Flux's ``dims=:``) reduces over every
    element and gives a 0-d tensor (a Python float for a number). Given a ``dim``,
    the reduced dimension is kept with size 1 as Julia's ``sum(x; dims)`` does, so
    ``x - logsumexp(x, dim=-1)`` broadcasts as in Flux; pass ``keepdim=False`` to
    drop it (torch's default).

    >>> logsumexp([0.0, 0.0])
    tensor(0.6931)
    >>> logsumexp(torch.zeros(2, 3), dim=-1).shape
    torch.Size([2, 1])
    """
    reject_dims("logsumexp", kwargs)
    if isinstance(x, numbers.Real):
        return float(x)
    x = _float_tensor("logsumexp", x)
    if keepdim is None:
        keepdim = dim is not None
    return _lse(x, _all_dims(x, dim), keepdim)
