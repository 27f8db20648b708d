"""The arguments of a differentiated function, prepared for ``torch.autograd``.

Zygote differentiates numbers, arrays, structs and whole models alike; torch
differentiates tensors that require grad. :class:`_Arg` turns one argument of
``gradient`` (or ``withgradient``, ``pullback``, ``jacobian``) into what the
function receives and the tensors to differentiate with respect to, and turns
their gradients back into the argument's own kind: a float for a number, a
numpy array for a numpy array, a model-shaped object for a model.
"""
import numbers

import numpy as np
import torch

from ._flat import flat
from ._functor import fmap, fmapstructure, isleaf

__all__ = ["_Arg", "_alias", "_is_number", "STRUCTURES"]

STRUCTURES = set()     # types whose objects are models (structures), as _Arg found them

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


def _is_number(x):
    """A real number other than ``bool`` (Python's or numpy's scalars): Zygote's ``Real``."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_, torch.Tensor))


class _Arg:
    """One argument of a differentiated function.

    ``value`` is what the function receives, ``leaves`` the tensors to
    differentiate with respect to, ``toggled`` the tensors whose
    ``requires_grad`` was switched on for the call, and ``finish`` turns the
    leaves' gradients back into the argument's kind.
    """

    __slots__ = ("value", "leaves", "toggled", "kind", "orig", "flat")

    def __init__(self, x, nested, fresh):
        self.orig, self.toggled = x, ()
        if _is_number(x):
            self.kind = "number"
            v = torch.tensor(float(x), dtype=torch.float64)
            if isinstance(x, numbers.Integral):
                self.value = torch.Tensor._make_subclass(_IntNumber, v, True)
            else:
                self.value = v.requires_grad_()
            self.leaves = (self.value,)
        elif isinstance(x, torch.Tensor):
            self.kind = "tensor"
            self.value = _alias(x, nested)
            self.leaves = (self.value,) if self.value.requires_grad else ()
        elif isinstance(x, (np.ndarray, range)) or _is_numeric_list(x):
            self.kind = "numpy" if isinstance(x, np.ndarray) else "tensor"
            self.value = _alias(torch.as_tensor(list(x) if isinstance(x, range) else x), nested)
            self.leaves = (self.value,) if self.value.requires_grad else ()
        elif isleaf(x):
            self.kind, self.value, self.leaves = "constant", x, ()
        else:
            self.kind = "structure"
            self._structure(x, nested, fresh)
            if not isinstance(x, (list, tuple)):     # the kind of such an object follows its type
                STRUCTURES.add(type(x))

    def _structure(self, x, nested, fresh):
        self.flat = flat(x)
        tensors = self.flat.tensors
        if fresh:   # a pullback must not depend on requires_grad flags that are restored later
            new = {id(t): t.detach().requires_grad_() for t in tensors}
            self.value = fmap(lambda t: new.get(id(t), t), x, trainable_only=True)
            self.leaves = tuple(new.values())
            self.orig, self.flat = self.value, None
            return
        toggled = [t for t in tensors if not t.requires_grad]
        for t in toggled:
            t.requires_grad_(True)
        self.value, self.leaves, self.toggled = x, tuple(tensors), toggled

    def restore(self):
        for t in self.toggled:
            t.requires_grad_(False)

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
            return fmapstructure(lambda leaf: by_id.get(id(leaf)), self.orig)
        return self.flat.mirror(self.orig, grads)     # leaves are flat.tensors, in order


def _alias(x, nested):
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


def _is_numeric_list(x):
    if not isinstance(x, (list, tuple)) or not x or hasattr(x, "_fields"):
        return False
    first = x[0]
    if isinstance(first, numbers.Number):
        return all(isinstance(v, numbers.Number) for v in x)
    return _is_numeric_list(first)
