"""Overlap losses for image segmentation: ``dice_coeff_loss`` and
``tversky_loss``. As in Flux they sum over every element of the batch (no
``agg`` keyword) and return a single number.
"""
from typing import Optional

import torch

from flux_torch.losses._checks import pick, prepare
from .._types import TensorLike

__all__ = ["dice_coeff_loss", "tversky_loss"]


def dice_coeff_loss(ŷ: TensorLike, y: TensorLike, /, *, smooth: float = 1) -> torch.Tensor:
    """Loss from the Dice coefficient (as in V-Net), a smoothed F1 score:
    ``1 - (2 sum(y ŷ) + smooth) / (sum(y²) + sum(ŷ²) + smooth)``.

    >>> import numpy as np
    >>> dice_coeff_loss(np.array([1.1, 2.1, 3.1]), [1, 2, 3]).item()
    0.000992391663909964
    """
    ŷ, y = prepare("dice_coeff_loss", ŷ, y)
    return 1 - (2 * torch.sum(y * ŷ) + smooth) / (torch.sum(y * y) + torch.sum(ŷ * ŷ) + smooth)


def tversky_loss(ŷ: TensorLike, y: TensorLike, /, *, beta: Optional[float] = None,
                 β: Optional[float] = None) -> torch.Tensor:
    """Tversky loss (Salehi et al. 2017) for imbalanced segmentation:
    ``1 - (sum(y ŷ) + 1) / (sum(y ŷ + β (1 - y) ŷ + (1 - β) y (1 - ŷ)) + 1)``.

    ``beta`` (also ``β``) defaults to 0.7. The formula is the one Flux v0.14
    computes, where ``β`` weights the false positives ``(1 - y) ŷ`` (Flux's
    docstring states it the other way round).

    >>> import numpy as np
    >>> ŷ, y = np.array([0, 1.4, 0.5, 1.2]), np.array([1.0, 0.5, 0.3, 2.4])
    >>> tversky_loss(ŷ, y).item()
    -0.0677200902934538...
    >>> tversky_loss(ŷ, y, beta=0.8).item()
    -0.0949074074074074...
    """
    ŷ, y = prepare("tversky_loss", ŷ, y)
    b = pick("tversky_loss", 0.7, beta=beta, β=β)
    num = torch.sum(y * ŷ) + 1
    den = torch.sum(y * ŷ + b * (1 - y) * ŷ + (1 - b) * y * (1 - ŷ)) + 1
    return 1 - num / den
