"""The non-mutating forms of Optimisers.jl: ``Optimisers.update(tree, model, grad)`` and
``Optimisers.adjust(tree, η)``, which work on copies and leave their arguments as they were.

``update_`` and ``adjust_`` (Julia's ``update!``, ``adjust!``) change the model and the
state tree in place, the usual choice in a training loop. These copy first: every tensor
of the model and of the state tree is cloned (tied tensors stay tied, and a ``Leaf``
shared by tied parameters stays shared), then the in-place form runs on the copies.
"""
import copy

import torch

from ..functors import fmap, isleaf
from .rule import Rule
from .tree import Leaf, adjust_
from .updates import update_

__all__ = ["update", "adjust"]


def _clone(x):
    if not isinstance(x, torch.Tensor):
        return x
    c = x.detach().clone()
    return torch.nn.Parameter(c, requires_grad=x.requires_grad) if isinstance(x, torch.nn.Parameter) else c


def _copy_leaf(x):
    if isinstance(x, Leaf):
        return Leaf(x.rule, copy.deepcopy(x.state), x.frozen)
    return _clone(x)


def copy_tree(tree):
    """A copy of a state tree from ``setup``: new ``Leaf`` objects holding copies of the
    states, the same rules; a ``Leaf`` that appears twice is copied once."""
    return fmap(_copy_leaf, tree, exclude=lambda x: isinstance(x, Leaf) or isleaf(x))


def update(tree, model, grad, *higher):
    """``Optimisers.update``: one optimisation step on copies, ``-> (new_tree, new_model)``.

    ``tree`` is the state tree from ``setup(rule, model)``, ``grad`` the gradient of the
    model (``gradient(loss, model)[0]``). The model and the tree given are not changed;
    ``update_`` is the same step done in place. Extra gradients after ``grad`` go to
    ``update_`` (rules that need only one ignore them).

    >>> import flux_torch as Flux
    >>> model = {"w": torch.tensor([1.0, 2.0])}
    >>> tree = Flux.setup(Flux.Momentum(0.1), model)
    >>> tree2, model2 = Flux.Optimisers.update(tree, model, {"w": torch.tensor([25.0, 33.0])})
    >>> model2["w"], model["w"]             # the old model is unchanged
    (tensor([-1.5000, -1.3000]), tensor([1., 2.]))
    >>> tree2["w"].state, tree["w"].state   # and so is the old state
    ((tensor([2.5000, 3.3000]),), (tensor([0., 0.]),))
    """
    return update_(copy_tree(tree), fmap(_clone, model), grad, *higher)


def adjust(tree, eta=None, **kw):
    """``Optimisers.adjust``: a copy of the state tree (or of a rule) with hyperparameters
    changed; the tree given is not changed (``adjust_`` changes it in place).

    ``adjust(tree, 0.01)`` sets the learning rate, keywords set others
    (``adjust(tree, beta=(0.8, 0.99))``); a rule without the named hyperparameter keeps its
    own, as ``adjust_`` does. Given a rule, it is ``rule.adjust(...)``.

    >>> import flux_torch as Flux
    >>> tree = Flux.setup(Flux.Nesterov(), {"w": torch.zeros(2)})
    >>> Flux.Optimisers.adjust(tree, 0.123)["w"].rule, tree["w"].rule
    (Nesterov(0.123, 0.9), Nesterov(0.001, 0.9))
    >>> Flux.Optimisers.adjust(Flux.Adam(), beta=(0.8, 0.9))
    Adam(0.001, (0.8, 0.9), 1e-08)
    """
    if isinstance(tree, Rule):
        return tree.adjust(eta, **kw)
    new = copy_tree(tree)
    adjust_(new, eta, **kw)
    return new
