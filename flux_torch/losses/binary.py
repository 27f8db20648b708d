"""Elementwise losses for binary labels: ``binarycrossentropy``,
``logitbinarycrossentropy``, ``binary_focal_loss`` (labels in {0, 1}),
``hinge_loss``, ``squared_hinge_loss`` (labels in {-1, 1}) and
``siamese_contrastive_loss`` (pair labels: 1 dissimilar, 0 similar), reduced by ``agg``.
"""
from typing import Optional

import torch
import torch.nn.functional as F

from flux_torch.losses._checks import aggregator, default_eps, pick, prepare
from flux_torch.losses._fused import operands, reduction
from flux_torch.losses.xlog import xlogy
from .._types import Agg, TensorLike

__all__ = [
    "binarycrossentropy", "logitbinarycrossentropy", "binary_focal_loss",
    "hinge_loss", "squared_hinge_loss", "siamese_contrastive_loss",
]


def binarycrossentropy(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean, eps: Optional[float] = None,
                       ϵ: Optional[float] = None, epsilon: Optional[float] = None) -> torch.Tensor:
    """Binary cross entropy, ``agg(-xlogy(y, ŷ + ϵ) - xlogy(1 - y, 1 - ŷ + ϵ))``.

    ``ŷ`` holds probabilities (a ``σ`` output); prefer
    :func:`logitbinarycrossentropy` on the logits. ``eps`` (also ``ϵ``,
    ``epsilon``) defaults to the machine epsilon of ``ŷ``'s dtype. A constant
    label such as ``y = 1`` is allowed.

    >>> y_prob = torch.softmax(torch.tensor([1.0, 2, 3, 3, 4, 5]).reshape(3, 2), dim=-1)
    >>> round(binarycrossentropy(y_prob[:, 1], [True, False, True]).item(), 5)
    0.43989
    """
    ŷ, y = prepare("binarycrossentropy", ŷ, y)
    e = pick("binarycrossentropy", default_eps(ŷ), eps=eps, ϵ=ϵ, epsilon=epsilon)
    return aggregator("binarycrossentropy", agg)(-xlogy(y, ŷ + e) - xlogy(1 - y, 1 - ŷ + e))


def logitbinarycrossentropy(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean) -> torch.Tensor:
    """Binary cross entropy from logits, ``agg((1 - y) * ŷ - logσ(ŷ))``: equal to
    ``binarycrossentropy(σ(ŷ), y)`` but numerically stable.

    For floating tensors of one shape and dtype this is computed by
    ``torch.nn.functional.binary_cross_entropy_with_logits``, the same formula in one call.

    >>> import math
    >>> round(logitbinarycrossentropy([2.0, -1.0, math.pi], [1, 0, 1]).item(), 5)
    0.16083
    """
    ŷ, y, same = operands("logitbinarycrossentropy", ŷ, y)
    red = aggregator("logitbinarycrossentropy", agg)
    if same:
        r = reduction(red)
        if r is not None:
            return F.binary_cross_entropy_with_logits(ŷ, y, reduction=r)
        return red(F.binary_cross_entropy_with_logits(ŷ, y, reduction="none"))
    return red((1 - y) * ŷ - F.logsigmoid(ŷ))


def binary_focal_loss(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean,
                      gamma: Optional[float] = None, γ: Optional[float] = None, eps: Optional[float] = None,
                      ϵ: Optional[float] = None, epsilon: Optional[float] = None) -> torch.Tensor:
    """Binary focal loss (Lin et al. 2017): with ``ŷ' = ŷ + ϵ`` and
    ``p = y ŷ' + (1 - y)(1 - ŷ')``, the loss is ``agg(-(1 - p)^γ log(p))``.

    ``gamma`` (also ``γ``) defaults to 2; ``γ = 0`` gives
    :func:`binarycrossentropy` (up to where ``ϵ`` enters).

    >>> y = torch.tensor([[0, 1], [1, 0], [0, 1]])
    >>> ŷ = torch.tensor([[0.268941, 0.731059], [0.5, 0.5], [0.268941, 0.731059]])
    >>> round(binary_focal_loss(ŷ, y).item(), 5)
    0.07287
    """
    ŷ, y = prepare("binary_focal_loss", ŷ, y)
    g = pick("binary_focal_loss", 2, gamma=gamma, γ=γ)
    e = pick("binary_focal_loss", default_eps(ŷ), eps=eps, ϵ=ϵ, epsilon=epsilon)
    p = ŷ + e
    p_t = y * p + (1 - y) * (1 - p)
    return aggregator("binary_focal_loss", agg)((1 - p_t) ** g * -torch.log(p_t))


def hinge_loss(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean) -> torch.Tensor:
    """Hinge loss for labels ``y`` in {-1, 1}: ``agg(max(0, 1 - ŷ * y))``, as used
    by support vector machines. See also :func:`squared_hinge_loss`.

    >>> hinge_loss([0.1, 0.3, 1.0, 1.5], [1, -1, 1, 1])
    tensor(0.5500)
    """
    ŷ, y = prepare("hinge_loss", ŷ, y)
    return aggregator("hinge_loss", agg)(torch.clamp(1 - ŷ * y, min=0))


def squared_hinge_loss(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean) -> torch.Tensor:
    """Squared hinge loss for labels ``y`` in {-1, 1}: ``agg(max(0, 1 - ŷ * y)^2)``.

    >>> squared_hinge_loss([0.1, 0.3, 1.0, 1.5], [1, -1, 1, 1])
    tensor(0.6250)
    """
    ŷ, y = prepare("squared_hinge_loss", ŷ, y)
    return aggregator("squared_hinge_loss", agg)(torch.clamp(1 - ŷ * y, min=0) ** 2)


def siamese_contrastive_loss(ŷ: TensorLike, y: TensorLike, /, *, agg: Agg = torch.mean,
                             margin: float = 1) -> torch.Tensor:
    """Contrastive loss for Siamese networks (Hadsell, Chopra and LeCun 2006),
    ``agg((1 - y) ŷ² + y max(0, margin - ŷ)²)``, where ``ŷ`` is the distance
    between the two members of a pair and ``y`` is 1 for a dissimilar pair, 0
    for a similar one. ``margin`` (non-negative, default 1) is the distance
    beyond which dissimilar pairs cost nothing.

    >>> ŷ = torch.tensor([[0.4, 0.5, 0.1], [0.2, 0.5, 0.3]], dtype=torch.float64)
    >>> y = torch.tensor([[1, 0, 0], [0, 0, 1]])
    >>> siamese_contrastive_loss(ŷ, y).item()
    0.2333333333333333...
    >>> siamese_contrastive_loss(ŷ, y, margin=0.5).item()
    0.1000000000000000...
    """
    if float(margin) < 0:
        raise ValueError(
            f"siamese_contrastive_loss expects a non-negative margin, but got margin = {margin}"
        )
    ŷ, y = prepare("siamese_contrastive_loss", ŷ, y)
    loss = (1 - y) * ŷ ** 2 + y * torch.clamp(margin - ŷ, min=0) ** 2
    return aggregator("siamese_contrastive_loss", agg)(loss)
