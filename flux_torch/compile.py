"""``compile_step``: a training step compiled once, forward, backward and update together.

The loss, its gradient with respect to every trainable tensor and the optimiser's update
are traced by ``torch.compile`` into one graph. The update inside the graph is each rule's
own code run on copies (``optimise/graph.py``): the graph returns the new parameters and
optimiser state, which are copied in only once the loss has been found finite, so a
refused step changes nothing. A rule whose code is not known to trace (``AccumGrad``, a
rule class of the user's own) runs its update eagerly on the gradients the graph returns,
and so does every rule once the rules change after the first compilation (``adjust_`` in
a learning-rate schedule, ``freeze_``): a graph with the update in it would be compiled
again for each new value, a graph of the gradients never is.
On CUDA the graph is replayed as a CUDA graph (``mode="reduce-overhead"``) while the batch
shapes stay those of the first batch; a batch of another shape (the odd-sized last one)
takes the eager step instead of compiling again.

A compiled step is never silently slower than eager: the first few steps alternate
between the compiled and the eager step and time both, and the faster one is kept.
Either way the results are the same up to float rounding.
"""
import logging
import math
import statistics
import time
import warnings
import weakref
from typing import Any, Callable, Optional

import torch

from ._compiled_fn import compile_options, compiled_step_fn
from ._locks import lock_for
from ._requires_grad import switch_off, switch_on
from . import modes
from .optimise.graph import GraphUpdate
from .optimise.plan import plan_for
from .functors import fmap
from .trainstep import TrainStep, finite, refuse_unless_finite
from ._types import Model

__all__ = ["compile_step", "CompiledStep", "CompiledTrainStep"]

_log = logging.getLogger("flux_torch")

_WARMUP = 2     # steps of each kind run before timing (lazy set-up, first replays)
_TRIALS = 8     # steps of each kind timed before choosing


class _Compiled:
    """One compiled step: for one loss (its code and closure cells) and one grouping of the
    plan's leaves by rule; ``update`` is None when the update runs eagerly."""

    __slots__ = ("key", "groups", "fn", "update", "ran")

    def __init__(self, key, groups, fn, update):
        self.key, self.groups, self.fn, self.update, self.ran = key, groups, fn, update, False


def _key(loss):
    """What identifies a loss across epochs: its code and closure cells (a new lambda with the
    same code and cells is the same loss, and is not compiled again)."""
    cells = getattr(loss, "__closure__", None)
    return getattr(loss, "__code__", loss), (tuple(map(id, cells)) if cells else ())


def _weak(f):
    """A weak reference to the function ``f``, or None when it takes none."""
    try:
        return weakref.ref(f)
    except TypeError:
        return None


class CompiledTrainStep(TrainStep):
    """A :class:`TrainStep` compiled by ``torch.compile``: loss, gradient and update in one graph.

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
        # inductor's C++ wrapper for a step on the CPU, until a compilation fails with it
        self._cpu = all(p.device.type == "cpu" for p in self.params)
        # dynamic=False would patch dynamo's config around every call (a few µs); None compiles
        # for static shapes all the same, and a batch of other shapes never reaches the graph
        self._mode, self._dynamic = mode, dynamic or None
        self._fns = {}          # _key(loss) -> _Compiled
        self._last = None       # the _Compiled used last
        self._loss_ref = None   # a weak reference to the loss it was used with

    def _compiled(self, loss, model):
        """The compiled step for this loss and the plan's current grouping, made when either
        changes (the caller has found that the last one is not it)."""
        groups, key = self.plan.groups(), _key(loss)
        hit = self._fns.get(key)
        if hit is None:
            update = GraphUpdate.of(groups)
            fn = compiled_step_fn(loss, model, self.params, update, in_place=not self._cudagraphs)
            hit = self._fns[key] = _Compiled(key, groups, self._compile(fn), update)
        elif hit.groups is not groups:
            # the rules changed (adjust_ with a schedule, freeze_): a graph with the update in it
            # would be compiled again for each new value, so from now on the graph gives the
            # gradients, which need no new graph, and the update runs eagerly
            fn = hit.fn if hit.update is None else self._compile(
                compiled_step_fn(loss, model, self.params, None))
            hit = self._fns[key] = _Compiled(key, groups, fn, None)
        self._last, self._loss_ref = hit, _weak(loss)
        return hit

    def _compile(self, fn):
        options = compile_options(self._mode, cpu=self._cpu)    # a new dict each time: torch.compile pops from it
        if options is None:
            return torch.compile(fn, mode=self._mode, dynamic=self._dynamic)
        return torch.compile(fn, options=options, dynamic=self._dynamic)

    def _same_loss(self, loss, entry):
        """Whether ``loss`` is the loss ``entry`` was compiled for: the very function of the last
        step (one weak reference, no key to make), or one with its code and closure cells."""
        ref = self._loss_ref
        if ref is not None and ref() is loss:
            return True
        if entry.key != _key(loss):
            return False
        self._loss_ref = _weak(loss)
        return True

    def _same_shapes(self, batch):
        shapes = [b.shape if isinstance(b, torch.Tensor) else None for b in batch]
        if self._shapes is None:
            self._shapes = shapes
        return shapes == self._shapes

    def step(self, loss, model, batch, index=None):
        """One step on the tuple ``batch``; ``index`` names the batch in a NaN error."""
        choice = self.choice
        if choice == "eager" or not self._same_shapes(batch):
            return TrainStep.step(self, loss, model, batch, index)
        if choice == "compiled":
            return self._compiled_step(loss, model, batch, index)
        done = self._times      # still choosing: alternate, and time both
        kind = ("compiled" if self.compile_time is None or len(done["compiled"]) <= len(done["eager"])
                else "eager")
        start = time.perf_counter()
        if kind == "eager":
            out = TrainStep.step(self, loss, model, batch, index)
        else:
            out = self._compiled_step(loss, model, batch, index)
            if self.choice == "eager":      # it could not be compiled
                return out
        self._time(kind, start, out[0] if isinstance(out, tuple) else out)
        return out

    def _compiled_step(self, loss, model, batch, index):
        rec = self.plan.record
        saved = rec.save_loose(model) if rec.loose else None
        entry = self._last      # the step of last time, unless the loss or the rules changed
        if entry is None or entry.groups is not self.plan.groups() or not self._same_loss(loss, entry):
            entry = self._compiled(loss, model)
        update = entry.update
        numbers = None if update is None else update.numbers()
        params = self.params
        on = switch_on(params)
        local = modes._local        # Dropout and BatchNorm act as inside a gradient call
        local.depth += 1
        try:
            if self._cudagraphs:
                torch.compiler.cudagraph_mark_step_begin()
            out, new, head = entry.fn(batch, numbers)
        except Exception as err:     # noqa: BLE001 (a compiler's failure has no one type)
            if entry.ran:
                raise
            # its first call failed and changed nothing: an error of the loss itself comes back
            # from the eager step; if that step works, the compiler was the trouble
            if saved is not None:
                rec.restore_loose(model, saved)
            self._shapes = None         # not the shapes to compile for, if it was the batch
            out = TrainStep.step(self, loss, model, batch, index)
            if self._cpu:       # inductor's C++ wrapper may be what failed: try once without it
                self._cpu, self._fns, self._last = False, {}, None
                _log.info("compile_step: compiling again without the C++ wrapper (%s: %s)",
                          type(err).__name__, str(err).strip()[:200])
            else:
                self._give_up(err)
            return out
        finally:
            local.depth -= 1
            switch_off(on)
        if not entry.ran:
            entry.ran = True
        if self._cudagraphs:        # outputs live in the graph's memory until the next replay
            out = fmap(lambda t: t.clone() if isinstance(t, torch.Tensor) else t, out)
        if update is None or head is None:      # the update runs eagerly (or there is none)
            if not finite(out):
                refuse_unless_finite(out, index, rec, model, saved)
            self._update(new if new is not None else (None,) * len(params))
            return out
        values = head.tolist()
        if not math.isfinite(values[-1]):
            refuse_unless_finite(out, index, rec, model, saved)
        update.commit(new, values, None if self._cudagraphs else head)
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
        if isinstance(val, torch.Tensor) and val.is_cuda:
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
        self._lock = lock_for(model)        # the model's, for as long as the step holds the model

    def __call__(self, *batch):
        return self.step(batch)

    def step(self, batch, index=None):
        """One step on the tuple ``batch``; ``index`` names the batch in a NaN error."""
        model = self.model
        with self._lock:
            plan = plan_for(self.opt_state, model)
            inner = self._inner
            if plan is not inner.plan:        # the model changed: compile for the new one
                inner = self._inner = CompiledTrainStep(plan, **self._options)
            return inner.step(self.loss, model, batch, index)

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
    grad)``, in place, and returns the loss. The forward pass, the backward pass and the
    optimiser's update (for every built-in rule but ``AccumGrad``) are compiled together
    by ``torch.compile`` (CUDA graphs on a GPU); the first call compiles
    (``step.compile_time``), and the first steps time the compiled step against the eager
    one and keep the faster (``step.choice``). A NaN or infinite loss raises
    ``FloatingPointError`` before anything changes. If ``torch.compile`` cannot compile
    the step, a ``RuntimeWarning`` says why and the eager step is used from then on.
    ``mode`` is passed to ``torch.compile`` (on the CPU with inductor's C++ wrapper, and compiled
    again without it should that fail). The compiled step re-checks on each call what the
    loss reads of the user's own (its globals, the model's layers and their attributes), not
    which function a name of flux_torch's or torch's is: patching those while training does
    not reach a step compiled before. The compile time and the choice are logged to
    the ``logging`` logger ``"flux_torch"``: at INFO level, or at WARNING with
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
