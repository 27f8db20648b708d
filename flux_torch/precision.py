"""Precision: ``f32``, ``f64``, ``f16``, ``bf16`` convert a model's floating tensors (``Flux.f32``...).

They share ``devices._adapt``, the one conversion of a model's tensors (``gpu``/``cpu`` are
its other users). As in Flux v0.16, ``f16`` and ``bf16`` keep ``BatchNorm``, ``InstanceNorm``
and ``GroupNorm`` in mixed precision: their statistics and affine parameters stay float32 while
the data flows in half precision (the layers compute in float32 and give back the input's
dtype). ``LayerNorm`` is converted fully. ``f16_v014``/``bf16_v014`` (``flux_torch.v014``'s
``f16``/``bf16``) convert everything, as Flux v0.14 did.
"""
import numpy as np
import torch

from .devices import _adapt
from .functors import fmap, isleaf
from .layers.normalise import BatchNorm, GroupNorm, InstanceNorm
from ._types import T

__all__ = ["f16", "f32", "f64", "bf16", "f16_v014", "bf16_v014"]

_COMPLEX = {torch.float16: torch.complex32, torch.float32: torch.complex64,
            torch.float64: torch.complex128}
_NP_COMPLEX = {np.float16: None, np.float32: np.complex64, np.float64: np.complex128}


def _paramtype(dtype, np_dtype):
    """A converter of floating (and complex) data to ``dtype``; other data passes through."""
    cdtype, np_cdtype = _COMPLEX.get(dtype), _NP_COMPLEX.get(np_dtype)

    def conv(t):
        if isinstance(t, np.ndarray):
            if np_dtype and np.issubdtype(t.dtype, np.floating):
                return t.astype(np_dtype)
            if np_cdtype and np.issubdtype(t.dtype, np.complexfloating):
                return t.astype(np_cdtype)
            return t
        if t.is_floating_point():
            return t.to(dtype)
        if t.is_complex() and cdtype is not None:
            return t.to(cdtype)
        return t
    return conv


def f32(x: T) -> T:
    """Convert every floating tensor (and numpy array) in ``x`` to float32 (``Flux.f32``).

    >>> f32([torch.ones(1, dtype=torch.float64), torch.ones(1, dtype=torch.int64)])
    [tensor([1.]), tensor([1])]
    """
    return _adapt(x, _paramtype(torch.float32, np.float32))


def f64(x: T) -> T:
    """Convert every floating tensor in ``x`` to float64 (``Flux.f64``).

    >>> f64(torch.ones(1)).dtype
    torch.float64
    """
    return _adapt(x, _paramtype(torch.float64, np.float64))


def f16(x: T) -> T:
    """Convert every floating tensor in ``x`` to float16 (``Flux.f16``), keeping ``BatchNorm``,
    ``InstanceNorm`` and ``GroupNorm`` in mixed precision (float32 statistics and affine
    parameters, half-precision data), as Flux v0.16 does.

    >>> f16(torch.ones(1)).dtype
    torch.float16
    >>> m = f16(Chain(Dense(2, 3), BatchNorm(3)))
    >>> m[0].weight.dtype, m[1].γ.dtype, m[1].μ.dtype
    (torch.float16, torch.float32, torch.float32)
    """
    return _half(x, torch.float16, np.float16)


def bf16(x: T) -> T:
    """Convert every floating tensor in ``x`` to bfloat16 (numpy arrays are left alone), keeping
    the normalisation layers in mixed precision as :func:`f16` does.

    >>> bf16(torch.ones(1)).dtype
    torch.bfloat16
    """
    return _half(x, torch.bfloat16, None)


def f16_v014(x):
    """Flux v0.14's ``f16`` (``flux_torch.v014.f16``): every floating tensor to float16,
    normalisation layers included.

    >>> f16_v014(BatchNorm(3)).γ.dtype
    torch.float16
    """
    return _adapt(x, _paramtype(torch.float16, np.float16))


def bf16_v014(x):
    """Flux v0.14's ``bf16`` (``flux_torch.v014.bf16``): every floating tensor to bfloat16.

    >>> bf16_v014(BatchNorm(3)).γ.dtype
    torch.bfloat16
    """
    return _adapt(x, _paramtype(torch.bfloat16, None))




def _half(x, dtype, np_dtype):
    norms = (BatchNorm, InstanceNorm, GroupNorm)
    to_half, to_f32 = _paramtype(dtype, np_dtype), _paramtype(torch.float32, np.float32)

    def convert(v):
        return _adapt(v, to_f32) if isinstance(v, norms) else _adapt(v, to_half)
    if isinstance(x, norms) or isleaf(x):
        return convert(x)
    return fmap(convert, x, exclude=lambda v: isinstance(v, norms) or isleaf(v))
