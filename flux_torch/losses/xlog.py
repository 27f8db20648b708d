"""``xlogx`` and ``xlogy``: ``x * log(...)`` with the limit ``0 * log(0) = 0``,
as ``Flux.Losses.xlogx`` / ``Flux.Losses.xlogy``. The entropy terms of the
cross-entropy losses are built on them.
"""
import numbers

import torch

from flux_torch.devices import as_tensor
from .._types import TensorLike

__all__ = ["xlogx", "xlogy"]


def _float(x):
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return torch.tensor(float(x), dtype=torch.float64)    # Julia: Int and Float64 → Float64
    x = as_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def xlogx(x: TensorLike) -> torch.Tensor:
    """Return ``x * log(x)`` elementwise, and exactly zero where ``x == 0``.

    The gradient is ``log(x) + 1`` for ``x > 0`` and zero (not NaN) at ``x == 0``.

    >>> xlogx([0.0, 1.0, 2.0])
    tensor([0.0000, 0.0000, 1.3863])
    >>> xlogx(2).item()          # a Python number is computed in float64, as Julia's Int
    1.3862943611198906
    """
    x = _float(x)
    zero = x == 0
    return x * torch.log(torch.where(zero, torch.ones_like(x), x))


def xlogy(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Return ``x * log(y)`` elementwise, and exactly zero where ``x == 0``
    (even where ``y`` is zero or NaN, as in Flux).

    >>> xlogy([0.0, 2.0], [0.0, 3.0])
    tensor([0.0000, 2.1972])
    """
    x, y = _float(x), _float(y)
    out = torch.xlogy(x, y)
    return torch.where(x == 0, torch.zeros_like(out), out)
