"""The traversal of one model, recorded once and replayed: the hot path of training.

``gradient(loss, model)``, ``update_`` and ``params`` run once per batch on the
same model, so walking it node by node every time would cost more than the
arithmetic of a small model. :func:`flat` walks it once (with the handlers of
``_nodes``, as every walk does) and records every node and leaf in a slot, with
a getter from its parent; :meth:`Flat.fits` replays the getters to check, cheaply,
that the model still holds the same objects, and the record is rebuilt when not.

A record gives the trainable tensors (:attr:`Flat.tensors`), and builds the
gradient of the model from the gradients of those tensors (:meth:`Flat.mirror`:
the same classes, ``nn.Module`` as dicts, ``None`` where there is no gradient),
as ``fmapstructure`` would, without walking again.
"""
import operator
import weakref

import torch
from torch import nn

from ._nodes import _FIELDS, _MOD, _OBJ, _SCALARS, handler

__all__ = ["Flat", "flat"]

_CACHE = {}       # id(root) -> (weakref to root, Flat)


def _getter(node, key):
    """A fast accessor of child ``key`` for nodes like ``node``."""
    if isinstance(node, nn.Module):
        for table in ("_parameters", "_buffers", "_modules"):
            if key in getattr(node, table):
                return lambda m, t=table: getattr(m, t)[key]
    if isinstance(node, (list, dict)) or (isinstance(node, tuple) and not isinstance(key, str)):
        return operator.itemgetter(key)
    return operator.attrgetter(key)


def _sizer(node):
    """How many children ``node`` has: checked on replay, to notice added attributes."""
    if isinstance(node, nn.Module):
        return lambda m: len(m._parameters) + len(m._buffers) + len(m._modules)
    if isinstance(node, (list, dict)):
        return len
    if isinstance(node, tuple):
        return None       # immutable
    if hasattr(node, "__dict__"):
        return lambda o: len(o.__dict__)
    return None


class Flat:
    """A model's structure, recorded: slots, routes to them, the trainable tensors.

    ``objs[i]`` is the object at slot ``i`` (slot 0 is the root, not kept), ``steps[i - 1]``
    = ``(parent slot, key, getter)`` reaches it; ``nodes`` lists, children before
    parents, ``(slot, builder, child slots)`` for every node; an object
    met twice (tied tensors, shared layers) has one slot, and each later
    sighting is in ``aliases`` as ``(slot, parent slot, key, getter)``.
    """

    __slots__ = ("objs", "steps", "nodes", "sizes", "tensors", "tensor_slots", "paths", "aliases")

    def __init__(self, root):
        self.objs, self.steps, self.nodes, self.sizes, self.aliases = [root], [], [], [], []
        self.paths = [()]
        trainable = [True]
        seen = {id(root): 0}
        self._visit(0, root, trainable, seen)
        self.tensor_slots = [i for i, o in enumerate(self.objs) if isinstance(o, torch.Tensor)]
        self.tensors = [self.objs[i] for i in self.tensor_slots
                        if trainable[i] and (self.objs[i].is_floating_point() or self.objs[i].is_complex())]
        self.objs[0] = None     # the root is not kept alive by its record

    def _visit(self, slot, obj, trainable, seen):
        h = handler(type(obj))
        if h is None:
            return
        keys, vals = tuple(h[0](obj)), h[1](obj)
        names = h[3](obj) if h[3] is not None else None
        kids = []
        for k, v in zip(keys, vals):
            tr = trainable[slot] and (names is None or k in names)
            s = seen.get(id(v)) if type(v) not in _SCALARS else None
            if s is not None:      # met before: tied, or a shared layer
                trainable[s] = trainable[s] or tr
                self.aliases.append((s, slot, k, _getter(obj, k)))
                kids.append(s)
                continue
            s = len(self.objs)
            self.objs.append(v)
            self.steps.append((slot, k, _getter(obj, k)))
            self.paths.append(self.paths[slot] + (k,))
            trainable.append(tr)
            if type(v) not in _SCALARS:
                seen[id(v)] = s
            kids.append(s)
            self._visit(s, v, trainable, seen)
        size = _sizer(obj)
        if size is not None:
            self.sizes.append((slot, size, size(obj)))
        self.nodes.append((slot, _builder(h, obj, keys), kids))

    def fits(self, root):
        """True while ``root`` (the object recorded) holds the same objects at the same places."""
        objs = self.objs
        vals = [root]
        append = vals.append
        try:
            for (parent, _, get), old in zip(self.steps, objs[1:]):
                v = get(vals[parent])
                if v is not old and not (type(v) in _SCALARS and v == old):
                    return False
                append(v)
        except (LookupError, AttributeError, TypeError):
            return False
        for slot, size, n in self.sizes:
            if size(vals[slot]) != n:
                return False
        return True

    def mirror(self, root, values):
        """``root``'s structure with ``values[id(tensor)]`` at each tensor (None elsewhere):
        ``fmapstructure(lambda leaf: values.get(id(leaf)), root)``, without walking."""
        out = [None] * len(self.objs)
        objs = list(self.objs)
        objs[0] = root
        for i in self.tensor_slots:
            out[i] = values.get(id(objs[i]))
        for slot, build, kids in self.nodes:
            out[slot] = build(objs[slot], [out[k] for k in kids])
        return out[0]


def _builder(h, obj, keys):
    """A fast ``rebuild`` for nodes like ``obj`` (``nn.Module`` as a dict), for :meth:`Flat.mirror`."""
    t = type(obj)
    if h is _MOD or t is dict:
        return lambda _, got: dict(zip(keys, got))
    if t is tuple:
        return lambda _, got: tuple(got)
    if t is list:
        return lambda _, got: got
    if h is _OBJ and _FIELDS.get(t) is None and hasattr(obj, "__dict__"):
        def build(_, got):        # every attribute is a child: a fresh __dict__ from the keys
            new = object.__new__(t)
            new.__dict__.update(zip(keys, got))
            return new
        return build
    rebuild = h[2]
    return lambda template, got: rebuild(template, tuple(got))


def _forget(key, table=_CACHE):     # bound now: at exit the module global may be gone
    return lambda _ref: table.pop(key, None)


def flat(root):
    """The recorded structure of ``root``, reused while it still fits."""
    entry = _CACHE.get(id(root))
    if entry is not None:
        ref, rec = entry
        if ref() is root and rec.fits(root):
            return rec
    rec = Flat(root)
    try:
        _CACHE[id(root)] = (weakref.ref(root, _forget(id(root))), rec)
    except TypeError:     # tuples, lists, dicts: not cached, recorded each time
        pass
    return rec
