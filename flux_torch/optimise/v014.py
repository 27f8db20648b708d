"""Flux v0.14's forms of the rules whose meaning changed in Flux v0.15–v0.16, for the
``flux_torch.v014`` namespace; ``flux_torch`` itself follows Optimisers.jl v0.4.8
(Flux v0.16). ``docs/porting.md`` lists them in its version table.

- ``AdamW(η, β, decay)`` was ``Optimiser(Adam(η, β), WeightDecay(decay))``: the decay
  ``λ*x`` is not scaled by ``η`` (v0.16: ``AdamW`` is its own rule with
  ``couple=True``, ``η*(adam + λ*x)``; ``couple=False`` gives v0.14's numbers).
- ``WeightDecay()`` had ``λ=0`` (v0.16: ``5e-4``).
- ``Optimiser`` and ``ClipValue`` were names of their own, without a warning (v0.16:
  they warn and give ``OptimiserChain``/``ClipGrad``).
"""
import inspect

from .adam import Adam
from .modifiers import ClipGrad, OptimiserChain
from .modifiers import WeightDecay as _WeightDecay
from .rule import Rule, betas, nonneg

__all__ = ["AdamW", "WeightDecay", "Optimiser", "ClipValue"]


class _AdamWArgs(Rule):
    _spec = (("eta", 0.001, nonneg), ("beta", (0.9, 0.999), betas),
             ("lambda_", 0.0, nonneg), ("epsilon", 1e-8, nonneg))
    _aliases = {"decay": "lambda_"}

    @classmethod
    def _name(cls):
        return "AdamW"


def AdamW(*args, **kwargs):
    """``AdamW(η=0.001, β=(0.9, 0.999), decay=0, ϵ=1e-8)`` of Flux v0.14:
    ``OptimiserChain(Adam(η, β, ϵ), WeightDecay(decay))``. ``decay`` is also accepted as
    ``λ``/``lambda_``.

    >>> from flux_torch.optimise import v014
    >>> v014.AdamW(0.1, decay=0.01)
    OptimiserChain(Adam(0.1, (0.9, 0.999), 1e-08), WeightDecay(0.01))
    """
    p = _AdamWArgs(*args, **kwargs)
    return OptimiserChain(Adam(p.eta, p.beta, p.epsilon), _WeightDecay(p.lambda_))


AdamW.__signature__ = _AdamWArgs.__signature__


def WeightDecay(*args, **kwargs):
    """``WeightDecay(λ=0)`` of Flux v0.14: the same rule as ``flux_torch.WeightDecay``, whose
    default is Optimisers.jl's ``5e-4``.

    >>> from flux_torch.optimise import v014
    >>> v014.WeightDecay(), v014.WeightDecay(0.1), flux_torch.WeightDecay()
    (WeightDecay(0.0), WeightDecay(0.1), WeightDecay(0.0005))
    """
    return _WeightDecay(*args, **kwargs) if args or kwargs else _WeightDecay(0.0)


WeightDecay.__signature__ = inspect.Signature(
    [inspect.Parameter("lambda_", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=0.0)])

Optimiser = OptimiserChain
ClipValue = ClipGrad
