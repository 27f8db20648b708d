"""The Adam family: ``Adam``, ``RAdam``, ``AdaMax``, ``AMSGrad``, ``NAdam``, ``AdamW``,
``OAdam``, ``AdaBelief``, ``Lion``, with the math, defaults, positional order
``(η, β, ϵ)`` and printed form of Optimisers.jl v0.4.8 (which Flux v0.16 exports).

Each keeps its bias-correction powers ``[β1ᵗ, β2ᵗ]`` as Python floats in a list in
its state, as Optimisers.jl keeps ``βt``. For float16 parameters ϵ is at least
``Float16(1e-7)`` (Optimisers.jl's ``_eps``; not in ``AdamW``, which does not use it).
Against ``torch.optim``:

- ``Adam(η, β, ϵ)`` ≙ ``Adam(lr=η, betas=β, eps=ϵ)`` exactly (ϵ after the bias-corrected
  square root in both).
- ``AdamW(η, β, λ, ϵ)`` ≙ ``AdamW(lr=η, betas=β, eps=ϵ, weight_decay=λ)``: Optimisers.jl
  v0.4's default ``couple=True`` scales the decay by ``η``, ``x -= η*(adam + λ*x)``, as
  torch does. ``couple=False`` is ``x -= η*adam + λ*x``, which is Flux v0.14's
  ``AdamW`` (``OptimiserChain(Adam(η, β), WeightDecay(λ))``, kept in
  ``flux_torch.optimise.v014``) and ``torch.optim.AdamW(..., weight_decay=λ/η)``.
- ``AMSGrad`` has no bias correction and starts all its moments at ϵ; ``NAdam`` has no
  momentum schedule; ``RAdam`` switches at ``ρ > 4`` (torch: 5) with ϵ as in Adam;
  ``AdaMax`` adds ϵ to ``u`` after the max (torch: inside). None of these four
  matches its ``torch.optim`` namesake step for step.
- ``AdaBelief`` adds ϵ to the variance and to the denominator (Optimisers.jl); its
  default ``ϵ=1e-16`` gives exactly the numbers of Flux v0.14's ``AdaBelief()``, which
  squared its ``ϵ=1e-8`` inside.
- ``Lion`` follows Optimisers.jl's update, ``m = β2*dx + (1-β2)*m`` then
  ``η*sign((β2-β1)*dx + β1*m)``, which differs from the Lion paper's.
"""
import math

import torch

from flux_torch.optimise.adam_moments import AdamLike, per_leaf, root, step_
from flux_torch.optimise.operand import operand
from flux_torch.optimise.rule import Rule, abs2, betas, eps, flag, nonneg, scalar

__all__ = ["Adam", "RAdam", "AdaMax", "AMSGrad", "NAdam", "AdamW", "OAdam", "AdaBelief", "Lion",
           "ADAM", "RADAM", "NADAM", "ADAMW", "OADAM"]


class Adam(AdamLike):
    """``Adam(η=0.001, β=(0.9, 0.999), ϵ=1e-8)``: the Adam optimiser.

    >>> rule = Adam()
    >>> rule
    Adam(0.001, (0.9, 0.999), 1e-08)
    >>> x = torch.tensor([1.0, 2.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([-3.0, 5.0])])  # ≈ η*sign(dx) at first
    [tensor([-0.0010,  0.0010])]
    """

    def _apply(self, states, xs, dxs):
        m, v = self._moments(states, dxs)
        bt = [s[2] for s in states]
        upd = self._adam(m, v, bt)
        self._advance(bt)
        return upd

    apply_writes_dx = False

    def apply_(self, states, xs, dxs):
        if dxs:
            m, v = self._moments(states, dxs)
            bt = [s[2] for s in states]
            c2, step = self._corrections(bt)
            step_(xs, m, self._den(v, c2), step)
            self._advance(bt)


class RAdam(AdamLike):
    """``RAdam(η=0.001, β=(0.9, 0.999), ϵ=1e-8)``: rectified Adam. While the variance
    estimate is unreliable (``ρ ≤ 4``) it takes momentum steps ``η*m/(1-β1ᵗ)``.

    >>> rule = RAdam()
    >>> x = torch.tensor([0.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([2.0])])   # η * dx at step 1
    [tensor([0.0020])]
    """

    def init(self, x):
        return (torch.zeros_like(x), torch.zeros_like(x), [*self.beta, 1])

    def _apply(self, states, xs, dxs):
        m, v = self._moments(states, dxs)
        b2 = self.beta[1]
        rho_inf = 2 / (1 - b2) - 1
        bt = [s[2] for s in states]
        if isinstance(bt[0][2], torch.Tensor):
            out = self._rectified(m, v, bt, rho_inf)
        else:
            out = self._switched(states, m, v, len(dxs), rho_inf)
        self._advance(bt)
        for s in states:
            s[2][2] += 1
        return out

    def _switched(self, states, m, v, n, rho_inf):
        """The update of each parameter, rectified Adam's or momentum's as ``ρ > 4`` or not."""
        rect, plain = [], []
        for i, s in enumerate(states):
            b1t, b2t, t = s[2]
            rho = rho_inf - 2 * t * b2t / (1 - b2t)
            if rho > 4:
                rect.append((i, math.sqrt((rho - 4) * (rho - 2) * rho_inf
                                          / ((rho_inf - 4) * (rho_inf - 2) * rho))))
            else:
                plain.append(i)
        out = [None] * n
        if rect:
            idx = [i for i, _ in rect]
            upd = self._adam([m[i] for i in idx], [v[i] for i in idx],
                             [states[i][2] for i in idx], [r for _, r in rect])
            for i, u in zip(idx, upd):
                out[i] = u
        if plain:
            upd = torch._foreach_mul([m[i] for i in plain],
                                     scalar([self.eta / (1 - states[i][2][0]) for i in plain]))
            for i, u in zip(plain, upd):
                out[i] = u
        return out

    def _rectified(self, m, v, bt, rho_inf):
        """:meth:`_switched` with the step counts and powers as 0-d tensors (in a compiled step):
        both updates, the one that applies chosen by ``torch.where``."""
        c2, step = self._corrections(bt)
        upd = torch._foreach_div(m, self._den(v, c2))
        out = []
        for u, mi, b, s in zip(upd, m, bt, step):
            b1t, b2t, t = b
            rho = rho_inf - 2 * t * b2t / (1 - b2t)
            r = ((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)).clamp(min=0).sqrt()
            out.append(torch.where(rho > 4, u * (s * r), mi * s))
        return out


class AdaMax(AdamLike):
    """``AdaMax(η=0.001, β=(0.9, 0.999), ϵ=1e-8)``: Adam with the ∞-norm,
    ``u = max(β2*u, |dx|)`` and update ``η/(1-β1ᵗ) * m/(u + ϵ)``.

    >>> rule = AdaMax(0.1)
    >>> x = torch.tensor([0.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([-4.0])])
    [tensor([-0.1000])]
    """

    def _apply(self, states, xs, dxs):
        m, u = [s[0] for s in states], [s[1] for s in states]
        torch._foreach_lerp_(m, dxs, 1 - self.beta[0])
        torch._foreach_mul_(u, operand(self.beta[1], u))
        torch._foreach_abs_(dxs)
        torch._foreach_maximum_(u, dxs)
        den = torch._foreach_add(u, operand(eps(u, self.epsilon), u))
        upd = torch._foreach_div(m, den)
        eta = self.eta
        bt = [s[2] for s in states]
        torch._foreach_mul_(upd, operand(per_leaf(bt, lambda b: eta / (1 - b[0])), upd))
        self._advance(bt)
        return upd


class AMSGrad(AdamLike):
    """``AMSGrad(η=0.001, β=(0.9, 0.999), ϵ=1e-8)``: Adam with the running maximum
    ``v̂`` of the second moment and no bias correction; all three moments start at ϵ.

    >>> rule = AMSGrad(0.1, (0.5, 0.75), 0.0)
    >>> x = torch.tensor([0.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([2.0])])   # 0.1 * 1 / sqrt(1)
    [tensor([0.1000])]
    """

    def init(self, x):
        f = torch.full_like
        return (f(x, self.epsilon), f(x, self.epsilon), f(x, self.epsilon))

    def _apply(self, states, xs, dxs):
        m, v = self._moments(states, dxs)
        vmax = [s[2] for s in states]
        torch._foreach_maximum_(vmax, v)
        den = torch._foreach_sqrt(vmax)
        torch._foreach_add_(den, operand(eps(vmax, self.epsilon), den))
        upd = torch._foreach_div(m, den)
        torch._foreach_mul_(upd, operand(self.eta, upd))
        return upd


class NAdam(AdamLike):
    """``NAdam(η=0.001, β=(0.9, 0.999), ϵ=1e-8)``: Adam with Nesterov momentum.

    >>> rule = NAdam()
    >>> x = torch.tensor([0.0])
    >>> upd = rule.apply([rule.init(x)], [x], [torch.tensor([1.0])])[0]
    >>> round(upd.item() / 0.001, 4)   # (0.9*0.1/0.19 + 0.1/0.1) / sqrt(0.999)
    1.4744
    """

    def _apply(self, states, xs, dxs):
        m, v = self._moments(states, dxs)
        b1, b2 = self.beta
        bt = [s[2] for s in states]
        mom = torch._foreach_mul(m, operand(per_leaf(bt, lambda b: b1 / (1 - b1 * b[0])), m))
        torch._foreach_mul_(dxs, operand(per_leaf(bt, lambda b: (1 - b1) / (1 - b[0])), dxs))
        torch._foreach_add_(dxs, mom)
        den = torch._foreach_sqrt(v)
        torch._foreach_mul_(den, operand(per_leaf(bt, lambda b: root(b2 / (1 - b[1]))), den))
        torch._foreach_add_(den, operand(eps(v, self.epsilon), den))
        torch._foreach_div_(dxs, den)
        torch._foreach_mul_(dxs, operand(self.eta, dxs))
        self._advance(bt)
        return dxs


class OAdam(AdamLike):
    """``OAdam(η=0.001, β=(0.5, 0.9), ϵ=1e-8)``: optimistic Adam, for adversarial
    training: the update is ``2*term - term_old`` with ``term`` Adam's update.

    >>> rule = OAdam(0.1)
    >>> x = torch.tensor([0.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([3.0])])   # 2 * 0.1 * sign(dx)
    [tensor([0.2000])]
    """

    _spec = (("eta", 0.001, nonneg), ("beta", (0.5, 0.9), betas), ("epsilon", 1e-8, nonneg))

    def init(self, x):
        return (torch.zeros_like(x), torch.zeros_like(x), list(self.beta), torch.zeros_like(x))

    def _apply(self, states, xs, dxs):
        m, v = self._moments(states, dxs)
        bt = [s[2] for s in states]
        new = self._adam(m, v, bt)
        term = [s[3] for s in states]
        torch._foreach_mul_(term, operand(-1.0, term))
        torch._foreach_add_(term, new, alpha=2.0)   # 2 term - term_old
        torch._foreach_copy_(dxs, term)
        torch._foreach_copy_(term, new)
        self._advance(bt)
        return dxs


class AdaBelief(AdamLike):
    """``AdaBelief(η=0.001, β=(0.9, 0.999), ϵ=1e-16)``: Adam with the variance of
    ``dx`` about its running mean, ``s = β2*s + (1-β2)*(dx-m)² + ϵ``, in place of the
    second moment.

    >>> rule = AdaBelief(0.1)
    >>> x = torch.tensor([0.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([2.0])])   # 0.1 * 2 / sqrt(3.24)
    [tensor([0.1111])]
    """

    _spec = (("eta", 0.001, nonneg), ("beta", (0.9, 0.999), betas), ("epsilon", 1e-16, nonneg))

    def _apply(self, states, xs, dxs):
        m, s = [st[0] for st in states], [st[1] for st in states]
        b1, b2 = self.beta
        torch._foreach_lerp_(m, dxs, 1 - b1)
        torch._foreach_sub_(dxs, m)             # dx - m
        torch._foreach_mul_(s, operand(b2, s))
        torch._foreach_addcmul_(s, dxs, abs2(dxs), value=1 - b2)
        torch._foreach_add_(s, operand(eps(s, self.epsilon), s))
        bt = [st[2] for st in states]
        upd = self._adam(m, s, bt)
        self._advance(bt)
        return upd


class Lion(Rule):
    """``Lion(η=0.001, β=(0.9, 0.999))``: sign-based updates of size ``η``, in
    Optimisers.jl's formulation (see the module notes).

    >>> rule = Lion(0.1)
    >>> x = torch.tensor([0.0, 0.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([3.0, -0.5])])
    [tensor([ 0.1000, -0.1000])]
    """

    _spec = (("eta", 0.001, nonneg),
             ("beta", (0.9, 0.999), lambda r, n, b: betas(r, n, b, closed=True)))

    def init(self, x):
        return (torch.zeros_like(x),)

    def _apply(self, states, xs, dxs):
        m = [s[0] for s in states]
        b1, b2 = self.beta
        torch._foreach_lerp_(m, dxs, b2)        # m = β2 dx + (1-β2) m
        torch._foreach_mul_(dxs, operand(b2 - b1, dxs))
        torch._foreach_add_(dxs, m, alpha=b1)
        torch._foreach_sign_(dxs)
        torch._foreach_mul_(dxs, operand(self.eta, dxs))
        return dxs


class AdamW(AdamLike):
    """``AdamW(η=0.001, β=(0.9, 0.999), λ=0, ϵ=1e-8; couple=True)``: Adam with weight
    decay. Its update is Adam's at learning rate 1, ``adam``, then
    ``η*(adam + λ*x)`` (``couple=True``, as ``torch.optim.AdamW``) or ``η*adam + λ*x``
    (``couple=False``, Flux v0.14's AdamW). ``λ`` is also accepted as ``lambda_`` or
    Flux v0.14's ``decay``. It prints with keywords, as Optimisers.jl's does.

    >>> rule = AdamW(0.1, lambda_=0.01)
    >>> rule
    AdamW(eta=0.1, beta=(0.9, 0.999), lambda_=0.01, epsilon=1e-08, couple=True)
    >>> x = torch.tensor([10.0])
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([3.0])])   # 0.1 * (1 + 0.01 * 10)
    [tensor([0.1100])]
    """

    _spec = (("eta", 0.001, nonneg), ("beta", (0.9, 0.999), betas),
             ("lambda_", 0.0, nonneg), ("epsilon", 1e-8, nonneg))
    _kwonly = (("couple", True, flag),)
    _aliases = {"decay": "lambda_"}
    _keywords = True

    def _decay(self):
        """The factor of ``x`` in the update: ``η*λ`` coupled, ``λ`` not."""
        return self.eta * self.lambda_ if self.couple else self.lambda_

    def _apply(self, states, xs, dxs):
        m, v = self._moments(states, dxs)
        bt = [s[2] for s in states]
        upd = self._adam(m, v, bt)
        if self.lambda_:
            torch._foreach_add_(upd, xs, alpha=self._decay())
        self._advance(bt)
        return upd

    def _eps(self, v):
        return self.epsilon     # Optimisers.jl's AdamW converts ϵ without _eps's float16 floor

    apply_writes_dx = False

    def apply_(self, states, xs, dxs):
        if dxs:     # x(1 - decay) - step*m/den, as torch.optim.AdamW does it
            m, v = self._moments(states, dxs)
            bt = [s[2] for s in states]
            c2, step = self._corrections(bt)
            den = self._den(v, c2)
            if self.lambda_:
                torch._foreach_mul_(xs, operand(1 - self._decay(), xs))
            step_(xs, m, den, step)
            self._advance(bt)


ADAM = Adam
RADAM = RAdam
NADAM = NAdam
ADAMW = AdamW
OADAM = OAdam
