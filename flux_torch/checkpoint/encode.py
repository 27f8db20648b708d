"""A consistent snapshot of what ``save`` writes: a model's structure as a flat list of
nodes, and a copy of every tensor.

The model is walked once with :func:`~flux_torch.functors.fmapstructure_with_path`
(the one traversal) while the locks of the model and of its layers are held
(:func:`~flux_torch._locks.lock_for`, which ``train_`` holds too), and every tensor is
copied to the CPU during the walk, so the snapshot is one training step even when
another thread trains. Writing the file happens after, outside the locks.

Each node of the state becomes one entry ``[kind, parent, key, ...]`` in pre-order,
``parent`` being the index of an earlier entry (``-1`` for the top) and ``key`` its
key when the parent is a dict: the structure stays flat JSON however deep the model
is, and reading it back needs no recursion. Kinds: ``dict``, ``list``, ``tuple``;
``leaf`` (an optimiser ``Leaf``: its rule's index in the list of rule texts and its
frozen flag; its one child is its state) and ``same`` (a ``Leaf`` met before, tied
parameters); ``tensor`` (a tensor's name in the file; ``numpy`` when it was a numpy
array; dtype and shape when it is stored as bytes); ``value`` (see ``values.py``);
``rule``; ``generator`` (a ``torch.Generator``: its device and its state's tensor).
Functions and classes (a layer's activation) are not state: they become ``()``, as
in ``Flux.state``.
"""
import contextlib
import enum
import json

import numpy as np
import torch

from ..functors import fcollect, fmapstructure_with_path, isfunctor, isleaf
from .._locks import lock_for
from .rule_text import rule_text
from ..optimise.tree import Leaf, is_rule
from .framing import ST_DTYPES
from .leaf_state import check_layout
from .values import Unstorable, encode_value

__all__ = ["snapshot", "Snapshot", "FORMAT", "MARK", "NODES", "MAX_DEPTH"]

FORMAT = "2"
MARK, NODES = "flux_torch", "flux_torch.nodes"
MAX_DEPTH = 256         # levels of nesting in a state; the walks that read it back recurse
_WHAT = ("A checkpoint holds tensors, numpy arrays, numbers, strings, None, bytes, sets, ranges, "
         "dates and times, paths, enum members, torch dtypes, devices and generators, optimiser "
         "rules and Leafs, in tuples, lists, dicts and layers")


def where(path):
    """A key path as it is named in messages: ``layers.0.weight``."""
    return ".".join(str(k) for k in path) or "the top level"


def _cpu_copy(x, path):
    if isinstance(x, np.ndarray):
        if x.dtype.hasobject or x.dtype.kind not in "biufc":
            raise TypeError(f"save: the numpy array at {where(path)} has dtype {x.dtype}; only "
                            "numeric arrays can be saved")
        a = np.array(x, dtype=x.dtype.newbyteorder("="), order="C", copy=True)
        try:
            return torch.from_numpy(a)
        except TypeError as e:
            raise TypeError(f"save: the numpy array at {where(path)} cannot be saved: {e}") from None
    if x.layout != torch.strided or x.is_quantized:
        what, fix = ("quantized", ".dequantize()") if x.is_quantized else (f"of layout {x.layout}",
                                                                             ".to_dense()")
        raise TypeError(f"save: the tensor at {where(path)} is {what}; only dense tensors can be "
                        f"saved: convert it first with {fix}")
    if x.is_meta:
        raise TypeError(f"save: the tensor at {where(path)} is on the meta device and has no values")
    t = x.detach().resolve_conj().resolve_neg()     # torch's lazy conj/neg bits: write the value
    return t.to("cpu", memory_format=torch.contiguous_format, copy=True)


class Snapshot:
    """The nodes, rule texts and tensor copies of one walk over a model (see the module text)."""

    def __init__(self):
        self.nodes, self.rules, self.tensors = [], [], {}
        self._rule_ids, self._tensor_ids, self._leaf_ids = {}, {}, {}
        self._index, self._kind, self._keep, self._layouts = {}, [], [], {}
        self._state_ids = set()

    # ------------------------------------------------------------ entries
    def _add(self, path, kind, *payload, node=True):
        if len(path) > MAX_DEPTH:
            raise TypeError(f"save: the state nests more than {MAX_DEPTH} levels deep at "
                            f"{where(path[:8])}...; load reads at most {MAX_DEPTH}")
        parent = self._index[path[:-1]] if path else -1
        key = None
        if parent >= 0 and self._kind[parent] == "dict":
            try:
                key = encode_value(path[-1], 1)
            except Unstorable as e:
                raise TypeError(f"save: the dict at {where(path[:-1])} has the key {path[-1]!r}, "
                                f"which cannot be stored: {e}") from None
        self.nodes.append([kind, parent, key, *payload])
        self._kind.append(kind)
        if node:
            self._index[path] = len(self.nodes) - 1
        return len(self.nodes) - 1

    def _rule(self, rule, path):
        hit = self._rule_ids.get(id(rule))
        if hit is None:
            try:
                text = rule_text(rule)
            except TypeError as e:
                raise TypeError(f"save: the optimiser rule at {where(path)} cannot be saved: {e}") from None
            if text not in self.rules:
                self.rules.append(text)
            hit = self._rule_ids[id(rule)] = self.rules.index(text)
            self._keep.append(rule)
        return hit

    def _tensor(self, x, path, in_leaf=False):
        name = self._tensor_ids.get(id(x))
        if name is not None and (in_leaf or id(x) in self._state_ids):
            raise TypeError(f"save: the tensor at {where(path)} is also used elsewhere, but an "
                            "optimiser state's tensors must be its own (update_ changes them in place)")
        if in_leaf:
            self._state_ids.add(id(x))
        if name is not None:
            return name
        t = _cpu_copy(x, path)
        dtype, shape = None, None
        if t.dtype not in ST_DTYPES:        # stored as its bytes, its dtype and shape noted
            dtype, shape = str(t.dtype)[len("torch."):], list(t.shape)
            try:
                t = t.reshape(-1).view(torch.uint8)
            except RuntimeError:
                raise TypeError(f"save: the tensor at {where(path)} has dtype {t.dtype}, which "
                                "cannot be saved") from None
        base = where(path) if path else "tensor"
        base = base.encode("utf-8", "backslashreplace").decode("utf-8")
        name, i = base, 1
        while name in self.tensors or name == "__metadata__":
            name, i = f"{base}~{i}", i + 1
        self.tensors[name] = t
        self._tensor_ids[id(x)] = (name, dtype, shape)
        self._keep.append(x)          # x stays alive, so its id stays unique
        return self._tensor_ids[id(x)]

    # ------------------------------------------------------------ the walk
    def walk(self, x, prefix=(), in_leaf=False):
        def visit(path, v):       # met at every value before its children: record nodes, walk on
            if isleaf(v) or isinstance(v, enum.Enum):      # a member is a value, not a struct
                return True
            if in_leaf and type(v) not in (tuple, list, dict):
                raise TypeError(f"save: the optimiser state at {where(prefix + tuple(path))} holds a "
                                f"{type(v).__name__}, which would come back as a dict; an optimiser "
                                "state is made of tensors, numbers, tuples, lists and dicts")
            plain_tuple = isinstance(v, tuple) and not hasattr(v, "_fields")
            self._add(prefix + tuple(path), "list" if isinstance(v, list) else
                      "tuple" if plain_tuple else "dict")
            return False
        fmapstructure_with_path(lambda p, v: self._leaf(prefix + tuple(p), v, in_leaf), x,
                                cache=False, exclude=visit)

    def _leaf(self, path, x, in_leaf):
        if isinstance(x, (torch.Tensor, np.ndarray)):
            name, dtype, shape = self._tensor(x, path, in_leaf)
            self._add(path, "tensor", name, isinstance(x, np.ndarray), dtype, shape)
            return
        if not in_leaf:
            if isinstance(x, Leaf):
                return self._opt_leaf(x, path)
            if isinstance(x, torch.Generator):
                name, _, _ = self._tensor(x.get_state(), path + ("state",))
                self._add(path, "generator", x.device.type, x.device.index, name)
                return
            if is_rule(x):
                self._add(path, "rule", self._rule(x, path))
                return
        try:
            self._add(path, "value", encode_value(x))
            return
        except Unstorable as e:
            why = str(e)
        if callable(x) and not in_leaf:       # functions, classes: behaviour, not state
            self._add(path, "tuple")
            return
        raise TypeError(f"save: cannot store the {type(x).__name__} at {where(path)}: {why}. {_WHAT}")

    def _opt_leaf(self, leaf, path):
        hit = self._leaf_ids.get(id(leaf))
        if hit is not None:
            self._add(path, "same", hit, node=False)
            return
        rule = self._rule(leaf.rule, path)
        why = check_layout(leaf.rule, leaf.state, self._layouts)
        if why is not None:
            raise TypeError(f"save: the optimiser Leaf at {where(path)} holds a state that load "
                            f"could not check: {why}")
        i = self._leaf_ids[id(leaf)] = self._add(path, "leaf", rule, bool(leaf.frozen))
        self._keep.append(leaf)
        self.walk(leaf.state, path + ("state",), in_leaf=True)
        return i

    def metadata(self):
        text = json.dumps({"rules": self.rules, "nodes": self.nodes}, ensure_ascii=True,
                          separators=(",", ":"))
        return {"format": "pt", MARK: FORMAT, NODES: text}


def _models(x):
    """``x`` and the layers in it: the objects whose locks ``train_`` takes."""
    found = {id(x): x}
    for n in fcollect(x):
        if isfunctor(n) and type(n) not in (dict, list, tuple) and not isinstance(n, Leaf):
            found.setdefault(id(n), n)
    return [found[k] for k in sorted(found)]


def snapshot(x):
    """Walk ``x`` under the locks of its models and copy its tensors: a :class:`Snapshot`."""
    snap = Snapshot()
    with contextlib.ExitStack() as held:
        for m in _models(x):
            held.enter_context(lock_for(m))
        snap.walk(x)
    return snap
