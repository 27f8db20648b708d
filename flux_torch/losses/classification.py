"""Multi-class losses over a class dimension: ``crossentropy``,
``logitcrossentropy``, ``kldivergence``, ``focal_loss``, and ``label_smoothing``.

Flux's ``dims=1`` (classes down the columns of a ``classes × batch`` matrix) is
``dim=-1`` here (``ŷ`` of shape ``(N, C)``). As in Flux, the class sum keeps
its dimension, so ``agg=lambda x: x`` gives per-sample losses of shape ``(N, 1)``,
and the default ``agg=torch.mean`` averages over the batch.
"""
import numbers
from typing import Any, Optional

import torch
import torch.nn.functional as F

from flux_torch.devices import as_tensor
from flux_torch._dims import reject_dims
from flux_torch.losses._checks import aggregator, default_eps, pick, prepare, reject_kwargs
from flux_torch.losses._fused import class_dim, operands, reduction
from flux_torch.losses.xlog import xlogx, xlogy
from .._types import Agg, TensorLike

__all__ = ["crossentropy", "logitcrossentropy", "kldivergence", "focal_loss", "label_smoothing"]


def crossentropy(ŷ: TensorLike, y: TensorLike, /, *, dim: int = -1, agg: Agg = torch.mean,
                 eps: Optional[float] = None, ϵ: Optional[float] = None, epsilon: Optional[float] = None,
                 **kwargs: Any) -> torch.Tensor:
    """Cross entropy between probability distributions along ``dim``:
    ``agg(-sum(xlogy(y, ŷ + ϵ), dim, keepdim=True))``.

    ``ŷ`` should sum to one along ``dim`` (a ``softmax`` output); prefer
    :func:`logitcrossentropy` on the logits, which is more stable. ``y`` is
    usually one-hot. ``eps`` (also ``ϵ``, ``epsilon``) defaults to the machine
    epsilon of ``ŷ``'s dtype.

    >>> y_label = torch.eye(3)[[0, 1, 2, 1, 0]]              # (5, 3) one-hot
    >>> y_model = torch.softmax(torch.arange(-7.0, 8.0).reshape(5, 3), dim=-1)
    >>> round(crossentropy(y_model, y_label).item(), 5)
    1.60761
    >>> round(crossentropy(y_model, label_smoothing(y_label, 0.15)).item(), 5)
    1.57761
    """
    reject_kwargs("crossentropy", kwargs)
    ŷ, y = prepare("crossentropy", ŷ, y)
    e = pick("crossentropy", default_eps(ŷ), eps=eps, ϵ=ϵ, epsilon=epsilon)
    return aggregator("crossentropy", agg)(-xlogy(y, ŷ + e).sum(dim, keepdim=True))


def _logsoftmax(x, dim):
    if isinstance(dim, int):
        return torch.log_softmax(x, dim)
    return x - torch.logsumexp(x, dim, keepdim=True)


def logitcrossentropy(ŷ: TensorLike, y: TensorLike, /, *, dim: int = -1, agg: Agg = torch.mean,
                      **kwargs: Any) -> torch.Tensor:
    """Cross entropy from logits: ``agg(-sum(y * logsoftmax(ŷ, dim), dim, keepdim=True))``,
    equal to ``crossentropy(softmax(ŷ), y)`` but numerically stable.

    When ``ŷ`` and ``y`` are floating tensors of one shape and dtype and ``dim`` is one
    dimension, this is computed by ``torch.nn.functional.cross_entropy`` with ``y`` as
    class probabilities (one-hot, smoothed or soft labels alike), which does the same
    arithmetic in one call.

    >>> y_label = torch.eye(3)[[0, 1, 2, 0, 1, 0, 0]]        # "abcabaa", (7, 3)
    >>> y_model = torch.cat([torch.arange(-9.0, 1), torch.arange(0.0, 10), torch.tensor([7.5])])
    >>> round(logitcrossentropy(y_model.reshape(7, 3), y_label).item(), 5)
    1.57912
    """
    if kwargs:
        reject_kwargs("logitcrossentropy", kwargs)
    ŷ, y, same = operands("logitcrossentropy", ŷ, y)
    red = aggregator("logitcrossentropy", agg)
    d = class_dim(ŷ, dim)
    if same and d is not None:      # (same_operands: no empty dimension)
        return _cross_entropy(ŷ, y, d, red)
    return red(-(y * _logsoftmax(ŷ, dim)).sum(dim, keepdim=True))


def _cross_entropy(ŷ, y, d, red):
    """``F.cross_entropy`` with probability targets over dim ``d``, which torch wants at
    dim 1 (dim 0 of a vector); its mean is over the slices, as Flux's mean of the
    per-slice sums is."""
    if ŷ.dim() > 1 and d != 1:
        ŷ, y = ŷ.movedim(d, 1), y.movedim(d, 1)
    r = reduction(red)
    if r is not None:
        return F.cross_entropy(ŷ, y, reduction=r)
    return red(F.cross_entropy(ŷ, y, reduction="none").unsqueeze(d))


def kldivergence(ŷ: TensorLike, y: TensorLike, /, *, dim: int = -1, agg: Agg = torch.mean,
                 eps: Optional[float] = None, ϵ: Optional[float] = None, epsilon: Optional[float] = None,
                 **kwargs: Any) -> torch.Tensor:
    """Kullback-Leibler divergence of ``ŷ`` from ``y`` along ``dim``: the entropy
    term ``agg(sum(xlogx(y), dim))`` plus ``crossentropy(ŷ, y, dim=dim, agg=agg, eps=eps)``.

    With ``agg`` the mean or the sum, ``eps > 0``, one ``dim``, floating tensors of one
    shape and dtype, and labels that need no gradient, this is one call of
    ``torch.nn.functional.kl_div`` on ``log(ŷ + ϵ)``: the same sum of
    ``xlogx(y) - y log(ŷ + ϵ)``, for probabilities ``ŷ``. (Where ``ŷ`` is NaN or infinite
    at a zero label, Flux's formula drops the term and the kernel gives NaN.)

    >>> import math
    >>> p1, p2 = torch.eye(2), torch.full((2, 2), 0.5)
    >>> math.isclose(kldivergence(p2, p1).item(), math.log(2), rel_tol=1e-6)
    True
    >>> kldivergence(p2, p2, eps=0).item()
    0.0
    >>> kldivergence(p1, p2, eps=0).item()
    inf
    """
    if kwargs:
        reject_kwargs("kldivergence", kwargs)
    ŷ, y, same = operands("kldivergence", ŷ, y)
    e = pick("kldivergence", default_eps(ŷ), eps=eps, ϵ=ϵ, epsilon=epsilon)
    red = aggregator("kldivergence", agg)
    r, d = reduction(red), class_dim(ŷ, dim)
    # F.kl_div's own gradient in y is NaN at y == 0, and its terms differ from
    # Flux's xlogy(0, ·) = 0 where ŷ + ϵ <= 0: so only ϵ > 0 and labels without gradient
    if (r is not None and d is not None and isinstance(e, numbers.Real) and e > 0
            and not y.requires_grad and same):
        total = F.kl_div(torch.log(ŷ + e), y, reduction="sum")
        return total if r == "sum" else total / (ŷ.numel() // ŷ.shape[d])
    entropy = red(xlogx(y).sum(dim, keepdim=True))
    return entropy + crossentropy(ŷ, y, dim=dim, agg=red, eps=e)


def focal_loss(ŷ: TensorLike, y: TensorLike, /, *, dim: int = -1, agg: Agg = torch.mean,
               gamma: Optional[float] = None, γ: Optional[float] = None, eps: Optional[float] = None,
               ϵ: Optional[float] = None, epsilon: Optional[float] = None, **kwargs: Any) -> torch.Tensor:
    """Focal loss for imbalanced multi-class problems (Lin et al. 2017):
    ``agg(sum(-y * (1 - ŷ')^γ * log(ŷ'), dim, keepdim=True))`` with ``ŷ' = ŷ + ϵ``.

    ``ŷ`` holds probabilities (a ``softmax`` output). ``gamma`` (also ``γ``,
    default 2) sets how strongly well-classified samples are down-weighted;
    ``γ = 0`` gives :func:`crossentropy`.

    >>> y = torch.eye(3)[[0, 1, 2, 1, 0]]
    >>> ŷ = torch.softmax(torch.arange(-7.0, 8.0).reshape(5, 3), dim=-1)
    >>> round(focal_loss(ŷ, y).item(), 5)
    1.12776
    """
    reject_kwargs("focal_loss", kwargs)
    ŷ, y = prepare("focal_loss", ŷ, y)
    g = pick("focal_loss", 2, gamma=gamma, γ=γ)
    e = pick("focal_loss", default_eps(ŷ), eps=eps, ϵ=ϵ, epsilon=epsilon)
    p = ŷ + e
    return aggregator("focal_loss", agg)((-y * (1 - p) ** g * torch.log(p)).sum(dim, keepdim=True))


def label_smoothing(y: TensorLike, /, α: Optional[float] = None, *, alpha: Optional[float] = None,
                    dim: int = -1, **kwargs: Any) -> torch.Tensor:
    """Smoothed labels: ``y * (1 - α) + α / y.shape[dim]`` for one-hot labels
    along ``dim``, or ``y * (1 - α) + α / 2`` with ``dim=None`` for binary labels
    held in single numbers (Flux's ``dims=0``). ``α`` (also ``alpha``) must lie
    strictly between 0 and 1.

    >>> y = torch.eye(2)[[1, 1, 1, 0, 1, 0]]                  # (6, 2) one-hot
    >>> label_smoothing(y, 0.2)[:2]
    tensor([[0.1000, 0.9000],
            [0.1000, 0.9000]])
    >>> label_smoothing([1.0, 0.0], 0.2, dim=None)
    tensor([0.9000, 0.1000])
    """
    reject_dims("label_smoothing", kwargs,
                "Flux's dims=0 (binary labels held in single numbers) is dim=None here")
    a = pick("label_smoothing", None, α=α, alpha=alpha)
    if a is None:
        raise TypeError("label_smoothing(y, α) needs the smoothing factor α (or alpha=), e.g. 0.1")
    if not 0 < float(a) < 1:
        raise ValueError(f"label_smoothing expects 0 < α < 1, but got α = {float(a)}")
    y = as_tensor(y)
    if not (y.is_floating_point() or y.is_complex()):
        y = y.to(torch.get_default_dtype())
    if dim is None:
        n = 2
    elif y.dim() == 0:
        n = 1  # a number has size 1 along any dimension, as in Julia
    else:
        try:
            n = y.shape[dim]
        except IndexError:
            raise ValueError(
                f"label_smoothing got dim={dim} for labels of shape {tuple(y.shape)}; use "
                "dim=-1 for one-hot labels (N, C), or dim=None for binary labels"
            ) from None
    return y * (1 - a) + a / n
