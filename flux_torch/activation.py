"""NNlib's activation functions, with NNlib's definitions, on torch.

Every function takes a Python number (and returns a Python float, computed in
float64) or a tensor, numpy array or list (and returns a tensor, elementwise and
differentiable by ``torch.autograd``). Integer and bool data is promoted to the
default float dtype. Each ``__name__`` is the exported Flux name, so layers print
``Dense(10, 5, σ)``. ``σ is sigmoid``, ``hardσ is hardsigmoid``, ``logσ is
logsigmoid``, ``gelu is gelu_tanh`` and ``trelu is thresholdrelu``, as in NNlib.
"""
import math
import numbers
from typing import Optional

import torch
import torch.nn.functional as F

from .devices import as_tensor
from ._types import Numeric, RNG

__all__ = [
    "σ", "sigmoid", "hardσ", "hardsigmoid", "logσ", "logsigmoid", "hardtanh",
    "relu", "relu6", "rrelu", "leakyrelu", "elu", "gelu", "gelu_tanh", "gelu_sigmoid",
    "gelu_erf", "swish",
    "hardswish", "lisht", "selu", "celu", "softplus", "softsign", "logcosh", "mish",
    "tanhshrink", "softshrink", "trelu", "thresholdrelu", "tanh_fast",
    "sigmoid_fast", "tanh", "identity",
]

_LOG2 = math.log(2.0)


def _apply(op, x, *args):
    """Apply the tensor function ``op`` to ``x`` (number, tensor, array or list)."""
    if type(x) is torch.Tensor and x.is_floating_point():     # the hot path, in layers
        return op(x, *args)
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            return _complex(op, x, *args)
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        return op(x, *args)
    if isinstance(x, numbers.Real):
        return op(torch.tensor(float(x), dtype=torch.float64), *args).item()
    return _apply(op, as_tensor(x), *args)


def _softplus_complex(z):
    """log(1 + exp(z)) for complex z, finite where exp(z) overflows (NNlib #132); each branch
    sees only the inputs it is chosen for, so neither overflows into the gradient."""
    pos = z.real > 0
    zero = torch.zeros_like(z)
    zp, zn = torch.where(pos, z, zero), torch.where(pos, zero, z)
    return torch.where(pos, zp + torch.log1p(torch.exp(-zp)), torch.log1p(torch.exp(zn)))


def _complex(op, z, *args):
    """A holomorphic activation of complex ``z`` by its elementary formula (torch's kernels are
    real-only); the piecewise ones (relu, elu...) have no complex form and refuse it."""
    holo = _HOLOMORPHIC.get(op)
    if holo is not None:
        return holo(z)
    if op in (torch.sigmoid, torch.tanh):
        return op(z)
    name = getattr(op, "__name__", repr(op)).strip("_")
    raise TypeError(f"{name} is defined by comparisons (a piecewise function), so it has no "
                    f"complex form, but got a {z.dtype} tensor; apply it to z.real or z.abs(), or "
                    "use a holomorphic activation (σ, swish, softplus, tanh...)")


def _param(fname, greek, gval, ascii_name, aval, default):
    """Resolve a coefficient given under its Greek or its ASCII keyword."""
    if gval is not None and aval is not None:
        raise TypeError(
            f"{fname} got both {greek}= and {ascii_name}=, which are the same "
            f"coefficient; pass only one of them")
    val = gval if gval is not None else aval
    return float(default if val is None else val)


def σ(x: Numeric) -> Numeric:
    """σ(x) = 1 / (1 + exp(-x)), the logistic sigmoid. ``sigmoid`` is the same function.

    >>> σ(0.0)
    0.5
    >>> sigmoid is σ
    True
    """
    return _apply(torch.sigmoid, x)


def _hardsigmoid(x):
    # F.hardsigmoid has no double backward; this is NNlib's clamp((x + 3) / 6, 0, 1).
    return ((x + 3) / 6).clamp(0, 1)


def hardσ(x: Numeric) -> Numeric:
    """hardσ(x) = max(0, min(1, (x + 3) / 6)), a piecewise linear sigmoid (``hardsigmoid``).

    >>> hardσ(0.2)
    0.5333333
    """
    return _apply(_hardsigmoid, x)


def logσ(x: Numeric) -> Numeric:
    """logσ(x) = log(σ(x)) = -softplus(-x), computed stably (``logsigmoid``).

    >>> round(logσ(0.0), 6)
    -0.693147
    """
    return _apply(F.logsigmoid, x)


def hardtanh(x: Numeric) -> Numeric:
    """hardtanh(x) = max(-1, min(1, x)), a piecewise linear tanh.

    >>> hardtanh(torch.tensor([-3.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    return _apply(F.hardtanh, x)


def relu(x: Numeric) -> Numeric:
    """relu(x) = max(0, x), the rectified linear unit.

    >>> relu([-1.0, 2.0])
    tensor([0., 2.])
    """
    return _apply(torch.relu, x)


def relu6(x: Numeric) -> Numeric:
    """relu6(x) = min(max(0, x), 6).

    >>> relu6(10.0)
    6.0
    """
    return _apply(F.relu6, x)


def leakyrelu(x: Numeric, a: float = 0.01) -> Numeric:
    """leakyrelu(x, a=0.01) = x > 0 ? x : a * x.

    >>> leakyrelu(-10.0, 1/5)
    -2.0
    """
    return _apply(F.leaky_relu, x, float(a))


def _rrelu(x, lo, hi, rng):
    a = torch.rand(x.shape, dtype=x.dtype, device=x.device if rng is None else rng.device,
                   generator=rng).to(x.device) * (hi - lo) + lo
    return torch.where(x > 0, x, a * x)


def rrelu(x: Numeric, lo: float = 1 / 8, hi: float = 1 / 3, *, rng: RNG = None) -> Numeric:
    """rrelu(x, lo=1/8, hi=1/3) = max(a * x, x), with ``a`` drawn from U(lo, hi) for each element.

    The randomised leaky ReLU, always random as NNlib's (not torch's ``F.rrelu``, which
    uses the mean slope outside training). ``rng`` is an optional ``torch.Generator``.

    >>> y = rrelu(torch.full((1000,), -10.0))
    >>> bool(((y >= -10 / 3) & (y <= -10 / 8)).all())
    True
    >>> rrelu(2.0)
    2.0
    """
    lo, hi = float(lo), float(hi)
    if rng is not None and not isinstance(rng, torch.Generator):
        raise TypeError(f"rrelu expects rng=None or a torch.Generator, but got {type(rng).__name__}")
    return _apply(_rrelu, x, lo, hi, rng)


def elu(x: Numeric, α: Optional[float] = None, *, alpha: Optional[float] = None) -> Numeric:
    """elu(x, α=1) = x ≥ 0 ? x : α * (exp(x) - 1); ``alpha=`` is accepted for ``α``.

    >>> elu(-10.0)
    -0.9999546
    >>> elu(-10.0, 2)
    -1.9999092
    """
    return _apply(F.elu, x, _param("elu", "α", α, "alpha", alpha, 1.0))


def _gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


def gelu(x: Numeric) -> Numeric:
    """gelu(x) = x/2 * (1 + tanh(√(2/π) * (x + 0.044715 x³))), NNlib's tanh approximation.

    ``gelu_tanh`` is the same function; see ``gelu_erf`` for the exact form.

    >>> gelu(1.0)
    0.84119199
    >>> gelu_tanh is gelu
    True
    """
    return _apply(_gelu_tanh, x)


def _gelu_sigmoid(x):
    return x * torch.sigmoid(math.sqrt(8 / math.pi) * x * (1 + 0.044715 * x * x))


def gelu_sigmoid(x: Numeric) -> Numeric:
    """gelu_sigmoid(x) = x * σ(√(8/π) * (x + 0.044715 x³)), NNlib's sigmoid form of ``gelu``
    (the same function as ``gelu_tanh``, computed another way).

    >>> round(gelu_sigmoid(1.0), 6) == round(gelu_tanh(1.0), 6)
    True
    """
    return _apply(_gelu_sigmoid, x)


def gelu_erf(x: Numeric) -> Numeric:
    """gelu_erf(x) = x/2 * (1 + erf(x/√2)), the exact GELU.

    >>> gelu_erf(1.0)
    0.84134475
    """
    return _apply(F.gelu, x)


def swish(x: Numeric) -> Numeric:
    """swish(x) = x * σ(x) (also called SiLU).

    >>> swish(0.0)
    0.0
    """
    return _apply(F.silu, x)


def hardswish(x: Numeric) -> Numeric:
    """hardswish(x) = x * hardσ(x).

    >>> hardswish(1.0)
    0.6666667
    """
    return _apply(F.hardswish, x)


def _lisht(x):
    return x * torch.tanh(x)


def lisht(x: Numeric) -> Numeric:
    """lisht(x) = x * tanh(x).

    >>> round(lisht(-1.0), 6)
    0.761594
    """
    return _apply(_lisht, x)


def selu(x: Numeric) -> Numeric:
    """selu(x) = λ * (x > 0 ? x : α * (exp(x) - 1)), λ ≈ 1.0507, α ≈ 1.6733.

    >>> selu(-10.0)
    -1.75801952
    """
    return _apply(F.selu, x)


def celu(x: Numeric, α: Optional[float] = None, *, alpha: Optional[float] = None) -> Numeric:
    """celu(x, α=1) = x ≥ 0 ? x : α * (exp(x/α) - 1); ``alpha=`` is accepted for ``α``.

    >>> celu(-10.0)
    -0.9999546
    """
    return _apply(F.celu, x, _param("celu", "α", α, "alpha", alpha, 1.0))


def _softplus(x):
    # torch returns x itself above `threshold`; 20 is exact to rounding in float32,
    # float64 needs 40 to match NNlib's log1p(exp(-|x|)) + max(x, 0).
    return F.softplus(x, threshold=40.0 if x.dtype == torch.float64 else 20.0)


def softplus(x: Numeric) -> Numeric:
    """softplus(x) = log(exp(x) + 1), computed stably.

    >>> softplus(16.0)
    16.0000001
    >>> round(softplus(0.0), 6)
    0.693147
    """
    return _apply(_softplus, x)


def softsign(x: Numeric) -> Numeric:
    """softsign(x) = x / (1 + |x|).

    >>> softsign(1.0), softsign(100.0)
    (0.5, 0.990099)
    """
    return _apply(F.softsign, x)


def _logcosh(x):
    return x + _softplus(-2 * x) - _LOG2


def logcosh(x: Numeric) -> Numeric:
    """logcosh(x) = log(cosh(x)) = x + softplus(-2x) - log(2), computed stably.

    >>> round(logcosh(1.0), 6)
    0.433781
    """
    return _apply(_logcosh, x)


def mish(x: Numeric) -> Numeric:
    """mish(x) = x * tanh(softplus(x)).

    >>> round(mish(1.0), 6)
    0.865098
    """
    return _apply(F.mish, x)


def tanhshrink(x: Numeric) -> Numeric:
    """tanhshrink(x) = x - tanh(x).

    >>> tanhshrink(-10.0), tanhshrink(10.0)
    (-9.0, 9.0)
    """
    return _apply(F.tanhshrink, x)


def softshrink(x: Numeric, λ: Optional[float] = None, *, lambda_: Optional[float] = None) -> Numeric:
    """softshrink(x, λ=0.5) = x ≥ λ ? x - λ : (x ≤ -λ ? x + λ : 0); ``lambda_=`` also works.

    >>> softshrink(-10.0), softshrink(10.0), softshrink(0.3)
    (-9.5, 9.5, 0.0)
    """
    return _apply(F.softshrink, x, _param("softshrink", "λ", λ, "lambda_", lambda_, 0.5))


def trelu(x: Numeric, θ: Optional[float] = None, *, theta: Optional[float] = None) -> Numeric:
    """trelu(x, θ=1) = x > θ ? x : 0, the threshold ReLU (``thresholdrelu``); ``theta=`` also works.

    >>> trelu(1.0), trelu(1.5)
    (0.0, 1.5)
    """
    return _apply(F.threshold, x, _param("trelu", "θ", θ, "theta", theta, 1.0), 0.0)


def tanh_fast(x: Numeric) -> Numeric:
    """NNlib's faster tanh; here it is ``torch.tanh``, which is already fast.

    >>> tanh_fast(0.0)
    0.0
    """
    return _apply(torch.tanh, x)


def sigmoid_fast(x: Numeric) -> Numeric:
    """NNlib's faster sigmoid; here it is ``torch.sigmoid``, which is already fast.

    >>> sigmoid_fast(0.0)
    0.5
    """
    return _apply(torch.sigmoid, x)


def tanh(x: Numeric) -> Numeric:
    """tanh(x), the hyperbolic tangent (``torch.tanh``), also on numbers and lists.

    >>> round(tanh(1.0), 6)
    0.761594
    """
    return _apply(torch.tanh, x)


def identity(x: Numeric) -> Numeric:
    """identity(x) = x, returned unchanged (Julia's ``identity``, the default activation).

    >>> identity(3)
    3
    """
    return x


sigmoid = σ
hardsigmoid = hardσ
logsigmoid = logσ
gelu_tanh = gelu
thresholdrelu = trelu


_HOLOMORPHIC = {
    F.silu: lambda z: z * torch.sigmoid(z),
    F.logsigmoid: lambda z: -_softplus_complex(-z),
    F.mish: lambda z: z * torch.tanh(_softplus_complex(z)),
    F.tanhshrink: lambda z: z - torch.tanh(z),
}
_HOLOMORPHIC[_softplus] = _softplus_complex
_HOLOMORPHIC[_logcosh] = lambda z: z + _softplus_complex(-2 * z) - _LOG2
_HOLOMORPHIC[_lisht] = _lisht
