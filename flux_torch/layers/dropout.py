"""Dropout layers: ``Dropout`` and ``AlphaDropout`` (``Flux.Dropout``, ``Flux.AlphaDropout``).

Both act only in training mode: inside a ``gradient`` call, or when forced by
``trainmode_`` (field ``active``: ``None`` automatic, ``True``/``False`` forced).
Outside training they return their input unchanged.
"""
import numbers
from typing import Any, Optional

import torch
import torch.nn.functional as F

from ..devices import as_tensor
from .._dims import reject_dims
from ..functors import functor
from ..modes import isactive
from .._show import Showable
from .._types import RNG

__all__ = ["Dropout", "AlphaDropout", "dropout", "dropout_"]

_SELU_FLOOR = -1.7580993408473766   # selu(-Inf) == -λα, AlphaDropout's dropped value


def _check_p(name, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{name} expects a probability p, a real number in [0, 1], but got {p!r}")
    if not 0 <= p <= 1:
        raise ValueError(f"{name} expects 0 ≤ p ≤ 1, but got p = {p}; p is the probability "
                         "of dropping each input (Flux's convention), e.g. Dropout(0.3)")
    return p


def _active_arg(name, active):
    """The ``active=`` keyword of mode-dependent layers: True, False, None or "auto"."""
    if active is None or (isinstance(active, str) and active == "auto"):
        return None
    if not isinstance(active, bool):
        raise ValueError(f"{name} expects active=True, False, None or 'auto' "
                         f"(None: automatic, training inside gradient), but got {active!r}")
    return active


def _check_rng(name, rng):
    if rng is not None and not isinstance(rng, torch.Generator):
        raise TypeError(f"{name} expects rng=None or a torch.Generator, but got {type(rng).__name__}; "
                        "make one with torch.Generator().manual_seed(seed)")
    return rng


def _floating(x):
    if type(x) is torch.Tensor and x.is_floating_point():
        return x
    x = as_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.get_default_dtype())
    return x


def _uniform(shape, x, rng):
    """Uniform noise in [0, 1) of ``shape``, on ``x``'s device, drawn from ``rng`` when given."""
    dtype = x.real.dtype if x.is_complex() else x.dtype
    if rng is None:
        return torch.rand(shape, dtype=dtype, device=x.device)
    return torch.rand(shape, dtype=dtype, device=rng.device, generator=rng).to(x.device)


def _mode_suffix(layer):
    return "" if layer.active is None else f", active={layer.active}"


@functor
class Dropout(Showable):
    """Zero each input with probability ``p`` and scale the rest by ``1/(1-p)``, in training only (``Flux.Dropout``).

    ``Dropout(p, dim=None, active=None, rng=None)``. By default every element
    gets its own random choice; ``dim`` (an int or a tuple, 0-based over the
    batch-first shape) names the dims that get independent choices, the mask
    being shared along all others. Flux's ``Dropout(p; dims=3)`` on WHCN images
    is ``Dropout(p, dim=1)`` on ``(N, C, H, W)`` (Julia's ``dims=d`` is ``dim=-d``).
    ``rng`` is a ``torch.Generator``. Active only inside ``gradient`` unless forced
    with ``trainmode_``/``testmode_`` or ``active=``.

    >>> m = Dropout(0.4)
    >>> m
    Dropout(0.4)
    >>> x = torch.ones(2, 3)
    >>> m(x) is x                     # test mode outside gradient: no effect
    True
    >>> y = trainmode_(m)(torch.ones(1000))
    >>> sorted(set(y.tolist()))       # dropped, or scaled by 1/(1-p)
    [0.0, 1.666...]
    >>> m
    Dropout(0.4, active=True)
    """

    def __init__(self, p, *, dim=None, active=None, rng=None, **kw):
        reject_dims("Dropout", kw, "Dropout(p; dims=3) on WHCN images is Dropout(p, dim=1) on (N, C, H, W)")
        self.p = _check_p("Dropout", p)
        self.dim = _check_dim(dim)
        self.active = _active_arg("Dropout", active)
        self.rng = _check_rng("Dropout", rng)

    def trainable(self):
        return {}

    def __call__(self, x):
        x = _floating(x)
        if self.p == 0 or not isactive(self):
            return x
        return _dropout(x, self.p, self.dim, self.rng, self._inline)

    def _inline(self):
        s = f"Dropout({self.p!r}"
        if self.dim is not None:
            s += f", dim={self.dim!r}"
        return s + _mode_suffix(self) + ")"


def _mask_shape(x, dim, where):
    n = x.dim()
    dims = dim if isinstance(dim, tuple) else (dim,)
    for d in dims:
        if not -n <= d < n:
            raise ValueError(f"{where()} got dim={d}, out of range for a tensor of shape "
                             f"{tuple(x.shape)}; dims are 0-based over the batch-first shape")
    keep = {d % n for d in dims}
    return tuple(s if i in keep else 1 for i, s in enumerate(x.shape))


def _dropout(x, p, dim, rng, where):
    """The training-mode computation shared by ``Dropout`` and ``dropout``."""
    if p == 0:
        return x
    if p == 1:
        return x * 0
    if dim is None:
        if rng is None and not x.is_complex():
            return F.dropout(x, p, True)
        shape = x.shape
    else:
        shape = _mask_shape(x, dim, where)
    keep = _uniform(shape, x, rng) > p
    return x * (keep.to(x.real.dtype if x.is_complex() else x.dtype) * (1 / (1 - p)))


def dropout(*args: Any, dim: Optional[int] = None, rng: RNG = None, **kw: Any) -> torch.Tensor:
    """``dropout([rng], x, p, dim=None)``: zero each element of ``x`` with probability ``p``
    and scale the rest by ``1/(1-p)``, always (NNlib's ``dropout``; the ``Dropout`` layer
    calls it only in training).

    ``dim`` (int or tuple, 0-based) names the dims that get independent choices, the
    mask being shared along the others: NNlib's ``dims=1`` (one choice per row of a
    Julia matrix) is ``dim=-1``. A ``torch.Generator`` may come first, as Julia's ``rng``,
    or as ``rng=``.

    >>> y = dropout(torch.ones(10, 2), 0.2)
    >>> sorted(set(y.flatten().tolist())) in ([0.0, 1.25], [1.25], [0.0])
    True
    >>> y = dropout(torch.ones(5, 5), 0.7, dim=-1)    # each column all zero or all 1/0.3
    >>> bool((y == y[:1]).all())
    True
    """
    if args and isinstance(args[0], torch.Generator):
        if rng is not None:
            raise TypeError("dropout got a generator both as first argument and as rng=; pass one")
        rng, args = args[0], args[1:]
    if len(args) != 2:
        raise TypeError(f"dropout expects (x, p) or (rng, x, p), but got {len(args)} positional "
                        "arguments besides the generator; e.g. dropout(x, 0.5)")
    reject_dims("dropout", kw, "NNlib's dims=1 (independent choices along Julia's first index) "
                "is dim=-1")
    x, p = args
    p = _check_p("dropout", p)
    x = _floating(x)
    return _dropout(x, p, _check_dim(dim), _check_rng("dropout", rng), lambda: "dropout")


def dropout_(*args: Any, dim: Optional[int] = None, rng: RNG = None) -> torch.Tensor:
    """``dropout_([rng], y, x, p, dim=None)`` writes ``dropout(x, p, dim=dim)`` into ``y`` and
    returns ``y`` (NNlib's ``dropout!``); a ``torch.Generator`` may come first, as Julia's ``rng``.

    >>> y = torch.empty(3)
    >>> dropout_(y, torch.ones(3), 0.0) is y, y
    (True, tensor([1., 1., 1.]))
    """
    if args and isinstance(args[0], torch.Generator):
        if rng is not None:
            raise TypeError("dropout_ got a generator both as first argument and as rng=; pass one")
        rng, args = args[0], args[1:]
    if len(args) == 4 and dim is None:          # dropout_(y, x, p, dim), the positional form
        *args, dim = args
    if len(args) != 3:
        raise TypeError(f"dropout_ expects (y, x, p) or (rng, y, x, p), but got {len(args)} positional "
                        "arguments besides the generator; e.g. dropout_(y, x, 0.5)")
    y, x, p = args
    y.copy_(dropout(x, p, dim=dim, rng=rng))
    return y


def _check_dim(dim):
    if dim is None:
        return None
    if isinstance(dim, list):
        dim = tuple(dim)
    ok = (isinstance(dim, int) and not isinstance(dim, bool)) or (
        isinstance(dim, tuple) and all(isinstance(d, int) and not isinstance(d, bool) for d in dim))
    if not ok:
        raise TypeError(f"Dropout expects dim=None (every element independent), an int or a tuple "
                        f"of ints, but got {dim!r}")
    return dim


@functor
class AlphaDropout(Showable):
    """Dropout that keeps inputs' mean and variance, for ``selu`` networks (``Flux.AlphaDropout``).

    ``AlphaDropout(p, active=None, rng=None)``: in training, each input is replaced
    with probability ``p`` by selu's negative saturation value, then an affine map
    restores zero mean and unit variance. No effect outside training.

    >>> m = trainmode_(AlphaDropout(0.2))
    >>> y = m(torch.randn(100_000, generator=torch.Generator().manual_seed(0)))
    >>> abs(float(y.mean())) < 0.05, abs(float(y.std()) - 1) < 0.05
    (True, True)
    >>> m
    AlphaDropout(0.2, active=True)
    """

    def __init__(self, p, *, active=None, rng=None):
        self.p = _check_p("AlphaDropout", p)
        self.active = _active_arg("AlphaDropout", active)
        self.rng = _check_rng("AlphaDropout", rng)

    def trainable(self):
        return {}

    def __call__(self, x):
        x = _floating(x)
        p = self.p
        if p == 0 or not isactive(self):
            return x
        if p == 1:
            return torch.sign(x) * 0
        α = _SELU_FLOOR
        a = ((1 - p) * (1 + p * α ** 2)) ** -0.5
        b = -a * α * p
        keep = _uniform(x.shape, x, self.rng) > p
        return torch.where(keep, x, α) * a + b

    def _inline(self):
        return f"AlphaDropout({self.p!r}" + _mode_suffix(self) + ")"
