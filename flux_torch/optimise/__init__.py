"""Optimisers and training (``Flux.Optimise``, also ``Flux.Optimisers``): the rules of
Optimisers.jl v0.4.8, both styles of ``update_``, the explicit state (``setup``,
``adjust_``, ``freeze_``, ``thaw_``), ``train_``, and Optimisers.jl's non-mutating
``update`` and ``adjust`` (``Flux.Optimisers.update(tree, model, grad)``)."""
from ..callbacks import throttle
from .adam import *  # noqa: F401,F403
from .mixed_precision import MixedPrecision
from .modifiers import *  # noqa: F401,F403
from .rule import Rule
from .rule import Rule as AbstractRule     # Optimisers.AbstractRule, the supertype of rules
from .rule_text import register_rule
from .rules import *  # noqa: F401,F403
from .schedules import *  # noqa: F401,F403
from .tree import Leaf, adjust_, freeze_, setup, thaw_
from .updates import update_

from . import adam, modifiers, rules, schedules  # noqa: E402
from .nonmutating import adjust, update  # noqa: E402  (Optimisers.update, the non-mutating one)

__all__ = (["Rule", "AbstractRule", "register_rule", "Leaf", "setup", "update_", "train_", "adjust_",
            "freeze_", "thaw_", "throttle", "MixedPrecision"]
           + list(rules.__all__) + list(adam.__all__) + list(modifiers.__all__)
           + list(schedules.__all__))


def __getattr__(name):
    # Flux.Optimise.train! is Flux.train!: flux_torch/training.py, which itself imports
    # this package, so it is looked up when first asked for; likewise the names that
    # Optimisers.jl exports from elsewhere (Optimisers.destructure, .trainables).
    if name == "train_":
        from ..training import train_
        return train_
    if name == "destructure":
        from ..destructure import destructure
        return destructure
    if name == "trainables":
        from ..params import trainables
        return trainables
    raise AttributeError(f"module 'flux_torch.optimise' has no attribute {name!r}")
