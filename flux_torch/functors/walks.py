"""Walks as values (Functors.jl's ``AbstractWalk`` design).

A walk is a callable ``walk(recurse, x, *ys)`` that handles one node ``x`` (and the
matching nodes ``ys`` of other trees) and calls ``recurse(child, *ychildren)`` for
the children it goes into; :func:`execute` starts it. Walks compose by wrapping:
:class:`ExcludeWalk` stops at the nodes ``exclude`` picks and applies ``fn`` there,
:class:`CachedWalk` remembers each object's result so that a tensor or layer met
twice maps to one result. ``fmap`` is ``CachedWalk(ExcludeWalk(DefaultWalk(), f,
isleaf))``, ``fmapstructure`` the same over :class:`StructuralWalk`, ``fcollect``
and ``fleaves`` are :class:`CollectWalk` and :class:`FlattenWalk`. The ``...WithPath``
walks take a :class:`~flux_torch.functors.KeyPath` before the node.

>>> double = ExcludeWalk(DefaultWalk(), lambda x: 2 * x, lambda x: isinstance(x, int))
>>> execute(double, (1, [2, 3]))
(2, [4, 6])
"""
import functools
import types

import torch

from .keypath import child_path
from .nodes import SCALARS, node_of

__all__ = ["AbstractWalk", "execute", "DefaultWalk", "StructuralWalk", "ExcludeWalk", "CachedWalk",
           "CollectWalk", "FlattenWalk", "IterateWalk", "DefaultWalkWithPath", "StructuralWalkWithPath",
           "ExcludeWalkWithKeyPath", "CachedWalkWithPath", "usecache", "NoKeyword"]


class AbstractWalk:
    """Base class of walks: ``walk(recurse, x, *ys)`` handles the node ``x``."""

    __slots__ = ()

    def __call__(self, recurse, x, *ys):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, recurse, x, *ys)")


class _NoKeyword:
    __slots__ = ()

    def __repr__(self):
        return "NoKeyword()"


NoKeyword = _NoKeyword()     # "prune was not given" (Functors.NoKeyword)


def execute(walk, x, *ys):
    """Run ``walk`` from the node ``x`` (with matching nodes ``ys`` of other trees).

    ``recurse`` calls the same walk on the children, so a walk need only handle one node.
    """
    def recurse(*args):
        return walk(recurse, *args)
    try:
        return walk(recurse, x, *ys)
    finally:
        recurse = None     # recurse refers to itself: the cycle would keep the walk's cache until gc


def _mismatch(x, key, y, err):
    return ValueError(f"the trees do not match: {type(x).__name__} has the child {key!r}, which "
                      f"the {type(y).__name__} walked beside it lacks ({type(err).__name__}: {err}); "
                      "walk trees of the same shape, such as a model and its gradient")


def others(node, x, keys, ys):
    """The children of each tree in ``ys`` at ``keys``, read the way ``x``'s node reads them."""
    out = []
    for y in ys:
        if y is None:
            out.append((None,) * len(keys))
            continue
        try:
            out.append(tuple(node.child(y, k) for k in keys))
        except (LookupError, AttributeError, TypeError) as err:
            bad = next(k for k in keys if not _has(node, y, k))
            raise _mismatch(x, bad, y, err) from None
    return out


def _has(node, y, k):
    try:
        node.child(y, k)
        return True
    except (LookupError, AttributeError, TypeError):
        return False


def _selected(node, x, trainable_only):
    names = node.trainable(x) if trainable_only else None
    return None if names is None else frozenset(names)


def _walk_children(x, ys, trainable, keep_others, go):
    """``(node, keys, new children)`` for the node ``x``, or None for a leaf: ``go(key, child,
    ychildren)`` for each child walked; with ``trainable`` only the trainable ones, the others
    kept as they are (``keep_others``) or ``None``."""
    node = node_of(type(x))
    if node is None:
        return None
    keys, kids = node.parts(x)
    yk = others(node, x, keys, ys)
    keep = _selected(node, x, trainable)
    new = tuple((v if keep_others else None) if keep is not None and k not in keep
                else go(k, v, tuple(c[i] for c in yk)) for i, (k, v) in enumerate(zip(keys, kids)))
    return node, keys, new


class DefaultWalk(AbstractWalk):
    """Walk every child and rebuild the node in its own type (``Functors.DefaultWalk``).

    With ``trainable=True`` only the trainable children are walked; the others are kept as they are.
    """

    __slots__ = ("trainable",)

    def __init__(self, trainable=False):
        self.trainable = trainable

    def __call__(self, recurse, x, *ys):
        return self._rebuilt(x, ys, lambda k, v, yc: recurse(v, *yc))

    def _rebuilt(self, x, ys, go):
        walked = _walk_children(x, ys, self.trainable, True, go)
        if walked is None:
            return x
        node, _, new = walked
        return node.rebuild(x, new)


def _plain(x, keys, new):
    """The children as a plain container: lists and tuples stay so, every other node a dict."""
    if type(x) is list:
        return list(new)
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(new)
    return dict(zip(keys, new))


class StructuralWalk(AbstractWalk):
    """Walk every child and give the results in plain containers (``Functors.StructuralWalk``):
    lists and tuples stay lists and tuples, other nodes become dicts of their children.

    ``keep_types=True`` rebuilds every node in its own type instead, except ``nn.Module``
    (a dict): the shape of a gradient or optimiser state. ``trainable=True`` walks only the
    trainable children and puts ``None`` in place of the others.
    """

    __slots__ = ("keep_types", "trainable")

    def __init__(self, keep_types=False, trainable=False):
        self.keep_types, self.trainable = keep_types, trainable

    def __call__(self, recurse, x, *ys):
        return self._shaped(x, ys, lambda k, v, yc: recurse(v, *yc))

    def _shaped(self, x, ys, go):
        walked = _walk_children(x, ys, self.trainable, False, go)
        if walked is None:
            return x
        node, keys, new = walked
        return shape(node, x, keys, new, self.keep_types)


def shape(node, x, keys, new, keep_types):
    """A structural walk's result for the node ``x``: plain, or in ``x``'s type (modules as dicts)."""
    if not keep_types:
        return _plain(x, keys, new)
    if isinstance(x, torch.nn.Module):
        return dict(zip(keys, new))
    return node.rebuild(x, new)


class ExcludeWalk(AbstractWalk):
    """``fn(x, *ys)`` at the nodes where ``exclude(x)``, else ``walk`` (``Functors.ExcludeWalk``)."""

    __slots__ = ("walk", "fn", "exclude")

    def __init__(self, walk, fn, exclude):
        self.walk, self.fn, self.exclude = walk, fn, exclude

    def __call__(self, recurse, x, *ys):
        if self.exclude(x):
            return self.fn(x, *ys)
        return self.walk(recurse, x, *ys)


_IMMUTABLE = SCALARS + (tuple, frozenset, range, type, types.FunctionType, types.BuiltinFunctionType,
                        types.MethodType, types.ModuleType, functools.partial, torch.dtype,
                        torch.device)
_USECACHE = {}


def usecache(x):
    """Whether a walk's cache keys ``x`` by identity: mutable objects (tensors, layers, lists),
    not numbers, strings, tuples or functions, which are equal by value (``Functors.usecache``).

    >>> usecache(torch.zeros(2)), usecache(4.0), usecache((1, 2))
    (True, False, False)
    """
    t = type(x)
    hit = _USECACHE.get(t)
    if hit is None:
        hit = _USECACHE[t] = not issubclass(t, _IMMUTABLE)
    return hit


class _InProgress:
    __slots__ = ()


_IN_PROGRESS = _InProgress()


def cycle_error(x):
    return ValueError(f"the walk met a {type(x).__name__} inside itself (a cycle of references); "
                      "a model must be a tree, possibly with shared parts, but not contain itself")


class CachedWalk(AbstractWalk):
    """``walk``, remembering each object's result by identity (``Functors.CachedWalk``).

    A tensor or layer met again gives the first result, so ties survive a map;
    with ``prune`` given, the second sighting gives ``prune`` instead. ``cache`` is a dict
    ``{id(x): (x, result)}``.
    """

    __slots__ = ("walk", "prune", "cache")

    def __init__(self, walk, prune=NoKeyword, cache=None):
        self.walk, self.prune = walk, prune
        self.cache = {} if cache is None else cache

    def __call__(self, recurse, x, *ys):
        return self._through(x, lambda: self.walk(recurse, x, *ys))

    def _through(self, x, run):
        if not usecache(x):
            return run()
        hit = self.cache.get(id(x))
        if hit is not None:
            if hit[1] is _IN_PROGRESS:
                raise cycle_error(x)
            return hit[1] if self.prune is NoKeyword else self.prune
        self.cache[id(x)] = (x, _IN_PROGRESS)
        try:
            out = run()
        except BaseException:
            del self.cache[id(x)]
            raise
        self.cache[id(x)] = (x, out)
        return out


class CollectWalk(AbstractWalk):
    """Collect every node, each mutable object once, in walk order (``Functors.CollectWalk``).

    The list is :attr:`output`; wrap it in :class:`ExcludeWalk` to stop at some nodes.
    """

    __slots__ = ("output", "seen", "trainable")

    def __init__(self, trainable=False):
        self.output, self.seen, self.trainable = [], set(), trainable

    def __call__(self, recurse, x):
        if usecache(x):
            if id(x) in self.seen:
                return self.output
            self.seen.add(id(x))
        self.output.append(x)
        node = node_of(type(x))
        if node is not None:
            keys, kids = node.parts(x)
            keep = _selected(node, x, self.trainable)
            for k, v in zip(keys, kids):
                if keep is None or k in keep:
                    recurse(v)
        return self.output


class FlattenWalk(AbstractWalk):
    """The lists that the excluded nodes give, concatenated in walk order (``Functors.FlattenWalk``);
    each mutable object contributes once."""

    __slots__ = ("seen", "trainable")

    def __init__(self, trainable=False):
        self.seen, self.trainable = set(), trainable

    def __call__(self, recurse, x, *ys):
        node = node_of(type(x))
        if node is None:
            return []
        keys, kids = node.parts(x)
        keep = _selected(node, x, self.trainable)
        out = []
        for k, v in zip(keys, kids):
            if keep is not None and k not in keep:
                continue
            if usecache(v):
                if id(v) in self.seen:
                    continue
                self.seen.add(id(v))
            out.extend(recurse(v))
        return out


class IterateWalk(AbstractWalk):
    """Chain the iterators that the excluded nodes give (``Functors.IterateWalk``).

    >>> it = execute(ExcludeWalk(IterateWalk(), lambda x: [x * x], lambda x: isinstance(x, int)), (1, [2, 3]))
    >>> list(it)
    [1, 4, 9]
    """

    __slots__ = ()

    def __call__(self, recurse, x, *ys):
        node = node_of(type(x))
        if node is None:
            return iter(())
        keys, kids = node.parts(x)
        yk = others(node, x, keys, ys)
        return _chain([recurse(v, *(c[i] for c in yk)) for i, v in enumerate(kids)])


def _chain(iterables):
    for it in iterables:
        yield from it


# ------------------------------------------------------------------ with key paths

class DefaultWalkWithPath(DefaultWalk):
    """:class:`DefaultWalk` that passes each child its :class:`KeyPath` (``walk(recurse, kp, x, *ys)``)."""

    __slots__ = ()

    def __call__(self, recurse, kp, x, *ys):
        return self._rebuilt(x, ys, lambda k, v, yc: recurse(child_path(kp, k), v, *yc))


class StructuralWalkWithPath(StructuralWalk):
    """:class:`StructuralWalk` that passes each child its :class:`KeyPath`."""

    __slots__ = ()

    def __call__(self, recurse, kp, x, *ys):
        return self._shaped(x, ys, lambda k, v, yc: recurse(child_path(kp, k), v, *yc))


class ExcludeWalkWithKeyPath(AbstractWalk):
    """``fn(kp, x, *ys)`` where ``exclude(kp, x)``, else ``walk`` (``Functors.ExcludeWalkWithKeyPath``)."""

    __slots__ = ("walk", "fn", "exclude")

    def __init__(self, walk, fn, exclude):
        self.walk, self.fn, self.exclude = walk, fn, exclude

    def __call__(self, recurse, kp, x, *ys):
        if self.exclude(kp, x):
            return self.fn(kp, x, *ys)
        return self.walk(recurse, kp, x, *ys)


class CachedWalkWithPath(CachedWalk):
    """:class:`CachedWalk` for walks that take a key path; the cache is by the node's identity."""

    __slots__ = ()

    def __call__(self, recurse, kp, x, *ys):
        return self._through(x, lambda: self.walk(recurse, kp, x, *ys))
