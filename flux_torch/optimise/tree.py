"""The explicit optimiser state (Optimisers.jl): ``setup``, ``Leaf``, ``adjust_``, ``freeze_``, ``thaw_``.

``setup(rule, model)`` maps the model with the one traversal (a structural walk
over the trainable children): every trainable floating tensor becomes a :class:`Leaf`
holding the rule and its per-tensor state, everything else becomes ``None``. The result has the model's
shape (the same classes, ``nn.Module`` as dicts), so ``opt_state.layers[0]``
is the state of ``model.layers[0]``. A tensor that appears twice (tied weights)
gets one ``Leaf`` object at both places, so it is updated once.
"""
import warnings
from typing import Any, Optional

import torch

from ..functors import CachedWalk, ExcludeWalk, StructuralWalk, execute, fleaves, isleaf
from .._types import Model
from .rule import Rule

__all__ = ["Leaf", "setup", "adjust_", "freeze_", "thaw_"]

LEAF_VERSION = [0]      # bumped whenever an attribute of any Leaf is set (adjust_, freeze_, ...)


class Leaf:
    """The optimiser state of one parameter tensor (``Optimisers.Leaf``).

    ``rule`` is the optimisation rule, ``state`` its per-tensor state (a tuple of
    tensors, ``()`` for a stateless rule) and ``frozen`` whether :func:`freeze_`
    has switched its updates off. It prints as the call that builds it.

    >>> from flux_torch.optimise import Momentum
    >>> st = setup(Momentum(0.1), {"w": torch.zeros(2)})
    >>> st["w"]
    Leaf(Momentum(0.1, 0.9), (tensor([0., 0.]),))
    >>> st["w"].rule, st["w"].frozen
    (Momentum(0.1, 0.9), False)
    """

    __slots__ = ("rule", "state", "frozen", "__weakref__")

    def __init__(self, rule, state, frozen=False):
        self.rule, self.state, self.frozen = rule, state, bool(frozen)

    def __setattr__(self, name, value):
        # the update plans group leaves by rule once, and redo it when any Leaf has changed
        object.__setattr__(self, name, value)
        LEAF_VERSION[0] += 1

    def __repr__(self):
        frozen = ", frozen=True" if self.frozen else ""
        return f"Leaf({self.rule!r}, {self.state!r}{frozen})"

    def __eq__(self, other):
        """Optimisers.jl's ``==`` of two Leafs: equal rules, states equal by value, same ``frozen``.
        (Hashing stays by identity: a Leaf can still be a dict key.)"""
        if not isinstance(other, Leaf):
            return NotImplemented
        return self.rule == other.rule and self.frozen == other.frozen and _same(self.state, other.state)

    __hash__ = object.__hash__


def _same(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape \
            and bool(torch.equal(a, b))
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def is_rule(x):
    """True for an optimisation rule object (it has ``init`` and ``apply``), not its class."""
    t = type(x)     # looked up on the class: a layer's __getattr__ is never consulted
    return t is not type and callable(getattr(t, "init", None)) and callable(getattr(t, "apply", None))


def is_param(x):
    """True for a tensor an optimiser updates: floating (or complex) point."""
    return isinstance(x, torch.Tensor) and (x.is_floating_point() or x.is_complex())


def check_rule(rule, fname):
    """Raise a helpful ``TypeError`` unless ``rule`` is a rule instance."""
    if is_rule(rule):
        return
    if isinstance(rule, type) and hasattr(rule, "apply"):
        raise TypeError(f"{fname} expects an optimisation rule such as {rule.__name__}(), "
                        f"but got the class {rule.__name__} itself; call it: {rule.__name__}()")
    raise TypeError(f"{fname} expects an optimisation rule such as Descent(0.1) or Adam(), "
                    f"but got {type(rule).__name__}")


def setup(rule: Rule, model: Model) -> Any:
    """Build the optimiser state tree for ``model`` (``Flux.setup`` / ``Optimisers.setup``).

    Call it once before training; pass the result to :func:`update_` or
    :func:`train_`, which update it in place. It mirrors the model: a
    :class:`Leaf` for each trainable floating tensor, ``None`` elsewhere.

    >>> from flux_torch.optimise import Momentum
    >>> model = Dense(torch.ones(1, 2), torch.zeros(1), leakyrelu)
    >>> opt_state = setup(Momentum(0.1), model)
    >>> opt_state.weight
    Leaf(Momentum(0.1, 0.9), (tensor([[0., 0.]]),))
    >>> opt_state.bias, opt_state.σ
    (Leaf(Momentum(0.1, 0.9), (tensor([0.]),)), None)
    """
    check_rule(rule, "setup")
    if isinstance(model, Leaf) or any(isinstance(x, Leaf) for x in fleaves(model)):
        raise TypeError("setup expects a model, but got a state tree (it holds Leaf objects); "
                        "it is already set up: pass it to update_ or train_")
    def leaf(x):
        return Leaf(rule, rule.init(x)) if is_param(x) else None

    # Optimisers.setup: the model's shape, a Leaf per trainable tensor, None for every other leaf
    # and for the parts that are not trainable; the cache gives a tied tensor one Leaf
    tree = execute(CachedWalk(ExcludeWalk(StructuralWalk(keep_types=True, trainable=True), leaf, isleaf)),
                   model)
    if not isinstance(tree, Leaf) and not any(isinstance(x, Leaf) for x in fleaves(tree)):
        warnings.warn("setup found no trainable parameters in this model "
                      "(no floating-point tensors among its trainable children)", stacklevel=2)
    return tree


def leaves(tree, fname):
    """The distinct ``Leaf`` objects of a state tree; a model given by mistake is refused."""
    if isinstance(tree, Leaf):
        return [tree]
    if is_rule(tree):
        raise TypeError(f"{fname} acts on a state tree from setup(rule, model), but got the rule "
                        f"{tree!r} itself; to change a rule make a new one "
                        f"(e.g. rule.adjust(0.01)) or call setup(rule, model) first")
    out = []
    for x in fleaves(tree):
        if isinstance(x, Leaf):
            out.append(x)
        elif isinstance(x, torch.Tensor):
            raise TypeError(f"{fname} must not be applied to a model, only to the state tree "
                            f"from setup(rule, model) (found a tensor of shape {tuple(x.shape)}); "
                            f"use opt_state = setup(rule, model), then {fname}(opt_state)")
    return out


def adjust_(tree: Any, eta: Optional[float] = None, **kw: Any) -> None:
    """Change the rule's hyper-parameters everywhere in a state tree, in place (``Flux.adjust!``).

    ``adjust_(opt_state, 0.01)`` sets the learning rate; keywords change other
    fields, as in ``adjust_(opt_state, beta=(0.8, 0.99))``. The stored state
    (momenta...) is kept. Apply it to part of the tree for part of the model.

    >>> from flux_torch.optimise import Momentum
    >>> st = setup(Momentum(0.1), [torch.zeros(1), torch.zeros(2)])
    >>> adjust_(st, 0.01)
    >>> st[0]
    Leaf(Momentum(0.01, 0.9), (tensor([0.]),))
    >>> adjust_(st[1], rho=0.5)
    >>> st[1].rule
    Momentum(0.01, 0.5)
    """
    if "η" in kw:
        eta = kw.pop("η")
    if eta is None and not kw:
        raise TypeError("adjust_ needs something to change: a learning rate, adjust_(opt_state, 0.01), "
                        "or hyper-parameters by name, adjust_(opt_state, beta=(0.8, 0.99))")
    new = {}    # one new rule per old rule object, so leaves that shared a rule still share one
    for leaf in leaves(tree, "adjust_"):
        old = leaf.rule
        hit = new.get(id(old))
        if hit is None:
            hit = new[id(old)] = (old, old._adjust_some(eta, **kw))   # as Optimisers: a rule without η ignores it
        leaf.rule = hit[1]


def freeze_(tree: Any) -> None:
    """Stop the updates of every parameter under this part of a state tree (``Flux.freeze!``).

    Undone by :func:`thaw_`. Apply it to the part of the state tree that
    matches the layers to hold still, e.g. ``freeze_(opt_state.layers[0])``.

    >>> from flux_torch.optimise import Descent
    >>> st = setup(Descent(0.1), {"a": torch.zeros(1), "b": torch.zeros(1)})
    >>> freeze_(st["a"])
    >>> st
    {'a': Leaf(Descent(0.1), (), frozen=True), 'b': Leaf(Descent(0.1), ())}
    """
    for leaf in leaves(tree, "freeze_"):
        leaf.frozen = True


def thaw_(tree: Any) -> None:
    """Undo :func:`freeze_` on this part of a state tree (``Flux.thaw!``).

    >>> from flux_torch.optimise import Descent
    >>> st = setup(Descent(0.1), {"a": torch.zeros(1)})
    >>> freeze_(st); thaw_(st)
    >>> st["a"].frozen
    False
    """
    for leaf in leaves(tree, "thaw_"):
        leaf.frozen = False
