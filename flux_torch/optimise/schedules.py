"""Flux v0.14's old-style learning-rate schedules, ``ExpDecay`` and ``InvDecay``, and
``Step`` (the step decay of ParameterSchedulers.jl, which Flux's docs use): rules
that scale the update by a factor depending on how many steps they have seen. Place
them last in an ``OptimiserChain``, e.g. ``OptimiserChain(Adam(), ExpDecay(1.0))``.

Each keeps its own step count in its state, per parameter, where Flux kept a
dictionary inside the rule object; parameters updated together see the same counts.
Flux's ``ExpDecay`` also overwrote its own ``eta`` as it decayed; here ``eta`` stays the
starting rate and the decayed rate is worked out from the step count, so ``adjust``
and a fresh ``setup`` start over from ``eta``.
"""
import torch

from flux_torch.optimise.rule import Rule, count, nonneg, scalar

__all__ = ["ExpDecay", "InvDecay", "Step"]


class _Schedule(Rule):
    """A rule scaling the update by ``rate(n)`` at its ``n``-th step (from 1), counted per parameter."""

    def init(self, x):
        return ([0],)

    def _apply(self, states, xs, dxs):
        rates = []
        for (n,) in states:
            n[0] += 1
            rates.append(self.rate(n[0]))
        torch._foreach_mul_(dxs, scalar(rates))
        return dxs


class ExpDecay(_Schedule):
    """``ExpDecay(η=0.001, decay=0.1, decay_step=1000, clip=1e-4, start=0)``: multiplies
    the update by a rate that starts at ``η`` and is multiplied by ``decay`` at every
    step ``n > start`` that is a multiple of ``decay_step``, never going below ``clip``
    once decayed. ``step`` (Flux's field name) is accepted for ``decay_step``.

    >>> rule = ExpDecay(0.2, 0.5, 1, 1e-3)
    >>> rule
    ExpDecay(0.2, 0.5, 1, 0.001, 0)
    >>> x = torch.zeros(1)
    >>> state = rule.init(x)
    >>> [round(rule.apply([state], [x], [torch.ones(1)])[0].item(), 6) for _ in range(9)]
    [0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125, 0.001563, 0.001, 0.001]
    """

    _spec = (("eta", 0.001, nonneg), ("decay", 0.1, nonneg),
             ("decay_step", 1000, lambda r, n, v: count(r, n, v, 1)), ("clip", 1e-4, nonneg),
             ("start", 0, count))
    _aliases = {"step": "decay_step"}

    def rate(self, n):
        """The factor applied at step ``n`` (counting from 1)."""
        k = n // self.decay_step - self.start // self.decay_step if n > self.start else 0
        return self.eta if k == 0 else max(self.eta * self.decay ** k, self.clip)



class InvDecay(_Schedule):
    """``InvDecay(γ=0.001)``: multiplies the update at step ``n`` (from 1) by
    ``1 / (1 + γ*n)``, inverse-time decay.

    >>> rule = InvDecay(0.5)
    >>> x = torch.zeros(1)
    >>> state = rule.init(x)
    >>> [round(rule.apply([state], [x], [torch.ones(1)])[0].item(), 4) for _ in range(3)]
    [0.6667, 0.5, 0.4]
    """

    _spec = (("gamma", 0.001, nonneg),)

    def rate(self, n):
        """The factor applied at step ``n`` (counting from 1)."""
        return 1 / (1 + self.gamma * n)


class Step(_Schedule):
    """``Step(η=0.1, decay=0.5, step=1000)``: multiplies the update by ``η`` for the
    first ``step`` steps, then by ``η*decay`` for the next ``step``, and so on
    (``ParameterSchedulers.Step(η, decay, step)`` as a rule, like ``ExpDecay``).
    ``γ``/``gamma`` is accepted for ``decay``.

    >>> rule = Step(1.0, 0.5, 2)
    >>> x = torch.zeros(1)
    >>> state = rule.init(x)
    >>> [rule.apply([state], [x], [torch.ones(1)])[0].item() for _ in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    _spec = (("eta", 0.1, nonneg), ("decay", 0.5, nonneg),
             ("step", 1000, lambda r, n, v: count(r, n, v, 1)))
    _aliases = {"gamma": "decay", "γ": "decay"}

    def rate(self, n):
        """The factor applied at step ``n`` (counting from 1)."""
        return self.eta * self.decay ** ((n - 1) // self.step)

