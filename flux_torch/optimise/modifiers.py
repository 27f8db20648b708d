"""Rules that modify the gradient before (or after) another rule: ``WeightDecay``,
``SignDecay``, ``ClipGrad``, ``ClipNorm``, ``AccumGrad``, and ``OptimiserChain`` which
composes rules (Optimisers.jl v0.4.8).

Flux v0.14's names ``Optimiser`` and ``ClipValue`` still work: as in Flux v0.16 they
warn that they have been removed and give an ``OptimiserChain`` or a ``ClipGrad``
(``flux_torch.v014`` has them without the warning).
"""
import inspect
import warnings

import torch

from flux_torch.optimise.operand import operand
from flux_torch.optimise.mixed_precision import MixedPrecision
from flux_torch.optimise.rule import Rule, count, flag, nonneg

__all__ = ["WeightDecay", "SignDecay", "ClipGrad", "ClipNorm", "AccumGrad", "OptimiserChain",
           "ClipValue", "Optimiser"]


class WeightDecay(Rule):
    """``WeightDecay(λ=5e-4)``: adds ``λ*x`` to the gradient, which is L2 regularisation
    (adding ``λ/2 * sum(x²)`` to the loss) when placed first in an ``OptimiserChain``.
    The default ``λ=5e-4`` is Optimisers.jl's (Flux v0.16); Flux v0.14's was 0
    (``flux_torch.v014.WeightDecay()``).

    >>> WeightDecay()
    WeightDecay(0.0005)
    >>> x = torch.tensor([1.0, 10.0, 100.0])
    >>> WeightDecay(0.1).apply([()], [x], [torch.tensor([1.0, 2.0, 3.0])])
    [tensor([ 1.1000,  3.0000, 13.0000])]
    """

    _spec = (("lambda_", 5e-4, nonneg),)
    _aliases = {"wd": "lambda_"}

    def _apply(self, states, xs, dxs):
        if self.lambda_:
            torch._foreach_add_(dxs, xs, alpha=self.lambda_)
        return dxs

    apply_writes_dx = False

    def apply_(self, states, xs, dxs):
        if dxs:   # x - (dx + λx), as torch.optim.AdamW does it: x(1-λ) - dx
            if self.lambda_:
                torch._foreach_mul_(xs, operand(1 - self.lambda_, xs))
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


def _at_least_one(rule, name, value):
    if value is None:
        raise TypeError(f"{rule} needs n, the number of gradients to accumulate: AccumGrad(4)")
    return count(rule, name, value, 1)


class AccumGrad(Rule):
    """``AccumGrad(n)``: placed first, ``OptimiserChain(AccumGrad(n), rule)`` makes no
    step for ``n - 1`` calls, then gives ``rule`` the mean of the ``n`` gradients seen.
    This trains with a batch ``n`` times larger than fits in memory at once. Its state
    is the running mean and the count of gradients in it (per parameter); until the
    ``n``-th, the rules after it in the chain are not called.

    >>> from flux_torch.optimise.rules import Descent
    >>> rule = OptimiserChain(AccumGrad(2), Descent(0.1))
    >>> x = torch.tensor([1.0])
    >>> state = rule.init(x)
    >>> rule.apply([state], [x], [torch.tensor([30.0])])    # the first: no step yet
    [tensor([0.])]
    >>> rule.apply([state], [x], [torch.tensor([10.0])])    # 0.1 * (30 + 10) / 2
    [tensor([2.])]
    """

    _spec = (("n", None, _at_least_one),)

    def init(self, x):
        """The running mean of the gradients, and how many it holds plus one."""
        return (torch.zeros_like(x), [1])

    def _apply(self, states, xs, dxs):
        torch._foreach_div_(dxs, self.n)                        # dx / n
        first = [i for i, s in enumerate(states) if s[1][0] == 1]
        rest = [i for i, s in enumerate(states) if s[1][0] != 1]
        if first:                                               # acc = dx / n
            torch._foreach_copy_([states[i][0] for i in first], [dxs[i] for i in first])
        if rest:                                                # acc += dx / n
            torch._foreach_add_([states[i][0] for i in rest], [dxs[i] for i in rest])
        out = []
        for (acc, counter), dx in zip(states, dxs):
            if counter[0] == self.n:        # the n-th gradient: step with the mean
                counter[0] = 1
                out.append(dx.copy_(acc))
            else:                           # not yet: no step at all
                counter[0] += 1
                out.append(None)
        return out


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
            if isinstance(o, MixedPrecision):
                raise TypeError(f"MixedPrecision must wrap the whole OptimiserChain, not be "
                                f"inside it: write MixedPrecision({o.rule!r}) around the chain")
        self.opts = tuple(opts)

    def init(self, x):
        return tuple(o.init(x) for o in self.opts)

    def _run(self, opts, states, xs, dxs):
        """Apply ``opts`` in turn; a parameter whose update one of them leaves out
        (``None``, as AccumGrad does) is left out by the rest. Returns the updates
        (``None`` where left out) and the indices of those still going."""
        out, live = list(dxs), list(range(len(dxs)))
        for j, o in enumerate(opts):
            if not live:
                break
            ups = o._updates([states[i][j] for i in live], [xs[i] for i in live],
                             [out[i] for i in live])
            for i, u in zip(live, ups):
                out[i] = u
            live = [i for i in live if out[i] is not None]
        return out, live

    def _apply(self, states, xs, dxs):
        return self._run(self.opts, states, xs, dxs)[0]

    def _apply_higher(self, states, xs, dxs, higher):
        """Each rule in turn gets the update so far and the extra gradients, as Optimisers.jl's
        chain passes ``dxs...`` on; a parameter one rule leaves out (``None``) is left out by
        the rest, and gets a zero update."""
        out, live = list(dxs), list(range(len(dxs)))
        for j, o in enumerate(self.opts):
            if not live:
                break
            sub = ([states[i][j] for i in live], [xs[i] for i in live], [out[i] for i in live])
            ups = (o._apply_higher(*sub, [[h[i] for i in live] for h in higher])
                   if o._takes_higher() else o._updates(*sub))
            for i, u in zip(live, ups):
                out[i] = u
            live = [i for i in live if out[i] is not None]
        return [dxs[i].zero_() if u is None else u for i, u in enumerate(out)]

    def apply_(self, states, xs, dxs):
        if not self.opts:
            return Rule.apply_(self, states, xs, dxs)
        out, live = self._run(self.opts[:-1], states, xs, dxs)
        if live:
            self.opts[-1].apply_([states[i][-1] for i in live], [xs[i] for i in live],
                                 [out[i] for i in live])

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

def Optimiser(*opts: Rule) -> OptimiserChain:
    """``Optimiser(rules...)``: Flux v0.14's name for :class:`OptimiserChain`. As in Flux
    v0.16 it warns that it has been removed, and returns ``OptimiserChain(rules...)``."""
    warnings.warn("Optimiser(...) has been removed (Flux v0.15), please call OptimiserChain(...)",
                  FutureWarning, stacklevel=2)
    return OptimiserChain(*opts)


def ClipValue(thresh: float) -> ClipGrad:
    """``ClipValue(thresh)``: Flux v0.14's name for :class:`ClipGrad`. As in Flux v0.16 it
    warns that it has been removed, and returns ``ClipGrad(thresh)``."""
    warnings.warn("ClipValue(...) has been removed (Flux v0.15), please call ClipGrad(...)",
                  FutureWarning, stacklevel=2)
    return ClipGrad(thresh)
