"""``Flux.Optimise`` and ``Flux.Optimisers``: the optimisers (``flux_torch.optimise``) with the
names Flux and Optimisers.jl put beside them from elsewhere: ``Flux.Optimise.train!``,
``Flux.Optimise.throttle``, ``Optimisers.destructure``, ``Optimisers.trainables``, and
``register_rule`` for checkpoints of rules of your own.

>>> import flux_torch as Flux
>>> Flux.Optimise.train_ is Flux.train_, Flux.Optimisers.Adam is Flux.Adam
(True, True)
"""
from .callbacks import throttle
from .checkpoint.rule_text import register_rule
from .destructure import destructure
from .optimise import *  # noqa: F401,F403
from .optimise import __all__ as _optimise
from .optimise import adjust, update  # noqa: F401  (Optimisers.update, the non-mutating one)
from .params import trainables
from .training import train_

__all__ = list(_optimise) + ["train_", "throttle", "destructure", "trainables", "register_rule",
                             "update", "adjust"]
