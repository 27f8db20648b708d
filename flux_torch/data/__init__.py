"""Data utilities: MLUtils.jl's DataLoader and array helpers, OneHotArrays.jl's
one-hot encoding and Flux's callback helpers, batch first and 0-based."""
from .batching import batch, batchseq, unbatch
from .batchview import BatchView, batchsize, eachobs
from .callbacks import early_stopping, patience, plateau, throttle
from .dataloader import DataLoader
from .folds import kfolds, leavepout
from .like import fill_like, ones_like, rand_like, randn_like, zeros_like
from .normalise import normalise
from .obsbuffer import getobs_
from .observations import getobs, numobs, shuffleobs, splitobs
from .obstransform import filterobs, groupobs, joinobs, mapobs
from .onehot import onecold, onehot, onehotbatch
from .padding import rpad_constant
from .resample import group_counts, group_indices, oversample, randobs, undersample
from .shapes import chunk, flatten, stack, unsqueeze, unstack
from .views import ObsView, obsview

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
