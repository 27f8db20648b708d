"""``compile_step``: a training step whose forward and backward are compiled once.

The loss and its gradient with respect to every trainable tensor are traced by
``torch.compile`` into one graph (forward and backward together); the update is
the optimiser's fused ``_foreach`` code, run eagerly on the gradients it returns.
On CUDA the compiled graph is replayed as a CUDA graph (``mode="reduce-overhead"``)
while the batch shapes stay those of the first batch; a batch of another shape
(the odd-sized last one) takes the eager step instead of recompiling.

A compiled step is never silently slower than eager: the first few steps
alternate between the compiled and the eager step and time both, and the
faster one is kept. Either way the results are the same up to float rounding.
"""
import logging
import statistics
import time
import warnings
import weakref
from typing import Any, Callable, Optional

import torch

from ._locks import lock_for
from ._requires_grad import switch_off, switch_on
from . import modes
from .functors import fmap
from .gradient import _check_scalar
from .optimise.plan import plan_for
from .trainstep import TrainStep, _detached, refuse_unless_finite
from ._types import Model

__all__ = ["compile_step", "CompiledStep", "CompiledTrainStep"]

_log = logging.getLogger("flux_torch")

_WARMUP = 2     # steps of each kind run before timing (lazy set-up, first replays)
_TRIALS = 8     # steps of each kind timed before choosing


class CompiledTrainStep(TrainStep):
    """A :class:`TrainStep` whose loss and gradient are compiled by ``torch.compile``.

    It lives in the optimiser plan (so ``train_(compile=True)`` compiles once for many
    epochs) and holds the model only weakly; ``compile_time`` is the seconds the first
    call spent compiling, ``choice`` which kind of step is used once decided
    (``"compiled"`` or ``"eager"``), and ``report()`` gives both timings.
    """

    def __init__(self, plan, *, mode=None, verbose=False, dynamic=False):
        super().__init__(plan)
        self.verbose, self.compile_time, self.choice = verbose, None, None
        # the compile time and the choice go to the "flux_torch" logger at INFO; verbose=True
        # raises them to WARNING, which Python shows on stderr with no logging set up
        self._level = logging.WARNING if verbose else logging.INFO
        self._shapes = None
        self._times = {"compiled": [], "eager": []}
        if mode is None and any(p.is_cuda for p in self.params):
            mode = "reduce-overhead"
        self._cudagraphs = mode == "reduce-overhead"
        self._options = dict(mode=mode, dynamic=dynamic, fullgraph=False)
        self._fns = {}      # the loss's code and closure cells -> (groups, compiled fn, fused)

    def _compiled_fn(self, loss, model):
        """The compiled function for this loss and the current rule groups, made when they change.

        It closes over the loss, the model (weakly), the parameters and (for a stateless rule
        that updates everything, e.g. Descent) the rule, so its guards are few and a new lambda
        for the same loss in the next epoch does not recompile. With such a rule the
        update joins the graph and the new values come out; a NaN loss still changes
        nothing, as they are copied in only after the check.
        """
        groups = self.plan.groups()
        key = (getattr(loss, "__code__", loss),
               tuple(id(c) for c in (getattr(loss, "__closure__", None) or ())))
        hit = self._fns.get(key)
        if hit is not None and hit[0] is groups:
            return hit[1], hit[2]
        params = self.params
        model_ref = _ref(model)
        fused = len(groups) == 1 and all(st == () for st in groups[0][1])

        def loss_and_grads(*batch):
            out = loss(model_ref(), *batch)
            val = _check_scalar(out[0] if isinstance(out, tuple) else out)
            grads = ((None,) * len(params) if val is None
                     else torch.autograd.grad(val, params, allow_unused=True))
            return _detached(out), grads

        def loss_and_new(*batch):
            out, grads = loss_and_grads(*batch)
            with torch.no_grad():
                gs = [torch.zeros_like(p) if grads[i] is None else grads[i] for p, i in zip(ps, idx)]
                new = torch._foreach_sub(ps, rule.apply(states, ps, gs))
            return out, new

        if fused:
            rule, states, ps, idx = groups[0][:4]
        fn = torch.compile(_fresh_code(loss_and_new if fused else loss_and_grads), **self._options)
        self._fns[key] = (groups, fn, fused)
        return fn, fused

    def _compiled_call(self, fn, batch):
        # torch.autograd.grad is traced only with this switch; set and restored around the
        # call (config.patch costs ~40 µs a call, more than a small model's whole step)
        config = torch._dynamo.config
        old = config.trace_autograd_ops
        config.trace_autograd_ops = True
        try:
            if self._cudagraphs:
                torch.compiler.cudagraph_mark_step_begin()
            out, rest = self._run(fn, *batch)
        finally:
            config.trace_autograd_ops = old
        if self._cudagraphs:        # outputs live in the graph's memory until the next replay
            out = fmap(lambda t: t.clone() if isinstance(t, torch.Tensor) else t, out)
            rest = [t.clone() if isinstance(t, torch.Tensor) else t for t in rest]
        return out, rest

    def _run(self, fn, *args):
        local = modes._local       # Dropout and BatchNorm act as inside a gradient call
        held = switch_on(self.params)
        local.depth += 1
        try:
            return fn(*args)
        finally:
            local.depth -= 1
            switch_off(held)

    def _same_shapes(self, batch):
        shapes = [b.shape if isinstance(b, torch.Tensor) else None for b in batch]
        if self._shapes is None:
            self._shapes = shapes
        return shapes == self._shapes

    def step(self, loss, model, batch, index=None):
        """One step on the tuple ``batch``; ``index`` names the batch in a NaN error."""
        kind = "eager"
        if self._same_shapes(batch) and self.choice != "eager":
            if self.compile_time is None or self.choice == "compiled":
                kind = "compiled"
            else:      # still choosing: alternate
                done = self._times
                kind = "compiled" if len(done["compiled"]) <= len(done["eager"]) else "eager"
        start = time.perf_counter()
        rec = self.plan.record
        saved = rec.save_loose(model)
        if kind == "compiled":
            try:
                fn, fused = self._compiled_fn(loss, model)
                out, rest = self._compiled_call(fn, batch)
            except Exception as err:     # noqa: BLE001 (a compiler's failure has no one type)
                if self.compile_time is not None:
                    raise
                # the first call failed and changed nothing: an error of the loss itself comes
                # back from the eager step; if that step works, the compiler was the trouble
                rec.restore_loose(model, saved)
                self._shapes = None         # not the shapes to compile for, if it was the batch
                out = TrainStep.step(self, loss, model, batch, index)
                self._give_up(err)
                return out
            refuse_unless_finite(out, index, rec, model, saved)
            if fused:        # the new parameter values (no graph: params are plain again)
                torch._foreach_copy_(self.plan.groups()[0][2], rest)
            else:
                self._update(rest)
        else:
            out, grads = self.gradients(loss, model, batch)
            refuse_unless_finite(out, index, rec, model, saved)
            self._update(grads)
        self._time(kind, start, out[0] if isinstance(out, tuple) else out)
        return out

    def _give_up(self, err):
        """Use the eager step from now on, saying why: torch.compile could not compile this
        loss (a backend missing, an op it does not trace)."""
        self.choice = "eager"
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        warnings.warn(f"compile_step: torch.compile could not compile this step ({type(err).__name__}: "
                      f"{first[:200]}); training continues with the eager step, which gives the "
                      f"same results", RuntimeWarning, stacklevel=5)

    def _time(self, kind, start, val):
        if self.choice is not None:
            return
        if val.is_cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if self.compile_time is None and kind == "compiled":
            self.compile_time = elapsed
            _log.log(self._level, "compile_step: compiled in %.1f s", elapsed)
            return
        if self.compile_time is None:
            return
        self._times[kind].append(elapsed)
        if min(len(t) for t in self._times.values()) >= _WARMUP + _TRIALS:
            fast, slow = (statistics.median(self._times[k][_WARMUP:]) for k in ("compiled", "eager"))
            self.choice = "compiled" if fast <= slow else "eager"
            _log.log(self._level, "compile_step: %s", self.report())

    def report(self):
        """A line with the compile time, the median step times and the choice made."""
        med = {k: statistics.median(v[_WARMUP:] or v) * 1e6 for k, v in self._times.items() if v}
        parts = [f"compile {self.compile_time:.1f} s" if self.compile_time is not None else
                 "not compiled yet"]
        parts += [f"{k} step {v:.0f} µs" for k, v in med.items()]
        if self.choice:
            parts.append(f"using the {self.choice} step")
        return ", ".join(parts)


def _ref(model):
    """A weak reference to ``model`` (a plain container, which takes none, is held)."""
    try:
        return weakref.ref(model)
    except TypeError:
        return lambda: model


def _fresh_code(fn):
    """``fn`` with a code object of its own, so torch.compile's cache of one model's step is not
    shared with (and does not fill up with) the steps of other models."""
    fn.__code__ = fn.__code__.replace()
    return fn


class CompiledStep:
    """One optimisation step, ``loss(model, *batch)`` then ``update_``, compiled.

    Made by :func:`compile_step`; calling it with a batch does the step in place
    and returns the loss (a 0-d tensor). ``compile_time`` is the seconds the
    first call spent compiling; ``choice`` says which kind of step is used, once
    decided (``"compiled"`` or ``"eager"``), and ``report()`` gives both timings.
    """

    def __init__(self, loss, model, opt_state, *, mode=None, verbose=False, dynamic=False):
        self.loss, self.model, self.opt_state = loss, model, opt_state
        self._options = dict(mode=mode, verbose=verbose, dynamic=dynamic)
        self._inner = CompiledTrainStep(plan_for(opt_state, model), **self._options)

    def __call__(self, *batch):
        return self.step(batch)

    def step(self, batch, index=None):
        """One step on the tuple ``batch``; ``index`` names the batch in a NaN error."""
        with lock_for(self.model):
            plan = plan_for(self.opt_state, self.model)
            if plan is not self._inner.plan:        # the model changed: compile for the new one
                self._inner = CompiledTrainStep(plan, **self._options)
            return self._inner.step(self.loss, self.model, batch, index)

    @property
    def compile_time(self):
        return self._inner.compile_time

    @property
    def choice(self):
        return self._inner.choice

    def report(self):
        """A line with the compile time, the median step times and the choice made."""
        return self._inner.report()

    def __repr__(self):
        return f"CompiledStep({self.report()})"


def compile_step(loss: Callable[..., Any], model: Model, opt_state: Any, *, mode: Optional[str] = None,
                 verbose: bool = False) -> CompiledStep:
    """A reusable compiled training step for hand-written loops.

    ``step = compile_step(loss, model, opt_state)`` then ``step(x, y)`` computes
    ``loss(model, x, y)``, its gradient and the update of ``update_(opt_state, model,
    grad)``, in place, and returns the loss. The forward and backward pass are
    compiled together by ``torch.compile`` (CUDA graphs on a GPU); the first call
    compiles (``step.compile_time``), and the first steps time the compiled step
    against the eager one and keep the faster (``step.choice``). A NaN or infinite
    loss raises ``FloatingPointError`` before the update. If ``torch.compile`` cannot
    compile the step, a ``RuntimeWarning`` says why and the eager step is used from then
    on. ``mode`` is passed to ``torch.compile``. The compile time and the choice are
    logged to the ``logging`` logger ``"flux_torch"``: at INFO level, or at WARNING with
    ``verbose=True``, which Python shows on stderr when logging is not set up.

    >>> import flux_torch as Flux
    >>> model = Flux.Chain(Flux.Dense(2, 3, Flux.relu), Flux.Dense(3, 1))
    >>> opt_state = Flux.setup(Flux.Descent(0.1), model)
    >>> step = Flux.compile_step(lambda m, x, y: ((m(x) - y) ** 2).mean(), model, opt_state)
    >>> x, y = torch.rand(8, 2), torch.rand(8, 1)
    >>> losses = [float(step(x, y)) for _ in range(20)]
    >>> losses[-1] < losses[0]
    True
    """
    return CompiledStep(loss, model, opt_state, mode=mode, verbose=verbose)
