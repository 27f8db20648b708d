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

from ._flat_compile import compile_fits, compile_mirror
from ._nodes import _FIELDS, _MOD, _OBJ, _SCALARS, handler

__all__ = ["Flat", "flat"]

_CACHE = {}       # id(root) -> (weakref to root, Flat)
_COMPILE_AFTER = 3    # replays of a record before it is written out as code
_COMPILE_MAX = 5000   # slots: a larger record stays a loop (the code would take long to compile)


def _getter(node, key):
    """A fast accessor of child ``key`` for nodes like ``node``, and how to write it as
    code: ``("mod", table, key)``, ``("item", key)`` or ``("attr", key)``."""
    if isinstance(node, nn.Module):
        for table in ("_parameters", "_buffers", "_modules"):
            if key in getattr(node, table):
                return (lambda m, t=table: getattr(m, t)[key]), ("mod", table, key)
    if isinstance(node, (list, dict)) or (isinstance(node, tuple) and not isinstance(key, str)):
        return operator.itemgetter(key), ("item", key)
    return operator.attrgetter(key), ("attr", key)


def _sizer(node):
    """How many children ``node`` has, checked on replay to notice added attributes:
    ``(function, kind)``, or ``None`` for an immutable node."""
    if isinstance(node, nn.Module):
        return (lambda m: len(m._parameters) + len(m._buffers) + len(m._modules)), "mod"
    if isinstance(node, (list, dict)):
        return len, "len"
    if isinstance(node, tuple):
        return None       # immutable
    if hasattr(node, "__dict__"):
        return (lambda o: len(o.__dict__)), "dict"
    return None


class Flat:
    """A model's structure, recorded: slots, routes to them, the trainable tensors.

    ``objs[i]`` is the object at slot ``i`` (slot 0 is the root, not kept), ``steps[i - 1]``
    = ``(parent slot, key, getter)`` reaches it; ``nodes`` lists, children before
    parents, ``(slot, builder, child slots)`` for every node; an object
    met twice (tied tensors, shared layers) has one slot, and each later
    sighting is in ``aliases`` as ``(slot, parent slot, key, getter)``. A non-trainable
    child (a recurrent layer's ``state``, ``BatchNorm``'s statistics) is a slot in
    ``loose``: it is not looked into and may change from step to step without making
    the record stale; the gradient has ``None`` there.
    """

    __slots__ = ("objs", "steps", "nodes", "sizes", "tensors", "tensor_slots", "paths", "aliases",
                 "specs", "size_specs", "node_specs", "replays", "_fits", "_mirror", "loose")

    def __init__(self, root):
        self.objs, self.steps, self.nodes, self.sizes, self.aliases = [root], [], [], [], []
        self.specs, self.size_specs, self.node_specs = [], [], []    # the same, as code (_flat_compile)
        self.paths, self.replays, self._fits, self._mirror = [()], 0, None, None
        self.loose = set()      # slots of non-trainable parts: not looked into, free to change
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
                self.aliases.append((s, slot, k, _getter(obj, k)[0]))
                kids.append(s)
                continue
            s = len(self.objs)
            get, spec = _getter(obj, k)
            self.steps.append((slot, k, get))
            self.specs.append(spec)
            self.paths.append(self.paths[slot] + (k,))
            trainable.append(tr)
            if not tr:      # a recurrent layer's state, running statistics: no gradient, no Leaf
                self.objs.append(None)
                self.loose.add(s)
                kids.append(s)
                continue
            self.objs.append(v)
            if type(v) not in _SCALARS:
                seen[id(v)] = s
            kids.append(s)
            self._visit(s, v, trainable, seen)
        sizer = _sizer(obj)
        if sizer is not None:
            self.sizes.append((slot, sizer[0], sizer[0](obj)))
            self.size_specs.append((slot, sizer[1], sizer[0](obj)))
        build, spec = _builder(h, obj, keys)
        self.nodes.append((slot, build, kids))
        self.node_specs.append(spec)

    def fits(self, root):
        """True while ``root`` (the object recorded) holds the same objects at the same places."""
        if self._fits is not None:
            return self._fits(root)
        self.replays += 1
        if self.replays >= _COMPILE_AFTER and len(self.steps) <= _COMPILE_MAX:   # replayed often:
            self._fits = compile_fits(self)                                       # write it as code
        return self.replay_fits(root)

    def replay_fits(self, root):
        """:meth:`fits` by a loop over the recorded getters."""
        objs = self.objs
        vals = [root]
        append = vals.append
        loose = self.loose
        try:
            for j, ((parent, _, get), old) in enumerate(zip(self.steps, objs[1:]), 1):
                v = get(vals[parent])
                if v is not old and j not in loose and not (type(v) in _SCALARS and v == old):
                    return False
                append(v)
        except (LookupError, AttributeError, TypeError):
            return False
        for slot, size, n in self.sizes:
            if size(vals[slot]) != n:
                return False
        return True

    def mirror(self, root, grads):
        """``root``'s structure with ``grads[i]`` at ``tensors[i]`` (None at other leaves):
        ``fmapstructure`` of a lookup, without walking."""
        if self._mirror is None and self._fits is not None:
            self._mirror = compile_mirror(self)
        if self._mirror is not None:
            return self._mirror(root, grads)
        values = {id(t): g for t, g in zip(self.tensors, grads)}
        return self.replay_mirror(root, values)

    def replay_mirror(self, root, values):
        """:meth:`mirror` by a loop over the recorded builders, ``values[id(tensor)]`` at each tensor."""
        out = [None] * len(self.objs)
        objs = list(self.objs)
        objs[0] = root
        for i in self.tensor_slots:
            out[i] = values.get(id(objs[i]))
        for slot, build, kids in self.nodes:
            out[slot] = build(objs[slot], [out[k] for k in kids])
        return out[0]


def _builder(h, obj, keys):
    """A fast ``rebuild`` for nodes like ``obj`` (``nn.Module`` as a dict), for :meth:`Flat.mirror`,
    and how to write it as code: ``(kind, argument)``."""
    t = type(obj)
    if h is _MOD or t is dict:
        return (lambda _, got: dict(zip(keys, got))), ("dict", keys)
    if t is tuple:
        return (lambda _, got: tuple(got)), ("tuple", None)
    if t is list:
        return (lambda _, got: got), ("list", None)
    if h is _OBJ and _FIELDS.get(t) is None and hasattr(obj, "__dict__"):
        def build(_, got):        # every attribute is a child: a fresh __dict__ from the keys
            new = object.__new__(t)
            new.__dict__.update(zip(keys, got))
            return new
        return build, ("obj", (t, keys))
    rebuild = h[2]
    return (lambda template, got: rebuild(template, tuple(got))), ("rebuild", rebuild)


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
