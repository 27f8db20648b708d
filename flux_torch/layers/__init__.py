"""Flux's layers as plain ``@functor`` classes over ``torch.nn.functional``."""
from .attention import MultiHeadAttention, dot_product_attention, make_causal_mask
from .basic import Chain, ComposedFunction, Dense, NamedLayers, activations, compose
from .containers import Maxout, PairwiseFusion, Parallel, ParallelV014, SkipConnection, hcat, vcat
from .conv import Conv, CrossCor, DepthwiseConv, SamePad, from_flux_weight
from .conv_transpose import ConvTranspose
from .dropout import AlphaDropout, Dropout, dropout, dropout_
from .embedding import Embedding, EmbeddingBag
from .macro import layer
from .misc import Bilinear, Scale
from .normalise import BatchNorm, GroupNorm, InstanceNorm, LayerNorm, LayerNormV014, hasaffine
from .recur import Recur  # noqa: F401  (Flux v0.14's; flux_torch.v014 exports it with its layers)
from .recurrence import GRU, LSTM, RNN, GRUv3, Recurrence, reset_
from .recurrent_cells import GRUCell, GRUv3Cell, LSTMCell, RNNCell, initialstates
from .pool import (AdaptiveMaxPool, AdaptiveMeanPool, GlobalMaxPool, GlobalMeanPool, MaxPool,
                   MeanPool)
from .upsample import PixelShuffle, Upsample
from .stateless import normalise, normalise_v014
from .weightnorm import WeightNorm, remove_weight_norms, reparametrize

__all__ = [
    "layer",
    "Dense", "Chain", "compose", "ComposedFunction", "activations", "NamedLayers",
    "SkipConnection", "Parallel", "PairwiseFusion", "Maxout", "vcat", "hcat",
    "Conv", "CrossCor", "ConvTranspose", "DepthwiseConv", "SamePad", "from_flux_weight",
    "MaxPool", "MeanPool", "GlobalMaxPool", "GlobalMeanPool", "AdaptiveMaxPool", "AdaptiveMeanPool",
    "Upsample", "PixelShuffle",
    "BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm", "hasaffine", "Dropout", "AlphaDropout",
    "dropout", "dropout_",
    "Bilinear", "Scale", "Embedding", "EmbeddingBag", "WeightNorm", "remove_weight_norms",
    "normalise",
    "MultiHeadAttention", "dot_product_attention", "make_causal_mask",
    "RNN", "LSTM", "GRU", "GRUv3", "RNNCell", "LSTMCell", "GRUCell", "GRUv3Cell", "Recurrence",
    "initialstates", "reset_",
]
