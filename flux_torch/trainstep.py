"""``TrainStep``: one explicit-style optimisation step on a model's record.

``train_`` runs the same loss, model and state for every batch, so it does the
step directly on the model's trainable tensors, in the order of the optimiser plan
(``optimise/plan.py``, made from the record): the loss and its gradient with respect
to those tensors, a finite-loss check, and each rule's fused update. This is what
``withgradient`` + ``update_`` compute, without building the model-shaped gradient
and reading it back. A refused step (a NaN or infinite loss) changes nothing: what
the forward pass changed outside the parameters (running statistics, a recurrent
state) is put back. :class:`~flux_torch.compile.CompiledStep` adds compilation.

A step lives in the plan it was made for, so it goes with the model or the state
tree; it holds neither the model nor the loss.
"""
from functools import partial
import math
from typing import Any, Callable, Tuple

import torch

from ._requires_grad import switch_off, switch_on
from ._locks import lock_for
from .adtypes import AbstractADType
from ._backward import scalar_grad
from .gradient import _check_scalar, _first
from . import modes
from .optimise.plan import plan_for
from .optimise.updates import _step, _step_one

__all__ = ["TrainStep", "step_for", "check_finite", "trainstep_", "trainstep_withgradient_"]


class TrainStep:
    """``step(loss, model, batch)``: ``loss(model, *batch)``, its gradient and
    ``update_(opt_state, ...)``, in place; returns the loss value (without a graph)."""

    def __init__(self, plan):
        self.plan = plan
        self.params = [it[0] for it in plan.items]
        self._one = (None, None)     # (groups, the update when one rule takes every parameter)

    def gradients(self, loss, model, batch, held=False):
        """``(loss(model, *batch) detached, its gradient with respect to :attr:`params`)``, run
        as inside a gradient call (Dropout and BatchNorm act as in training); ``held`` says that
        the parameters' ``requires_grad`` is already on (``train_`` without callbacks)."""
        params = self.params
        on = None if held else switch_on(params)
        local = modes._local
        local.depth += 1
        try:
            out = loss(model, *batch)
            val = _check_scalar(_first(out))
            grads = ((None,) * len(params) if val is None
                     else scalar_grad(val, params))
        finally:
            local.depth -= 1
            if on:
                switch_off(on)
        return _detached(out), grads

    def step(self, loss, model, batch, index=None, held=False):
        """One step on the tuple ``batch``; ``index`` names the batch in a NaN error; ``held``
        says that the parameters' ``requires_grad`` is already on (``train_`` without callbacks)."""
        rec = self.plan.record
        saved = rec.save_loose(model) if rec.loose else None
        out, grads = self.gradients(loss, model, batch, held)
        if not finite(out):
            refuse_unless_finite(out, index, rec, model, saved)
        self._update(grads)
        return out

    def _update(self, grads):
        groups = self.plan.groups()
        known, one = self._one
        if known is not groups:
            one = None
            if len(groups) == 1 and len(groups[0][2]) == len(self.params):   # one rule, nothing frozen
                rule, states, ps, *_ = groups[0]
                one = partial(_step_one, rule, states, ps, matched=True)   # autograd's gradients of ps
            self._one = groups, one
        if one is not None:
            for g in grads:
                if g is None:
                    break
            else:       # every parameter has a gradient
                one(grads, groups[0][4])
                return
        todo = []
        for rule, states, ps, idx, bufs, *_ in groups:
            gs = [grads[i] for i in idx]
            if all(g is not None for g in gs):     # (not `None in gs`: that compares tensors)
                todo.append((rule, states, ps, gs, bufs))
                continue
            keep = [j for j, g in enumerate(gs) if g is not None]
            if keep:        # unused parameters (None gradients) are left alone
                todo.append((rule, [states[j] for j in keep], [ps[j] for j in keep],
                             [gs[j] for j in keep], [bufs[j] for j in keep]))
        _step(todo)


def _detached(out):
    if isinstance(out, torch.Tensor):
        return out.detach()
    if isinstance(out, tuple):
        return tuple(_detached(o) for o in out)
    if isinstance(out, dict):
        return {k: _detached(v) for k, v in out.items()}
    return out


def finite(val):
    """Whether the loss of ``val`` (a loss, or a tuple or dict whose first entry is the loss)
    is finite."""
    val = _first(val)
    return math.isfinite(val.item() if isinstance(val, torch.Tensor) else val)


def check_finite(val, index):
    """Flux's stop: a NaN or infinite loss raises before the update, naming the batch."""
    val = _first(val)
    v = val.item() if isinstance(val, torch.Tensor) else val
    if not math.isfinite(v):
        where = "" if index is None else f" on data item {index} (counting from 0)"
        raise FloatingPointError(f"Loss is {v}{where}, stopping training; the model was not "
                                 "changed by this item (parameters, optimiser state and running "
                                 "statistics are as before it)")


def refuse_unless_finite(out, index, rec, model, saved):
    """:func:`check_finite`, putting back what the forward pass changed when the step is refused."""
    try:
        check_finite(out, index)
    except FloatingPointError:
        rec.restore_loose(model, saved)
        raise


def step_for(model, opt_state, make=TrainStep):
    """The step for this model and state, made once by ``make`` and kept in their plan."""
    plan = plan_for(opt_state, model)
    steps = plan.steps
    step = steps.get(make)
    if step is None:
        step = steps[make] = make(plan)
    return step


def trainstep_(loss: Callable[..., Any], *args: Any) -> Any:
    """One optimisation step, in place: ``trainstep_(loss, [adtype,] model, batch, opt_state)``
    (Flux v0.16's ``trainstep!``). Returns the loss value.

    A tuple ``batch`` is spread into ``loss(model, *batch)``; anything else is passed as one
    argument. The loss may return auxiliary outputs, ``(loss, aux...)`` or a dict whose first
    value is the loss: the gradient is of that first entry and the whole value is returned. A
    NaN or infinite loss skips the update and leaves the model as it was (running statistics
    included); ``train_`` turns that into an error. ``adtype`` (``AutoZygote()``...) is accepted
    and means torch's autograd.

    >>> from flux_torch.optimise import Descent
    >>> model = Dense(torch.tensor([[1.0]]), torch.tensor([0.0]))
    >>> state = setup(Descent(0.05), model)
    >>> batch = (torch.tensor([[2.0]]), torch.tensor([[8.0]]))
    >>> trainstep_(lambda m, x, y: ((m(x) - y) ** 2).mean(), model, batch, state)
    tensor(36.)
    >>> model.weight, model.bias
    (tensor([[2.2000]]), tensor([0.6000]))
    """
    return _trainstep("trainstep_", loss, args, with_gradient=False)


def trainstep_withgradient_(loss: Callable[..., Any], *args: Any) -> Tuple[Any, Any]:
    """:func:`trainstep_` that also returns the gradient of the model: ``(val, grad)``
    (Flux v0.16's ``trainstep_withgradient!``).

    >>> from flux_torch.optimise import Descent
    >>> model = Dense(torch.tensor([[1.0]]), torch.tensor([0.0]))
    >>> state = setup(Descent(0.05), model)
    >>> val, grad = trainstep_withgradient_(lambda m, x: (m(x).sum(), "aux"), model, torch.tensor([[2.0]]), state)
    >>> val, grad.weight, model.weight
    ((tensor(2.), 'aux'), tensor([[2.]]), tensor([[0.9000]]))
    """
    return _trainstep("trainstep_withgradient_", loss, args, with_gradient=True)


def _trainstep(name, loss, args, with_gradient):
    if args and isinstance(args[0], AbstractADType):
        args = args[1:]
    if len(args) != 3:
        raise TypeError(f"{name} takes (loss, [adtype,] model, batch, opt_state), but got {len(args) + 1} "
                        "arguments; pass one batch, e.g. (x, y), and the state from setup(rule, model)")
    model, batch, opt_state = args
    batch = batch if isinstance(batch, tuple) else (batch,)
    with lock_for(model):
        step = step_for(model, opt_state)
        rec = step.plan.record
        saved = rec.save_loose(model) if rec.loose else None
        out, grads = step.gradients(loss, model, batch)
        if finite(out):
            step._update(grads)
        else:           # Flux skips the update; here the forward pass's changes go too
            rec.restore_loose(model, saved)
        if with_gradient:
            return out, rec.mirror(model, grads)
        return out
