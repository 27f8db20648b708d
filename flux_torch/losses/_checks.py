"""Argument handling shared by every loss: converting ``ŷ`` and ``y``, the size
check (Flux's ``_check_sizes``), the ``agg`` reduction, Greek/ASCII keyword
aliases, and the refusal of Flux's ``dims=`` keyword.

Flux's size rule: ``size(ŷ, d) == size(y, d)`` for every ``d`` up to the larger
``ndims``, where Julia reports size 1 beyond an array's last dimension. Julia
shapes are reversed here (batch first), so the rule becomes: pad the shorter
shape with *leading* 1s, then the shapes must be equal. A plain number (a
constant label such as ``y = 1``) is never checked, as in Flux.
"""
import builtins
import numbers
import statistics

import numpy as np
import torch

from flux_torch.devices import as_tensor
from flux_torch._dims import reject_dims

_REDUCTIONS = {
    id(builtins.sum): torch.sum,
    id(np.sum): torch.sum,
    id(np.mean): torch.mean,
    id(statistics.mean): torch.mean,
}


def aggregator(fname, agg):
    """Return a torch-friendly reduction for ``agg`` (Python's ``sum``,
    ``numpy.sum``/``mean`` and ``statistics.mean`` become their torch twins)."""
    if not callable(agg):
        raise TypeError(
            f"{fname} expects agg to be a function such as torch.mean, torch.sum or "
            f"lambda x: x (no reduction), but got {agg!r}"
        )
    return _REDUCTIONS.get(id(agg), agg)


def _is_number(x):
    return isinstance(x, (numbers.Number, np.generic))


def _float_dtype(*ts):
    for t in ts:
        if t.is_floating_point() or t.is_complex():
            return t.dtype
    return torch.get_default_dtype()


def prepare(fname, ŷ, y):
    """Convert ``ŷ`` and ``y`` to tensors on ``ŷ``'s device, promote integer and
    bool data to a float dtype, and apply Flux's size check."""
    if (isinstance(ŷ, torch.Tensor) and isinstance(y, torch.Tensor) and ŷ.shape == y.shape
            and ŷ.is_floating_point() and y.is_floating_point() and ŷ.device == y.device):
        return ŷ, y                # a training step's usual case: nothing to convert or check
    check = not (_is_number(ŷ) or _is_number(y))
    ŷ = as_tensor(ŷ)
    if isinstance(y, torch.Tensor):
        if y.device != ŷ.device:
            raise RuntimeError(
                f"{fname} got ŷ on {ŷ.device} but y on {y.device}; move both to the "
                "same device, e.g. with gpu(y) or cpu(y)"
            )
    else:
        y = as_tensor(y).to(ŷ.device)
    dtype = _float_dtype(ŷ, y)
    labels = not (y.is_floating_point() or y.is_complex())     # integers: class indices, likely
    if not (ŷ.is_floating_point() or ŷ.is_complex()):
        ŷ = ŷ.to(dtype)
    if labels:
        y = y.to(dtype)
    if check:
        check_sizes(fname, ŷ, y, labels)
    return ŷ, y


def check_sizes(fname, ŷ, y, labels=False):
    """Refuse silent broadcasting between prediction and label, naming both shapes; ``labels``
    says that ``y`` held integers (class indices, when it lacks ŷ's last dimension).

    >>> check_sizes("mse", torch.zeros(3), torch.zeros(1, 3))   # allowed, as in Flux
    >>> check_sizes("mse", torch.zeros(2, 3), torch.zeros(3, 2))
    Traceback (most recent call last):
    ...
    ValueError: mse(ŷ, y) expects ŷ and y of the same shape ...
    """
    a, b = tuple(ŷ.shape), tuple(y.shape)
    n = max(len(a), len(b))
    if (1,) * (n - len(a)) + a == (1,) * (n - len(b)) + b:
        return
    msg = (
        f"{fname}(ŷ, y) expects ŷ and y of the same shape (leading dimensions of size 1 "
        f"may be left out), but got ŷ.shape = {a} and y.shape = {b}"
    )
    if len(a) == 2 and a == b[::-1]:
        msg += "; flux_torch puts the batch first: did you mean y.T?"
    elif len(b) == len(a) - 1 and b == a[:-1] and labels and a[-1] > 1:
        msg += (
            f"; y looks like class indices: give one-hot labels of shape {a} instead, "
            f"e.g. onehotbatch(y, range({a[-1]})) or torch.nn.functional.one_hot(y, {a[-1]})"
        )
    elif len(b) == len(a) - 1 and b == a[:-1]:
        msg += f"; y lacks ŷ's last dimension, of size {a[-1]}: give y the prediction's shape"
        msg += f", y.reshape{a} (or y[..., None])" if a[-1] == 1 else f" {a}"
    else:
        msg += "; flux_torch puts the batch first and the features last"
    raise ValueError(msg)


def pick(fname, default, **given):
    """Resolve one setting passed under several names (``eps``/``ϵ``, ``gamma``/``γ``...)."""
    chosen = {k: v for k, v in given.items() if v is not None}
    if len(chosen) > 1:
        names = " and ".join(f"{k}=" for k in chosen)
        raise TypeError(f"{fname} got both {names}; they name the same setting, so pass only one")
    return next(iter(chosen.values())) if chosen else default


def default_eps(ŷ):
    """Flux's ``eps(float(eltype(ŷ)))``."""
    dtype = ŷ.real.dtype if ŷ.is_complex() else ŷ.dtype
    return torch.finfo(dtype).eps


def reject_kwargs(fname, kwargs):
    """Explain Flux's ``dims=`` keyword; refuse any other unknown keyword."""
    reject_dims(fname, kwargs)
