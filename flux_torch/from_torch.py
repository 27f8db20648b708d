"""``from_torch``: ``torch.nn`` modules converted to flux_torch layers, weights copied.

Parameter shapes are the same in both libraries (``Dense`` and ``Conv`` weights are
torch's), so a conversion copies tensors and settings. What cannot be converted
exactly stays the ``nn.Module`` itself: flux_torch walks torch modules through their
parameters and buffers, so ``params``, ``gradient``, ``gpu`` and optimisers still work
on it. A module that holds tensors is kept with a warning naming it; an activation
module whose settings Flux's function lacks (``nn.LeakyReLU(0.2)``, ``nn.Softmax(dim=1)``)
holds none and computes the same, so it is kept silently.

Converted layers follow Flux's automatic train/test mode (training inside
``gradient``), not the torch module's ``.training`` flag.
"""
import warnings
from typing import Any

import torch
from torch import nn

from . import activation as A
from .data.shapes import flatten
from .layers.basic import Chain, Dense
from .layers.cells import GRUCell, LSTMCell, RNNCell
from .layers.conv import Conv
from .layers.conv_transpose import ConvTranspose
from .layers.dropout import AlphaDropout, Dropout
from .layers.embedding import Embedding
from .layers.normalise import BatchNorm, GroupNorm, InstanceNorm, LayerNorm
from .layers.pool import GlobalMaxPool, GlobalMeanPool, MaxPool, MeanPool
from .layers.recur import Recur
from .softmax import logsoftmax, softmax

__all__ = ["from_torch", "swap_batch_time"]


def _copy(t):
    return None if t is None else t.detach().clone()


def _bias(m):
    return False if m.bias is None else _copy(m.bias)


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def swap_batch_time(x: torch.Tensor) -> torch.Tensor:
    """``x.transpose(0, 1)``: batch-first sequences ``(N, T, ...)`` to Flux's time-first
    ``(T, N, ...)`` and back; used around a converted ``nn.LSTM(batch_first=True)``.

    >>> swap_batch_time(torch.zeros(4, 7, 3)).shape
    torch.Size([7, 4, 3])
    """
    return x.transpose(0, 1)


# ------------------------------------------------------------------ activations
# module type -> (flux function, the settings it has built in)
_FUNCTIONS = {
    nn.ReLU: (A.relu, {}), nn.ReLU6: (A.relu6, {}), nn.Sigmoid: (A.σ, {}), nn.Tanh: (A.tanh, {}),
    nn.SiLU: (A.swish, {}), nn.Mish: (A.mish, {}), nn.SELU: (A.selu, {}),
    nn.Softsign: (A.softsign, {}), nn.Tanhshrink: (A.tanhshrink, {}), nn.LogSigmoid: (A.logσ, {}),
    nn.Hardsigmoid: (A.hardσ, {}), nn.Hardswish: (A.hardswish, {}), nn.Identity: (A.identity, {}),
    nn.LeakyReLU: (A.leakyrelu, {"negative_slope": 0.01}), nn.ELU: (A.elu, {"alpha": 1.0}),
    nn.CELU: (A.celu, {"alpha": 1.0}), nn.Softplus: (A.softplus, {"beta": 1.0, "threshold": 20.0}),
    nn.Hardtanh: (A.hardtanh, {"min_val": -1.0, "max_val": 1.0}),
    nn.Softshrink: (A.softshrink, {"lambd": 0.5}),
    nn.Softmax: (softmax, {"dim": -1}), nn.LogSoftmax: (logsoftmax, {"dim": -1}),
    nn.Flatten: (flatten, {"start_dim": 1, "end_dim": -1}),
    nn.GELU: (A.gelu, {"approximate": "tanh"}),
}


def _function(m):
    if type(m) is nn.GELU and m.approximate == "none":
        return A.gelu_erf
    f, settings = _FUNCTIONS[type(m)]
    if all(getattr(m, k) == v for k, v in settings.items()):
        return f
    return m       # tensor-free and exact as it is: kept without a warning


# ------------------------------------------------------------------ layers

def _linear(m):
    return Dense(_copy(m.weight), _bias(m))


def _padding(m, n):
    """torch's ``padding`` as flux_torch's ``pad`` (``"same"`` puts an odd extra at the end)."""
    if m.padding == "valid":
        return 0
    if m.padding != "same":
        return _tuple(m.padding, n)
    pads = []
    for d, k in zip(reversed(m.dilation), reversed(m.kernel_size)):   # F.pad order: last dim first
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


def _conv(m):
    if m.padding_mode != "zeros":
        return f"padding_mode={m.padding_mode!r} (Flux's Conv pads with zeros)"
    n = m.weight.dim() - 2
    return Conv(_copy(m.weight), bias=_bias(m), stride=m.stride, pad=_padding(m, n),
                dilation=m.dilation, groups=m.groups)


def _conv_transpose(m):
    if m.padding_mode != "zeros":
        return f"padding_mode={m.padding_mode!r} (Flux's ConvTranspose pads with zeros)"
    return ConvTranspose(_copy(m.weight), bias=_bias(m), stride=m.stride, pad=m.padding,
                         outpad=m.output_padding, dilation=m.dilation, groups=m.groups)


def _norm_stats(layer, m):
    if m.affine:
        layer.β, layer.γ = _copy(m.bias), _copy(m.weight)
    if getattr(m, "track_running_stats", False):
        layer.μ, layer.σ2 = _copy(m.running_mean), _copy(m.running_var)
    return layer


def _batchnorm(m, cls=BatchNorm):
    if m.momentum is None:
        return "momentum=None (a cumulative average; Flux's running statistics are exponential)"
    layer = cls(m.num_features, affine=m.affine, track_stats=m.track_running_stats, eps=m.eps,
                momentum=m.momentum)
    return _norm_stats(layer, m)


def _instancenorm(m):
    return _batchnorm(m, InstanceNorm)


def _groupnorm(m):
    return _norm_stats(GroupNorm(m.num_channels, m.num_groups, affine=m.affine, eps=m.eps), m)


def _layernorm(m):
    layer = LayerNorm(*m.normalized_shape, affine=m.elementwise_affine, eps=m.eps)
    if m.elementwise_affine:
        layer.diag.scale, layer.diag.bias = _copy(m.weight), _copy(m.bias)
    return layer


def _embedding(m):
    extras = [k for k in ("padding_idx", "max_norm") if getattr(m, k) is not None]
    extras += [k for k in ("scale_grad_by_freq", "sparse") if getattr(m, k)]
    if extras:
        return f"it sets {', '.join(extras)}, which Flux's Embedding does not have"
    return Embedding(_copy(m.weight))


def _pool(cls, n):
    def convert(m):
        if getattr(m, "return_indices", False) or m.ceil_mode:
            return "return_indices or ceil_mode is set (Flux's pooling has neither)"
        if any(d != 1 for d in _tuple(getattr(m, "dilation", 1), n)):
            return "dilation is set (Flux's pooling has none)"
        if not getattr(m, "count_include_pad", True) or getattr(m, "divisor_override", None):
            return "count_include_pad=False or divisor_override is set (Flux divides by the window)"
        k = _tuple(m.kernel_size, n)
        return cls(k, pad=_tuple(m.padding, n), stride=_tuple(m.stride or k, n))
    return convert


def _global(cls):
    def convert(m):
        if getattr(m, "return_indices", False):
            return "return_indices is set"
        if all(s == 1 for s in _tuple(m.output_size, 1)):
            return cls()
        return ("its output size is not 1 (Flux's adaptive windows match torch's only when the "
                "input size is a multiple of the output size)")
    return convert


def _recurrent(m):
    if m.num_layers != 1 or m.bidirectional or getattr(m, "proj_size", 0):
        return "only one layer, one direction and no proj_size convert to Flux's Recur"
    H = m.hidden_size
    Wi, Wh = _copy(m.weight_ih_l0), _copy(m.weight_hh_l0)
    if m.bias:
        b_ih, b_hh = _copy(m.bias_ih_l0), _copy(m.bias_hh_l0)
    else:
        b_ih, b_hh = Wi.new_zeros(Wi.shape[0]), Wi.new_zeros(Wi.shape[0])
    h0 = Wi.new_zeros(1, H)
    if isinstance(m, nn.GRU):
        if b_hh[2 * H:].any():
            return ("its hidden bias for the candidate gate (bias_hh_l0[2H:]) is not zero, and "
                    "Flux's GRU has no place for it")
        cell = GRUCell(Wi, Wh, b_ih + b_hh, h0)
    elif isinstance(m, nn.LSTM):
        cell = LSTMCell(Wi, Wh, b_ih + b_hh, (h0, h0.clone()))
    else:
        cell = RNNCell(A.tanh if m.nonlinearity == "tanh" else A.relu, Wi, Wh, b_ih + b_hh, h0)
    layer = Recur(cell)
    return Chain(swap_batch_time, layer, swap_batch_time) if m.batch_first else layer


def _sequential(m):
    names = list(m._modules)
    layers = [from_torch(c) for c in m._modules.values()]
    if names != [str(i) for i in range(len(names))] and all(
            n.isidentifier() and n != "layers" for n in names):
        return Chain(**dict(zip(names, layers)))
    return Chain(*layers)


_CONVERTERS = {
    nn.Sequential: _sequential, nn.Linear: _linear,
    nn.Conv1d: _conv, nn.Conv2d: _conv, nn.Conv3d: _conv,
    nn.ConvTranspose1d: _conv_transpose, nn.ConvTranspose2d: _conv_transpose,
    nn.ConvTranspose3d: _conv_transpose,
    nn.BatchNorm1d: _batchnorm, nn.BatchNorm2d: _batchnorm, nn.BatchNorm3d: _batchnorm,
    nn.InstanceNorm1d: _instancenorm, nn.InstanceNorm2d: _instancenorm,
    nn.InstanceNorm3d: _instancenorm, nn.GroupNorm: _groupnorm, nn.LayerNorm: _layernorm,
    nn.Embedding: _embedding,
    nn.Dropout: lambda m: Dropout(m.p), nn.AlphaDropout: lambda m: AlphaDropout(m.p),
    nn.Dropout1d: lambda m: Dropout(m.p, dim=(0, 1)), nn.Dropout2d: lambda m: Dropout(m.p, dim=(0, 1)),
    nn.Dropout3d: lambda m: Dropout(m.p, dim=(0, 1)),
    nn.MaxPool1d: _pool(MaxPool, 1), nn.MaxPool2d: _pool(MaxPool, 2), nn.MaxPool3d: _pool(MaxPool, 3),
    nn.AvgPool1d: _pool(MeanPool, 1), nn.AvgPool2d: _pool(MeanPool, 2), nn.AvgPool3d: _pool(MeanPool, 3),
    nn.AdaptiveAvgPool1d: _global(GlobalMeanPool), nn.AdaptiveAvgPool2d: _global(GlobalMeanPool),
    nn.AdaptiveAvgPool3d: _global(GlobalMeanPool), nn.AdaptiveMaxPool1d: _global(GlobalMaxPool),
    nn.AdaptiveMaxPool2d: _global(GlobalMaxPool), nn.AdaptiveMaxPool3d: _global(GlobalMaxPool),
    nn.LSTM: _recurrent, nn.GRU: _recurrent, nn.RNN: _recurrent,
}
_CONVERTERS.update(dict.fromkeys(_FUNCTIONS, _function))


def from_torch(module: torch.nn.Module) -> Any:
    """Convert a ``torch.nn`` module to flux_torch layers, copying its weights.

    ``nn.Sequential`` becomes a :class:`Chain` (named when its children have names),
    ``nn.Linear`` a ``Dense``, ``nn.Conv{1,2,3}d`` a ``Conv``, ``nn.ConvTranspose*d`` a
    ``ConvTranspose``, ``nn.BatchNorm*d``/``InstanceNorm*d``/``GroupNorm`` the Flux layer
    with its statistics and settings, ``nn.LayerNorm`` a ``LayerNorm``, ``nn.Embedding`` an
    ``Embedding``, dropout and pooling modules their Flux twins, activation modules Flux's
    functions (``nn.GELU()`` is ``gelu_erf``, ``nn.GELU(approximate="tanh")`` is ``gelu``,
    ``nn.SiLU`` is ``swish``, ``nn.Flatten()`` is ``flatten``). Outputs and gradients equal
    the module's, with two exceptions:

    - ``LayerNorm``: Flux divides by ``σ + eps`` where torch divides by ``sqrt(σ² + eps)``;
      outputs differ by a relative ``eps / (2σ²)`` or so (about ``5e-6`` for unit variance).
    - ``nn.LSTM``/``nn.GRU``/``nn.RNN`` (one layer, one direction) become Flux's stateful
      layer ``Recur(cell)``: the bias is ``bias_ih + bias_hh``, ``state0`` (zeros) is trainable,
      the call returns the output sequence only and the state carries over between calls
      until ``reset_``. Input is time-first ``(T, N, in)``; ``batch_first=True`` gives
      ``Chain(swap_batch_time, Recur(...), swap_batch_time)``. A GRU converts only when the
      candidate gate's hidden bias is zero (Flux's GRU has none).

    Any other module is kept as it is, with a warning naming it.

    >>> m = from_torch(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
    ...                                    torch.nn.Linear(4, 2), torch.nn.Softmax(dim=-1)))
    >>> m
    Chain(
      Dense(3, 4),                          # 16 parameters
      relu,
      Dense(4, 2),                          # 10 parameters
      softmax,
    )                   # Total: 4 arrays, 26 parameters, 104 bytes.
    >>> from_torch(torch.nn.Conv2d(3, 8, 3, padding=1, bias=False))
    Conv((3, 3), 3, 8, pad=1, bias=False)  # 216 parameters
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module, but got {type(module).__name__}"
                        + ("; it is already a flux_torch layer" if callable(module) else ""))
    convert = _CONVERTERS.get(type(module))     # exact types: a subclass may change forward
    reason = "" if convert is not None else "no flux_torch layer corresponds to it"
    out = convert(module) if convert is not None else None
    if isinstance(out, str):
        reason, out = out, None
    if out is None:
        warnings.warn(f"from_torch: {type(module).__name__} is kept as a wrapped torch module "
                      f"({reason}); params, gradient, gpu and optimisers still reach its "
                      "parameters", UserWarning, stacklevel=2)
        return module
    return out
