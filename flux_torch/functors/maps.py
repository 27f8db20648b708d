"""The maps over a model, each a composition of walks (Functors.jl's ``maps.jl``).

``fmap(f, x)`` is ``execute(CachedWalk(ExcludeWalk(DefaultWalk(), f, isleaf)), x)``:
``f`` at every leaf, every node rebuilt in its own type, a tensor or layer met
twice mapped once. ``fmapstructure`` gives plain containers instead, ``fcollect`` and
``fleaves`` collect nodes and leaves. The common case (the default walk and
``exclude``) runs as one fused loop with exactly the result of the composed walks:
it is what ``gpu``, ``state`` and ``setup`` pay.
"""
import warnings
from typing import Any, Callable, List, Optional

import torch

from .functor import isleaf
from .keypath import KeyPath
from .nodes import OBJECT, ObjectNode, _resolved, node_of
from .record import mapper_of
from .walks import (_IN_PROGRESS, _USECACHE, AbstractWalk, CachedWalk, CachedWalkWithPath, CollectWalk,
                    DefaultWalk, DefaultWalkWithPath, ExcludeWalk, ExcludeWalkWithKeyPath, FlattenWalk,
                    NoKeyword, StructuralWalk, StructuralWalkWithPath, cycle_error, execute, others, shape,
                    usecache)

__all__ = ["fmap", "fmap_with_path", "fmapstructure", "fmapstructure_with_path", "fcollect", "fleaves",
           "modules"]

_FRESH = object()     # "cache not given": a fresh one per call


def _cache_of(cache):
    if cache is None or cache is False:      # Functors: cache = nothing turns it off
        return None
    return {} if cache is _FRESH else cache


def fmap(f: Callable[..., Any], x: Any, *ys: Any, exclude: Optional[Callable[[Any], bool]] = None,
         walk: Any = None, cache: Any = _FRESH, prune: Any = NoKeyword) -> Any:
    """Apply ``f`` to every leaf of ``x`` (and the matching leaves of ``ys``) and rebuild (``Functors.fmap``).

    Every node is rebuilt in its own type without calling ``__init__``. A tensor or layer
    met twice is mapped once, so tied weights stay tied; ``cache=None`` maps each
    occurrence on its own, ``prune=v`` puts ``v`` at every later occurrence.
    ``exclude(node)`` replaces :func:`isleaf` as the test of where ``f`` applies (a node
    it picks gets ``f``; a leaf it does not is kept as it is). ``walk`` replaces
    :class:`DefaultWalk`. The trees ``ys`` are read at the keys of ``x``: a missing key is
    an error, and ``None`` in place of a whole branch gives ``None`` to every leaf below.

    >>> w = torch.ones(2)
    >>> out = fmap(lambda t: t * 2 if isinstance(t, torch.Tensor) else t, (w, w, "tag"))
    >>> out[0] is out[1], out[2]
    (True, 'tag')
    >>> fmap(lambda a, b: a + b, {"x": [1, 2], "y": 3}, {"x": [4, 5], "y": 6})
    {'x': [5, 7], 'y': 9}

    ``fmap(walk, f, x)``, Functors' older form, is deprecated: it runs ``execute(walk, x)``.
    """
    if isinstance(f, AbstractWalk):
        return _walk_first(f, x, *ys)
    if walk is None and exclude is None:
        return _fused(f, x, ys, _cache_of(cache), prune, None, mode="rebuild" if cache is _FRESH else None)
    composed = ExcludeWalk(DefaultWalk() if walk is None else walk, f, isleaf if exclude is None else exclude)
    cache = _cache_of(cache)
    if cache is not None:
        composed = CachedWalk(composed, prune, cache)
    return execute(composed, x, *ys)


def _walk_first(walk, f, *xs):
    warnings.warn("fmap(walk, f, x, ys...) is deprecated (as in Functors); write execute(walk, x, ys...)",
                  DeprecationWarning, stacklevel=3)
    if not xs:
        raise TypeError("fmap(walk, f, x): the deprecated form needs the tree x after the walk and f")
    return execute(walk, *xs)


def fmap_converting(f, x):
    """:func:`fmap` for conversions (``gpu``, ``cpu``, ``f32``...): a part whose leaves ``f``
    leaves as they are is given back itself rather than copied."""
    return _fused(f, x, (), {}, NoKeyword, None, keep_unchanged=True, mode="convert")


def fmapstructure(f: Callable[..., Any], x: Any, *ys: Any, keep_types: bool = False,
                  exclude: Optional[Callable[[Any], bool]] = None, cache: Any = _FRESH,
                  prune: Any = NoKeyword) -> Any:
    """Like :func:`fmap`, but the result is made of plain containers (``Functors.fmapstructure``):
    lists and tuples stay lists and tuples, layers, dicts, ``nn.Module``, dataclasses and
    namedtuples become dicts of their children.

    ``keep_types=True`` keeps each node's own type instead, except ``nn.Module``, which
    becomes a dict: the shape of a gradient or of an optimiser state.

    >>> fmapstructure(lambda v: tuple(v.shape) if isinstance(v, torch.Tensor) else (), Dense(2, 3))
    {'weight': (3, 2), 'bias': (3,), 'σ': ()}
    >>> sorted(fmapstructure(lambda t: tuple(t.shape), torch.nn.Linear(2, 1)))
    ['bias', 'weight']
    """
    if exclude is None:
        return _fused(f, x, ys, _cache_of(cache), prune, keep_types,
                      mode=None if cache is not _FRESH else "keep_types" if keep_types else "plain")
    composed = ExcludeWalk(StructuralWalk(keep_types), f, exclude)
    cache = _cache_of(cache)
    if cache is not None:
        composed = CachedWalk(composed, prune, cache)
    return execute(composed, x, *ys)


def fmap_with_path(f: Callable[..., Any], x: Any, *ys: Any, exclude: Optional[Callable[[Any], bool]] = None,
                   walk: Any = None, cache: Any = _FRESH, prune: Any = NoKeyword) -> Any:
    """Like :func:`fmap`, with ``f(kp, leaf, *ys_leaves)`` given the leaf's :class:`KeyPath`
    (``Functors.fmap_with_path``); ``exclude(kp, node)`` likewise; ``walk`` takes
    ``(recurse, kp, x, *ys)``.

    >>> x = ([1, 2, 3], 4, {"a": 5, "b": {"A": 6, "B": 7}, "c": {"C": 8, "D": 9}})
    >>> fmap_with_path(lambda kp, v: None if isinstance(v, dict) else v ** 2, x,
    ...                exclude=lambda kp, v: kp == (2, "c") or isleaf(v))
    ([1, 4, 9], 16, {'a': 25, 'b': {'A': 36, 'B': 49}, 'c': None})
    >>> fmap_with_path(lambda kp, v: kp, {"w": [0, 0]})
    {'w': [KeyPath('w', 0), KeyPath('w', 1)]}
    """
    return _with_path(DefaultWalkWithPath() if walk is None else walk, f, x, ys, exclude, cache, prune)


def fmapstructure_with_path(f: Callable[..., Any], x: Any, *ys: Any, keep_types: bool = False,
                            exclude: Optional[Callable[[Any], bool]] = None, cache: Any = _FRESH,
                            prune: Any = NoKeyword) -> Any:
    """:func:`fmap_with_path` with the plain result of :func:`fmapstructure`
    (``Functors.fmapstructure_with_path``).

    >>> fmapstructure_with_path(lambda kp, t: kp, {"lin": torch.nn.Linear(1, 1)})
    {'lin': {'weight': KeyPath('lin', 'weight'), 'bias': KeyPath('lin', 'bias')}}
    """
    return _with_path(StructuralWalkWithPath(keep_types), f, x, ys, exclude, cache, prune)


def _with_path(walk, f, x, ys, exclude, cache, prune):
    composed = ExcludeWalkWithKeyPath(walk, f, _leaf_at if exclude is None else exclude)
    cache = _cache_of(cache)
    if cache is not None:
        composed = CachedWalkWithPath(composed, prune, cache)
    return execute(composed, KeyPath(), x, *ys)


def _leaf_at(kp, x):
    return isleaf(x)


def _fused(f, x, ys, cache, prune, structural, keep_unchanged=False, mode=None):
    """``CachedWalk(ExcludeWalk(DefaultWalk() or StructuralWalk(keep_types), f, isleaf), prune, cache)``
    as one recursive function (``structural`` is None for the default walk, else ``keep_types``).

    ``keep_unchanged=True`` (for conversions such as ``cpu``) gives back a node itself, not a
    copy, when ``f`` changed none of its children, as ``tensor.to`` does. A model mapped
    again and again (``mode`` names the kind of map) is mapped by the generated code of its
    record (``record.py``), which computes the same; not when the caller gave the cache, which
    the generated code does not fill."""
    run, close = _fused_run(f, cache, prune, structural, keep_unchanged)
    try:
        if mode is not None and not ys and cache is not None and not cache and prune is NoKeyword:
            mapped = mapper_of(x, mode) if node_of(type(x)) is not None else None
            if mapped is not None:
                return mapped(x, f, run)
        return run(x, ys)
    except BaseException:
        if cache:      # a later walk with the same cache must not see half-done entries
            for k in [k for k, v in cache.items() if v[1] is _IN_PROGRESS]:
                del cache[k]
        raise
    finally:
        close()        # run refers to itself: without this the cycle would keep x until gc


def _fused_run(f, cache, prune, structural, keep_unchanged):
    get = None if cache is None else cache.get
    pruning = prune is not NoKeyword
    Tensor, new_object, resolved, mutable = torch.Tensor, object.__new__, _resolved, _USECACHE

    def run(x, ys):
        t = type(x)
        cached = get is not None and usecache(x)
        if cached:
            hit = get(id(x))
            if hit is not None:
                if hit[1] is _IN_PROGRESS:
                    raise cycle_error(x)
                return prune if pruning else hit[1]
            cache[id(x)] = (x, _IN_PROGRESS)
        node = resolved.get(t, _UNKNOWN)
        if node is _UNKNOWN:
            node = node_of(t)
        if node is None or (t is tuple and not x) or (node is OBJECT and not x.__dict__):
            out = f(x, *ys)
        else:
            keys, kids = node.parts(x)
            if ys:
                yk = others(node, x, keys, ys)
                new = [run(v, tuple(c[i] for c in yk)) for i, v in enumerate(kids)]
            else:
                new = []
                for v in kids:          # leaves without a call of run: tensors, then functions...
                    tv = type(v)
                    if tv is Tensor and get is not None:
                        hit = get(id(v))
                        if hit is None:
                            out = f(v)
                            cache[id(v)] = (v, out)
                            new.append(out)
                        else:
                            new.append(prune if pruning else hit[1])
                    elif resolved.get(tv, _UNKNOWN) is None and (get is None or mutable.get(tv) is False):
                        new.append(f(v))
                    else:
                        new.append(run(v, ()))
            if keep_unchanged and all(a is b for a, b in zip(new, kids)):
                out = x
            elif structural is not None:
                out = shape(node, x, keys, new, structural)
            elif type(node) is ObjectNode and node.fields is None:   # every attribute a child
                out = new_object(t)
                out.__dict__.update(zip(keys, new))
            else:
                out = node.rebuild(x, tuple(new))
        if cached:
            cache[id(x)] = (x, out)
        return out

    def close():
        nonlocal run
        run = None
    return run, close


_UNKNOWN = object()


def fcollect(x: Any, exclude: Optional[Callable[[Any], bool]] = None,
             trainable_only: bool = False) -> List[Any]:
    """Every node and leaf of ``x``, ``x`` first, depth first; a mutable object once (``Functors.fcollect``).

    Where ``exclude(node)`` is true, the node and what is below it are left out.

    >>> w = torch.zeros(1)
    >>> len(fcollect([w, (w, 3)]))
    4
    """
    walk = CollectWalk(trainable_only)
    execute(walk if exclude is None else ExcludeWalk(walk, lambda v: walk.output, exclude), x)
    return walk.output


def fleaves(x: Any, exclude: Optional[Callable[[Any], bool]] = None,
            trainable_only: bool = False) -> List[Any]:
    """The leaves of ``x`` in walk order, a mutable object once (``Functors.fleaves``).

    ``exclude(node)`` replaces :func:`isleaf` as the test of what is a leaf;
    ``trainable_only`` walks only trainable children.

    >>> w = torch.zeros(1)
    >>> len(fleaves({"a": w, "b": [w, 2.0]}))
    2
    >>> fleaves((1, (2, 3), {"a": 4}), exclude=lambda v: isleaf(v) or isinstance(v, dict))
    [1, 2, 3, {'a': 4}]
    """
    walk = FlattenWalk(trainable_only)
    return execute(ExcludeWalk(walk, lambda v: [v], isleaf if exclude is None else exclude), x)


def leaflike(x):
    """Leaves, and tuples of numbers or of tensors (a Conv's stride, an LSTM cell's state)."""
    if isleaf(x):
        return True
    if type(x) is tuple:
        return all(isinstance(v, (int, float, complex)) for v in x) or all(
            isinstance(v, torch.Tensor) for v in x)
    return False


def modules(x: Any) -> List[Any]:
    """All the non-leaf nodes (layers, containers) inside ``x``, ``x`` first (``Flux.modules``).

    Tuples of numbers or of tensors count as leaves, as in Flux.

    >>> [type(m).__name__ for m in modules([(1, 2), ("a", [3])])]
    ['list', 'tuple', 'list']
    """
    return fcollect(x, exclude=leaflike)

