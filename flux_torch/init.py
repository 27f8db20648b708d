"""Flux's weight initialisers, with Flux's formulas and defaults, on torch.

Sizes are the parameter shape in torch order, the same as the ``torch.nn`` twin:
a Dense weight is ``(out, in)`` (as in Flux), a Conv weight ``(out, in, kH, kW)``
(Flux's ``(kW, kH, in, out)`` reversed). :func:`nfan` reads fans in that order.

Every random initialiser takes an optional ``torch.Generator``, as keyword
``rng=`` or as first argument (Flux's ``glorot_uniform(rng, dims...)``). Called
without sizes it returns an initialiser with those keywords applied, as Flux's
``glorot_uniform(gain=2)`` does. All return plain float32 tensors.
"""
import functools
import inspect
import math
import numbers
import warnings
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .devices import as_tensor
from ._types import RNG, TensorLike

__all__ = [
    "nfan", "glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal",
    "truncated_normal", "lecun_normal", "orthogonal", "sparse_init", "identity_init",
    "zeros32", "ones32", "rand32", "randn32", "create_bias",
]


def _sizes(fname, dims):
    """Sizes as a tuple of ints; one tuple/list/torch.Size argument is unpacked."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list, torch.Size)):
        dims = tuple(dims[0])
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0:
            raise TypeError(
                f"{fname} expects sizes as non-negative integers, like {fname}(5, 3), "
                f"but got {d!r} in {dims!r}")
    return tuple(int(d) for d in dims)


class _Initialiser:
    """An initialiser with keywords applied, returned by ``glorot_uniform(gain=2)`` etc."""

    def __init__(self, fn, kwargs):
        self.fn, self.kwargs = fn, kwargs

    def __call__(self, *dims, **kwargs):
        return self.fn(*dims, **{**self.kwargs, **kwargs})

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.fn.__name__}({args})"


def _initialiser(fn):
    """Give ``fn(*dims, rng=None, **kw)`` Flux's calling conventions: optional leading
    Generator, sizes as one tuple, and partial application when no size is given."""
    allowed = [p.name for p in inspect.signature(fn).parameters.values()
               if p.kind is inspect.Parameter.KEYWORD_ONLY]

    @functools.wraps(fn)
    def init(*args, **kwargs):
        for k in kwargs:
            if k not in allowed:
                raise TypeError(f"{fn.__name__} got an unexpected keyword argument {k!r}; "
                                f"it accepts {', '.join(allowed)}")
        if args and isinstance(args[0], torch.Generator):
            if kwargs.get("rng") is not None:
                raise TypeError(f"{fn.__name__} got a generator both as first argument and as rng=")
            kwargs["rng"], args = args[0], args[1:]
        if not args:
            return _Initialiser(init, kwargs)
        return fn(*_sizes(fn.__name__, args), **kwargs)

    return init


def _rand(dims, rng, normal=False):
    device = rng.device if rng is not None else None
    make = torch.randn if normal else torch.rand
    return make(dims, generator=rng, dtype=torch.float32, device=device)


def nfan(*dims: int) -> Tuple[int, int]:
    """(fan_in, fan_out) of a parameter of the given torch-order shape.

    A vector ``(n,)`` counts as ``n × 1``; a matrix is ``(out, in)``; a conv
    kernel ``(out, in, k...)`` has fan_in = in·prod(k), fan_out = out·prod(k).

    >>> nfan(20, 10)           # Dense(10, 20).weight
    (10, 20)
    >>> nfan(10, 2, 3, 3)      # Conv((3, 3), 2 => 10).weight
    (18, 90)
    """
    dims = _sizes("nfan", dims)
    if len(dims) == 0:
        return 1, 1
    if len(dims) == 1:
        return 1, dims[0]
    k = math.prod(dims[2:])
    return dims[1] * k, dims[0] * k


@_initialiser
def glorot_uniform(*dims: Union[int, Sequence[int], torch.Generator], gain: float = 1,
                   rng: RNG = None) -> torch.Tensor:
    """Uniform on [-x, x] with x = gain·sqrt(6 / (fan_in + fan_out)) (Xavier).

    >>> w = glorot_uniform(100, 100, rng=torch.Generator().manual_seed(0))
    >>> w.dtype, bool(w.abs().max() <= (6 / 200) ** 0.5)
    (torch.float32, True)
    >>> glorot_uniform(gain=2)
    glorot_uniform(gain=2)
    """
    scale = float(gain) * math.sqrt(24.0 / sum(nfan(*dims)))
    return (_rand(dims, rng) - 0.5) * scale


@_initialiser
def glorot_normal(*dims: Union[int, Sequence[int], torch.Generator], gain: float = 1,
                  rng: RNG = None) -> torch.Tensor:
    """Normal with std gain·sqrt(2 / (fan_in + fan_out)) (Xavier).

    >>> round(glorot_normal(1000, 1000, rng=torch.Generator().manual_seed(0)).std().item(), 3)
    0.032
    """
    return _rand(dims, rng, normal=True) * (float(gain) * math.sqrt(2.0 / sum(nfan(*dims))))


@_initialiser
def kaiming_uniform(*dims: Union[int, Sequence[int], torch.Generator], gain: float = math.sqrt(2),
                    rng: RNG = None) -> torch.Tensor:
    """Uniform on [-x, x] with x = gain·sqrt(3 / fan_in) (He).

    >>> w = kaiming_uniform(10, 100, rng=torch.Generator().manual_seed(0))
    >>> bool(w.abs().max() <= (6 / 100) ** 0.5)
    True
    """
    bound = math.sqrt(3.0) * float(gain) / math.sqrt(nfan(*dims)[0])
    return (_rand(dims, rng) - 0.5) * (2 * bound)


@_initialiser
def kaiming_normal(*dims: Union[int, Sequence[int], torch.Generator], gain: float = math.sqrt(2),
                   rng: RNG = None) -> torch.Tensor:
    """Normal with std gain / sqrt(fan_in) (He).

    >>> round(kaiming_normal(1000, 10, rng=torch.Generator().manual_seed(0)).std().item(), 2)
    0.45
    """
    return _rand(dims, rng, normal=True) * (float(gain) / math.sqrt(nfan(*dims)[0]))


@_initialiser
def truncated_normal(*dims: Union[int, Sequence[int], torch.Generator], mean: float = 0, std: float = 1,
                     lo: float = -2, hi: float = 2, rng: RNG = None) -> torch.Tensor:
    """Normal(mean, std) truncated to [lo, hi], by the inverse CDF of uniform draws.

    >>> w = truncated_normal(10**5, rng=torch.Generator().manual_seed(0))
    >>> bool(w.min() >= -2 and w.max() <= 2)
    True
    """
    if mean < lo - 2 * std or mean > hi + 2 * std:
        warnings.warn("truncated_normal: mean is more than 2 std outside [lo, hi], so the "
                      "distribution of values may be inaccurate", UserWarning, stacklevel=3)
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
    l, u = cdf((lo - mean) / std), cdf((hi - mean) / std)
    x = _rand(dims, rng).double() * (2 * (u - l)) + (2 * l - 1)
    x = torch.special.erfinv(x) * (std * math.sqrt(2)) + mean
    return x.clamp_(lo, hi).float()


@_initialiser
def lecun_normal(*dims: Union[int, Sequence[int], torch.Generator], gain: float = 1,
                 rng: RNG = None) -> torch.Tensor:
    """``truncated_normal`` with std gain·sqrt(1 / fan_in) (and Flux's fixed lo=-2, hi=2).

    >>> round(lecun_normal(1000, 1000, rng=torch.Generator().manual_seed(0)).std().item(), 3)
    0.032
    """
    std = float(gain) * math.sqrt(1.0 / nfan(*dims)[0])
    return truncated_normal(*dims, mean=0, std=std, rng=rng)


@_initialiser
def orthogonal(*dims: Union[int, Sequence[int], torch.Generator], gain: float = 1,
               rng: RNG = None) -> torch.Tensor:
    """A (semi-)orthogonal matrix times gain: rows orthonormal if out ≤ in, else columns.

    For more than 2 sizes, ``W.reshape(dims[0], -1)`` is the semi-orthogonal matrix; one
    size gives a vector of norm ``gain`` (a one-column matrix), as Flux's ``orthogonal(n)``.

    >>> W = orthogonal(5, 7)
    >>> torch.allclose(W @ W.T, torch.eye(5), atol=1e-5)
    True
    >>> round(float(orthogonal(3, gain=2).norm()), 4)
    2.0
    """
    rows, cols = dims[0], math.prod(dims[1:])
    mat = _rand((max(rows, cols), min(rows, cols)), rng, normal=True)
    Q, R = torch.linalg.qr(mat)
    Q = Q * torch.sign(torch.diagonal(R)) * float(gain)
    return (Q.T if rows < cols else Q).contiguous().reshape(dims)


@_initialiser
def sparse_init(*dims: Union[int, Sequence[int], torch.Generator], sparsity: Optional[float] = None,
                std: float = 0.01, rng: RNG = None) -> torch.Tensor:
    """A matrix whose every column has ceil(sparsity·rows) zeros, other entries Normal(0, std).

    >>> (sparse_init(10, 11, sparsity=0.9) == 0).sum(dim=0).tolist() == [9] * 11
    True
    """
    if len(dims) != 2:
        raise ValueError(f"sparse_init supports only 2-dimensional outputs, but got sizes {dims}")
    if sparsity is None:
        raise TypeError("sparse_init needs the keyword sparsity=, e.g. sparse_init(100, 10, sparsity=0.1)")
    rows, cols = dims
    num_zeros = math.ceil(min(1.0, max(0.0, sparsity)) * rows)   # Flux: none below 0, all above 1
    w = _rand(dims, rng, normal=True) * float(std)
    w[:num_zeros, :] = 0
    perm = torch.argsort(_rand(dims, rng), dim=0)
    return torch.gather(w, 0, perm)


@_initialiser
def identity_init(*dims: Union[int, Sequence[int], torch.Generator], gain: float = 1,
                  shift: Union[int, Sequence[int]] = 0, rng: RNG = None) -> torch.Tensor:
    """An identity map: zeros for 1 size, ``gain * I`` for a matrix, and for a conv
    kernel ``(out, in, k...)`` gain at the centre tap of W[i, i] (``rng`` is ignored).
    For an even kernel size the tap is the later of the two middle ones (index ``k // 2``):
    Flux's ``Conv`` flips its kernel and ours does not, so that ``Conv`` with ``SamePad()``
    is the identity map, as in Flux.

    ``shift`` (int or tuple) rolls the result circularly along the leading dims.

    >>> identity_init(3, 5) @ torch.tensor([1.0, -2.0, 3.0, -4.0, 5.0])
    tensor([ 1., -2.,  3.])
    >>> identity_init(2, 3, 3, gain=100)[:, :, 1]
    tensor([[100.,   0.,   0.],
            [  0., 100.,   0.]])
    """
    w = torch.zeros(dims, dtype=torch.float32)
    if len(dims) == 1:
        return w
    n = min(dims[0], dims[1])
    centre = tuple(d // 2 for d in dims[2:])      # Flux's cld(d, 2), flipped
    idx = torch.arange(n)
    w[(idx, idx) + centre] = float(gain)
    shifts = tuple(shift) if isinstance(shift, (tuple, list)) else (shift,)
    if any(shifts):
        w = torch.roll(w, shifts, dims=tuple(range(len(shifts))))
    return w


def zeros32(*dims: Union[int, Sequence[int], torch.Generator], rng: RNG = None) -> torch.Tensor:
    """A float32 tensor of zeros (``rng`` is accepted and ignored).

    >>> zeros32(2, 3).shape, zeros32(2).dtype
    (torch.Size([2, 3]), torch.float32)
    """
    return torch.zeros(_sizes("zeros32", dims), dtype=torch.float32)


def ones32(*dims: Union[int, Sequence[int], torch.Generator], rng: RNG = None) -> torch.Tensor:
    """A float32 tensor of ones (``rng`` is accepted and ignored).

    >>> ones32(2)
    tensor([1., 1.])
    """
    return torch.ones(_sizes("ones32", dims), dtype=torch.float32)


@_initialiser
def rand32(*dims: Union[int, Sequence[int], torch.Generator], rng: RNG = None) -> torch.Tensor:
    """Uniform [0, 1) float32 numbers; ``rand32(rng)`` returns an initialiser.

    >>> g = torch.Generator().manual_seed(1)
    >>> torch.equal(rand32(g)(3, 2), rand32(3, 2, rng=torch.Generator().manual_seed(1)))
    True
    """
    return _rand(dims, rng)


@_initialiser
def randn32(*dims: Union[int, Sequence[int], torch.Generator], rng: RNG = None) -> torch.Tensor:
    """Standard normal float32 numbers; ``randn32(rng)`` returns an initialiser.

    >>> randn32(4, 5).shape
    torch.Size([4, 5])
    """
    return _rand(dims, rng, normal=True)


def create_bias(weights: torch.Tensor, bias: Union[bool, TensorLike], *dims: int) -> Optional[torch.Tensor]:
    """The bias for a layer's ``bias=`` keyword: True → zeros of size ``dims`` with the
    weights' dtype and device; False → None (Flux's ``false``, no bias); an array →
    checked against ``dims`` and converted to the weights' dtype.

    >>> w = torch.ones(3, 2)
    >>> create_bias(w, True, 3), create_bias(w, False, 3)
    (tensor([0., 0., 0.]), None)
    >>> create_bias(w, [1, 2, 3], 3)
    tensor([1., 2., 3.])
    """
    dims = _sizes("create_bias", dims)
    if isinstance(bias, (bool, np.bool_)):
        return torch.zeros(dims, dtype=weights.dtype, device=weights.device) if bool(bias) else None
    if bias is None:
        return None
    bias = as_tensor(bias)
    if tuple(bias.shape) != dims:
        raise ValueError(
            f"create_bias: expected a bias of shape {dims}, but got shape {tuple(bias.shape)}; "
            f"pass bias=True to create zeros of the right shape, or bias=False for none")
    return bias.to(weights.dtype)
