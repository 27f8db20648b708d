"""Convolution layers: ``Conv``, ``CrossCor``, ``DepthwiseConv`` (Flux's, on ``torch.nn.functional``).

Layout is torch's: input ``(N, C, spatial...)``, weight ``(out, in/groups, k...)``,
kernel/stride/dilation tuples in data order (Julia's reversed). Flux's ``Conv``
is a true convolution (it flips the kernel) and ``CrossCor`` is not; here both
compute what ``torch.nn.Conv2d`` computes, cross-correlation, and the weights are
torch's. They differ only in how Flux-exported weights load: a Flux ``Conv``
weight ``w`` equals a ``CrossCor`` weight with every spatial dim reversed, and
:func:`from_flux_weight` does this conversion (and the reversal of dim order).
"""
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..devices import as_tensor
from ..functors import functor
from .._show import Showable
from ..activation import identity
from ..init import create_bias, glorot_uniform
from ._conv_args import (SamePad, calc_padding, collapse_dilation, conv_args, conv_options, expand,
                         guarded_call, init_weight, torch_arg, torch_padding)
from .._types import Shape, TensorLike

__all__ = ["Conv", "CrossCor", "DepthwiseConv", "SamePad", "from_flux_weight"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _groups(name, groups, cin, cout):
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise TypeError(f"{name} expects groups= to be a positive int, but got {groups!r}")
    if cin % groups or cout % groups:
        raise ValueError(f"{name} with groups={groups} needs both channel counts divisible by "
                         f"{groups}, but got in={cin}, out={cout}")


def _setup(layer, name, w, bias, σ, stride, pad, dilation):
    n = w.dim() - 2
    k = tuple(w.shape[2:])
    layer.σ = σ
    layer.weight = w
    layer.bias = create_bias(w, bias, w.shape[0])
    layer.stride = expand(n, stride, name, "stride")
    layer.dilation = expand(n, dilation, name, "dilation")
    layer.pad = calc_padding(pad, k, layer.dilation, layer.stride, name)


def _forward(layer, x, groups):
    w = layer.weight
    y = guarded_call(layer, x, lambda x, w: _conv(layer, x, w, groups), w.shape[1] * groups)
    σ = layer.σ
    return y if σ is identity else σ(y)


def _conv(layer, x, w, groups):
    n = w.dim() - 2
    dilation = layer.dilation
    if 0 in dilation:
        w, dilation = collapse_dilation(w, dilation)
    key = (layer.pad, layer.stride, dilation, n)
    args = _ARGS.get(key)
    if args is None:
        args = _conv_settings(*key)
    stride, pad, dilation, fpad = args
    if fpad is not None:
        x = F.pad(x, fpad)
    return _CONV[n](x, w, layer.bias, stride, pad, dilation, groups)


_ARGS = {}   # (pad, stride, dilation, n) -> _conv_settings' answer (a plain dict: torch.compile traces it)


def _conv_settings(pad, stride, dilation, n):
    """(stride, padding, dilation, F.pad list or None) for torch: a tuple whose entries agree
    is given as one int, which torch parses faster."""
    sym, fpad = torch_padding(pad, n)
    args = torch_arg(stride), torch_arg(sym), torch_arg(dilation), fpad
    if len(_ARGS) < 1024:
        _ARGS[(pad, stride, dilation, n)] = args
    return args


@functor
class Conv(Showable):
    """A convolution layer (``Flux.Conv``), computing what ``torch.nn.Conv{1,2,3}d`` computes.

    ``Conv(kernel, in, out, σ)`` or ``Conv(kernel, (in, out), σ)`` (Flux's ``in => out``),
    or ``Conv(weight, bias=True, σ)`` from a ``(out, in/groups, k...)`` weight. The
    kernel is a tuple in data order, ``(kH, kW)`` for images. Keywords: ``stride``,
    ``dilation`` (int or tuple), ``pad`` (int; tuple per dim; ``2N`` tuple in ``F.pad``
    order, last dim first, which is Flux's tuple unchanged; or ``SamePad()``),
    ``groups``, ``bias``, ``init`` (``glorot_uniform``). Input ``(N, in, spatial...)``.

    Flux's Conv flips the kernel (a true convolution); this one does not, so its
    weights are torch's. Load weights exported from Flux with :func:`from_flux_weight`.

    >>> x = torch.rand(50, 3, 100, 100)         # Flux's rand32(100, 100, 3, 50)
    >>> layer = Conv((5, 5), 3, 7, relu, bias=False)
    >>> layer
    Conv((5, 5), 3, 7, relu, bias=False)  # 525 parameters
    >>> layer(x).shape
    torch.Size([50, 7, 96, 96])
    >>> Conv((5, 5), 3, 7, stride=2, pad=SamePad())(x).shape
    torch.Size([50, 7, 50, 50])
    >>> Conv((1, 1), 3, 7, pad=(20, 10, 0, 0))(x).shape      # F.pad order: (left, right, top, bottom)
    torch.Size([50, 7, 100, 130])
    >>> Conv((5, 5), 3, 7, stride=2, dilation=4)(x).shape
    torch.Size([50, 7, 42, 42])
    """

    def __init__(self, k, *args, stride=1, pad=0, dilation=1, groups=1, bias=True,
                 init=glorot_uniform, **kw):
        w, ch, bias, σ = conv_args("Conv", k, args, bias, kw)
        if w is None:
            _groups("Conv", groups, *ch)
            w = init_weight("Conv", init, ch[1], ch[0] // groups, *k)
        else:
            _groups("Conv", groups, w.shape[1] * groups, w.shape[0])
        _setup(self, "Conv", w, bias, σ, stride, pad, dilation)
        self.groups = groups

    def __call__(self, x):
        return _forward(self, x, self.groups)

    def _inline(self):
        w = self.weight
        return (f"Conv({tuple(w.shape[2:])}, {w.shape[1] * self.groups}, {w.shape[0]}"
                f"{conv_options(self)})")


@functor
class CrossCor(Showable):
    """A cross-correlation layer (``Flux.CrossCor``): the same as :class:`Conv` here.

    Flux's ``CrossCor`` does not flip its kernel, like torch's convolutions, so
    a Flux-exported CrossCor weight needs only its dims reversed to load
    (``from_flux_weight(w, CrossCor)``). Same arguments as :class:`Conv`, without
    ``groups`` (as in Flux).

    >>> layer = CrossCor((5, 5), 3, 6, relu, bias=False)
    >>> layer
    CrossCor((5, 5), 3, 6, relu, bias=False)  # 450 parameters
    >>> CrossCor((5, 5), 3, 7, stride=3, pad=(0, 2))(torch.rand(50, 3, 100, 100)).shape
    torch.Size([50, 7, 32, 34])
    """

    def __init__(self, k, *args, stride=1, pad=0, dilation=1, bias=True,
                 init=glorot_uniform, **kw):
        w, ch, bias, σ = conv_args("CrossCor", k, args, bias, kw)
        if w is None:
            w = init_weight("CrossCor", init, ch[1], ch[0], *k)
        _setup(self, "CrossCor", w, bias, σ, stride, pad, dilation)

    def __call__(self, x):
        return _forward(self, x, 1)

    def _inline(self):
        w = self.weight
        return f"CrossCor({tuple(w.shape[2:])}, {w.shape[1]}, {w.shape[0]}{conv_options(self)})"


def DepthwiseConv(k: Shape, *args: Any, stride: Shape = 1, pad: Any = 0, dilation: Shape = 1,
                  bias: Any = True, init: Callable[..., torch.Tensor] = glorot_uniform, **kw: Any) -> Conv:
    """A depthwise convolution: a :class:`Conv` with ``groups = in`` (``Flux.DepthwiseConv``).

    ``DepthwiseConv(kernel, in, out, σ)`` needs ``out`` a multiple of ``in``.
    ``DepthwiseConv(weight, bias, σ)`` takes a weight of shape ``(m, in, k...)``
    (Flux's ``(k..., in, m)``) and, as Flux does, reshapes it to ``(m·in, 1, k...)``
    with ``groups = in``.

    >>> layer = DepthwiseConv((5, 5), 3, 6, relu, bias=False)
    >>> layer
    Conv((5, 5), 3, 6, relu, groups=3, bias=False)  # 150 parameters
    >>> DepthwiseConv((5, 5), 3, 9, stride=2, pad=2)(torch.rand(50, 3, 100, 100)).shape
    torch.Size([50, 9, 50, 50])
    """
    w, ch, bias, σ = conv_args("DepthwiseConv", k, args, bias, kw)
    opts = dict(stride=stride, pad=pad, dilation=dilation, bias=bias)
    if w is None:
        cin, cout = ch
        if cout % cin:
            raise ValueError(f"DepthwiseConv expects out to be a multiple of in (each input "
                             f"channel gets out/in filters), but got in={cin}, out={cout}")
        return Conv(k, cin, cout, σ, groups=cin, init=init, **opts)
    groups = w.shape[1]
    return Conv(w.reshape(w.shape[0] * groups, 1, *w.shape[2:]), σ, groups=groups, **opts)


def from_flux_weight(w: TensorLike, layer: type = Conv, *, julia_size: bool = True) -> torch.Tensor:
    """Convert a convolution weight exported from Flux to this package's layout.

    ``w`` has Julia's size ``(k..., in, out)`` (``(k..., out, in)`` for ConvTranspose),
    as a column-major reader such as ``np.load`` of a Fortran-order file gives;
    its dims are reversed to torch's ``(out, in, k...)``. Pass ``julia_size=False``
    when the reader has already reversed them (``h5py``, or a raw buffer reshaped
    to the reversed size). For ``layer`` ``Conv``, ``ConvTranspose`` or
    ``DepthwiseConv`` (Flux flips these kernels) every spatial dim is then
    reversed; for ``CrossCor`` it is not. Then ``Conv(from_flux_weight(w), b)``
    computes what Flux's ``Conv(w, b)`` computes.

    >>> w = torch.arange(4.0).reshape(2, 2, 1, 1)     # Julia size (2, 2, 1, 1)
    >>> from_flux_weight(w)[0, 0]
    tensor([[3., 1.],
            [2., 0.]])
    >>> from_flux_weight(w, CrossCor)[0, 0]
    tensor([[0., 2.],
            [1., 3.]])
    """
    name = layer if isinstance(layer, str) else getattr(layer, "__name__", repr(layer))
    if name not in ("Conv", "ConvTranspose", "DepthwiseConv", "CrossCor"):
        raise ValueError(f"from_flux_weight: layer must be Conv, ConvTranspose, DepthwiseConv "
                         f"or CrossCor, but got {layer!r}")
    w = as_tensor(w)
    if not 3 <= w.dim() <= 5:
        raise ValueError(f"from_flux_weight expects a conv weight with 1 to 3 spatial dims, "
                         f"but got shape {tuple(w.shape)}")
    if julia_size:
        w = w.permute(*reversed(range(w.dim())))
    if name != "CrossCor":
        w = torch.flip(w, dims=tuple(range(2, w.dim())))
    return w.contiguous()
