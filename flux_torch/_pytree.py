"""Registration of ``@functor`` classes as torch pytrees.

This is the only module that imports torch's private pytree API. A registered
object flattens to the list of its tensors (each once, tied tensors included
once) found by the one traversal, and everything else (activation functions,
sizes, nn.Modules' structure) travels in the context, so ``torch.func.grad``,
``vmap`` and ``torch.compile`` see a model as a tree of tensors.
"""
import weakref

import torch
from torch.utils import _pytree as pytree

__all__ = ["register"]


class _Spec:
    """The static part of a flattened model: a template to rebuild from."""

    __slots__ = ("template",)

    def __init__(self, template):
        self.template = template

    def __eq__(self, other):
        return isinstance(other, _Spec) and other.template is self.template

    def __hash__(self):
        return id(self.template)

    def __repr__(self):
        return f"_Spec({type(self.template).__name__})"


# Objects made by _unflatten remember their template: torch may fill a spec with
# placeholders (vmap's in_dims broadcast fills it with ints) and flatten the result
# again, which must give the same number of leaves.
_MADE = {}


def _forget(key, table=_MADE):     # bound now: at exit the module global may be gone
    return lambda _ref: table.pop(key, None)


def _flatten(x):
    from ._functor import fleaves, fmap
    made = _MADE.get(id(x))
    if made is not None and made[0]() is x:
        template, leaves = made[1], []
        fmap(lambda t, y: leaves.append(y) if isinstance(t, torch.Tensor) else None, template, x)
        return leaves, _Spec(template)
    return [t for t in fleaves(x) if isinstance(t, torch.Tensor)], _Spec(x)


def _unflatten(values, spec):
    from ._functor import fmap
    it = iter(values)
    out = fmap(lambda t: next(it) if isinstance(t, torch.Tensor) else t, spec.template)
    try:
        _MADE[id(out)] = (weakref.ref(out, _forget(id(out))), spec.template)
    except TypeError:     # a class without weak references: nothing to remember
        pass
    return out


def _flatten_with_keys(x):
    leaves, spec = _flatten(x)
    return [(pytree.SequenceKey(i), t) for i, t in enumerate(leaves)], spec


def register(cls):
    """Register ``cls`` as a pytree node (once)."""
    if cls in pytree.SUPPORTED_NODES:
        return
    pytree.register_pytree_node(
        cls, _flatten, _unflatten,
        serialized_type_name=f"{cls.__module__}.{cls.__qualname__}",
        flatten_with_keys_fn=_flatten_with_keys,
    )
