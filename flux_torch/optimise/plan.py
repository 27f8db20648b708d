"""The plan of an explicit ``update_``: which ``Leaf`` of a state tree goes with which tensor.

``update_(opt_state, model, grad)`` runs once per batch with the same state tree and
model, so the match is made once, on the model's record (``record.py``, shared with
``gradient``): the state tree is read at the places of the model's trainable tensors,
exactly as a gradient is. The plan lives in the record, so it is made again when the
model changes, and it holds the state tree weakly.
"""
import weakref

import torch

from ..functors import fleaves
from ..functors.record import record_of
from . import tree as _tree
from .tree import Leaf

__all__ = ["Plan", "plan_for"]


class Plan:
    """The ``Leaf`` of each trainable tensor of one model, in one state tree.

    ``params[i]`` sits at the record's slots ``slots[i]`` (more than one when tied), and
    ``items[i] = (param, slot or -1 when tied, Leaf, buffer, slots)``, the buffer being the
    copy of its gradient that an update owns.
    """

    __slots__ = ("record", "params", "slots", "leaves", "items", "steps", "_groups", "_version")

    def __init__(self, rec, state):
        if rec.tensors and not isinstance(state, Leaf) and not any(isinstance(x, Leaf) for x in fleaves(state)):
            raise TypeError(f"update_ expects the state tree from setup(rule, model) as its first "
                            f"argument, but got {_kind(state)} (it holds no Leaf); "
                            f"make it once before training with opt_state = setup(rule, model)")
        self.record, self.params, self.slots = rec, list(rec.tensors), rec.tensor_slots
        self.leaves = self._match(state)
        self.items = [(p, s[0] if len(s) == 1 else -1, leaf, torch.empty_like(p), s)
                      for p, s, leaf in zip(self.params, self.slots, self.leaves)]
        self._groups, self._version = None, -1
        self.steps = {}        # the training steps made for this plan (trainstep.py), by kind

    def _match(self, state):
        rec = self.record
        found = rec.read(state, [s[0] for s in self.slots], missing=True)
        leaves, owner = [], {}
        for p, slots, leaf in zip(self.params, self.slots, found):
            where = rec.path(slots[0])
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
            _check_state(leaf, p, where)
            leaves.append(leaf)
        extra = sum(1 for x in fleaves(state) if isinstance(x, Leaf)) - len(leaves)
        if extra > 0:
            raise ValueError(
                f"update_: the state tree does not match the model: it has {extra} more Leaf "
                f"objects than the model has trainable tensors ({len(leaves)}); make the state "
                f"for this model with opt_state = setup(rule, model)")
        return leaves

    def groups(self):
        """The parameters that are not frozen, grouped by rule: a list of
        ``(rule, states, params, indices, buffers, slots, shapes, dtypes, devices)``,
        ``indices`` into :attr:`items`, ``slots`` as in :attr:`items` (-1 for a tied tensor),
        the last three those of the parameters (what a gradient is checked against). Made
        again only when a ``Leaf`` has changed since (``adjust_``, ``freeze_``, ``thaw_``, a
        new ``state``)."""
        if self._version != _tree.LEAF_VERSION[0]:
            self._version, groups = _tree.LEAF_VERSION[0], {}
            for i, (p, slot, leaf, buf, _) in enumerate(self.items):
                if not leaf.frozen:
                    group = groups.setdefault(id(leaf.rule), (leaf.rule, [], [], [], [], [], [], [], []))
                    for lst, v in zip(group[1:], (leaf.state, p, i, buf, slot, p.shape, p.dtype, p.device)):
                        lst.append(v)
            self._groups = list(groups.values())
        return self._groups


def _check_state(leaf, p, where):
    """A Leaf's state must hold tensors shaped like the parameter's (a state from another model
    would fail deep inside the rule's arithmetic)."""
    for s in fleaves(leaf.state):
        if isinstance(s, torch.Tensor) and s.dim() and s.shape != p.shape:
            raise ValueError(f"update_: the state tree does not match the model: at {where} the "
                             f"optimiser state holds a tensor of shape {tuple(s.shape)} for a "
                             f"parameter of shape {tuple(p.shape)}; was the state set up for another "
                             "model? Make it for this one with opt_state = setup(rule, model)")


def _kind(x):
    return "None" if x is None else f"a {type(x).__name__}"


def plan_for(state, model):
    """The plan for this (state tree, model) pair: kept in the model's record while the model
    keeps its structure, and while the state tree lives."""
    rec = record_of(model)
    entry = rec.plans.get(id(state))
    if entry is not None and entry[0]() is state:
        return entry[1]
    plan = Plan(rec, state)
    try:
        ref = weakref.ref(state, lambda r, key=id(state), plans=rec.plans: plans.pop(key, None))
    except TypeError:        # a dict or list as state tree: planned at each call
        return plan
    rec.plans[id(state)] = (ref, plan)
    return plan
