"""Flux.Losses: loss functions with Flux's definitions and defaults.

Batch first: Flux's ``dims=1`` class dimension is ``dim=-1`` here.
"""
from flux_torch.losses.binary import (
    binary_focal_loss, binarycrossentropy, hinge_loss, logitbinarycrossentropy,
    siamese_contrastive_loss, squared_hinge_loss,
)
from flux_torch.losses.classification import (
    crossentropy, focal_loss, kldivergence, label_smoothing, logitcrossentropy,
)
from flux_torch.losses.ctc import ctc_loss
from flux_torch.losses.regression import huber_loss, mae, mse, msle, poisson_loss
from flux_torch.losses.segmentation import dice_coeff_loss, tversky_loss
from flux_torch.losses.xlog import xlogx, xlogy

__all__ = [
    "mae", "mse", "msle", "huber_loss", "poisson_loss",
    "label_smoothing", "crossentropy", "logitcrossentropy", "kldivergence", "focal_loss",
    "binarycrossentropy", "logitbinarycrossentropy", "binary_focal_loss",
    "hinge_loss", "squared_hinge_loss",
    "dice_coeff_loss", "tversky_loss", "siamese_contrastive_loss",
    "xlogx", "xlogy", "ctc_loss",
]
