"""Opting classes in and taking nodes apart: ``functor``, ``layer``, ``leaf``, ``children``, ``isleaf``.

``@functor`` (``Flux.@functor``; ``Flux.@layer``, in ``layers/macro.py``, adds printing)
registers a class with the node registry (``nodes.py``): its children are its attributes in
definition order, or the fields named. Since Functors v0.5 every plain class is
walked anyway; the decorators choose fields and trainable parts, register the
class with torch's pytrees (so ``torch.func`` and ``torch.compile`` see through it)
and give it value equality (Julia's ``==`` on structs: same type, fields identical).
"""
import dataclasses
import inspect
from typing import Any, Optional, Sequence

from .._pytree import register as register_pytree
from .egal import give_value_equality
from .nodes import OBJECT, ObjectNode, lookup, node_of, register_leaf, register_node, watch

__all__ = ["functor", "leaf", "isleaf", "isfunctor", "children", "rebuild", "trainable"]


def functor(cls: Any = None, *fields: str, trainable: Optional[Sequence[str]] = None) -> Any:
    """Opt a class into the traversal (``Flux.@functor``), or take an object apart (``Functors.functor``).

    As a decorator, ``@functor`` makes every attribute of an instance a child, in
    definition order; ``@functor("W")`` (``Flux.@functor Affine (W,)``) only those named.
    Rebuilding never calls ``__init__``.

    Called on an object, ``functor(x)`` gives ``(children, re)``: a dict of the children
    and a function that rebuilds ``x`` from new children (a dict by key, or a sequence in
    order). ``functor(T, y)`` reads the children of a ``T`` from ``y``, an object or dict
    standing in for one (a gradient, say): the fields registered, else those of ``T``'s
    ``__init__``; its ``re`` builds a ``T``, by name.

    >>> @functor
    ... class Affine:
    ...     def __init__(self, W, b):
    ...         self.W, self.b = W, b
    ...     def __call__(self, x):
    ...         return x @ self.W.T + self.b
    >>> a = Affine(torch.ones(2, 3), torch.zeros(2))
    >>> [tuple(p.shape) for p in fleaves(a)]
    [(2, 3), (2,)]
    >>> kids, re = functor(Affine(1, 2))
    >>> kids, re({"W": 10, "b": 20}).W
    ({'W': 1, 'b': 2}, 10)
    >>> kids, re = functor(Affine, {"b": 2, "W": 1, "extra": 0})
    >>> kids, type(re(kids)).__name__
    ({'W': 1, 'b': 2}, 'Affine')
    """
    if isinstance(cls, str):
        names = (cls,) + fields
        return lambda c: functor(c, *names, trainable=trainable)
    if cls is None:
        return lambda c: functor(c, *fields, trainable=trainable)
    if not isinstance(cls, type):
        if fields:
            raise TypeError(f"functor({cls!r}, ...): to take an object apart call functor(x) or "
                            "functor(T, x); to opt a class in, use @functor above its definition")
        return _take_apart(type(cls), cls, cls)
    if len(fields) == 1 and not isinstance(fields[0], str):
        return _take_apart(cls, fields[0], None)
    return _register(cls, fields, trainable)


def _register(cls, fields, trainable):
    for name in fields:
        if not isinstance(name, str):
            raise TypeError(f"functor({cls.__name__}, ...) expects field names as strings, "
                            f"but got {name!r}")
    if trainable is not None:
        trainable = tuple((trainable,) if isinstance(trainable, str) else trainable)
    register_node(cls, ObjectNode(tuple(fields) or None, trainable), replace=True)
    watch(cls)
    give_value_equality(cls)
    register_pytree(cls)
    return cls


def _init_names(cls):
    """The fields of a struct-like class: a dataclass's, else the parameters of its ``__init__``."""
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _entries(y):
    return dict(y) if isinstance(y, dict) else dict(getattr(y, "__dict__", {}))


def _child_names(cls, node, y):
    """The children a ``cls`` has, for ``functor(cls, y)``: the fields registered; the
    children of ``y`` itself when it is a ``cls``; a namedtuple's or dataclass's fields;
    the parameters of ``__init__``; or else the keys of ``y``."""
    if isinstance(node, ObjectNode) and node.fields is not None:
        return node.fields
    if isinstance(y, cls):
        return node.parts(y)[0]
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return cls._fields
    if node is OBJECT or isinstance(node, ObjectNode):
        return _init_names(cls) or tuple(_entries(y))
    return node.parts(y)[0] if isinstance(y, node.kind) else tuple(_entries(y))


def _take_apart(cls, y, template):
    node = node_of(cls)
    if node is None:
        return {}, lambda _: y
    if template is not None:
        keys, vals = node.parts(y)
    else:
        keys = _child_names(cls, node, y)
        vals = []
        for k in keys:
            try:
                vals.append(lookup(y, k))
            except (LookupError, AttributeError, TypeError):
                raise ValueError(f"functor({cls.__name__}, ...): the {type(y).__name__} given has no "
                                 f"{k!r}, but a {cls.__name__} has the children {list(keys)}; "
                                 "give a value for each of them") from None
    kids = dict(zip(keys, vals))

    def re(new):
        values = tuple(new[k] for k in keys) if isinstance(new, dict) else tuple(new)
        if template is not None:
            return node.rebuild(template, values)
        if isinstance(y, cls):
            return node.rebuild(y, values)
        if issubclass(cls, tuple):
            return cls(*values) if hasattr(cls, "_fields") else cls(values)
        if issubclass(cls, (list, dict)):
            return cls(zip(keys, values)) if issubclass(cls, dict) else cls(values)
        obj = object.__new__(cls)
        entries = _entries(y)
        for k in _init_names(cls) or entries:      # every field in order, the others as y has them
            if k in entries:
                object.__setattr__(obj, k, entries[k])
        for k, v in zip(keys, values):
            object.__setattr__(obj, k, v)
        return obj
    return kids, re


def leaf(cls):
    """Make a class a leaf, never walked into (``Functors.@leaf``); use as a decorator.

    >>> @leaf
    ... class Config:
    ...     def __init__(self):
    ...         self.size = 3
    >>> isleaf(Config())
    True
    """
    return register_leaf(cls)


def isfunctor(x):
    """True when ``x`` is a node the traversal walks into.

    >>> isfunctor((1, 2)), isfunctor(torch.zeros(2))
    (True, False)
    """
    return node_of(type(x)) is not None


def isleaf(x: Any) -> bool:
    """True when ``x`` has no children (``Functors.isleaf``): tensors, numbers, functions, the
    empty tuple, an object with no attributes.

    >>> isleaf(torch.zeros(2)), isleaf([torch.zeros(2)]), isleaf(())
    (True, False, True)
    """
    t = type(x)
    node = node_of(t)
    if node is None:
        return True
    if t is tuple:
        return not x
    return node is OBJECT and not x.__dict__


def children(x: Any) -> Any:
    """The children of ``x`` as a dict ``{key: child}`` (empty for a leaf).

    >>> children((10, 20))
    {0: 10, 1: 20}
    """
    node = node_of(type(x))
    if node is None:
        return {}
    return dict(zip(*node.parts(x)))


def rebuild(x, values):
    """Rebuild ``x`` with new children ``values`` (in the order of :func:`children`).

    >>> rebuild([1, 2], (3, 4))
    [3, 4]
    """
    node = node_of(type(x))
    if node is None:
        raise TypeError(f"rebuild: {type(x).__name__} is a leaf, it has no children to replace")
    return node.rebuild(x, tuple(values))


def trainable(x: Any) -> Any:
    """The trainable children of ``x`` as a dict (``Flux.trainable``).

    A class picks its subset with a ``trainable(self)`` method or ``@layer(trainable=...)``;
    for an ``nn.Module`` buffers are not trainable.

    >>> trainable({"a": 1, "b": 2})
    {'a': 1, 'b': 2}
    """
    node = node_of(type(x))
    if node is None:
        return {}
    kids = dict(zip(*node.parts(x)))
    names = node.trainable(x)
    return kids if names is None else {k: kids[k] for k in names}

