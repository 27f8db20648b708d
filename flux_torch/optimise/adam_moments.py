"""The arithmetic the Adam family shares: moment estimates, bias corrections and the
``m / (√v + ϵ)`` step, on lists of tensors with ``torch._foreach`` ops.

The same code serves the eager step, where the bias-correction powers ``[β1ᵗ, β2ᵗ]`` are
Python floats, and the compiled step (``optimise/graph.py``), where they are 0-d tensors:
:func:`per_leaf` and :func:`step_` pick the ``_foreach`` form each kind needs.

>>> m, v = [torch.tensor([0.5])], [torch.tensor([0.25])]
>>> xs = [torch.tensor([1.0])]
>>> step_(xs, m, [torch.tensor([2.0])], 0.1)       # x -= 0.1 * m / den
>>> xs
[tensor([0.9750])]
>>> per_leaf([[0.9, 0.999], [0.9, 0.999]], lambda b: 1 - b[0])    # shared: one number
0.09999999999999998
"""
import math

import torch

from flux_torch.optimise.operand import operand, operands
from flux_torch.optimise.rule import Rule, abs2, betas, eps, nonneg, scalar

__all__ = ["AdamLike", "per_leaf", "shared", "root", "holds_tensors", "step_"]


def per_leaf(bt, f):
    """``f(b)`` of each leaf's bias-correction powers ``b``: one number when all leaves share
    them (the usual case), else the list. In a compiled step (``optimise/graph.py``) the powers
    are 0-d tensors and the list is kept as it is."""
    one = shared(bt)
    if one is not None:
        return f(one)
    if isinstance(bt[0][0], torch.Tensor):
        return [f(b) for b in bt]
    return scalar([f(b) for b in bt])


def shared(bt):
    """The powers every leaf holds, ``bt[0]``, when they are the same numbers for all (the
    usual case), else None: leaves that stepped apart, or a compiled step, whose powers are
    0-d tensors (checked before any comparison: ``==`` of tensors is a tensor).

    >>> shared([[0.81, 0.998], [0.81, 0.998]]), shared([[0.81, 0.998], [0.9, 0.999]])
    ([0.81, 0.998], None)
    """
    first = bt[0]
    if not isinstance(first[0], torch.Tensor) and bt.count(first) == len(bt):   # one comparison, in C
        return first
    return None


def root(x):
    """``√x`` of a number (``math.sqrt``, as the eager step has always rounded it) or a tensor."""
    return x.sqrt() if isinstance(x, torch.Tensor) else math.sqrt(x)


def holds_tensors(values):
    """True when ``values`` (a number or a list from :func:`per_leaf`) holds 0-d tensors."""
    return isinstance(values, list) and isinstance(values[0], torch.Tensor)


def step_(xs, m, den, step):
    """``x -= step * m / den`` for each ``x``, in place (one ``torch._foreach_addcdiv_``, as
    torch.optim does it); ``step`` one number or one per ``x``."""
    if holds_tensors(step):          # in a compiled step, where addcdiv takes no tensor scalars
        upd = torch._foreach_div(m, den)
        torch._foreach_mul_(upd, step)
        torch._foreach_sub_(xs, upd)
    elif isinstance(step, list):
        torch._foreach_addcdiv_(xs, m, den, [-s for s in step])
    else:
        torch._foreach_addcdiv_(xs, m, den, value=-step)


class AdamLike(Rule):
    _spec = (("eta", 0.001, nonneg), ("beta", (0.9, 0.999), betas), ("epsilon", 1e-8, nonneg))

    def init(self, x):
        return (torch.zeros_like(x), torch.zeros_like(x), list(self.beta))

    def _moments(self, states, dxs):
        m, v, *_ = zip(*states)         # each leaf's state (m, v, ...) taken apart, in C
        b1, b2 = self.beta
        torch._foreach_lerp_(m, dxs, 1 - b1)
        torch._foreach_mul_(v, operand(b2, v))
        torch._foreach_addcmul_(v, dxs, abs2(dxs), value=1 - b2)
        return m, v

    def _advance(self, bt):
        """``βᵗ ← βᵗ·β`` in each leaf's powers ``bt[i] = [β1ᵗ, β2ᵗ, ...]``: one product for every
        leaf when they share their powers as numbers (the usual case)."""
        b1, b2 = self.beta
        first = shared(bt)
        if first is not None:
            new = [first[0] * b1, first[1] * b2]
            for b in bt:
                b[:2] = new
            return
        for b in bt:
            b[0] *= b1
            b[1] *= b2

    def _eps(self, v):
        """ϵ for the parameters whose second moments are ``v`` (Optimisers.jl's ``_eps``)."""
        return eps(v, self.epsilon)

    def _corrections(self, bt, scale=None):
        """``(√(1-β2ᵗ), η*scale/(1-β1ᵗ))`` from the leaves' powers ``bt``: two numbers when
        they share their powers (the usual case), else one of each per leaf."""
        eta = self.eta
        if scale is None:
            one = shared(bt)
            if one is not None:
                return math.sqrt(1 - one[1]), eta / (1 - one[0])
            step = per_leaf(bt, lambda b: eta / (1 - b[0]))
        else:
            step = [eta * c / (1 - b[0]) for c, b in zip(scale, bt)]
            step = step if holds_tensors(step) else scalar(step)
        return per_leaf(bt, lambda b: root(1 - b[1])), step

    def _den(self, v, c2):
        """``√v / c2 + ϵ``, Adam's denominator with ``c2 = √(1-β2ᵗ)``: with the step
        ``η*scale/(1-β1ᵗ)`` of :meth:`_corrections` the update is ``step * m / den``, which is
        ``η*scale * m/(1-β1ᵗ) / (√(v/(1-β2ᵗ)) + ϵ)`` in Optimisers.jl's order of operations
        (and torch.optim's), so that float16 rounds as it does there."""
        c2, epsilon = operands(v, c2, self._eps(v))
        den = torch._foreach_sqrt(v)
        torch._foreach_div_(den, c2)
        torch._foreach_add_(den, epsilon)
        return den

    def _adam(self, m, v, bt, scale=None):
        """``η*scale * m/(1-β1ᵗ) / (√(v/(1-β2ᵗ)) + ϵ)`` as new tensors."""
        c2, step = self._corrections(bt, scale)
        upd = torch._foreach_div(m, self._den(v, c2))
        torch._foreach_mul_(upd, operand(step, upd))
        return upd
