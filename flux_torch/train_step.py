"""``TrainStep``: one explicit-style optimisation step on a model's recorded walk.

``train_`` runs the same loss, model and state for every batch, so it does the
step directly on the model's trainable tensors, in the order of the optimiser
plan (``optimise/plan.py``, made from ``_flat``): the loss and its gradient with
respect to those tensors, a finite-loss check, and each rule's fused update.
This is what ``withgradient`` + ``update_`` compute, without building the
model-shaped gradient and reading it back. :class:`~flux_torch.compile.CompiledStep`
adds compilation on top.
"""
import math

import torch

from . import _mode
from ._grad import _check_scalar
from .optimise.plan import plan_for
from .optimise.update import _step, _step_one

__all__ = ["TrainStep", "step_for"]


class TrainStep:
    """``step(batch)``: ``loss(model, *batch)``, its gradient and ``update_(opt_state, ...)``,
    in place; returns the loss value (what ``loss`` returned, without a graph)."""

    def __init__(self, loss, model, opt_state):
        self.loss, self.model, self.opt_state = loss, model, opt_state
        self._plan = self._params = None

    def _refresh(self):
        plan = plan_for(self.opt_state, self.model)
        if plan is not self._plan:      # new model structure: new parameters and groups
            self._plan, self._params = plan, [it[0] for it in plan.items]
        return plan

    def _loss_and_grads(self, *batch):
        out = self.loss(self.model, *batch)
        val = _check_scalar(out[0] if isinstance(out, tuple) else out)
        if val is None:       # the loss does not depend on the parameters
            return _detached(out), (None,) * len(self._params)
        grads = torch.autograd.grad(val, self._params, allow_unused=True)
        return _detached(out), grads

    def _run(self, fn, batch):
        toggled = [p for p in self._params if not p.requires_grad]
        for p in toggled:
            p.requires_grad_(True)
        _mode._depth[0] += 1        # Dropout and BatchNorm act as inside a gradient call
        try:
            return fn(*batch)
        finally:
            _mode._depth[0] -= 1
            for p in toggled:
                p.requires_grad_(False)

    def __call__(self, *batch):
        return self.step(batch)

    def step(self, batch, index=None):
        """One step on the tuple ``batch``; ``index`` names the batch in a NaN error."""
        self._refresh()
        out, grads = self._run(self._loss_and_grads, batch)
        check_finite(out, index)
        self._update(grads)
        return out

    def _update(self, grads):
        groups = self._plan.groups()
        if len(groups) == 1 and len(groups[0][2]) == len(grads):    # one rule, nothing frozen
            for g in grads:
                if g is None:
                    break
            else:       # every parameter has a gradient
                rule, states, ps, _, bufs = groups[0][:5]
                _step_one(rule, states, ps, grads, bufs)
                return
        groups = []
        for rule, states, ps, idx, bufs, _, _ in self._plan.groups():
            gs = [grads[i] for i in idx]
            if all(g is not None for g in gs):     # (not `None in gs`: that compares tensors)
                groups.append((rule, states, ps, gs, bufs))
                continue
            keep = [j for j, g in enumerate(gs) if g is not None]
            if keep:        # unused parameters (None gradients) are left alone
                groups.append((rule, [states[j] for j in keep], [ps[j] for j in keep],
                               [gs[j] for j in keep], [bufs[j] for j in keep]))
        _step(groups)


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
        raise FloatingPointError(f"Loss is {v}{where}, stopping training; the parameters were "
                                 "not updated with this item")


_STEPS = {}     # the steps train_ made, to reuse in the next epoch
_LAST = [None]  # the step of the last call


def step_for(loss, model, opt_state, make=TrainStep):
    """The step for this loss, model and state, made once by ``make`` and reused.

    A loss written as a lambda inside the epoch loop is a new object every epoch,
    so it is known by its code and the objects it closes over.
    """
    last = _LAST[0]
    if (last is not None and last.loss is loss and last.model is model
            and last.opt_state is opt_state and type(last) is make):
        return last         # the same call as the last one (train_ on one batch at a time)
    code = getattr(loss, "__code__", None)
    cells = tuple(id(c.cell_contents) for c in (getattr(loss, "__closure__", None) or ()))
    key = (make, id(model), id(opt_state), code if code is not None else id(loss), cells)
    entry = _STEPS.get(key)
    if entry is not None and entry.model is model and entry.opt_state is opt_state:
        entry.loss = loss
    else:
        if len(_STEPS) >= 16:
            del _STEPS[next(iter(_STEPS))]
        entry = _STEPS[key] = make(loss, model, opt_state)
    _LAST[0] = entry
    return entry
