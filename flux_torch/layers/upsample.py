"""Upsampling layers (Flux's): ``Upsample`` and ``PixelShuffle``."""
import numbers

import torch
import torch.nn.functional as F

from ..devices import as_tensor
from ..functors import functor
from .._show import Showable
from ._conv_args import float_input

__all__ = ["Upsample", "PixelShuffle"]

_MODES = ("nearest", "bilinear", "trilinear")
_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _per_dim(v, n, key, layer, right_align):
    """A number or tuple as one value per spatial dim. A shorter tuple (nearest mode) covers the
    last dims, as Flux's covers the first dims of the reversed Julia shape."""
    if isinstance(v, numbers.Number):
        return (v,) * n
    v = tuple(v)
    if len(v) == n or (right_align and 0 < len(v) < n):
        return (1,) * (n - len(v)) + v if key == "scale" else v
    raise ValueError(f"{layer._inline()} got input with {n} spatial dims, but {key}={v!r} "
                     f"has {len(v)} entries")


@functor
class Upsample(Showable):
    """Upsampling of the spatial dims (``Flux.Upsample``), by ``scale`` or to ``size``.

    ``Upsample(mode="nearest", scale=..., size=...)`` or ``Upsample(scale, mode)``;
    exactly one of ``scale``/``size``. Modes: ``"nearest"`` (integer scales; ``size``
    a multiple of the input size), ``"bilinear"``, ``"trilinear"`` (linear interpolation
    with ``align_corners=True``, NNlib's default; the torch mode follows the number of
    spatial dims, as NNlib's ``upsample_linear`` does). Tuples are in data order:
    Flux's ``scale=(2, 3)`` (W×2, H×3) is ``scale=(3, 2)`` here. In nearest mode a
    shorter tuple covers the last spatial dims (Flux's first).

    >>> m = Upsample(scale=(3, 2))
    >>> m
    Upsample("nearest", scale=(3, 2))
    >>> m(torch.ones(1, 1, 2, 2)).shape
    torch.Size([1, 1, 6, 4])
    >>> Upsample("bilinear", size=(5, 4))(torch.ones(1, 1, 2, 2)).shape
    torch.Size([1, 1, 5, 4])
    >>> Upsample(2)(torch.tensor([[[1.0, 2.0]]]))
    tensor([[[1., 1., 2., 2.]]])
    """

    def __init__(self, mode="nearest", scale_or_mode=None, *, scale=None, size=None):
        if not isinstance(mode, str):                 # Upsample(scale, mode)
            if scale is not None:
                raise TypeError("Upsample got scale both as first argument and as scale=")
            mode, scale = ("nearest" if scale_or_mode is None else scale_or_mode), mode
        elif scale_or_mode is not None:
            raise TypeError(f"Upsample takes Upsample(mode, scale=..., size=...) or "
                            f"Upsample(scale, mode), but got Upsample({mode!r}, {scale_or_mode!r})")
        mode = mode.lstrip(":")
        if mode not in _MODES:
            raise ValueError(f"Upsample: mode={mode!r} is not supported; use one of {_MODES}")
        if (scale is None) == (size is None):
            raise ValueError("Upsample: either scale or size should be specified (but not both)")
        self.mode, self.scale, self.size = mode, scale, size

    def __call__(self, x):
        x = float_input(x)
        n = x.dim() - 2
        if not 1 <= n <= 3:
            raise ValueError(f"{self._inline()} expects input (N, C, spatial...) with 1 to 3 "
                             f"spatial dims, but got a tensor of shape {tuple(x.shape)}")
        insize = tuple(x.shape[2:])
        nearest = self.mode == "nearest"
        if self.scale is not None:
            scale = _per_dim(self.scale, n, "scale", self, nearest)
            if nearest:
                if not all(isinstance(s, numbers.Integral) and s >= 1 for s in scale):
                    raise ValueError(f"{self._inline()}: nearest upsampling needs positive "
                                     f"integer scales, but got scale={self.scale!r}")
                return _repeat(x, scale)
            size = tuple(int(s * i // 1) for s, i in zip(scale, insize))
        else:
            size = _per_dim(self.size, n, "size", self, nearest)
            size = insize[:n - len(size)] + size
            if nearest:
                if any(o % i for o, i in zip(size, insize)):
                    raise ValueError(f"{self._inline()}: expected output size {size} divisible "
                                     f"by the input's spatial size {insize}")
                return _repeat(x, tuple(o // i for o, i in zip(size, insize)))
        return _interpolate(x, size, _LINEAR[n])

    def _inline(self):
        s = f'Upsample("{self.mode}"'
        if self.scale is not None:
            s += f", scale={self.scale!r}"
        if self.size is not None:
            s += f", size={self.size!r}"
        return s + ")"


def _interpolate(x, size, mode):
    """Linear interpolation with ``align_corners=True``; complex data (which torch's kernels
    refuse) as its real and imaginary parts, interpolation being linear."""
    if x.is_complex():
        return torch.complex(_interpolate(x.real, size, mode), _interpolate(x.imag, size, mode))
    return F.interpolate(x, size=size, mode=mode, align_corners=True)


def _repeat(x, scale):
    """Nearest upsampling by integer factors: each element repeated, exactly (no index maths)."""
    if all(s == 1 for s in scale):
        return x
    shape, view, out = list(x.shape[:2]), list(x.shape[:2]), list(x.shape[:2])
    for i, s in zip(x.shape[2:], scale):
        view += [i, 1]
        shape += [i, s]
        out.append(i * s)
    return x.reshape(view).expand(shape).reshape(out)


@functor
class PixelShuffle(Showable):
    """Pixel shuffle by factor ``r`` (``Flux.PixelShuffle``): ``(N, C·r^d, s...) → (N, C, r·s...)``.

    For images this is ``torch.nn.functional.pixel_shuffle``; 1-D and 3-D data work too.

    >>> x = torch.arange(8.0).reshape(1, 4, 1, 2)
    >>> PixelShuffle(2)(x)
    tensor([[[[0., 2., 1., 3.],
              [4., 6., 5., 7.]]]])
    >>> PixelShuffle(2)(torch.rand(3, 18, 3)).shape      # Flux's rand(3, 18, 3): 1-D
    torch.Size([3, 9, 6])
    """

    def __init__(self, r):
        if not isinstance(r, int) or isinstance(r, bool) or r < 1:
            raise TypeError(f"PixelShuffle expects a positive integer factor r, but got {r!r}")
        self.r = r

    def __call__(self, x):
        if type(x) is not torch.Tensor:
            x = as_tensor(x)
        r, n = self.r, x.dim() - 2
        if n < 1 or x.shape[1] % r ** n:
            raise ValueError(f"PixelShuffle({r}) expects input (N, C, spatial...) whose channel "
                             f"count x.shape[1] is divisible by r^d = {r}^{max(n, 0)}, but got a "
                             f"tensor of shape {tuple(x.shape)}")
        if n == 2:
            return F.pixel_shuffle(x, r)
        batch, c, size = x.shape[0], x.shape[1] // r ** n, x.shape[2:]
        y = x.reshape(batch, c, *(r,) * n, *size)
        perm = [0, 1] + [p for i in range(n) for p in (2 + n + i, 2 + i)]
        return y.permute(perm).reshape(batch, c, *(s * r for s in size))

    def _inline(self):
        return f"PixelShuffle({self.r})"
