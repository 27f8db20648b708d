"""Pooling layers (Flux's): ``MaxPool``, ``MeanPool``, their ``Global`` and ``Adaptive`` forms.

Input is ``(N, C, spatial...)``; windows, strides and output sizes are tuples in
data order (Julia's reversed). Padding takes Flux's forms (see ``Conv``); max
pooling ignores padded elements, mean pooling counts them as zeros and always
divides by the window size, as NNlib does.
"""
import torch
import torch.nn.functional as F

from ..functors import functor
from .._show import Showable
from ._conv_args import (calc_padding, expand, float_input, input_error, int_tuple,
                         pad_pairs, torch_arg, tuple_string)

__all__ = ["MaxPool", "MeanPool", "GlobalMaxPool", "GlobalMeanPool", "AdaptiveMaxPool",
           "AdaptiveMeanPool"]

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_MEAN = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _window(name, k):
    k = int_tuple(k, name, "the window size")
    if not 1 <= len(k) <= 3:
        raise ValueError(f"{name} supports 1 to 3 spatial dims, but got the window {k}")
    return k


_SETTINGS = {}   # (pad, k, stride) -> _settings' answer (a plain dict: torch.compile traces it)


def _settings(pad, k, stride):
    """(window, stride, torch padding, F.pad list or None) for torch's pooling: torch takes
    symmetric pads up to half the window; a tuple whose entries agree is passed as one int,
    which torch parses faster."""
    hit = _SETTINGS.get((pad, k, stride))
    if hit is None:
        n = len(k)
        lo, hi = pad_pairs(pad, n)
        if lo == hi and all(0 <= 2 * p <= kk for p, kk in zip(lo, k)):
            sym, fpad = lo, None
        else:
            sym, fpad = (0,) * n, [p for i in reversed(range(n)) for p in (lo[i], hi[i])]
        hit = torch_arg(k), torch_arg(stride), torch_arg(sym), fpad
        if len(_SETTINGS) < 1024:
            _SETTINGS[(pad, k, stride)] = hit
    return hit


def _pool(layer, x, fn, fill):
    if type(x) is not torch.Tensor or not x.is_floating_point():
        x = float_input(x)
    k = layer.k
    if x.dim() != len(k) + 2:
        raise input_error(layer, x, len(k))
    window, stride, pad, fpad = _settings(layer.pad, k, layer.stride)
    if fpad is not None:
        x = F.pad(x, fpad, value=fill)
    return fn(x, window, stride, pad)


class _Pool(Showable):
    def __init__(self, k, *, pad=0, stride=None):
        name = type(self).__name__
        self.k = _window(name, k)
        self.stride = self.k if stride is None else expand(len(self.k), stride, name, "stride")
        self.pad = calc_padding(pad, self.k, (1,) * len(self.k), self.stride, name)

    def _inline(self):
        s = f"{type(self).__name__}({self.k}"
        if any(self.pad):
            s += f", pad={tuple_string(self.pad)}"
        if self.stride != self.k:
            s += f", stride={tuple_string(self.stride)}"
        return s + ")"


@functor
class MaxPool(_Pool):
    """Max pooling over windows of size ``k`` (``Flux.MaxPool``); the stride defaults to ``k``.

    >>> x = torch.rand(50, 3, 100, 100)
    >>> MaxPool((5, 5), pad=SamePad())
    MaxPool((5, 5), pad=2)
    >>> MaxPool((2, 2))(x).shape
    torch.Size([50, 3, 50, 50])
    >>> layer = MaxPool((5,), pad=2, stride=(3,))
    >>> layer, layer(torch.rand(50, 7, 100)).shape
    (MaxPool((5,), pad=2, stride=3), torch.Size([50, 7, 34]))
    """

    def __init__(self, k, *, pad=0, stride=None):
        super().__init__(k, pad=pad, stride=stride)

    def __call__(self, x):
        return _pool(self, x, _MAX[len(self.k)], float("-inf"))


@functor
class MeanPool(_Pool):
    """Mean pooling over windows of size ``k`` (``Flux.MeanPool``); the stride defaults to ``k``.

    >>> MeanPool((5, 5), pad=SamePad())(torch.rand(50, 7, 96, 96)).shape
    torch.Size([50, 7, 20, 20])
    >>> MeanPool((2,))(torch.tensor([[[1.0, 3.0, 5.0, 7.0]]]))
    tensor([[[2., 6.]]])
    """

    def __init__(self, k, *, pad=0, stride=None):
        super().__init__(k, pad=pad, stride=stride)

    def __call__(self, x):
        return _pool(self, x, _MEAN[len(self.k)], 0.0)


def _global_check(layer, x):
    x = float_input(x)
    if x.dim() < 3:
        raise ValueError(f"{layer._inline()} expects input (N, C, spatial...) with at least 3 "
                         f"dims, but got a tensor of shape {tuple(x.shape)}")
    return x, tuple(range(2, x.dim()))


@functor
class GlobalMaxPool(Showable):
    """The maximum over all spatial dims: ``(N, C, H, W) → (N, C, 1, 1)`` (``Flux.GlobalMaxPool``).

    >>> GlobalMaxPool()(torch.rand(50, 3, 100, 100)).shape
    torch.Size([50, 3, 1, 1])
    >>> GlobalMaxPool()(torch.rand(7, 5, 3)).shape      # Flux's rand(3, 5, 7)
    torch.Size([7, 5, 1])
    """

    def __call__(self, x):
        x, dims = _global_check(self, x)
        return x.amax(dim=dims, keepdim=True)

    def _inline(self):
        return "GlobalMaxPool()"


@functor
class GlobalMeanPool(Showable):
    """The mean over all spatial dims: ``(N, C, H, W) → (N, C, 1, 1)`` (``Flux.GlobalMeanPool``).

    >>> GlobalMeanPool()(torch.ones(2, 3, 4, 4))
    tensor([[[[1.]], [[1.]], [[1.]]], [[[1.]], [[1.]], [[1.]]]])
    """

    def __call__(self, x):
        x, dims = _global_check(self, x)
        return x.mean(dim=dims, keepdim=True)

    def _inline(self):
        return "GlobalMeanPool()"


class _Adaptive(Showable):
    def __init__(self, out):
        self.out = _window(type(self).__name__, out)

    def _run(self, x, fns):
        x = float_input(x)
        n = len(self.out)
        if x.dim() != n + 2:
            raise input_error(self, x, n)
        insize = tuple(x.shape[2:])
        if any(i < o for i, o in zip(insize, self.out)):
            raise ValueError(f"{self._inline()} cannot make an output of spatial size {self.out} "
                             f"from input of shape {tuple(x.shape)}: the input is smaller")
        stride = tuple(i // o for i, o in zip(insize, self.out))
        k = tuple(i - (o - 1) * s for i, o, s in zip(insize, self.out, stride))
        return fns[n](x, k, stride)

    def _inline(self):
        return f"{type(self).__name__}({self.out})"


@functor
class AdaptiveMaxPool(_Adaptive):
    """Max pooling to a given spatial output size (``Flux.AdaptiveMaxPool``).

    As Flux, it uses one window ``k = in - (out - 1)·stride`` with ``stride = in ÷ out``
    (torch's ``adaptive_max_pool`` varies the window instead, so results can differ).

    >>> x = torch.rand(50, 3, 100, 100)
    >>> AdaptiveMaxPool((25, 25))(x).shape
    torch.Size([50, 3, 25, 25])
    >>> torch.equal(MaxPool((4, 4))(x), AdaptiveMaxPool((25, 25))(x))
    True
    """

    def __init__(self, out):
        super().__init__(out)

    def __call__(self, x):
        return self._run(x, _MAX)


@functor
class AdaptiveMeanPool(_Adaptive):
    """Mean pooling to a given spatial output size (``Flux.AdaptiveMeanPool``); windows as
    :class:`AdaptiveMaxPool`.

    >>> x = torch.rand(50, 3, 100, 100)
    >>> torch.equal(MeanPool((4, 4))(x), AdaptiveMeanPool((25, 25))(x))
    True
    """

    def __init__(self, out):
        super().__init__(out)

    def __call__(self, x):
        return self._run(x, _MEAN)
