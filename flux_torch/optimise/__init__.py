"""Optimisers and training (``Flux.Optimise``): the rules, both styles of ``update_``,
the explicit state (``setup``, ``adjust_``, ``freeze_``, ``thaw_``) and ``train_``."""
from ..callbacks import throttle
from .adam import *  # noqa: F401,F403
from .modifiers import *  # noqa: F401,F403
from .rule import Rule
from .rules import *  # noqa: F401,F403
from .schedules import *  # noqa: F401,F403
from .tree import Leaf, adjust_, freeze_, setup, thaw_
from .update import update_

from . import adam, modifiers, rules, schedules  # noqa: E402

__all__ = (["Rule", "Leaf", "setup", "update_", "train_", "adjust_", "freeze_", "thaw_", "throttle"]
           + list(rules.__all__) + list(adam.__all__) + list(modifiers.__all__)
           + list(schedules.__all__))


def __getattr__(name):
    # Flux.Optimise.train! is Flux.train!: flux_torch/train.py, which itself imports
    # this package, so it is looked up when first asked for.
    if name == "train_":
        from ..training import train_
        return train_
    raise AttributeError(f"module 'flux_torch.optimise' has no attribute {name!r}")
