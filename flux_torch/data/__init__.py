"""Data utilities: MLUtils.jl's DataLoader and array helpers, OneHotArrays.jl's
one-hot encoding and Flux's callback helpers, batch first and 0-based."""
from .batching import batch, batchseq, unbatch
from .callbacks import early_stopping, patience, plateau, throttle
from .dataloader import DataLoader
from .normalise import normalise
from .observations import getobs, numobs, shuffleobs, splitobs
from .onehot import onecold, onehot, onehotbatch
from .shapes import chunk, flatten, stack, unsqueeze, unstack

__all__ = [
    "DataLoader", "numobs", "getobs", "shuffleobs", "splitobs",
    "onehot", "onehotbatch", "onecold",
    "flatten", "unsqueeze", "stack", "unstack", "chunk",
    "batch", "unbatch", "batchseq",
    "normalise",
    "throttle", "patience", "early_stopping", "plateau",
]
