"""Flux's stateless ``normalise`` (z-score standardisation), batch first."""
import torch

from .._device import as_tensor
from .._dims import reject_dims

__all__ = ["normalise"]


def normalise(x, dim=0, eps=1e-5, **kwargs):
    """Normalise ``x`` to mean 0 and standard deviation 1 over ``dim``:
    ``(x - mean) / (std + eps)``, with the uncorrected standard deviation
    (``corrected=false`` in Flux, ``correction=0`` in torch).

    Flux's default ``dims=ndims(x)`` is its last dimension, the observations;
    batch first that is ``dim=0`` here, so by default each feature is
    standardised across the batch. ``dim`` may be an int or a tuple of ints.
    The keyword ``eps`` is also accepted as ``ϵ`` or ``epsilon``. Integer input
    is promoted to the default float dtype.

    >>> x = torch.tensor([90, 100, 110, 130, 70], dtype=torch.float64)
    >>> normalise(x)
    tensor([-0.5000,  0.0000,  0.5000,  1.5000, -1.5000], dtype=torch.float64)
    >>> y = normalise(torch.rand(10, 10) * 90 + 10, dim=-1)
    >>> torch.allclose(y.std(dim=-1, correction=0), torch.ones(10), atol=1e-4)
    True
    """
    # Python folds the identifier ϵ (U+03F5) to ε (U+03B5) (NFKC), so ϵ= arrives as "ε".
    for alias in ("ε", "ϵ", "epsilon"):
        if alias in kwargs:
            if eps != 1e-5:
                raise TypeError(f"normalise got both eps= and {alias}=; pass only one")
            eps = kwargs.pop(alias)
    reject_dims("normalise", kwargs)
    x = as_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.get_default_dtype())
    mu = x.mean(dim=dim, keepdim=True)
    sigma = x.std(dim=dim, correction=0, keepdim=True)
    return (x - mu) / (sigma + eps)
