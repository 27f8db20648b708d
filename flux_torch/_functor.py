"""The one traversal: how flux_torch walks a model (Functors.jl in Python).

Everything that visits the tensors of a model (``params``, ``gpu``/``f32``,
optimiser ``setup``, ``state``/``loadmodel_``, printing, train/test modes) is a few
lines over :func:`fmap`, :func:`fmap_with_path` (key paths, a check at every node)
or :func:`fcollect` here. A node's children come from
:func:`children`; a node is rebuilt, without calling ``__init__``, by
:func:`rebuild`.

Walked: tuples, lists, dicts, namedtuples, dataclass instances, classes opted in
with :func:`functor` / :func:`layer`, and ``torch.nn.Module`` (through its own
parameters, buffers and sub-modules). Everything else is a leaf.
"""
import torch

from ._nodes import (_FIELDS, _HANDLERS, _MOD, _SCALARS, _TRAINABLE, _get,  # noqa: F401
                     handler)

__all__ = ["functor", "layer", "isfunctor", "children", "trainable", "fmap", "fmap_with_path",
           "fmapstructure", "fmapstructure_with_path", "fleaves", "fcollect", "modules", "isleaf"]


def functor(cls=None, *fields, trainable=None):
    """Opt a class into the traversal (``Flux.@functor``); use as a decorator.

    Children are the instance's attributes in definition order, or only the
    ``fields`` named (``@functor("W")`` is ``Flux.@functor Affine (W,)``).
    Rebuilding never calls ``__init__``.

    >>> @functor
    ... class Affine:
    ...     def __init__(self, W, b):
    ...         self.W, self.b = W, b
    ...     def __call__(self, x):
    ...         return x @ self.W.T + self.b
    >>> a = Affine(torch.ones(2, 3), torch.zeros(2))
    >>> [tuple(p.shape) for p in fleaves(a)]
    [(2, 3), (2,)]
    >>> functor("W")(Affine) is Affine      # restrict the children to W
    True
    """
    if isinstance(cls, str):
        names = (cls,) + fields
        return lambda c: functor(c, *names, trainable=trainable)
    if cls is None:
        return lambda c: functor(c, *fields, trainable=trainable)
    if not isinstance(cls, type):
        raise TypeError(f"functor expects a class (or field names), but got {cls!r}; "
                        "use it as @functor above a class definition")
    for name in fields:
        if not isinstance(name, str):
            raise TypeError(f"functor({cls.__name__}, ...) expects field names as strings, "
                            f"but got {name!r}")
    _FIELDS[cls] = tuple(fields) or None
    if trainable is not None:
        _TRAINABLE[cls] = tuple((trainable,) if isinstance(trainable, str) else trainable)
    _HANDLERS.pop(cls, None)
    from . import _pytree
    _pytree.register(cls)
    return cls


def layer(cls=None, *fields, trainable=None):
    """``Flux.@layer``: the same as :func:`functor`, also with ``trainable=``.

    >>> @layer(trainable=("W",))
    ... class Scale2:
    ...     def __init__(self, W, shift):
    ...         self.W, self.shift = W, shift
    >>> s = Scale2(torch.ones(2), torch.zeros(2))
    >>> list(trainable(s))
    ['W']
    """
    return functor(cls, *fields, trainable=trainable)


def isfunctor(x):
    """True when ``x`` is a node the traversal walks into.

    >>> isfunctor((1, 2)), isfunctor(torch.zeros(2))
    (True, False)
    """
    return handler(type(x)) is not None


def isleaf(x):
    """True when ``x`` has no children (tensors, numbers, functions...).

    >>> isleaf(torch.zeros(2)), isleaf([torch.zeros(2)])
    (True, False)
    """
    return handler(type(x)) is None


# ---------------------------------------------------------------- public walk

def children(x):
    """The children of ``x`` as a dict ``{key: child}`` (empty for a leaf).

    >>> children((10, 20))
    {0: 10, 1: 20}
    """
    h = handler(type(x))
    if h is None:
        return {}
    return dict(zip(h[0](x), h[1](x)))


def rebuild(x, values):
    """Rebuild ``x`` with new children ``values`` (in the order of :func:`children`).

    >>> rebuild([1, 2], (3, 4))
    [3, 4]
    """
    h = handler(type(x))
    if h is None:
        raise TypeError(f"rebuild: {type(x).__name__} is a leaf, it has no children to replace")
    return h[2](x, tuple(values))


def trainable(x):
    """The trainable children of ``x`` as a dict (``Flux.trainable``).

    A class picks its subset with a ``trainable(self)`` method or ``@layer(trainable=...)``;
    for an ``nn.Module`` buffers are not trainable.

    >>> trainable({"a": 1, "b": 2})
    {'a': 1, 'b': 2}
    """
    h = handler(type(x))
    if h is None:
        return {}
    kids = dict(zip(h[0](x), h[1](x)))
    names = h[3](x) if h[3] is not None else None
    return kids if names is None else {k: kids[k] for k in names}


def fmap(f, x, *ys, exclude=None, trainable_only=False, modules_as_dicts=False, cache=None):
    """Apply ``f`` to every leaf of ``x`` (and the matching leaves of ``ys``) and rebuild.

    An identity cache makes a tensor (or layer) that appears twice map to one
    result, so tied weights stay tied; ``cache=False`` maps every occurrence on
    its own. ``exclude(node)`` marks extra leaves. ``trainable_only`` walks only
    trainable children, keeping the others as they are.

    >>> w = torch.ones(2)
    >>> out = fmap(lambda t: t * 2 if isinstance(t, torch.Tensor) else t, (w, w, "tag"))
    >>> out[0] is out[1], out[2]
    (True, 'tag')
    >>> out = fmap(lambda t: t * 2, (w, w), cache=False)
    >>> out[0] is out[1]
    False
    """
    return _map(f, x, ys, exclude, trainable_only, _module_dict if modules_as_dicts else None, cache)


def fmap_with_path(f, x, *ys, exclude=None, trainable_only=False, modules_as_dicts=False,
                   cache=None, on_node=None):
    """Like :func:`fmap`, but ``f(path, leaf, *ys_leaves)`` also gets the leaf's key path.

    ``Functors.fmap_with_path``: ``path`` is the tuple of keys (those of
    :func:`children`) leading from ``x`` to the leaf, ``()`` for ``x`` itself;
    ``exclude(path, node)`` marks extra leaves. ``on_node(path, node, *ys_nodes)``,
    when given, is called at every node before its children are walked, with the
    matching nodes of ``ys`` (to check that they have the same keys, say).
    ``cache=False`` turns the identity cache off: a tied tensor is met at each place.

    >>> x = ([1, 2, 3], 4, {"a": 5, "b": {"A": 6, "B": 7}, "c": {"C": 8, "D": 9}})
    >>> fmap_with_path(lambda p, v: None if isinstance(v, dict) else v ** 2, x,
    ...                exclude=lambda p, v: p == (2, "c"))
    ([1, 4, 9], 16, {'a': 25, 'b': {'A': 36, 'B': 49}, 'c': None})
    >>> fmap_with_path(lambda p, v: p, {"w": [0, 0]})
    {'w': [('w', 0), ('w', 1)]}
    """
    return _map(f, x, ys, exclude, trainable_only, _module_dict if modules_as_dicts else None,
                cache, True, on_node)


def fmapstructure(f, x, *ys, plain=False, exclude=None, trainable_only=False, cache=None):
    """Like :func:`fmap`, but ``torch.nn.Module`` nodes come back as plain dicts.

    With ``plain=True`` every node comes back as a plain container, as in
    ``Functors.fmapstructure``: lists and tuples stay lists and tuples, and
    dicts, layers, ``nn.Module``, dataclasses and namedtuples become dicts of their children.

    >>> lin = torch.nn.Linear(2, 1)
    >>> sorted(fmapstructure(lambda t: tuple(t.shape), lin))
    ['bias', 'weight']
    >>> fmapstructure(lambda v: tuple(v.shape) if isinstance(v, torch.Tensor) else (),
    ...               Dense(2, 3), plain=True)
    {'weight': (3, 2), 'bias': (3,), 'σ': ()}
    """
    return _map(f, x, ys, exclude, trainable_only, _plain if plain else _module_dict, cache)


def fmapstructure_with_path(f, x, *ys, plain=False, exclude=None, trainable_only=False, cache=None,
                            on_node=None):
    """:func:`fmap_with_path` with the output of :func:`fmapstructure` (``Functors.fmapstructure_with_path``).

    >>> fmapstructure_with_path(lambda p, t: p, {"lin": torch.nn.Linear(1, 1)})
    {'lin': {'weight': ('lin', 'weight'), 'bias': ('lin', 'bias')}}
    """
    return _map(f, x, ys, exclude, trainable_only, _plain if plain else _module_dict, cache, True, on_node)


def _module_dict(x, h, keys, new):
    return dict(zip(keys, new)) if h is _MOD else h[2](x, tuple(new))


def _plain(x, h, keys, new):
    """Plain containers: lists and tuples stay so, every other node becomes a dict of its children."""
    if isinstance(x, list):
        return list(new)
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(new)
    return dict(zip(keys, new))


def _map(f, x, ys, exclude, tonly, shape, cache, with_path=False, on_node=None):
    if not (with_path or cache is False or on_node is not None):
        return _fmap(f, x, ys, exclude, tonly, shape, {} if cache is None else cache)
    if not with_path:
        f0, ex0 = f, exclude
        f = lambda _, *a: f0(*a)    # noqa: E731
        exclude = None if ex0 is None else (lambda _, v: ex0(v))
    cache = None if cache is False else ({} if cache is None else cache)
    return _pmap(f, (), x, ys, exclude, tonly, shape, cache, on_node)


def _fmap(f, x, ys, exclude, tonly, shape, cache):
    t = type(x)
    cacheable = t not in _SCALARS
    if cacheable:
        hit = cache.get(id(x))
        if hit is not None:
            return hit[1]
    h = handler(t)
    if h is None or (exclude is not None and exclude(x)):
        out = f(x, *ys)
    else:
        keys, vals = h[0](x), h[1](x)
        names = h[3](x) if tonly and h[3] is not None else None
        new = []
        for k, v in zip(keys, vals):
            if names is not None and k not in names:
                new.append(v)
            else:
                new.append(_fmap(f, v, tuple(_get(y, k) for y in ys), exclude, tonly, shape, cache))
        out = h[2](x, tuple(new)) if shape is None else shape(x, h, keys, new)
    if cacheable:
        cache[id(x)] = (x, out)
    return out


def _pmap(f, path, x, ys, exclude, tonly, shape, cache, on_node):
    """:func:`_fmap` with key paths, an optional cache and ``on_node``: apart, so that fmap stays lean."""
    t = type(x)
    cacheable = cache is not None and t not in _SCALARS
    if cacheable:
        hit = cache.get(id(x))
        if hit is not None:
            return hit[1]
    h = handler(t)
    if h is None or (exclude is not None and exclude(path, x)):
        out = f(path, x, *ys)
    else:
        if on_node is not None:
            on_node(path, x, *ys)
        keys, vals = h[0](x), h[1](x)
        names = h[3](x) if tonly and h[3] is not None else None
        new = [v if names is not None and k not in names else
               _pmap(f, path + (k,), v, tuple(_get(y, k) for y in ys), exclude, tonly, shape, cache, on_node)
               for k, v in zip(keys, vals)]
        out = h[2](x, tuple(new)) if shape is None else shape(x, h, keys, new)
    if cacheable:
        cache[id(x)] = (x, out)
    return out


def fcollect(x, exclude=None, trainable_only=False):
    """Every node of ``x`` once (depth first, by identity), ``x`` itself first.

    Branches at nodes where ``exclude(node)`` is true are skipped, node included.

    >>> w = torch.zeros(1)
    >>> len(fcollect([w, (w, 3)]))
    4
    """
    out, seen = [], set()
    _collect(x, exclude, trainable_only, out, seen, leaves_only=False)
    return out


def fleaves(x, trainable_only=False):
    """The leaves of ``x`` (each object once), in traversal order.

    >>> w = torch.zeros(1)
    >>> len(fleaves({"a": w, "b": [w, 2.0]}))
    2
    """
    out, seen = [], set()
    _collect(x, None, trainable_only, out, seen, leaves_only=True)
    return out


def _collect(x, exclude, tonly, out, seen, leaves_only):
    if id(x) in seen:
        return
    if exclude is not None and exclude(x):
        return
    seen.add(id(x))
    h = handler(type(x))
    if h is None:
        out.append(x)
        return
    if not leaves_only:
        out.append(x)
    kids = h[1](x)
    names = h[3](x) if tonly and h[3] is not None else None
    if names is not None:
        kids = [v for k, v in zip(h[0](x), kids) if k in names]
    for v in kids:
        _collect(v, exclude, tonly, out, seen, leaves_only)


def _leaflike(x):
    """Leaves, and tuples of numbers or of tensors (a Conv's stride, an LSTM cell's state)."""
    if isleaf(x):
        return True
    if type(x) is tuple:
        return all(isinstance(v, (int, float, complex)) for v in x) or all(
            isinstance(v, torch.Tensor) for v in x)
    return False


def modules(x):
    """All the non-leaf nodes (layers, containers) inside ``x``, ``x`` first (``Flux.modules``).

    Tuples of numbers or of tensors count as leaves, as in Flux.

    >>> [type(m).__name__ for m in modules([(1, 2), ("a", [3])])]
    ['list', 'tuple', 'list']
    """
    return fcollect(x, exclude=_leaflike)
