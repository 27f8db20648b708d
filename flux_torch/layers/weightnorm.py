"""Weight normalisation (Flux v0.16): ``WeightNorm``, ``reparametrize``, ``remove_weight_norms``.

``WeightNorm(layer, "weight")`` keeps the layer's weight ``v`` as a direction and a new
parameter ``g`` as its magnitude; each call runs a copy of the layer whose weight is
``g * v / sqrt(sum(v², dim) + eps)`` (Salimans & Kingma, 2016).

``dim`` names the dims the norm is taken over, 0-based in the parameter's own (torch) shape.
Flux's default ``dims=-1`` is the last dim of Flux's array: for a conv kernel or an
``Embedding``/``Scale`` weight, whose shape here is Flux's reversed, that is ``dim=0``; for a
``Dense``/``Bilinear`` weight, whose shape is Flux's, it is ``dim=-1``. ``dim=None`` picks
that default, so ``g`` has the shape Flux's ``g`` has, reversed where the weight is.
"""
import numbers

import torch
from torch import nn

from ..functors import children, fmap, functor, rebuild
from .._show import Showable, inline
from .conv import Conv, CrossCor
from .conv_transpose import ConvTranspose
from .embedding import Embedding, EmbeddingBag
from .misc import Scale
from .._types import T

__all__ = ["WeightNorm", "reparametrize", "remove_weight_norms"]

# Layers whose parameters are stored in Flux's shape reversed: Flux's last dim is dim 0 here.
_REVERSED = (Conv, CrossCor, ConvTranspose, Embedding, EmbeddingBag, Scale)


def _default_dim(layer, x):
    return 0 if isinstance(layer, _REVERSED) else x.dim() - 1


def _check_dim(dim, x, name):
    dims = dim if isinstance(dim, tuple) else (dim,)
    n = max(x.dim(), 1)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or not -n <= d < n:
            raise ValueError(f"WeightNorm: dim={dim!r} does not name dims of {name}, a tensor of "
                             f"shape {tuple(x.shape)}; give 0-based dims (an int or a tuple)")
    return tuple(sorted({int(d) % n for d in dims}))


def _norm2(v, dim):
    return (v * v).sum(dim=dim, keepdim=True)


@functor
class WeightNorm(Showable):
    """Weight normalisation of the parameter ``which`` of ``layer`` (``Flux.WeightNorm``).

    ``WeightNorm(layer, which="weight", dim=None)``: the layer's tensor ``v = layer.<which>``
    becomes a direction and the new trainable ``g = sqrt(sum(v², dim) + eps)`` its
    magnitude, so at first the output is the layer's own. Calls use the weight
    ``g * v / sqrt(sum(v², dim) + eps)`` (``eps`` of ``g``'s dtype, as Flux). ``dim`` is
    0-based in the tensor's shape; ``None`` is Flux's default (see the module notes):
    ``dim=0`` for conv kernels, ``-1`` for a ``Dense`` weight. Julia's ``:weight`` is
    ``"weight"``. :func:`remove_weight_norms` folds ``g`` back into the layers.

    >>> c = Conv((3,), 1, 2)
    >>> wc = WeightNorm(c)
    >>> wc
    WeightNorm(Conv((3,), 1, 2), "weight", dim=0)  # 11 parameters
    >>> wc.g.shape                 # Flux's 3×1×1, reversed
    torch.Size([1, 1, 3])
    >>> x = torch.ones(1, 1, 12)
    >>> torch.allclose(c(x), wc(x))
    True
    """

    def __init__(self, layer, which="weight", dim=None):
        if not isinstance(which, str):
            raise TypeError(f"WeightNorm expects the parameter's name as a string (Flux's :weight "
                            f"is \"weight\"), but got {which!r}")
        if isinstance(layer, nn.Module):
            raise TypeError("WeightNorm wraps flux_torch layers; for a torch.nn.Module use "
                            "torch.nn.utils.parametrizations.weight_norm")
        fields = children(layer)
        if which not in fields:
            raise ValueError(f"WeightNorm: {type(layer).__name__} does not have field {which!r}; "
                             f"its fields are {list(fields)}")
        x = fields[which]
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise ValueError(f"WeightNorm: field {which!r} of {inline(layer)} is {x!r}, not a "
                             "floating-point tensor to normalise")
        if not bool(x.any()):
            raise ValueError(f"WeightNorm: field {which!r} of {inline(layer)} is all zero, which "
                             "would give NaN; normalise a weight instead (bias starts at zero)")
        dim = _check_dim(_default_dim(layer, x) if dim is None else dim, x, f"{which!r}")
        with torch.no_grad():
            g = torch.sqrt(_norm2(x, dim) + torch.finfo(x.dtype).eps)
        self.layer = layer
        self.g = g
        self.which = which
        self.dim = dim[0] if len(dim) == 1 else dim

    def __call__(self, *args, **kwargs):
        return reparametrize(self)(*args, **kwargs)

    def _inline(self):
        return f'WeightNorm({inline(self.layer)}, "{self.which}", dim={self.dim!r})'


def reparametrize(wn):
    """The layer of a :class:`WeightNorm` with its weight ``g * v / sqrt(sum(v², dim) + eps)``
    put in place of the direction ``v``: a copy, rebuilt as the functor walk rebuilds
    (``Flux.reparametrize``). Differentiable in ``g`` and ``v``.

    >>> d = Dense(3, 2)
    >>> torch.allclose(reparametrize(WeightNorm(d)).weight, d.weight)
    True
    """
    if not isinstance(wn, WeightNorm):
        raise TypeError(f"reparametrize expects a WeightNorm, but got {type(wn).__name__}")
    fields = children(wn.layer)
    v = fields[wn.which]
    eps = torch.finfo(wn.g.dtype).eps
    w = wn.g * v / torch.sqrt(_norm2(v, wn.dim) + eps)
    return rebuild(wn.layer, [w if k == wn.which else c for k, c in fields.items()])


def remove_weight_norms(model: T) -> T:
    """``model`` with every :class:`WeightNorm` replaced by its reparametrised layer
    (``Flux.remove_weight_norms``): the weights become plain ``g * v / ‖v‖`` tensors.

    >>> m = Chain(WeightNorm(Dense(2, 3)), Dense(3, 1))
    >>> remove_weight_norms(m)
    Chain(
      Dense(2, 3),                          # 9 parameters
      Dense(3, 1),                          # 4 parameters
    )                   # Total: 4 arrays, 13 parameters, 52 bytes.
    """
    return fmap(lambda x: reparametrize(x) if isinstance(x, WeightNorm) else x, model,
                exclude=lambda x: isinstance(x, WeightNorm))
