"""Rules that modify the gradient before (or after) another rule: ``WeightDecay``,
``SignDecay``, ``ClipGrad``, ``ClipNorm``, and ``OptimiserChain`` which composes rules.

Old names resolve to the same objects: ``ClipValue`` is ``ClipGrad`` and ``Optimiser``
is ``OptimiserChain`` (Flux v0.14 exported both spellings).
"""
import inspect

import torch

from flux_torch.optimise.rule import Rule, flag, nonneg

__all__ = ["WeightDecay", "SignDecay", "ClipGrad", "ClipNorm", "OptimiserChain",
           "ClipValue", "Optimiser"]


class WeightDecay(Rule):
    """``WeightDecay(λ=0)``: adds ``λ*x`` to the gradient, which is L2 regularisation
    (adding ``λ/2 * sum(x²)`` to the loss) when placed first in an ``OptimiserChain``.
    The default ``λ=0`` is Flux v0.14's (Optimisers.jl's own default is ``5e-4``).

    >>> x = torch.tensor([1.0, 10.0, 100.0])
    >>> WeightDecay(0.1).apply([()], [x], [torch.tensor([1.0, 2.0, 3.0])])
    [tensor([ 1.1000,  3.0000, 13.0000])]
    """

    _spec = (("lambda_", 0.0, nonneg),)
    _aliases = {"wd": "lambda_"}

    def _apply(self, states, xs, dxs):
        if self.lambda_:
            torch._foreach_add_(dxs, xs, alpha=self.lambda_)
        return dxs

    def apply_(self, states, xs, dxs):
        if dxs:   # x - (dx + λx), as torch.optim.AdamW does it: x(1-λ) - dx
            if self.lambda_:
                torch._foreach_mul_(xs, 1 - self.lambda_)
            torch._foreach_sub_(xs, dxs)


class SignDecay(Rule):
    """``SignDecay(λ=1e-3)``: adds ``λ*sign(x)`` to the gradient, which is L1
    regularisation (adding ``λ * sum(|x|)`` to the loss) when placed first in an
    ``OptimiserChain``.

    >>> x = torch.tensor([1.0, -10.0, 100.0])
    >>> SignDecay(0.1).apply([()], [x], [torch.tensor([3.0, 2.0, -1.0])])
    [tensor([ 3.1000,  1.9000, -0.9000])]
    """

    _spec = (("lambda_", 1e-3, nonneg),)

    def _apply(self, states, xs, dxs):
        if self.lambda_:
            torch._foreach_add_(dxs, torch._foreach_sign(xs), alpha=self.lambda_)
        return dxs


class ClipGrad(Rule):
    """``ClipGrad(δ=10)``: clamps every gradient entry into ``[-δ, δ]``; also known by
    Flux's old name ``ClipValue``.

    >>> x = torch.zeros(3)
    >>> ClipGrad(13).apply([()], [x], [torch.tensor([1.0, 10.0, 100.0])])
    [tensor([ 1., 10., 13.])]
    """

    _spec = (("delta", 10.0, nonneg),)

    def _apply(self, states, xs, dxs):
        torch._foreach_clamp_min_(dxs, -self.delta)
        torch._foreach_clamp_max_(dxs, self.delta)
        return dxs


class ClipNorm(Rule):
    """``ClipNorm(ω=10, p=2; throw=True)``: rescales each gradient tensor whose
    ``p``-norm exceeds ``ω`` down to norm ``ω`` (each tensor on its own, as
    Optimisers.jl does). With ``throw=True`` a gradient whose norm is infinite or NaN
    raises ``ValueError``; ``throw=False`` lets it through.

    >>> x = torch.zeros(2)
    >>> ClipNorm(5.0).apply([()], [x], [torch.tensor([30.0, 40.0])])
    [tensor([3., 4.])]
    """

    _spec = (("omega", 10.0, nonneg), ("p", 2.0, lambda r, n, v: float(v)))
    _kwonly = (("throw", True, flag),)

    def _apply(self, states, xs, dxs):
        p = self.p
        if p in (1.0, 2.0, float("inf")):
            norms = list(torch._foreach_norm(dxs, p))
        else:
            norms = [torch.linalg.vector_norm(d, p) for d in dxs]
        if self.throw:
            dev = norms[0].device
            finite = torch.stack([n.to(dev, torch.float64) for n in norms]).isfinite()
            if not bool(finite.all()):
                i = int((~finite).nonzero()[0])
                raise ValueError(
                    f"ClipNorm: the gradient has {p}-norm {norms[i].item()}, for a "
                    f"{str(dxs[i].dtype).replace('torch.', '')} tensor of shape "
                    f"{tuple(dxs[i].shape)}; check the loss for NaN or Inf, or pass "
                    f"throw=False to let such gradients through")
        scale = torch._foreach_reciprocal(norms)
        torch._foreach_mul_(scale, self.omega)
        torch._foreach_clamp_max_(scale, 1.0)
        torch._foreach_mul_(dxs, scale)
        return dxs


class OptimiserChain(Rule):
    """``OptimiserChain(rules...)``: applies the rules in order, each transforming the
    update the one before produced. ``OptimiserChain()`` subtracts the raw gradient.
    Its state is the tuple of the rules' states. ``adjust`` passes each hyperparameter
    to the rules that have it. Also known by Flux's old name ``Optimiser``.

    >>> from flux_torch.optimise.rules import Descent
    >>> rule = OptimiserChain(ClipGrad(1.0), Descent(0.1))
    >>> rule
    OptimiserChain(ClipGrad(1.0), Descent(0.1))
    >>> x = torch.zeros(3)
    >>> rule.apply([rule.init(x)], [x], [torch.tensor([0.3, 1.0, 7.0])])  # clips, then scales
    [tensor([0.0300, 0.1000, 0.1000])]
    >>> rule.adjust(0.5)
    OptimiserChain(ClipGrad(1.0), Descent(0.5))
    """

    def __init__(self, *opts):
        for o in opts:
            if isinstance(o, type) and issubclass(o, Rule):
                raise TypeError(f"OptimiserChain expects rules, got the class {o.__name__}; "
                                f"did you mean {o.__name__}()?")
            if not isinstance(o, Rule):
                hint = (" Pass the rules as separate arguments: OptimiserChain(*rules)."
                        if isinstance(o, (list, tuple)) else "")
                raise TypeError(f"OptimiserChain expects rules such as ClipGrad(1.0) or Adam(), "
                                f"got {o!r}.{hint}")
        self.opts = tuple(opts)

    def init(self, x):
        return tuple(o.init(x) for o in self.opts)

    def _apply(self, states, xs, dxs):
        for j, o in enumerate(self.opts):
            dxs = o.apply([s[j] for s in states], xs, dxs)
        return dxs

    def apply_(self, states, xs, dxs):
        if not self.opts:
            return Rule.apply_(self, states, xs, dxs)
        for j, o in enumerate(self.opts[:-1]):
            dxs = o.apply([s[j] for s in states], xs, dxs)
        self.opts[-1].apply_([s[-1] for s in states], xs, dxs)

    def _fields(self):
        return tuple(dict.fromkeys(f for o in self.opts for f in o._fields()))

    def _describe(self):
        return ", ".join(self._fields()) or "none"

    def _knows(self, key):
        return any(o._knows(key) for o in self.opts)

    def adjust(self, eta=None, **kw):
        """A copy in which each rule that has the named hyperparameters gets them
        (``eta``, given by position, goes to every rule with a learning rate)."""
        if eta is None and not kw:
            raise TypeError("OptimiserChain.adjust must be given something to change")
        for key in kw if eta is None else ["eta", *kw]:
            if not self._knows(key):
                raise TypeError(f"no rule in {self!r} has a hyperparameter {key!r}; "
                                f"they have {self._describe()}")
        return self._adjust_some(eta, **kw)

    def _adjust_some(self, eta=None, **kw):
        return OptimiserChain(*(o._adjust_some(eta, **kw) for o in self.opts))

    def __len__(self):
        return len(self.opts)

    def __iter__(self):
        return iter(self.opts)

    def __getitem__(self, i):
        return OptimiserChain(*self.opts[i]) if isinstance(i, slice) else self.opts[i]

    def __repr__(self):
        return f"OptimiserChain({', '.join(map(repr, self.opts))})"


OptimiserChain.__signature__ = inspect.Signature(
    [inspect.Parameter("opts", inspect.Parameter.VAR_POSITIONAL)])

ClipValue = ClipGrad
Optimiser = OptimiserChain
