"""Regression losses, elementwise then reduced by ``agg``: ``mae``, ``mse``,
``msle``, ``huber_loss``, ``poisson_loss`` (Flux.Losses definitions).

``agg`` is any reduction: the default ``torch.mean``, ``torch.sum`` (or Python's
``sum``), or ``lambda x: x`` for the unreduced elementwise loss.
"""
import numbers
from typing import Optional

import torch
import torch.nn.functional as F

from flux_torch.losses._checks import aggregator, default_eps, pick, prepare
from flux_torch.losses._fused import operands, reduction
from flux_torch.losses.xlog import xlogy
from .._types import Agg, TensorLike

__all__ = ["mae", "mse", "msle", "huber_loss", "poisson_loss"]

_FUSED = {torch.mean: "mean", torch.sum: "sum"}
# torch's own mse kernel, called as F.mse_loss calls it: _fused has already made the checks
# F.mse_loss would (same shapes, plain tensors), and its Python wrapper is half the cost
# of a small loss. (Torch-function modes still apply: the binding dispatches them.)
_MSE_KERNEL = getattr(getattr(torch._C, "_nn", None), "mse_loss", None)
_REDUCTION = {"mean": 1, "sum": 2}      # torch.nn._reduction.get_enum


def _fused(ŷ, y, agg):
    """The reduction name when torch's fused loss computes exactly Flux's formula:
    two real floating tensors of one shape and dtype, reduced by mean or sum."""
    if (type(ŷ) is torch.Tensor and type(y) is torch.Tensor and ŷ.shape == y.shape
            and ŷ.dtype == y.dtype and ŷ.is_floating_point() and ŷ.device == y.device):
        return _FUSED.get(agg)
    return None


def mae(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean) -> torch.Tensor:
    """Mean absolute error, ``agg(abs(ŷ - y))``.

    >>> import numpy as np
    >>> mae(np.array([1.1, 1.9, 3.1]), [1, 2, 3]).item()
    0.1000000
    """
    reduction = _fused(ŷ, y, agg)
    if reduction is not None:      # one autograd node instead of three
        return F.l1_loss(ŷ, y, reduction=reduction)
    ŷ, y = prepare("mae", ŷ, y)
    return aggregator("mae", agg)(torch.abs(ŷ - y))


def mse(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean) -> torch.Tensor:
    """Mean squared error, ``agg(abs2(ŷ - y))`` (``abs2`` is ``|z|²``, so complex
    inputs work).

    >>> import numpy as np
    >>> mse(np.array([1.1, 1.9, 3.1]), [1, 2, 3]).item()
    0.0100000
    >>> mse([0.0, 2.0], [1.0, 1.0], agg=sum)
    tensor(2.)
    """
    reduction = _fused(ŷ, y, agg)
    if reduction is not None:      # one autograd node instead of three
        if _MSE_KERNEL is not None:
            return _MSE_KERNEL(ŷ, y, _REDUCTION[reduction])
        return F.mse_loss(ŷ, y, reduction=reduction)
    ŷ, y = prepare("mse", ŷ, y)
    d = ŷ - y
    sq = (d.real ** 2 + d.imag ** 2) if d.is_complex() else d * d
    return aggregator("mse", agg)(sq)


def msle(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean, eps: Optional[float] = None,
         ϵ: Optional[float] = None, epsilon: Optional[float] = None) -> torch.Tensor:
    """Mean squared logarithmic error, ``agg(log((ŷ + ϵ) / (y + ϵ))^2)``.

    ``eps`` (also ``ϵ``, ``epsilon``) defaults to the machine epsilon of
    ``ŷ``'s dtype. Penalises under-estimation more than over-estimation.

    >>> round(msle([1.1, 2.2, 3.3], [1, 2, 3]).item(), 6)
    0.009084
    >>> round(msle([0.9, 1.8, 2.7], [1, 2, 3]).item(), 6)
    0.011101
    """
    ŷ, y = prepare("msle", ŷ, y)
    e = pick("msle", default_eps(ŷ), eps=eps, ϵ=ϵ, epsilon=epsilon)
    return aggregator("msle", agg)(torch.log((ŷ + e) / (y + e)) ** 2)


def huber_loss(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean, delta: Optional[float] = None,
               δ: Optional[float] = None) -> torch.Tensor:
    """Huber loss: ``0.5 |ŷ - y|²`` where ``|ŷ - y| < δ``, else
    ``δ (|ŷ - y| - 0.5 δ)``, reduced by ``agg``. ``delta`` (also ``δ``)
    defaults to 1. For floating tensors of one shape and dtype and a number
    ``δ > 0`` it is computed by ``torch.nn.functional.huber_loss``, the same formula.

    >>> import numpy as np
    >>> ŷ = np.array([1.1, 2.1, 3.1])
    >>> huber_loss(ŷ, [1, 2, 3]).item()     # |ŷ - y| < δ = 1
    0.0050000
    >>> huber_loss(ŷ, [1, 2, 3], delta=0.05).item()
    0.0037500
    """
    ŷ, y, same = operands("huber_loss", ŷ, y)
    d = pick("huber_loss", 1, delta=delta, δ=δ)
    if same and isinstance(d, numbers.Real) and not isinstance(d, bool) and d > 0:
        red = aggregator("huber_loss", agg)
        r = reduction(red)
        if r is not None:
            return F.huber_loss(ŷ, y, reduction=r, delta=float(d))
        return red(F.huber_loss(ŷ, y, reduction="none", delta=float(d)))
    err = torch.abs(ŷ - y)
    # Flux blends both branches with a 0/1 mask (no gradient through the mask).
    inside = (err < d).to(err.dtype)
    loss = (err * err) * inside * 0.5 + d * (err - 0.5 * d) * (1 - inside)
    return aggregator("huber_loss", agg)(loss)


def poisson_loss(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean) -> torch.Tensor:
    """Poisson loss, ``agg(ŷ - xlogy(y, ŷ))``: how far the predicted rate ``ŷ``
    is from the Poisson-distributed counts ``y``.

    >>> import numpy as np
    >>> poisson_loss(np.array([1.0, 3.0, 3.0]), [1, 2, 3]).item()
    0.5023128
    """
    ŷ, y = prepare("poisson_loss", ŷ, y)
    return aggregator("poisson_loss", agg)(ŷ - xlogy(y, ŷ))
