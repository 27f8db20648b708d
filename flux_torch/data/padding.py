"""Padding an array at the end with a constant (MLUtils.jl's ``rpad_constant``).

Julia's ``rpad_constant(x, n, val; dims=d)`` is ``rpad_constant(x, n, val, dim=-d)``
here (batch first, 0-based ``dim``); the default, every dimension, is
``dim=None``. With ``dim=None`` a tuple ``n`` is the smallest wanted shape, in
torch order.
"""
import numbers

import torch.nn.functional as F

from ..devices import as_tensor
from .._dims import reject_dims

__all__ = ["rpad_constant"]


def _is_int(d):
    return isinstance(d, numbers.Integral) and not isinstance(d, bool)


def _target(x, n, dim):
    """{dimension: wanted length} for the dimensions to pad."""
    nd = x.dim()
    dims = list(range(nd)) if dim is None else [dim] if _is_int(dim) else list(dim)
    if not all(_is_int(d) for d in dims):
        raise TypeError(f"rpad_constant: dim must be None, an int or a tuple of ints, but got {dim!r}")
    for d in dims:
        if not -nd <= d < nd:
            raise ValueError(f"rpad_constant: dim={d} is out of range for a tensor with {nd} "
                             f"dimensions (shape {tuple(x.shape)})")
    dims = [d % nd for d in dims]
    if len(set(dims)) != len(dims):
        raise ValueError(f"rpad_constant: dim={dim!r} names a dimension twice")
    ns = [n] * len(dims) if _is_int(n) else list(n)
    if not all(_is_int(k) for k in ns):
        raise TypeError(f"rpad_constant: n must be an int or a tuple of ints, but got {n!r}")
    if len(ns) != len(dims):
        raise ValueError(f"rpad_constant: n={tuple(ns)} gives {len(ns)} lengths but {len(dims)} "
                         f"dimensions are padded (dim={dim!r}, tensor shape {tuple(x.shape)}); "
                         "give one length per padded dimension")
    return dict(zip(dims, ns))


def rpad_constant(v, n, val=0, *, dim=None, **kwargs):
    """Pad ``v`` at the end of each dimension in ``dim`` (all by default) with the
    value ``val``, up to length ``n`` (an int for all of them, or one per
    dimension). Dimensions already at least that long are left alone.

    >>> from flux_torch.data.padding import rpad_constant
    >>> rpad_constant([1, 2], 4, -1)
    tensor([ 1,  2, -1, -1])
    >>> rpad_constant([1, 2, 3], 2)
    tensor([1, 2, 3])
    >>> rpad_constant(torch.tensor([[1, 2], [3, 4]]), 3, dim=0)
    tensor([[1, 2],
            [3, 4],
            [0, 0]])
    """
    reject_dims("rpad_constant", kwargs)
    x = as_tensor(v)
    if x.dim() == 0:
        raise ValueError("rpad_constant expects an array with at least one dimension, but got a 0-dim "
                         "tensor; use x.reshape(1) first")
    want = _target(x, n, dim)
    pads = []
    for d in reversed(range(x.dim())):  # F.pad takes (before, after) pairs from the last dim back
        pads += [0, max(want.get(d, 0) - x.shape[d], 0)]
    return F.pad(x, pads, mode="constant", value=val)
