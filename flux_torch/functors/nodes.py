"""The kinds of node the traversal walks into, and the one registry that says which is which.

A :class:`Node` describes one kind of node: how to take a node apart into
``(keys, children)``, how to rebuild it from new children, which of its children
are trainable, how to read one child by key from a node of this kind or from a
plain stand-in for it (a ``dict`` of a layer's fields, say), and how that read is
written as code (for the generated hot path of ``record.py``).

:func:`node_of` gives the ``Node`` of a type, or ``None`` for a leaf. Built in:
tuples, lists, dicts, namedtuples, dataclasses and ``torch.nn.Module`` (its
parameters, buffers and sub-modules). Classes opted in with ``@functor`` /
``@layer`` are registered here; any other plain Python class whose instances have
a ``__dict__`` is a node too, with all its attributes as children (Functors v0.5:
"every struct is a functor"), unless it comes from the standard library, torch or
numpy, is a number or a string (a subclass of one too: Functors' ``@leaf Number``,
``@leaf AbstractString``), or is registered as a leaf with :func:`register_leaf`.

>>> node_of(tuple).parts((10, 20))
((0, 1), (10, 20))
>>> node_of(int) is None
True
"""
import copy
import dataclasses
import enum
import numbers
import sys
import threading
import types

import torch
from torch import nn

__all__ = ["Node", "node_of", "register_node", "register_leaf", "SCALARS", "lookup", "VERSION", "watch"]

SCALARS = (int, float, complex, bool, str, bytes, type(None))   # leaves never shared by identity

_RANGES = [tuple(range(n)) for n in range(64)]


def _range(n):
    return _RANGES[n] if n < 64 else tuple(range(n))


class Node:
    """How one kind of node is taken apart and rebuilt (the base: a sequence kind).

    ``parts(x)`` -> ``(keys, children)``; ``rebuild(x, children)`` -> a new node like ``x``;
    ``trainable(x)`` -> the keys of the trainable children, or ``None`` for all of them;
    ``child(y, key)`` reads one child from ``y``, a node of this kind or a stand-in for one;
    ``code(key)`` -> how that read is written as code, ``("item" | "attr", key)``.
    """

    __slots__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind

    def parts(self, x):
        return _range(len(x)), tuple(x)

    def rebuild(self, x, children):
        return self.kind(children)

    def trainable(self, x):
        return None

    def child(self, y, key):
        return lookup(y, key)

    def code(self, key):
        return ("item", key)

    def __repr__(self):
        return f"{type(self).__name__}({getattr(self.kind, '__name__', self.kind)})"


class DictNode(Node):
    __slots__ = ()

    def parts(self, x):
        return tuple(x), tuple(x.values())

    def rebuild(self, x, children):
        try:
            return type(x)(zip(x.keys(), children))
        except TypeError:           # a dict subclass whose constructor wants something else
            return dict(zip(x.keys(), children))


class NamedTupleNode(Node):
    __slots__ = ()

    def parts(self, x):
        return x._fields, tuple(x)

    def rebuild(self, x, children):
        return type(x)(*children)

    def code(self, key):
        return ("attr", key)


class DataclassNode(Node):
    __slots__ = ()

    def parts(self, x):
        names = tuple(f.name for f in dataclasses.fields(x))
        return names, tuple(getattr(x, k) for k in names)

    def rebuild(self, x, children):
        new = copy.copy(x)
        for f, v in zip(dataclasses.fields(x), children):
            object.__setattr__(new, f.name, v)      # frozen dataclasses too
        return new

    def code(self, key):
        return ("attr", key)


class ObjectNode(Node):
    """A class's instances by attribute: all of ``vars(x)`` in order, or the ``fields`` named.

    Rebuilding never calls ``__init__``: a new object gets a copy of the old one's
    attributes with the children replaced (as Equinox does).
    """

    __slots__ = ("fields", "trainable_fields")

    def __init__(self, fields=None, trainable=None):
        super().__init__(object)
        self.fields, self.trainable_fields = fields, trainable

    def parts(self, x):
        fields = self.fields
        if fields is None:
            d = x.__dict__
            return tuple(d), tuple(d.values())
        return fields, tuple(getattr(x, k) for k in fields)

    def rebuild(self, x, children):
        new = object.__new__(type(x))
        d = getattr(x, "__dict__", None)
        if d is not None:
            nd = new.__dict__
            nd.update(d)
            nd.update(zip(self.fields if self.fields is not None else d, children))
            return new
        for k in _slot_names(type(x)):              # a class with __slots__
            if hasattr(x, k):
                object.__setattr__(new, k, getattr(x, k))
        for k, v in zip(self.fields, children):
            object.__setattr__(new, k, v)
        return new

    def trainable(self, x):
        if self.trainable_fields is not None:
            return self.trainable_fields
        method = getattr(type(x), "trainable", None)
        if method is None:
            return None
        sub = method(x)          # Flux.trainable: a NamedTuple (here a dict) or tuple of children
        if isinstance(sub, dict):
            return tuple(sub)
        if hasattr(sub, "_fields"):
            return tuple(sub._fields)
        keys, vals = self.parts(x)
        return tuple(k for k, v in zip(keys, vals) if any(v is s for s in sub))

    def code(self, key):
        return ("attr", key)

    def __repr__(self):
        return f"ObjectNode(fields={self.fields!r}, trainable={self.trainable_fields!r})"


class ModuleNode(Node):
    """``torch.nn.Module``: its parameters, buffers and sub-modules; buffers are not trainable."""

    __slots__ = ()

    def __init__(self):
        super().__init__(nn.Module)

    def parts(self, x):
        keys, vals = [], []
        for table in (x._parameters, x._buffers, x._modules):
            for k, v in table.items():
                if v is not None or table is x._modules:
                    keys.append(k)
                    vals.append(v)
        return tuple(keys), tuple(vals)

    def rebuild(self, x, children):
        new = copy.copy(x)
        new._parameters, new._buffers, new._modules = dict(x._parameters), dict(x._buffers), dict(x._modules)
        for k, v in zip(self.parts(x)[0], children):
            if k in x._parameters:
                old = x._parameters[k]
                if isinstance(v, torch.Tensor) and not isinstance(v, nn.Parameter) and v.grad_fn is None:
                    # a new tensor becomes a Parameter like the old one; one in a graph stays as it
                    # is, as Parameter() would cut the gradient that flows through it
                    v = nn.Parameter(v, requires_grad=old.requires_grad and v.is_floating_point())
                new._parameters[k] = v
            elif k in x._buffers:
                new._buffers[k] = v
            else:
                new._modules[k] = v
        return new

    def trainable(self, x):
        return tuple(k for k, v in x._parameters.items() if v is not None) + tuple(x._modules)

    def child(self, y, key):
        if isinstance(y, nn.Module):
            for table in (y._parameters, y._buffers, y._modules):
                if key in table:
                    return table[key]
        return lookup(y, key)

    def code(self, key):
        return ("module", key)


def _slot_names(cls):
    return [s for c in cls.__mro__ for s in getattr(c, "__slots__", ()) if s not in ("__dict__", "__weakref__")]


def lookup(y, key):
    """The child ``key`` of ``y`` in a tree walked beside the first (a gradient, a state):
    by key for a dict or sequence, by attribute otherwise; ``None`` stays ``None``.

    >>> lookup({"w": 1}, "w"), lookup([5, 6], 1), lookup(None, "w")
    (1, 6, None)
    """
    if y is None:
        return None
    if isinstance(key, str) and not isinstance(y, dict):
        return getattr(y, key)
    return y[key]


# ------------------------------------------------------------------ the registry

VERSION = [0]      # bumped by every attribute write on a watched (registered) class's instances


def watch(cls):
    """Make attribute writes on instances of ``cls`` bump :data:`VERSION`, so that a record of a
    model made of such objects (``record.py``) knows at once that nothing has changed."""
    if cls.__dict__.get("_flux_watched") is cls:
        return
    own_set, own_del = cls.__dict__.get("__setattr__"), cls.__dict__.get("__delattr__")
    # (the parent's method is reached with super(), which torch.compile follows correctly;
    # it mistakes a captured object.__setattr__ for the class's own and recurses)

    def __setattr__(self, name, value):
        if own_set is None:
            super(cls, self).__setattr__(name, value)
        else:
            own_set(self, name, value)
        VERSION[0] += 1

    def __delattr__(self, name):
        if own_del is None:
            super(cls, self).__delattr__(name)
        else:
            own_del(self, name)
        VERSION[0] += 1

    cls.__setattr__, cls.__delattr__, cls._flux_watched = __setattr__, __delattr__, cls


TUPLE, LIST, DICT = Node(tuple), Node(list), DictNode(dict)
NAMEDTUPLE, DATACLASS, MODULE, OBJECT = NamedTupleNode(tuple), DataclassNode(object), ModuleNode(), ObjectNode()
LEAF = "leaf"        # registry entry of a class registered as a leaf

_lock = threading.Lock()     # serialises registrations; look-ups read the dicts without it
_registered = {}             # class -> Node (or LEAF), as registered by functor/layer/register_*
_resolved = {torch.Tensor: None, tuple: TUPLE, list: LIST, dict: DICT}   # type -> Node or None

_NEVER_WALKED = ("builtins", "torch", "numpy", "typing", "typing_extensions", "safetensors",
                 "tqdm", "abc", "weakref", "threading", "collections")
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(_NEVER_WALKED)


def register_node(cls, node, *, replace=False):
    """Register ``node`` (a :class:`Node`) as the way to walk instances of ``cls`` and its subclasses.

    Registering a class twice is an error unless ``replace=True`` (``@functor`` replaces,
    as redefining Julia's ``functor`` method does).

    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_node(Pair, ObjectNode(("a",)))
    >>> node_of(Pair).parts(Pair(1, 2))
    (('a',), (1,))
    >>> register_node(Pair, ObjectNode())
    Traceback (most recent call last):
    ValueError: register_node: Pair is already registered (as ObjectNode(...)); pass replace=True to change it
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_node expects a class, but got {cls!r}")
    if not (isinstance(node, Node) or node == LEAF):
        raise TypeError(f"register_node expects a Node (how to take {cls.__name__} apart), but got {node!r}")
    with _lock:
        old = _registered.get(cls)
        if old is not None and not replace:
            raise ValueError(f"register_node: {cls.__name__} is already registered (as {old!r}); "
                             "pass replace=True to change it")
        _registered[cls] = node
        _resolved.clear()          # subclasses may have resolved through the old entry
        _resolved.update({torch.Tensor: None, tuple: TUPLE, list: LIST, dict: DICT})


def register_leaf(cls):
    """Make ``cls`` (and its subclasses) a leaf: never walked into (``Functors.@leaf``).

    >>> class Opaque:
    ...     def __init__(self):
    ...         self.w = 1
    >>> register_leaf(Opaque) is Opaque, node_of(Opaque)
    (True, None)
    """
    register_node(cls, LEAF, replace=True)
    return cls


def node_of(t):
    """The :class:`Node` of type ``t``, or ``None`` when its instances are leaves."""
    try:
        return _resolved[t]
    except KeyError:
        pass
    node = _resolve(t)
    _resolved[t] = node
    return node


def _resolve(t):
    for base in t.__mro__:
        hit = _registered.get(base)
        if hit is not None:
            return None if hit == LEAF else hit
    if issubclass(t, (torch.Tensor, numbers.Number) + SCALARS):     # @leaf Number, AbstractString
        return None
    if issubclass(t, nn.Module):
        return MODULE
    if issubclass(t, tuple):
        return NAMEDTUPLE if hasattr(t, "_fields") else Node(t)
    if issubclass(t, dict):
        return DICT
    if issubclass(t, list):
        return Node(t)
    if dataclasses.is_dataclass(t):
        return DATACLASS
    if _plain_class(t):
        return OBJECT
    return None


def _plain_class(t):
    """A class written in Python whose instances carry a ``__dict__`` (Functors v0.5 walks every struct)."""
    if isinstance(t, types.GenericAlias) or not t.__dictoffset__:
        return False
    if issubclass(t, (type, types.FunctionType, types.ModuleType, BaseException, torch.Tensor, enum.Enum)):
        return False
    module = (getattr(t, "__module__", None) or "builtins").partition(".")[0]
    return module not in _STDLIB
