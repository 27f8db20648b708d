"""New arrays shaped like another (MLUtils.jl): ``ones_like``, ``zeros_like``,
``fill_like``, ``rand_like``, ``randn_like``.

MLUtils' ``ones_like(x, [T=eltype(x)], [sz=size(x)])`` is
``ones_like(x, dtype=None, shape=None)`` here: the element type is a
``torch.dtype`` and the size a torch shape (an int or a tuple, taken as
given). As in Julia, a shape may stand in the second place:
``ones_like(x, (3, 3))``. The result is on ``x``'s device; numpy arrays and
lists are accepted (``x`` is converted with ``as_tensor``).
"""
import numbers
from typing import Any, Optional, Union

import torch

from ..devices import as_tensor
from .indices import _generator
from .._types import RNG, Shape, TensorLike

__all__ = ["ones_like", "zeros_like", "fill_like", "rand_like", "randn_like"]


def _is_shape(s):
    if isinstance(s, numbers.Integral) and not isinstance(s, bool):
        return True
    return isinstance(s, (tuple, list, torch.Size)) and all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in s)


def _spec(fname, x, dtype, shape):
    """(tensor x, dtype, shape) with MLUtils' defaults filled in."""
    if shape is None and dtype is not None and _is_shape(dtype):
        dtype, shape = None, dtype
    x = as_tensor(x)
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise TypeError(f"{fname}: dtype must be a torch.dtype (Julia's Float64 is torch.float64, "
                        f"Float32 is torch.float32), but got {dtype!r}")
    if shape is None:
        shape = tuple(x.shape)
    elif not _is_shape(shape):
        raise TypeError(f"{fname}: shape must be an int or a tuple of ints, but got {shape!r}")
    else:
        shape = (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(d) for d in shape)
    return x, (x.dtype if dtype is None else dtype), shape


def ones_like(x: TensorLike, dtype: Optional[Union[torch.dtype, Shape]] = None,
              shape: Optional[Shape] = None) -> torch.Tensor:
    """A tensor of ones with ``x``'s dtype, shape and device, or the given ``dtype``
    and ``shape`` (``MLUtils.ones_like``).

    >>> ones_like(torch.zeros(2, dtype=torch.float16), (2, 3))
    tensor([[1., 1., 1.],
            [1., 1., 1.]], dtype=torch.float16)
    >>> ones_like([1, 2], torch.float64)
    tensor([1., 1.], dtype=torch.float64)
    """
    x, dtype, shape = _spec("ones_like", x, dtype, shape)
    return torch.ones(shape, dtype=dtype, device=x.device)


def zeros_like(x: TensorLike, dtype: Optional[Union[torch.dtype, Shape]] = None,
               shape: Optional[Shape] = None) -> torch.Tensor:
    """A tensor of zeros with ``x``'s dtype, shape and device, or the given ``dtype``
    and ``shape`` (``MLUtils.zeros_like``).

    >>> zeros_like(torch.ones(2, 2), torch.int64)
    tensor([[0, 0],
            [0, 0]])
    """
    x, dtype, shape = _spec("zeros_like", x, dtype, shape)
    return torch.zeros(shape, dtype=dtype, device=x.device)


def fill_like(x: TensorLike, value: Any, dtype: Optional[Union[torch.dtype, Shape]] = None,
              shape: Optional[Shape] = None) -> torch.Tensor:
    """A tensor filled with ``value``, with ``x``'s dtype, shape and device, or the
    given ``dtype`` and ``shape`` (``MLUtils.fill_like``). A tensor ``value`` stays
    differentiable (its gradient is the sum of the output's), as in MLUtils.

    >>> fill_like(torch.zeros(2), 1.5, shape=(2, 3))
    tensor([[1.5000, 1.5000, 1.5000],
            [1.5000, 1.5000, 1.5000]])
    """
    x, dtype, shape = _spec("fill_like", x, dtype, shape)
    if not (dtype.is_floating_point or dtype.is_complex):
        v = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value
        if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral) and not float(v).is_integer():
            raise ValueError(f"fill_like: {value!r} cannot be stored exactly in {dtype} (Julia raises "
                             "InexactError); pass a float dtype, e.g. dtype=torch.float32")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"fill_like: value must be a single number, but got a tensor of shape "
                             f"{tuple(value.shape)}")
        return value.reshape(()).to(dtype=dtype, device=x.device).expand(shape).clone()
    return torch.full(shape, value, dtype=dtype, device=x.device)


def _random(fname, make, x, dtype, shape, rng):
    rng = _generator(fname, rng, x)
    x, dtype, shape = _spec(fname, x, dtype, shape)
    if not (dtype.is_floating_point or dtype.is_complex):
        raise TypeError(f"{fname} draws floating-point numbers, but the dtype is {dtype}; pass "
                        "dtype=torch.float32 (or use torch.randint for random integers)")
    device = rng.device if rng is not None else x.device
    return make(shape, generator=rng, dtype=dtype, device=device).to(x.device)


def rand_like(x: TensorLike, dtype: Optional[Union[torch.dtype, Shape]] = None, shape: Optional[Shape] = None,
              *, rng: RNG = None) -> torch.Tensor:
    """Uniform random numbers in [0, 1) with ``x``'s dtype, shape and device, or the
    given ``dtype`` and ``shape`` (``MLUtils.rand_like``); ``rng`` is a
    ``torch.Generator`` or an int seed (Julia's leading ``rng`` argument).

    >>> r = rand_like(torch.ones(2), (3, 3), rng=0)
    >>> r.shape, r.dtype, bool(((0 <= r) & (r < 1)).all())
    (torch.Size([3, 3]), torch.float32, True)
    """
    return _random("rand_like", torch.rand, x, dtype, shape, rng)


def randn_like(x: TensorLike, dtype: Optional[Union[torch.dtype, Shape]] = None,
               shape: Optional[Shape] = None, *, rng: RNG = None) -> torch.Tensor:
    """Standard normal random numbers with ``x``'s dtype, shape and device, or the
    given ``dtype`` and ``shape`` (``MLUtils.randn_like``); ``rng`` as for
    :func:`rand_like`.

    >>> randn_like(torch.ones(2), torch.float64, rng=0).dtype
    torch.float64
    """
    return _random("randn_like", torch.randn, x, dtype, shape, rng)
