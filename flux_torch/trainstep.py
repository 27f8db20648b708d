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
import math

import torch

from ._requires_grad import switch_off, switch_on
from .gradient import _check_scalar
from . import modes
from .optimise.plan import plan_for
from .optimise.updates import _step, _step_one

__all__ = ["TrainStep", "step_for", "check_finite"]


class TrainStep:
    """``step(loss, model, batch)``: ``loss(model, *batch)``, its gradient and
    ``update_(opt_state, ...)``, in place; returns the loss value (without a graph)."""

    def __init__(self, plan):
        self.plan = plan
        self.params = [it[0] for it in plan.items]

    def _loss_and_grads(self, loss, model, *batch):
        out = loss(model, *batch)
        val = _check_scalar(out[0] if isinstance(out, tuple) else out)
        if val is None:       # the loss does not depend on the parameters
            return _detached(out), (None,) * len(self.params)
        grads = torch.autograd.grad(val, self.params, allow_unused=True)
        return _detached(out), grads

    def _run(self, fn, *args, held=False):
        local = modes._local       # Dropout and BatchNorm act as inside a gradient call
        held = None if held else switch_on(self.params)   # (or the caller switched them on)
        local.depth += 1
        try:
            return fn(*args)
        finally:
            local.depth -= 1
            if held is not None:
                switch_off(held)

    def step(self, loss, model, batch, index=None, held=False):
        """One step on the tuple ``batch``; ``index`` names the batch in a NaN error; ``held``
        says that the parameters' ``requires_grad`` is already on (``train_`` without callbacks)."""
        saved = self.plan.record.save_loose(model)
        out, grads = self._run(self._loss_and_grads, loss, model, *batch, held=held)
        refuse_unless_finite(out, index, self.plan.record, model, saved)
        self._update(grads)
        return out

    def _update(self, grads):
        groups = self.plan.groups()
        if len(groups) == 1 and len(groups[0][2]) == len(grads):    # one rule, nothing frozen
            for g in grads:
                if g is None:
                    break
            else:       # every parameter has a gradient
                rule, states, ps, _, bufs = groups[0][:5]
                _step_one(rule, states, ps, grads, bufs)
                return
        todo = []
        for rule, states, ps, idx, bufs, _, _ in groups:
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
    return out


def check_finite(val, index):
    """Flux's stop: a NaN or infinite loss raises before the update, naming the batch."""
    if isinstance(val, tuple):
        val = val[0]
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
