"""The arguments of a differentiated function, prepared for ``torch.autograd``.

Zygote differentiates numbers, arrays, structs and whole models alike; torch
differentiates tensors that require grad. :class:`Arg` turns one argument of
``gradient`` (or ``withgradient``, ``pullback``, ``jacobian``) into what the
function receives and the tensors to differentiate with respect to, and turns
their gradients back into the argument's own kind: a float for a number, a
numpy array for a numpy array, a model-shaped object for a model.
"""
import numbers

import numpy as np
import torch

from ._requires_grad import switch_off, switch_on
from .functors import DefaultWalk, fmap, fmapstructure, isleaf, node_of
from .functors.record import record_of

__all__ = ["Arg", "alias", "is_number", "is_structure"]

_NUMBER_KINDS = (int, float)


class _IntNumber(torch.Tensor):
    """A differentiable float64 scalar made from a Python ``int`` argument that can also
    serve as an index (``x.shape[d]``, ``range(n)``), as Zygote lets an ``Int`` be both:
    ``gradient(f, [7, 11], 0, 0)`` gives ``None`` for an argument used only as an index."""

    __torch_function__ = torch._C._disabled_torch_function_impl   # results are plain tensors

    def __index__(self):
        v = self.item()
        if v != int(v):
            raise TypeError(f"a number argument of gradient was used as an index but it is {v}")
        return int(v)

    def __repr__(self, **kwargs):
        return repr(self.detach().as_subclass(torch.Tensor))


def is_number(x):
    """A real number other than ``bool`` (Python's or numpy's scalars): Zygote's ``Real``."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_, torch.Tensor))


class Arg:
    """One argument of a differentiated function.

    ``value`` is what the function receives, ``leaves`` the tensors to
    differentiate with respect to, ``toggled`` the tensors whose
    ``requires_grad`` was switched on for the call, and ``finish`` turns the
    leaves' gradients back into the argument's kind.
    """

    __slots__ = ("value", "leaves", "toggled", "kind", "orig", "flat")

    def __init__(self, x, nested, fresh):
        self.orig, self.toggled = x, ()
        if is_number(x):
            self.kind = "number"
            v = torch.tensor(float(x), dtype=torch.float64)
            if isinstance(x, numbers.Integral):
                self.value = torch.Tensor._make_subclass(_IntNumber, v, True)
            else:
                self.value = v.requires_grad_()
            self.leaves = (self.value,)
        elif isinstance(x, torch.Tensor):
            self.kind = "tensor"
            self.value = alias(x, nested)
            self.leaves = (self.value,) if self.value.requires_grad else ()
        elif isinstance(x, (np.ndarray, range)) or _is_numeric_list(x):
            self.kind = "numpy" if isinstance(x, np.ndarray) else "tensor"
            self.value = alias(torch.as_tensor(list(x) if isinstance(x, range) else x), nested)
            self.leaves = (self.value,) if self.value.requires_grad else ()
        elif isleaf(x):
            self.kind, self.value, self.leaves = "constant", x, ()
        else:
            self.kind = "structure"
            self._structure(x, nested, fresh)

    def _structure(self, x, nested, fresh):
        self.flat = record_of(x)
        tensors = self.flat.tensors
        if fresh:   # a pullback must not depend on requires_grad flags that are restored later
            new = {id(t): t.detach().requires_grad_() for t in tensors}
            self.value = fmap(lambda t: new.get(id(t), t), x, walk=DefaultWalk(trainable=True))
            self.leaves = tuple(new.values())
            self.orig, self.flat = self.value, None
            return
        self.value, self.leaves, self.toggled = x, tuple(tensors), switch_on(tensors)

    def restore(self):
        switch_off(self.toggled)
        self.toggled = ()

    def finish(self, grads):
        kind = self.kind
        if kind == "number":
            g = grads[0]
            return None if g is None else g.item()
        if kind == "constant":
            return None
        if kind in ("tensor", "numpy"):
            g = grads[0] if grads else None
            if g is None or kind == "tensor":
                return g
            return g.detach().cpu().numpy()
        if self.flat is None:      # rebuilt with fresh leaves (pullback)
            by_id = {id(t): g for t, g in zip(self.leaves, grads)}
            return fmapstructure(lambda leaf: by_id.get(id(leaf)), self.orig, keep_types=True)
        return self.flat.mirror(self.orig, grads)     # leaves are flat.tensors, in order


def alias(x, nested):
    """A fresh tensor to differentiate with respect to, sharing ``x``'s memory.

    Inside an outer gradient an input that is part of the outer graph is aliased
    with ``view_as``, so the inner derivative is with respect to the alias alone
    (no perturbation confusion) while the outer one still flows through it.
    """
    if not (x.is_floating_point() or x.is_complex()):
        if x.dtype == torch.bool:
            return x
        x = x.to(torch.get_default_dtype())
    if nested and x.requires_grad:
        return x.view_as(x)
    return x.detach().requires_grad_()


def is_structure(x):
    """A model or container of tensors, differentiated as a whole (not a number, a tensor, a
    list of numbers or a leaf)."""
    t = type(x)
    return t is not list and t is not tuple and node_of(t) is not None and not isleaf(x)


def _is_numeric_list(x):
    if not isinstance(x, (list, tuple)) or not x or hasattr(x, "_fields"):
        return False
    first = x[0]
    if isinstance(first, numbers.Number):
        return all(isinstance(v, numbers.Number) for v in x)
    return _is_numeric_list(first)
