"""An optimiser update as a pure function of tensors, for a compiled training step.

``compile_step`` traces the loss, its gradient and the update into one graph. Inside
the graph the update changes nothing: each rule runs its own code (``apply_`` or
``apply``, the eager step's code) on copies of the parameters and of their optimiser
state, which ``torch.compile`` turns into new tensors, and the step copies the new
values in only once the loss has been found finite. The Python numbers a state keeps
(Adam's ``[β1ᵗ, β2ᵗ]``, RAdam's step count) go into the graph as one float64 vector
made each step, as 0-d tensors, so that the graph does not depend on their values and
is not compiled again when they change; their new values come out as one vector and
are written back into the state's own lists, as Python numbers of their own type.

A rule joins the graph when its code is known to trace as one graph (:func:`traceable`):
the rules of ``optimise/rules.py``, ``adam.py`` and ``modifiers.py``, except ``AccumGrad``
(whether it steps at all depends on its count) and ``ClipNorm(throw=True)`` (which
raises on the gradient's values), and chains of such rules.
"""
import torch

from .adam import AdaBelief, AdaMax, Adam, AdamW, AMSGrad, Lion, NAdam, OAdam, RAdam
from .mixed_precision import MixedPrecision
from .modifiers import ClipGrad, ClipNorm, OptimiserChain, SignDecay, WeightDecay
from .rules import AdaDelta, AdaGrad, Descent, Momentum, Nesterov, RMSProp, Rprop

__all__ = ["traceable", "GraphUpdate"]

_TRACEABLE = {Descent, Momentum, Nesterov, RMSProp, Rprop, AdaGrad, AdaDelta, Adam, RAdam, AdaMax,
              AMSGrad, NAdam, AdamW, OAdam, AdaBelief, Lion, WeightDecay, SignDecay, ClipGrad}


def traceable(rule):
    """True when ``rule``'s update is known to trace as one graph, with its Python numbers as
    0-d tensors. A rule of the user's own class is not assumed to (its update runs eagerly).

    >>> traceable(Adam()), traceable(OptimiserChain(ClipGrad(1.0), Momentum())), traceable(ClipNorm())
    (True, True, False)
    """
    kind = type(rule)
    if kind is OptimiserChain:
        return all(traceable(r) for r in rule.opts)
    if kind is MixedPrecision:
        return traceable(rule.rule)
    if kind is ClipNorm:
        return not rule.throw
    return kind in _TRACEABLE


_LITERALS = (type(None), bool, int, float, str)


def _is_numbers(x):
    return type(x) is list and bool(x) and all(type(v) in (int, float) for v in x)


class GraphUpdate:
    """The update of a plan's groups (``Plan.groups()``) as a pure function.

    ``fn(grads, numbers, params, tensors, rules)`` (traced; ``tensors`` is :attr:`tensors`,
    ``rules`` :attr:`rules`) takes the gradients of ``params`` and the vector of numbers
    and gives the new parameters and state tensors, in the order of :attr:`dests`, and the
    new numbers. Where each state's tensors and numbers sit is written into ``fn``'s code
    as a constant (``torch.compile`` then checks nothing about it on each call), and the
    traced code never reads the states' numbers themselves (the graph would then depend on
    their values). :meth:`numbers` makes the vector from the states, :meth:`commit` copies
    the new values in. ``GraphUpdate.of(groups)`` is None when a rule or a state cannot go
    into a graph.
    """

    def __init__(self, groups):
        self.lists, self._count = [], 0     # the states' lists of numbers; how many numbers
        self.tensors, self.rules = [], []
        layout, params = [], []
        for rule, states, ps, idx, *_ in groups:
            layout.append((len(self.rules), tuple(idx), tuple(self._layout(s) for s in states)))
            self.rules.append(rule)
            params += ps
        self.rules = tuple(self.rules)
        self.dests = params + self.tensors       # what the new values are copied into, in order
        self.device = params[0].device if params else None
        self._parts, self._types, k = [], [], 0     # each list's slice of the numbers; (list, entry
        for lst in self.lists:                      # types) of those holding other than floats
            self._parts.append(slice(k, k + len(lst)))
            k += len(lst)
            types = [type(v) for v in lst]
            if not all(t is float for t in types):
                self._types.append((lst, types))
        self.fn = _define(tuple(layout))
        self._written = self._vector = None     # the numbers the last step wrote, list by list, and as a tensor

    @classmethod
    def of(cls, groups):
        """The update of ``groups``, or None when a rule is not :func:`traceable` or a state holds
        something other than tensors, lists of numbers, tuples and plain constants."""
        if not all(traceable(g[0]) for g in groups):
            return None
        try:
            return cls(groups)
        except TypeError:
            return None

    def _layout(self, state):
        if isinstance(state, torch.Tensor):
            self.tensors.append(state)
            return ("t", len(self.tensors) - 1)
        if _is_numbers(state):
            self.lists.append(state)
            self._count += len(state)
            return ("n", self._count - len(state), len(state))
        if type(state) is tuple:
            return ("tuple", tuple(self._layout(s) for s in state))
        if type(state) in _LITERALS:
            return ("c", state)
        raise TypeError(f"a state holding {type(state).__name__} does not go into a graph")

    def numbers(self):
        """The states' numbers now, as one float64 tensor on the parameters' device, with one
        more entry at the end, unused (None when they keep none): the vector the last step gave
        back, whose last entry is its loss, when they are still its values."""
        if not self.lists:
            return None
        if self.lists == self._written:       # (one comparison of the lists, in C)
            return self._vector
        values = [v for lst in self.lists for v in lst]
        values.append(0.0)
        return torch.tensor(values, dtype=torch.float64, device=self.device)

    def commit(self, new, numbers, vector=None):
        """Copy the new values in: ``new`` from ``fn`` (None when the graph wrote them itself),
        ``numbers`` a list starting with its numbers, ``vector`` a tensor starting with them to
        reuse in the next step, as :meth:`numbers` gives it (or None)."""
        if new is not None:
            torch._foreach_copy_(self.dests, new)
        if self.lists:
            written = list(map(numbers.__getitem__, self._parts))
            for lst, values in zip(self.lists, written):
                lst[:] = values
            if self._types:             # a list holding other than floats: each entry its own type
                for (lst, types), values in zip(self._types, written):
                    lst[:] = [t(v) for t, v in zip(types, values)]
                written = [lst[:] for lst in self.lists]
            if vector is not None:
                self._written, self._vector = written, vector


def _define(layout):
    """``fn(grads, numbers, params, tensors, rules)``: :func:`_update` with ``layout`` in its code."""
    source = ("def fn(grads, numbers, params, tensors, rules):\n"
              f"    return update({layout!r}, grads, numbers, params, tensors, rules)\n")
    env = {"update": _update}
    exec(compile(source, "<flux_torch graph update>", "exec"), env)
    return env["fn"]


def _update(layout, grads, numbers, params, tensors, rules):
    """(Traced.) The update described by ``layout``: per group ``(rule index, parameter indices,
    leaf layouts)``. A parameter whose gradient is ``None`` (the loss does not use it) keeps its
    values and its state."""
    vals = None if numbers is None else numbers.clone()
    groups = []
    for r, idx, leaves in layout:
        keep = [j for j, i in enumerate(idx) if grads[i] is not None]
        groups.append((rules[r], idx, [_shadow(lay, vals, tensors) for lay in leaves], keep))
    live = [k for k, g in enumerate(groups) if g[3]]
    new = {}
    for k in live:
        rule, idx, shadows, keep = groups[k]
        sts = [shadows[j] for j in keep]
        xs = [params[idx[j]] for j in keep]
        gs = [grads[idx[j]] for j in keep]
        if len(live) == 1:      # one rule: its fused apply_, as the eager step takes it
            xs = [x.clone() for x in xs]
            rule.apply_(sts, xs, gs)
            new[k] = xs
        else:                   # several: each rule's apply, then the subtraction
            new[k] = torch._foreach_sub(xs, rule.apply(sts, xs, gs))
    out, nums = [], []
    for k, (_, idx, _, keep) in enumerate(groups):
        at = {j: n for n, j in enumerate(keep)}
        out += [new[k][at[j]] if j in at else params[i] for j, i in enumerate(idx)]
    for (_, _, leaves), g in zip(layout, groups):
        for lay, shadow in zip(leaves, g[2]):
            _collect(lay, shadow, out, nums)
    return out, (torch.stack(nums) if nums else None)


def _shadow(lay, vals, tensors):
    """A copy of one leaf's state for the traced update: tensors cloned, numbers as 0-d tensors."""
    tag = lay[0]
    if tag == "t":
        return tensors[lay[1]].clone()
    if tag == "n":
        return [vals[k] for k in range(lay[1], lay[1] + lay[2])]
    if tag == "c":
        return lay[1]
    return tuple(_shadow(x, vals, tensors) for x in lay[1])


def _collect(lay, shadow, tensors, numbers):
    """The state tensors and the numbers of one leaf's ``shadow`` (after the update), in the
    order of its layout ``lay``."""
    tag = lay[0]
    if tag == "t":
        tensors.append(shadow)
    elif tag == "n":
        numbers += shadow
    elif tag == "tuple":
        for a, b in zip(lay[1], shadow):
            _collect(a, b, tensors, numbers)
