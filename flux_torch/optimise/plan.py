"""The cached plan of an explicit ``update_``: which tensor of the model goes with which ``Leaf``.

Finding the parameters of a model and their ``Leaf`` objects takes a walk of
the model and of the state tree. ``update_`` is called once per batch with the
same state tree and model, so the plan is made once, from the model's recorded
walk (``flux_torch._flat``, shared with ``gradient``): for every trainable tensor,
the routes to it (``(parent slot, key)`` steps) and its ``Leaf``. Each call then
reads the gradient along those routes; the record notices when the model no
longer holds the same objects, and the plan is made again.
"""
import weakref

import torch

from .._flat import flat
from .._flat_compile import compile_read
from .._functor import _get, fleaves
from . import state as _state
from .state import Leaf, is_param

__all__ = ["Plan", "plan_for", "path_str"]

_PLANS = {}        # (id(state), id(model)) -> (state ref, model ref, Plan)
_MAX_PLANS = 8


def path_str(path):
    """``('layers', 0, 'weight')`` -> ``.layers[0].weight``."""
    return "".join(f"[{k!r}]" if not isinstance(k, str) else f".{k}" for k in path) or "(the top)"


def child(node, key):
    """The child ``key`` of ``node`` in a gradient or state tree; None for a missing
    attribute or dict key (no gradient there), an error for a missing index."""
    if isinstance(node, tuple) and isinstance(key, str):     # namedtuple
        return getattr(node, key, None)
    return _get(node, key)


class Plan:
    """Routes to the trainable tensors of one model, and their Leafs in one state tree.

    Built on the model's recorded walk (:func:`flux_torch._flat.flat`):
    ``steps[j] = (parent, key, get)`` makes slot ``j + 1`` from slot ``parent``
    (slot 0 is the root), the record's own steps first, then one per further
    sighting of a tied tensor or shared layer; ``slots[i]`` lists the slots where
    parameter ``i`` sits (more than one when it is tied); ``items`` has for each
    parameter ``(param, slot or -1 when tied, Leaf, buffer, all its slots)``, the
    buffer being the copy of its gradient that an update owns.
    """

    __slots__ = ("flat", "steps", "paths", "slots", "params", "leaves", "items", "_groups", "_version",
                 "_reader")

    def __init__(self, model, state):
        if not isinstance(state, Leaf) and not any(isinstance(x, Leaf) for x in fleaves(state)):
            raise TypeError(f"update_ expects the state tree from setup(rule, model) as its first "
                            f"argument, but got {_kind(state)} (it holds no Leaf); "
                            f"make it once before training with opt_state = setup(rule, model)")
        rec = self.flat = flat(model)
        steps, paths = list(rec.steps), list(rec.paths)
        below = {}      # slot -> the slots of the same object met again (aliases)
        for slot, parent, key, get in rec.aliases:
            steps.append((parent, key, get))
            paths.append(paths[parent] + (key,))
            below.setdefault(slot, []).append(len(steps))
        # an alias of a shared layer reaches its tensors by more routes: follow them too
        for slot in dict.fromkeys(a[0] for a in rec.aliases):
            self._reroute(rec, slot, below, steps, paths)
        first = {id(o): i for i, o in enumerate(rec.objs) if i}
        if is_param(model):
            first[id(model)] = 0
        self.params = [p for p in rec.tensors if is_param(p)]
        self.steps, self.paths = steps, paths
        self.slots = [[first[id(p)]] + below.get(first[id(p)], []) for p in self.params]
        self.leaves = self._match(state)
        self.items = [(p, s[0] if len(s) == 1 else -1, leaf, torch.empty_like(p), s)
                      for p, s, leaf in zip(self.params, self.slots, self.leaves)]
        self._groups, self._version, self._reader = None, -1, None

    def groups(self):
        """The parameters that are not frozen, grouped by rule: a list of
        ``(rule, states, params, indices, buffers, slots, shapes)``, ``indices`` into
        :attr:`items`, ``slots`` as in :attr:`items` (-1 for a tied tensor). Made again
        only when a ``Leaf`` has changed since (``adjust_``, ``freeze_``, ``thaw_``)."""
        if self._version != _state.LEAF_VERSION[0]:
            self._version, groups = _state.LEAF_VERSION[0], {}
            for i, (p, slot, leaf, buf, _) in enumerate(self.items):
                if not leaf.frozen:
                    group = groups.setdefault(id(leaf.rule), (leaf.rule, [], [], [], [], [], []))
                    for lst, v in zip(group[1:], (leaf.state, p, i, buf, slot, p.shape)):
                        lst.append(v)
            self._groups = list(groups.values())
        return self._groups

    @staticmethod
    def _reroute(rec, slot, below, steps, paths):
        """Give every tensor under a shared node a route through each alias of that node."""
        kids = [(i + 1, st) for i, st in enumerate(rec.steps) if st[0] == slot]
        for alias in below.get(slot, [])[:]:
            for child, (parent, key, get) in kids:
                steps.append((alias, key, get))
                paths.append(paths[alias] + (key,))
                below.setdefault(child, []).append(len(steps))

    def _match(self, state):
        """The Leaf of each parameter, read from the state tree along the same routes."""
        vals = [state]
        for parent, key, _ in self.steps:
            s = vals[parent]
            try:
                vals.append(None if s is None or isinstance(s, Leaf) else child(s, key))
            except (LookupError, TypeError):
                vals.append(None)
        leaves, owner = [], {}
        for p, slots in zip(self.params, self.slots):
            leaf = vals[slots[0]]
            where = path_str(self.paths[slots[0]])
            if not isinstance(leaf, Leaf):
                raise ValueError(
                    f"update_: the state tree does not match the model: at {where} the model has a "
                    f"tensor of shape {tuple(p.shape)}, but the state tree has {_kind(leaf)} instead of "
                    f"a Leaf; make the state for this model with opt_state = setup(rule, model)")
            if id(leaf) in owner:
                raise ValueError(
                    f"update_: the state tree does not match the model: one Leaf serves both "
                    f"{owner[id(leaf)]} and {where}, which are different tensors; make the state for "
                    f"this model with opt_state = setup(rule, model)")
            owner[id(leaf)] = where
            leaves.append(leaf)
        extra = sum(1 for x in fleaves(state) if isinstance(x, Leaf)) - len(leaves)
        if extra > 0:
            raise ValueError(
                f"update_: the state tree does not match the model: it has {extra} more Leaf "
                f"objects than the model has trainable tensors ({len(leaves)}); make the state "
                f"for this model with opt_state = setup(rule, model)")
        return leaves

    def reader(self):
        """For one rule and no tied tensor, ``read(grad)`` -> the gradients of that group's
        tensors, as code (``_flat_compile.compile_read``); else None. Made again when the
        groups change."""
        groups = self.groups()
        if self._reader is None or self._reader[0] is not groups:
            ok = len(groups) == 1 and -1 not in groups[0][5]
            self._reader = (groups, compile_read(self.flat, groups[0][5]) if ok else None)
        return self._reader[1]

    def read(self, root):
        """The value at every slot of a gradient tree (None below a None or where absent)."""
        vals = [root]
        append = vals.append
        for parent, key, get in self.steps:
            v = vals[parent]
            if v is None:
                append(None)
                continue
            try:
                append(get(v))
            except (LookupError, AttributeError, TypeError):   # another kind of node: ask generally
                try:
                    append(child(v, key))
                except (LookupError, TypeError):
                    where = path_str(self.paths[len(vals)])
                    raise TypeError(f"update_: the gradient does not match the model: it has no "
                                    f"{where} (found {type(v).__name__} above it); pass the "
                                    f"gradient of the model itself, gradient(loss, model)[0]") from None
        return vals

    def fits(self, model):
        """True while ``model`` still holds the same objects at the same places."""
        return flat(model) is self.flat

def _kind(x):
    return "None" if x is None else f"a {type(x).__name__}"


def _ref(x):
    try:
        return weakref.ref(x)
    except TypeError:        # tuples, lists, dicts: hold them (the cache is small)
        return lambda: x


def plan_for(state, model):
    """The plan for this (state tree, model) pair, cached while the model keeps its tensors."""
    key = (id(state), id(model))
    entry = _PLANS.get(key)
    if entry is not None:
        sref, mref, plan = entry
        if sref() is state and mref() is model and plan.fits(model):
            return plan
        del _PLANS[key]
    plan = Plan(model, state)
    if len(_PLANS) >= _MAX_PLANS:
        del _PLANS[next(iter(_PLANS))]
    _PLANS[key] = (_ref(state), _ref(model), plan)
    try:       # let the tensors go with the model
        weakref.finalize(model, _PLANS.pop, key, None)
    except TypeError:
        pass
    return plan
