"""Gradient-descent rules: ``Descent``, ``Momentum``, ``Nesterov``, ``RMSProp``,
``Rprop``, ``AdaGrad``, ``AdaDelta``, with the math, defaults, positional order and
printed form of Optimisers.jl v0.4.8 (which Flux v0.16 exports; Flux v0.14's are the
same for these). For float16 parameters ϵ is at least ``Float16(1e-7)``, as
Optimisers.jl's ``_eps`` makes it.

How they map onto ``torch.optim`` (the same numbers, step for step):

- ``Descent(η)`` ≙ ``SGD(lr=η)``.
- ``Momentum(η, ρ)`` ≙ ``SGD(lr=η, momentum=ρ)``: Flux keeps the velocity
  ``v = ρv + ηdx`` with the learning rate inside, torch keeps ``b = ρb + dx`` and
  multiplies by ``lr`` after, so ``v == η·b`` while ``η`` is constant.
- ``Nesterov(η, ρ)`` ≙ ``SGD(lr=η, momentum=ρ, nesterov=True)``; Flux's velocity is
  ``-η·b`` in torch's terms.
- ``RMSProp(η, ρ, ϵ)`` ≙ ``RMSprop(lr=η, alpha=ρ, eps=ϵ)``, ϵ added after the square
  root in both; ``centred=True`` ≙ ``centered=True``.
- ``AdaGrad(η, ϵ)`` ≙ ``Adagrad(lr=η, eps=ϵ, initial_accumulator_value=ϵ)``: Flux
  starts the accumulator at ϵ, torch at 0 by default.
- ``AdaDelta(ρ, ϵ)`` ≙ ``Adadelta(lr=1.0, rho=ρ, eps=ϵ)``: Flux's AdaDelta has no
  learning rate.
- ``Rprop(η, ℓ, Γ)`` ≙ ``Rprop(lr=η, etas=ℓ, step_sizes=Γ)`` while the step sizes stay
  within ``Γ`` (torch clamps every step size into ``Γ``, Optimisers.jl only a grown one
  to ``Γ[1]`` and a shrunk one to ``Γ[0]``, so they differ when ``η`` starts outside it).
"""
import torch

from flux_torch.optimise.operand import operand
from flux_torch.optimise.rule import Rule, abs2, eps, flag, nonneg, pair, unit

__all__ = ["Descent", "Momentum", "Nesterov", "RMSProp", "Rprop", "AdaGrad", "AdaDelta",
           "ADAGrad", "ADADelta"]


class Descent(Rule):
    """``Descent(η=0.1)``: plain gradient descent, ``x -= η * dx``.

    >>> rule = Descent()
    >>> rule
    Descent(0.1)
    >>> x = torch.tensor([1.0, 2.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([1.0, 10.0])])
    [tensor([0.1000, 1.0000])]
    """

    _spec = (("eta", 0.1, nonneg),)

    def _apply(self, states, xs, dxs):
        torch._foreach_mul_(dxs, operand(self.eta, dxs))
        return dxs

    apply_writes_dx = False

    def apply_(self, states, xs, dxs):
        if dxs:
            torch._foreach_add_(xs, dxs, alpha=-self.eta)


class Momentum(Rule):
    """``Momentum(η=0.01, ρ=0.9)``: gradient descent with momentum; the state is the
    velocity ``v = ρ*v + η*dx``, which is the update.

    >>> rule = Momentum(0.1)
    >>> rule
    Momentum(0.1, 0.9)
    >>> x = torch.tensor([1.0, 2.0])
    >>> state = rule.init(x)
    >>> rule.apply([state], [x], [torch.tensor([25.0, 33.0])])
    [tensor([2.5000, 3.3000])]
    >>> rule.apply([state], [x], [torch.tensor([25.0, 33.0])])
    [tensor([4.7500, 6.2700])]
    """

    _spec = (("eta", 0.01, nonneg), ("rho", 0.9, unit))

    def init(self, x):
        return (torch.zeros_like(x),)

    def _velocity(self, states, dxs):
        vel = [s[0] for s in states]
        torch._foreach_mul_(vel, operand(self.rho, vel))
        torch._foreach_add_(vel, dxs, alpha=self.eta)
        return vel

    def _apply(self, states, xs, dxs):
        torch._foreach_copy_(dxs, self._velocity(states, dxs))
        return dxs

    apply_writes_dx = False

    def apply_(self, states, xs, dxs):
        if dxs:
            torch._foreach_sub_(xs, self._velocity(states, dxs))


class Nesterov(Rule):
    """``Nesterov(η=0.001, ρ=0.9)``: gradient descent with Nesterov momentum. The
    state is Optimisers.jl's velocity ``v = ρ*v - η*dx``; the update is
    ``(1+ρ)*η*dx - ρ²*v_old``.

    >>> rule = Nesterov(0.1, 0.5)
    >>> x = torch.tensor([0.0])
    >>> state = rule.init(x)
    >>> rule.apply([state], [x], [torch.tensor([1.0])])
    [tensor([0.1500])]
    >>> rule.apply([state], [x], [torch.tensor([1.0])])
    [tensor([0.1750])]
    """

    _spec = (("eta", 0.001, nonneg), ("rho", 0.9, unit))

    def init(self, x):
        return (torch.zeros_like(x),)

    def _apply(self, states, xs, dxs):
        vel = [s[0] for s in states]
        torch._foreach_mul_(dxs, operand(self.eta, dxs))      # η dx
        torch._foreach_mul_(vel, operand(self.rho, vel))
        torch._foreach_sub_(vel, dxs)           # v = ρv - ηdx
        torch._foreach_add_(dxs, vel, alpha=-self.rho)  # ηdx - ρv_new = (1+ρ)ηdx - ρ²v_old
        return dxs


class _RootScaled(Rule):
    """Rules whose update is ``η * dx / den`` with ``den = self._den(states, dxs)``."""

    def _apply(self, states, xs, dxs):
        torch._foreach_div_(dxs, self._den(states, dxs))
        torch._foreach_mul_(dxs, operand(self.eta, dxs))
        return dxs

    apply_writes_dx = False

    def apply_(self, states, xs, dxs):
        if dxs:
            torch._foreach_addcdiv_(xs, dxs, self._den(states, dxs), value=-self.eta)


class RMSProp(_RootScaled):
    """``RMSProp(η=0.001, ρ=0.9, ϵ=1e-8; centred=False)``: divides the gradient by a
    running root-mean-square ``√quad + ϵ`` with ``quad = ρ*quad + (1-ρ)*dx²``. The
    centred variant subtracts the square of a running mean of ``dx`` under the root.
    ``centered`` is accepted for ``centred``. It prints with keywords, as
    Optimisers.jl's does.

    >>> rule = RMSProp(0.01)
    >>> rule
    RMSProp(eta=0.01, rho=0.9, epsilon=1e-08, centred=False)
    >>> x = torch.tensor([0.0])
    >>> upd = rule.apply([rule.init(x)], [x], [torch.tensor([3.0])])[0]
    >>> round(upd.item(), 5)   # 0.01 * 3 / sqrt(0.1 * 9)
    0.03162
    """

    _spec = (("eta", 0.001, nonneg), ("rho", 0.9, unit), ("epsilon", 1e-8, nonneg))
    _kwonly = (("centred", False, flag),)
    _aliases = {"centered": "centred"}
    _fixed = ("centred",)
    _keywords = True

    def init(self, x):
        z = torch.zeros_like
        return (z(x), z(x)) if self.centred else (z(x),)

    def _den(self, states, dxs):
        quad = [s[0] for s in states]
        torch._foreach_mul_(quad, operand(self.rho, quad))
        torch._foreach_addcmul_(quad, dxs, abs2(dxs), value=1 - self.rho)
        if self.centred:
            lin = [s[1] for s in states]
            torch._foreach_lerp_(lin, dxs, 1 - self.rho)
            den = torch._foreach_addcmul(quad, lin, abs2(lin), value=-1)
            torch._foreach_sqrt_(den)
        else:
            den = torch._foreach_sqrt(quad)
        torch._foreach_add_(den, operand(eps(dxs, self.epsilon), den))
        return den


def _factors(rule, name, value):
    return pair(rule, name, value, nonneg, "(0.5, 1.2)")


def _steps(rule, name, value):
    return pair(rule, name, value, nonneg, "(1e-06, 50.0)")


class Rprop(Rule):
    """``Rprop(η=0.001, ℓ=(0.5, 1.2), Γ=(1e-06, 50.0))``: resilient backpropagation, a
    full-batch rule that uses only the sign of the gradient. Each entry has its own step
    size, starting at ``η``: where the gradient keeps its sign the step grows by ``ℓ[1]``
    (at most ``Γ[1]``), where it flips the step shrinks by ``ℓ[0]`` (at least ``Γ[0]``)
    and that entry does not move this time. The update is ``step * sign(dx)``. The
    keywords are ``eta``, ``ell`` (or ``ℓ``) and ``gamma`` (or ``Γ``).

    >>> rule = Rprop(0.1)
    >>> rule
    Rprop(0.1, (0.5, 1.2), (1e-06, 50.0))
    >>> x = torch.zeros(2)
    >>> state = rule.init(x)
    >>> rule.apply([state], [x], [torch.tensor([3.0, -2.0])])    # η * sign(dx)
    [tensor([ 0.1000, -0.1000])]
    >>> rule.apply([state], [x], [torch.tensor([5.0, 2.0])])     # same sign: grow; flipped: rest
    [tensor([0.1200, 0.0000])]
    """

    _spec = (("eta", 1e-3, nonneg), ("ell", (0.5, 1.2), _factors), ("gamma", (1e-6, 50.0), _steps))
    _aliases = {"ℓ": "ell", "l": "ell", "Γ": "gamma"}     # NFKC folds ℓ to l

    @classmethod
    def _describe(cls):
        return "eta (η), ell (ℓ), gamma (Γ)"

    def init(self, x):
        """The last gradient (zero at first) and the step sizes (``η`` at first)."""
        return (torch.zeros_like(x), torch.full_like(x, self.eta))

    def _apply(self, states, xs, dxs):
        prev, steps = [s[0] for s in states], [s[1] for s in states]
        (shrink, grow), (lo, hi) = self.ell, self.gamma
        agree = torch._foreach_mul(prev, dxs)       # g * dx: > 0 same sign, < 0 flipped
        grown = torch._foreach_mul(steps, grow)
        torch._foreach_clamp_max_(grown, hi)        # min(η ℓ[1], Γ[1])
        shrunk = torch._foreach_mul(steps, shrink)
        torch._foreach_clamp_min_(shrunk, lo)       # max(η ℓ[0], Γ[0])
        for step, a, g, s, dx, p in zip(steps, agree, grown, shrunk, dxs, prev):
            flipped = a < 0
            step.copy_(torch.where(a > 0, g, torch.where(flipped, s, step)))
            p.copy_(dx.masked_fill_(flipped, 0))   # a flipped entry rests, and forgets its sign
        torch._foreach_sign_(dxs)
        torch._foreach_mul_(dxs, steps)             # η * sign(g)
        return dxs


class AdaGrad(_RootScaled):
    """``AdaGrad(η=0.1, ϵ=1e-8)``: per-entry learning rates ``η / (√acc + ϵ)`` where
    ``acc`` (started at ϵ) sums the squared gradients.

    >>> rule = AdaGrad()
    >>> x = torch.tensor([0.0])
    >>> state = rule.init(x)
    >>> rule.apply([state], [x], [torch.tensor([3.0])])   # 0.1 * 3 / 3
    [tensor([0.1000])]
    >>> rule.apply([state], [x], [torch.tensor([4.0])])   # 0.1 * 4 / 5
    [tensor([0.0800])]
    """

    _spec = (("eta", 0.1, nonneg), ("epsilon", 1e-8, nonneg))

    def init(self, x):
        return (torch.full_like(x, self.epsilon),)

    def _den(self, states, dxs):
        acc = [s[0] for s in states]
        torch._foreach_addcmul_(acc, dxs, abs2(dxs))
        den = torch._foreach_sqrt(acc)
        torch._foreach_add_(den, operand(eps(dxs, self.epsilon), den))
        return den


class AdaDelta(Rule):
    """``AdaDelta(ρ=0.9, ϵ=1e-8)``: AdaGrad with running averages, scaling
    ``dx`` by ``√(Δacc + ϵ) / √(acc + ϵ)``; it has no learning rate.

    >>> rule = AdaDelta(0.5, 0.01)
    >>> x = torch.tensor([0.0])
    >>> upd = rule.apply([rule.init(x)], [x], [torch.tensor([1.0])])[0]
    >>> round(upd.item(), 6)   # 1 * sqrt(0.01) / sqrt(0.5 + 0.01)
    0.140028
    """

    _spec = (("rho", 0.9, unit), ("epsilon", 1e-8, nonneg))

    def init(self, x):
        return (torch.zeros_like(x), torch.zeros_like(x))

    def _apply(self, states, xs, dxs):
        acc, dacc = [s[0] for s in states], [s[1] for s in states]
        rho, e = self.rho, eps(dxs, self.epsilon)
        torch._foreach_mul_(acc, rho)
        torch._foreach_addcmul_(acc, dxs, abs2(dxs), value=1 - rho)
        num = torch._foreach_add(dacc, e)
        torch._foreach_sqrt_(num)
        den = torch._foreach_add(acc, e)
        torch._foreach_sqrt_(den)
        torch._foreach_div_(num, den)
        torch._foreach_mul_(dxs, num)           # dx′ = dx √(Δacc+ϵ) / √(acc+ϵ)
        torch._foreach_mul_(dacc, rho)
        torch._foreach_addcmul_(dacc, dxs, abs2(dxs), value=1 - rho)
        return dxs


ADAGrad = AdaGrad
ADADelta = AdaDelta
