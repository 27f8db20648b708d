"""Data utilities: MLUtils.jl's data containers and DataLoader, its array helpers, and
OneHotArrays.jl's one-hot encoding, batch first and 0-based. (Flux's callback helpers,
which Flux re-exports beside them, live in :mod:`flux_torch.callbacks`.)"""
from ..callbacks import early_stopping, patience, plateau, throttle
from .batching import batch, batchseq, rpad_constant, unbatch
from .dataloader import DataLoader, eachobs
from .like import fill_like, ones_like, rand_like, randn_like, zeros_like
from .observations import getobs, getobs_, numobs
from .onehot import onecold, onehot, onehotbatch
from .resampling import group_counts, group_indices, oversample, randobs, undersample
from ..layers.stateless import normalise  # (the v0.16 form; flux_torch.v014 has v0.14's)
from .shapes import chunk, flatten, stack, unsqueeze, unstack
from .splits import kfolds, leavepout, shuffleobs, splitobs
from .transforms import filterobs, groupobs, joinobs, mapobs
from .views import BatchView, ObsView, batchsize, obsview

__all__ = [
    "DataLoader", "numobs", "getobs", "getobs_", "shuffleobs", "splitobs", "randobs",
    "ObsView", "obsview", "mapobs", "filterobs", "groupobs", "joinobs",
    "BatchView", "batchsize", "eachobs", "kfolds", "leavepout",
    "group_counts", "group_indices", "oversample", "undersample",
    "ones_like", "zeros_like", "fill_like", "rand_like", "randn_like", "rpad_constant",
    "onehot", "onehotbatch", "onecold",
    "flatten", "unsqueeze", "stack", "unstack", "chunk",
    "batch", "unbatch", "batchseq",
    "normalise",
    "throttle", "patience", "early_stopping", "plateau",
]
