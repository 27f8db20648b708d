"""``Grads``: the gradients of an implicit-style ``gradient`` call, keyed by tensor identity."""
from collections.abc import Mapping
import numbers

import torch

__all__ = ["Grads"]


class Grads(Mapping):
    """Gradients keyed by the identity of the parameters (``Zygote.Grads``).

    ``gs[W]`` is the gradient of ``W`` (``None`` when the loss did not use it);
    a tensor that is not one of the parameters raises ``KeyError``. ``+``, ``-``
    and multiplication by a number act elementwise.

    >>> W = torch.tensor([2.0, 1.0])
    >>> gs = gradient(lambda: (W ** 2).sum(), params(W))
    >>> gs[W]
    tensor([4., 2.])
    >>> (2 * gs)[W]
    tensor([8., 4.])
    """

    __slots__ = ("params", "grads")

    def __init__(self, grads, params):
        self.params = params
        self.grads = grads     # id(param) -> gradient or None

    def __getitem__(self, p):
        if id(p) not in self.params.ids:
            what = f"a tensor of shape {tuple(p.shape)}" if isinstance(p, torch.Tensor) else repr(p)
            raise KeyError(f"Grads has no entry for {what}: it is not one of the parameters "
                           f"given to gradient (params(...) holds {len(self.params)} tensors)")
        return self.grads.get(id(p))

    def __setitem__(self, p, g):
        if id(p) not in self.params.ids:
            raise KeyError(f"Grads: the tensor of shape {tuple(p.shape)} is not one of its parameters")
        self.grads[id(p)] = g

    def __iter__(self):
        return iter(self.params)

    def __len__(self):
        return len(self.params)

    def __contains__(self, p):
        return id(p) in self.params.ids

    def _combine(self, other, op, name):
        if isinstance(other, Grads):
            if other.params != self.params:
                raise ValueError(f"Grads {name}: both must hold the same parameters, but they hold "
                                 f"{len(self.params)} and {len(other.params)} different tensors")
            out = {}
            for p in self.params:
                a, b = self.grads.get(id(p)), other.grads.get(id(p))
                out[id(p)] = b if a is None else a if b is None else op(a, b)
            return Grads(out, self.params)
        return NotImplemented

    def __add__(self, other):
        return self._combine(other, torch.add, "+")

    def __sub__(self, other):
        if isinstance(other, Grads):
            neg = Grads({k: None if g is None else -g for k, g in other.grads.items()}, other.params)
            return self._combine(neg, torch.add, "-")
        return NotImplemented

    def __neg__(self):
        return self * -1

    def __mul__(self, c):
        if isinstance(c, (numbers.Number, torch.Tensor)):
            return Grads({k: None if g is None else g * c for k, g in self.grads.items()}, self.params)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, c):
        return self * (1 / c)

    def __repr__(self):
        return "Grads(...)"
