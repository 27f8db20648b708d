"""A model's walk, recorded once and replayed: the hot path of training.

``gradient(loss, model)``, ``update_``, ``train_`` and ``params`` meet the same
model every batch; walking it node by node each time would cost more than the
arithmetic of a small model. :func:`record_of` walks it once, with the kernel's
nodes (``functors``), into a :class:`Record`: one *slot* per place in the model, each
reached by one step ``(parent slot, key, parent's Node)``. Everything training needs
is a replay of those steps:

- :meth:`Record.fits`: does the model still hold the same objects at the same places?
  When every node of the model is a tuple or a ``@functor`` class (whose attribute
  writes bump the kernel's ``VERSION``), an unchanged version answers at once;
- :attr:`Record.tensors`: the trainable tensors, each once (``params``);
- :meth:`Record.mirror`: the model-shaped gradient from the tensors' gradients;
- :meth:`Record.read`: the values of another tree (a gradient, an optimiser state) at
  the places of the tensors, read the way the model's nodes read their children.

A record that has been replayed a few times is written out as straight-line Python
(``_codegen.py``); the loops here remain the reference. Records are cached per model,
weakly: a dropped model drops its record.
"""
import threading
import weakref

import torch

from . import _codegen
from .keypath import KeyPath
from .nodes import MODULE, SCALARS, VERSION, ObjectNode, node_of
from .walks import ExcludeWalk, FlattenWalk, execute, usecache

__all__ = ["Record", "record_of", "mapper_of"]

_COMPILE_AFTER = 3     # replays of a record before it is written out as code
_COMPILE_MAX = 5000    # slots: a larger record stays a loop (its code would take long to compile)


def _size_kind(x, node):
    """How to count the children of ``x`` on replay (to see added ones), or None when immutable."""
    if isinstance(x, tuple):
        return None
    if node is MODULE:
        return "module"
    if isinstance(x, (list, dict)):
        return "len"
    if hasattr(x, "__dict__"):
        return "dict"
    return None


def size_of(x, kind):
    if kind == "module":
        return len(x._parameters) + len(x._buffers) + len(x._modules)
    if kind == "dict":
        return len(x.__dict__)
    return len(x)


class Record:
    """One model's structure: its slots, the step that reaches each, and its trainable tensors.

    ``steps[j - 1] = (parent, key, node)`` reaches slot ``j`` (slot 0 is the root) by
    ``node.child(value at parent, key)``; ``objs[j]`` is what was there (``None`` at the root
    and at *loose* slots: non-trainable parts such as running statistics or a recurrent
    state, which are not looked into and may change freely). ``canon[j]`` is the first slot
    holding the same object (a tied tensor or a shared layer is met at several slots);
    ``nodes`` lists ``(slot, node, child slots)`` children first; ``tensors[i]`` is the i-th
    trainable floating tensor, found at the slots ``tensor_slots[i]``.
    """

    __slots__ = ("steps", "objs", "canon", "nodes", "sizes", "loose", "tensors", "tensor_slots",
                 "watched", "version", "_fits", "_mirror", "_reads", "plans", "_first",
                 "_maps", "__weakref__")

    def __init__(self, root):
        self.steps, self.objs, self.canon, self.nodes, self.sizes = [], [None], [0], [], []
        self.loose, self._fits, self._mirror, self._reads = set(), None, None, {}
        self.plans = {}        # id(optimiser state) -> (weak reference, its update plan)
        self._maps = {}        # a replay ("mirror", fmap's mode...) -> calls so far, or its code
        self.version, self.watched, self._first = VERSION[0], True, {}
        found = {}             # id(tensor) -> (tensor, its slots), in the order first met
        self._visit(0, root, found, set())
        self.tensors = [t for t, _ in found.values()]
        self.tensor_slots = [slots for _, slots in found.values()]
        del self._first

    def _visit(self, slot, x, found, path):
        node = node_of(type(x))
        if node is None:
            if isinstance(x, torch.Tensor) and (x.is_floating_point() or x.is_complex()):
                hit = found.get(id(x))
                if hit is None:
                    found[id(x)] = (x, [slot])
                else:
                    hit[1].append(slot)
            return
        if not (isinstance(x, tuple) or getattr(type(x), "_flux_watched", None) is not None):
            self.watched = False
        path.add(id(x))
        keys, kids = node.parts(x)
        names = node.trainable(x)
        slots = []
        for k, v in zip(keys, kids):
            j = len(self.objs)
            self.steps.append((slot, k, node))
            slots.append(j)
            if names is not None and k not in names:      # not trainable: a loose slot
                self.objs.append(None)
                self.canon.append(j)
                self.loose.add(j)
                continue
            self.objs.append(v)
            self.canon.append(self._first.setdefault(id(v), j) if usecache(v) else j)
            if id(v) not in path:        # (an object inside itself is not looked into again)
                self._visit(j, v, found, path)
        path.discard(id(x))
        kind = _size_kind(x, node)
        if kind is not None:
            self.sizes.append((slot, kind, size_of(x, kind)))
        self.nodes.append((slot, node, slots))

    # ------------------------------------------------------------ replays

    def path(self, slot):
        """The :class:`KeyPath` of ``slot``."""
        keys = []
        while slot:
            parent, key, _ = self.steps[slot - 1]
            keys.append(key)
            slot = parent
        return KeyPath(*reversed(keys))

    def fits(self, root):
        """True while ``root`` (the object recorded) holds the same objects at the same places."""
        if self.watched and self.version == VERSION[0]:
            return True
        if self._fits is not None:
            ok = self._fits(root)
        else:
            if self._often("fits"):
                self._fits = _codegen.fits(self, root)
            ok = self.replay_fits(root)
        if ok:
            self.version = VERSION[0]
        return ok

    def replay_fits(self, root):
        """:meth:`fits` by a loop over the steps (the reference for the generated code)."""
        vals = [root]
        append, objs, loose = vals.append, self.objs, self.loose
        try:
            for j, (parent, key, node) in enumerate(self.steps, 1):
                v = node.child(vals[parent], key)
                old = objs[j]
                if v is not old and j not in loose and not (type(v) in SCALARS and type(v) is type(old)
                                                                 and v == old):
                    return False
                append(v)
        except (LookupError, AttributeError, TypeError):
            return False
        return all(size_of(vals[slot], kind) == n for slot, kind, n in self.sizes)

    def mirror(self, root, grads):
        """``root``'s structure with ``grads[i]`` in place of ``tensors[i]`` and ``None`` at every
        other leaf, in the nodes' own types (``nn.Module`` as dicts): a gradient's shape."""
        fn = self._mirror
        if fn is None:
            if not self._often("mirror"):
                return self.replay_mirror(root, grads)
            fn = self._mirror = _codegen.mirror(self, root)
        return fn(root, grads)

    def _often(self, what):
        """Count a replay of ``what``: True when it has been replayed often enough to be written
        out as code (and the record is small enough for that)."""
        n = self._maps.get(what, 0) + 1
        self._maps[what] = n
        return n >= _COMPILE_AFTER and len(self.steps) <= _COMPILE_MAX

    @staticmethod
    def gradient_node(node, template, children):
        """One node of a gradient (:func:`rebuild_as_gradient`)."""
        return rebuild_as_gradient(node, template, children)

    def replay_mirror(self, root, grads):
        """:meth:`mirror` by a loop over the nodes (the reference for the generated code)."""
        out = [None] * len(self.objs)
        for g, slots in zip(grads, self.tensor_slots):
            for j in slots:
                out[j] = g
        built = {}
        for slot, node, kids in self.nodes:
            c = self.canon[slot]
            if c in built:            # a shared layer: one gradient object at each place
                out[slot] = built[c]
                continue
            template = root if slot == 0 else self.objs[slot]
            out[slot] = built[c] = rebuild_as_gradient(node, template, [out[k] for k in kids])
        return out[0]

    def read(self, tree, slots, missing=False):
        """The values of ``tree`` (shaped like the model: a gradient, a state) at ``slots``,
        ``None`` below a ``None``. A node of another kind than the model's is read the general
        way; a missing child raises ``LookupError`` naming its key path, or with
        ``missing=True`` reads as ``None``."""
        key = tuple(slots)
        fn = self._reads.get(key)
        if fn is None and self._often(("read", key)):
            fn = self._reads[key] = _codegen.read(self, None, slots)
        if fn is not None:
            try:
                return fn(tree)
            except (LookupError, AttributeError, TypeError):
                pass          # a node of another kind than the model's: the loop says where
        return self.replay_read(tree, slots, missing)

    def replay_read(self, tree, slots, missing=False):
        need = set()
        for s in slots:
            while s and s not in need:
                need.add(s)
                s = self.steps[s - 1][0]
        vals = {0: tree}
        for j in sorted(need):
            parent, key, node = self.steps[j - 1]
            v = vals[parent]
            if v is None:
                vals[j] = None
                continue
            try:
                vals[j] = node.child(v, key)
            except (LookupError, AttributeError, TypeError):
                if missing:
                    vals[j] = None
                    continue
                raise LookupError(f"it has no {self.path(j)} (found {type(v).__name__} above "
                                  "it)") from None
        return [vals[s] for s in slots]


    def mapper(self, root, mode):
        """The generated ``fmap`` of ``root`` (see ``_codegen.mapper``) once this record has been
        mapped a few times in this ``mode``; None before, or when the record is too large or a
        non-trainable part holds a node (its ties with the rest would not be seen)."""
        fn = self._maps.get(mode, 0)
        if not isinstance(fn, int):
            return fn
        if fn < _COMPILE_AFTER or len(self.steps) > _COMPILE_MAX:
            self._maps[mode] = fn + 1
            return None
        for j in self.loose:
            parent, key, node = self.steps[j - 1]
            try:
                value = node.child(root if parent == 0 else self.objs[parent], key)
            except (LookupError, AttributeError, TypeError):
                value = None
            if node_of(type(value)) is not None:
                self._maps[mode] = -(1 << 60)          # never
                return None
        fn = self._maps[mode] = _codegen.mapper(self, root, mode)
        return fn

    # ------------------------------------------------------------ loose parts

    def save_loose(self, root):
        """What is at the loose slots now (non-trainable parts: running statistics, a recurrent
        state), with copies of their tensors, for :meth:`restore_loose`; None when there is none."""
        if not self.loose:
            return None
        saved = []
        with torch.no_grad():
            for j in sorted(self.loose):
                parent, key, node = self.steps[j - 1]
                holder = root if parent == 0 else self.objs[parent]
                try:
                    value = node.child(holder, key)
                except (LookupError, AttributeError, TypeError):
                    continue
                saved.append((holder, key, node, value, [(t, t.clone()) for t in _tensors_in(value)]))
        return saved

    def restore_loose(self, root, saved):
        """Put back what :meth:`save_loose` saw: the same objects at the loose slots, and the
        values their tensors had (a forward pass may have changed them in place)."""
        if not saved:
            return
        with torch.no_grad():
            for holder, key, node, value, copies in saved:
                for t, c in copies:
                    t.copy_(c)
                try:
                    if node.child(holder, key) is value:
                        continue
                except (LookupError, AttributeError, TypeError):
                    pass
                _put(holder, node, key, value)


def _tensors_in(value):
    if isinstance(value, torch.Tensor):
        return (value,)
    if type(value) in SCALARS or node_of(type(value)) is None:
        return ()
    leaves = execute(ExcludeWalk(FlattenWalk(), lambda v: [v], lambda v: node_of(type(v)) is None), value)
    return [t for t in leaves if isinstance(t, torch.Tensor)]


def _put(holder, node, key, value):
    """Set the child ``key`` of ``holder`` back to ``value``, without the class's own ``__setattr__``."""
    if node is MODULE:
        for table in (holder._parameters, holder._buffers, holder._modules):
            if key in table:
                table[key] = value
                return
    if isinstance(holder, (dict, list)):
        holder[key] = value
    else:
        object.__setattr__(holder, key, value)


def rebuild_as_gradient(node, template, children):
    """A node of ``template``'s kind holding ``children``, except ``nn.Module``, which becomes a
    dict; a class whose children are some of its fields (``@functor("a", "c")``) gets ``None``
    in the others, as a gradient has nothing there."""
    if node is MODULE:
        return dict(zip(node.parts(template)[0], children))
    if isinstance(node, ObjectNode) and node.fields is not None and hasattr(template, "__dict__"):
        new = object.__new__(type(template))
        new.__dict__.update(dict.fromkeys(template.__dict__))
        new.__dict__.update(zip(node.fields, children))
        return new
    return node.rebuild(template, tuple(children))


_cache_lock = threading.Lock()
_records = {}      # id(root) -> (weak reference to root, Record)


def _forget(key, table=_records):     # bound now: at exit the module global may be gone
    return lambda ref: table.pop(key, None) if table.get(key, (None,))[0] is ref else None


def mapper_of(root, mode):
    """The generated ``fmap`` for ``root`` in ``mode`` (``Record.mapper``), or None (also for a
    root that takes no weak reference, whose record would not be kept)."""
    if not type(root).__weakrefoffset__:
        return None
    try:
        rec = record_of(root)
    except ValueError:      # a structure the record refuses: the general walk says why
        return None
    return rec.mapper(root, mode)


def record_of(root):
    """The :class:`Record` of ``root``, reused while it still fits (made again when not)."""
    entry = _records.get(id(root))
    if entry is not None:
        ref, rec = entry
        if ref() is root and rec.fits(root):
            return rec
    rec = Record(root)
    try:
        ref = weakref.ref(root, _forget(id(root)))
    except TypeError:     # tuples, lists, dicts: not kept, recorded at each call
        return rec
    with _cache_lock:
        _records[id(root)] = (ref, rec)
    return rec
