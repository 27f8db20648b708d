"""Flux's stateless ``normalise`` (``NNlib.normalise``), batch first, in both Flux versions.

Flux v0.16 (NNlib) adds ``eps`` to the variance, ``(x - μ) / sqrt(σ² + eps)``, as torch's
``layer_norm`` and every other normalisation layer do; Flux v0.14 added it to the standard
deviation, ``(x - μ) / (σ + eps)``. :func:`normalise` is v0.16's (``flux_torch``),
:func:`normalise_v014` is v0.14's (``flux_torch.v014``). Both use the uncorrected variance.
"""
from typing import Any

import torch

from ..devices import as_tensor
from .._dims import reject_dims
from .._types import TensorLike

__all__ = ["normalise", "normalise_v014"]


def _args(name, x, eps, kwargs):
    """The input as a float tensor and ``eps``, also given as ``ϵ`` or ``epsilon``."""
    # Python folds the identifier ϵ (U+03F5) to ε (U+03B5) (NFKC), so ϵ= arrives as "ε".
    for alias in ("ε", "ϵ", "epsilon"):
        if alias in kwargs:
            if eps != 1e-5:
                raise TypeError(f"{name} got both eps= and {alias}=; pass only one")
            eps = kwargs.pop(alias)
    reject_dims(name, kwargs)
    x = as_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.get_default_dtype())
    return x, float(eps)


def normalise(x: TensorLike, dim: int = 0, eps: float = 1e-5, **kwargs: Any) -> torch.Tensor:
    """Normalise ``x`` to mean 0 and standard deviation 1 over ``dim``:
    ``(x - mean) / sqrt(var + eps)`` with the uncorrected variance (``NNlib.normalise``,
    Flux v0.16; ``flux_torch.v014.normalise`` is v0.14's ``(x - mean) / (std + eps)``).

    Flux's default ``dims=ndims(x)`` is its last dimension, the observations; batch first
    that is ``dim=0`` here, so by default each feature is standardised across the batch.
    ``dim`` may be an int or a tuple of ints. ``eps`` is also accepted as ``ϵ`` or
    ``epsilon``. Integer input is promoted to the default float dtype.

    >>> x = torch.tensor([90, 100, 110, 130, 70], dtype=torch.float64)
    >>> normalise(x)
    tensor([-0.5000,  0.0000,  0.5000,  1.5000, -1.5000], dtype=torch.float64)
    >>> y = normalise(torch.rand(10, 10) * 90 + 10, dim=-1)
    >>> torch.allclose(y.std(dim=-1, correction=0), torch.ones(10), atol=1e-4)
    True
    """
    x, eps = _args("normalise", x, eps, kwargs)
    var, mu = torch.var_mean(x, dim=dim, correction=0, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps)


def normalise_v014(x, dim=0, eps=1e-5, **kwargs):
    """Flux v0.14's ``normalise``: ``(x - mean) / (std + eps)`` over ``dim`` (uncorrected std);
    ``flux_torch.v014.normalise``. Arguments as :func:`normalise`.

    >>> x = torch.tensor([1.0, 3.0])
    >>> normalise_v014(x, eps=1.0), normalise(x, eps=1.0)
    (tensor([-0.5000,  0.5000]), tensor([-0.7071,  0.7071]))
    """
    x, eps = _args("normalise", x, eps, kwargs)
    sigma, mu = torch.std_mean(x, dim=dim, correction=0, keepdim=True)
    return (x - mu) / (sigma + eps)
