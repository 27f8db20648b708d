"""``@functor`` classes as torch pytrees: flattened per class, by fields.

This is the only module that imports torch's private pytree API. An object of a
registered class flattens to the values of its fields that hold tensors: a tensor or
another registered object is a child (torch flattens the latter in turn), a tuple,
list or dict is looked through, and everything else (an activation function, a
stride, ``None``) is static and travels in the context, so ``torch.func.grad``,
``vmap`` and ``torch.compile(fullgraph=True)`` see a model as a tree of tensors.
Flattening reads nothing but the object (no tables, no ``id()``), so dynamo traces it.

A tensor shared by two layers is two leaves here, each with its own part of the
gradient (as in Equinox); flux_torch's own ``gradient`` keeps such ties.
"""
import torch
from torch.utils import _pytree as pytree

__all__ = ["register"]


class _Static:
    """A field value that is not a tensor: part of the context, compared by identity or,
    for plain values (numbers, strings, tuples of them), by value."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        if not isinstance(other, _Static):
            return False
        a, b = self.value, other.value
        if a is b:
            return True
        if type(a) is not type(b) or not isinstance(a, (int, float, complex, str, bytes, bool, tuple)):
            return False
        try:
            return bool(a == b)
        except (TypeError, ValueError, RuntimeError):
            return False

    def __hash__(self):
        try:
            return hash(self.value)
        except TypeError:
            return id(type(self.value))

    def __repr__(self):
        return f"_Static({self.value!r})"


_SLOT = "slot"     # the place of a child


class _Held:
    """A placeholder that torch put in a child's place (``tree_unflatten([0] * n, spec)``, as
    ``vmap`` does to broadcast ``in_dims``): kept as a child when flattened again, so the
    object has as many leaves as its spec says."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"_Held({self.value!r})"


def _spec(value, out):
    """The context of one field value, appending its children to ``out``."""
    if isinstance(value, torch.Tensor):
        out.append(value)
        return _SLOT
    t = type(value)
    if t is _Held:
        out.append(value.value)
        return _SLOT
    if isinstance(value, (tuple, list)):
        before = len(out)
        inner = tuple(_spec(v, out) for v in value)
        if len(out) == before:
            return _Static(value)
        return ("named" if hasattr(value, "_fields") else "seq", t, inner)
    if isinstance(value, dict):
        before = len(out)
        keys = tuple(value)
        inner = tuple(_spec(value[k], out) for k in keys)
        return ("dict", t, keys, inner) if len(out) > before else _Static(value)
    if t in pytree.SUPPORTED_NODES or _subclass_of_ours(t):
        out.append(value)           # a pytree node of its own: torch flattens it in turn
        return _SLOT
    return _Static(value)


def _subclass_of_ours(t):
    """A subclass of a registered class, not registered itself: registered now, as it is walked."""
    for base in t.__mro__[1:]:
        entry = pytree.SUPPORTED_NODES.get(base)
        if entry is not None and entry.flatten_fn is _flatten:
            register(t)
            return True
    return False


def _build(spec, it):
    if spec is _SLOT:
        v = next(it)
        if isinstance(v, torch.Tensor) or type(v) in pytree.SUPPORTED_NODES:
            return v
        return _Held(v)
    if isinstance(spec, _Static):
        return spec.value
    kind, t = spec[0], spec[1]
    if kind == "dict":
        values = [_build(s, it) for s in spec[3]]
        try:
            return t(zip(spec[2], values))
        except TypeError:
            return dict(zip(spec[2], values))
    values = [_build(s, it) for s in spec[2]]
    return t(*values) if kind == "named" else t(values)


def _flatten(x):
    children = []
    fields = tuple(x.__dict__)
    specs = tuple(_spec(getattr(x, k), children) for k in fields)
    return children, (type(x), fields, specs)


def _unflatten(values, context):
    cls, fields, specs = context
    it = iter(values)
    obj = object.__new__(cls)
    for k, s in zip(fields, specs):
        object.__setattr__(obj, k, _build(s, it))
    return obj


class _FieldKey:
    """The key of a child in a flattened object: a field, and where inside its value."""

    __slots__ = ("field", "inner")

    def __init__(self, field, inner):
        self.field, self.inner = field, inner

    def __eq__(self, other):
        return isinstance(other, _FieldKey) and (self.field, self.inner) == (other.field, other.inner)

    def __hash__(self):
        return hash((self.field, self.inner))

    def __str__(self):
        return f".{self.field}" + "".join(f"[{k!r}]" for k in self.inner)

    def get(self, parent):
        v = getattr(parent, self.field)
        for k in self.inner:
            v = v[k]
        return v


def _keys(spec, field, inner, out):
    if spec is _SLOT:
        out.append(_FieldKey(field, inner))
    elif not isinstance(spec, _Static):
        names = spec[2] if spec[0] == "dict" else range(len(spec[2]))
        for k, s in zip(names, spec[-1]):
            _keys(s, field, inner + (k,), out)


def _flatten_with_keys(x):
    children, context = _flatten(x)
    keys = []
    for field, spec in zip(context[1], context[2]):
        _keys(spec, field, (), keys)
    return list(zip(keys, children)), context


def register(cls):
    """Register ``cls`` as a pytree node (once; subclasses are registered when decorated)."""
    if cls in pytree.SUPPORTED_NODES:
        return
    pytree.register_pytree_node(
        cls, _flatten, _unflatten,
        serialized_type_name=f"{cls.__module__}.{cls.__qualname__}",
        flatten_with_keys_fn=_flatten_with_keys,
    )
