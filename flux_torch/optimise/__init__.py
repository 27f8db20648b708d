"""Optimisers: the rules of Optimisers.jl v0.4.8, both styles of ``update_``, the explicit
state (``setup``, ``adjust_``, ``freeze_``, ``thaw_``), and Optimisers.jl's non-mutating
``update`` and ``adjust``. ``Flux.Optimise`` and ``Flux.Optimisers`` are the namespace
``flux_torch/optimisers.py``, which adds the names Flux puts there from elsewhere (``train_``...)."""
from .adam import *  # noqa: F401,F403
from .mixed_precision import MixedPrecision
from .modifiers import *  # noqa: F401,F403
from .rule import Rule
from .rule import Rule as AbstractRule     # Optimisers.AbstractRule, the supertype of rules
from .rules import *  # noqa: F401,F403
from .schedules import *  # noqa: F401,F403
from .tree import Leaf, adjust_, freeze_, setup, thaw_
from .updates import update_

from . import adam, modifiers, rules, schedules  # noqa: E402
from .nonmutating import adjust, update  # noqa: E402  (Optimisers.update, the non-mutating one)

__all__ = (["Rule", "AbstractRule", "Leaf", "setup", "update_", "adjust_", "freeze_", "thaw_",
            "MixedPrecision"]
           + list(rules.__all__) + list(adam.__all__) + list(modifiers.__all__)
           + list(schedules.__all__))

