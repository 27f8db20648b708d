"""Interleaved timing for the benchmarks: variants, the correctness guard, rounds and medians.

A *case* is one thing to time (a training step, ``params(m)``, ...) done several
ways; each way is a :class:`Variant`. :func:`run_case` builds every variant from
the same starting point, runs each once and checks that the results agree (the
guard), warms them up, then times them in interleaved rounds: each round runs
every variant for the same ``K`` steps, in a new (seeded) order, and the reported time per step is the
median over rounds. Compiled variants report their first call (the compile) on
its own, and stop after a round in which their step is slower than ``SLOW_FACTOR``
× the eager reference's (inductor on a CPU can be pathologically slow).
"""
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

SLOW_FACTOR = 10.0


@dataclass
class Variant:
    """One way of doing a case: ``make()`` returns ``(step, observe)``.

    ``step()`` does one unit of work and returns its result; ``observe(result)``
    gives the list of tensors the guard compares (the gradient, or the
    parameters after an update). ``compiled`` variants get their compile time
    reported and the slow-step cap.
    """
    key: str
    make: Callable
    compiled: bool = False
    # filled in by run_case
    times: list = field(default_factory=list)
    note: str = ""
    compile_s: Optional[float] = None
    step: Optional[Callable] = None

    @property
    def median(self):
        return statistics.median(self.times) if self.times else None


@dataclass
class Config:
    rounds: int
    warmup: int
    target_s: float      # wall time one variant should take per round (chooses K)
    min_k: int
    max_k: int
    device: torch.device


def sync(device):
    """Wait for the device's queued work, so that a timing covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_steps(step, k, device):
    """Seconds per step, over ``k`` consecutive steps (synchronised around)."""
    sync(device)
    t0 = time.perf_counter()
    for _ in range(k):
        step()
    sync(device)
    return (time.perf_counter() - t0) / k


def _compare(xs, ys):
    """(agree within float32 tolerance, largest absolute difference) of two lists of tensors."""
    if len(xs) != len(ys):
        return False, float("inf")
    ok, worst = True, 0.0
    for x, y in zip(xs, ys):
        x = torch.as_tensor(x).detach().cpu().double()
        y = torch.as_tensor(y).detach().cpu().double()
        if x.shape != y.shape:
            return False, float("inf")
        ok = ok and torch.allclose(x, y, rtol=1e-4, atol=1e-5)
        if x.numel():
            worst = max(worst, (x - y).abs().max().item())
    return ok, worst


class GuardError(RuntimeError):
    pass


def _first_calls(name, variants, ref_key, device):
    """Build each variant, run it once, compare with the reference variant's result."""
    observed = {}
    for v in variants:
        try:
            step, observe = v.make()
            sync(device)
            t0 = time.perf_counter()
            out = step()
            sync(device)
            if v.compiled:
                v.compile_s = time.perf_counter() - t0
            v.step = step
            observed[v.key] = observe(out)
        except Exception as e:       # a compiler missing on this machine: report, go on
            if not v.compiled:
                raise
            v.note = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:80] if str(e) else ''}"
    ref = observed[ref_key]
    worst, bad = 0.0, []
    for key, obs in observed.items():
        ok, d = _compare(obs, ref)
        if not ok:
            bad.append(f"{key} (max |Δ| {d:.3g})")
        worst = max(worst, d)
    if bad:
        detail = ", ".join(bad)
        raise GuardError(f"guard: {name}: results differ from ({ref_key}) after one step: {detail}; "
                         f"the variants do not compute the same thing")
    print(f"  guard ok: {len(observed)} variants agree after one step from identical inputs "
          f"(max |Δ| {worst:.2g})", flush=True)


def run_case(name, variants, ref_key, cfg):
    """Guard, warm up and time ``variants`` in interleaved rounds; returns them, filled in."""
    print(f"{name}", flush=True)
    _first_calls(name, variants, ref_key, cfg.device)
    live = [v for v in variants if v.step is not None]
    ref = next(v for v in live if v.key == ref_key)
    for v in live:
        for _ in range(cfg.warmup + 2 * v.compiled):   # a compiled step's first runs are slow
            v.step()
    eager = min(time_steps(ref.step, 1, cfg.device) for _ in range(3))
    k = max(cfg.min_k, min(cfg.max_k, int(cfg.target_s / max(eager, 1e-7))))
    rng = random.Random(name)     # the same orders on every run of this case
    for _ in range(cfg.rounds):
        # a new order each round: no variant has a fixed place, or always runs after the same
        # one (a variant that follows its near twin finds its code and data already in cache)
        order = rng.sample(live, len(live))
        for v in order:
            if not v.note:
                v.times.append(time_steps(v.step, k, cfg.device))
        for v in live:                   # the cap, against this round's eager time
            if v.compiled and not v.note and v.times[-1] > SLOW_FACTOR * ref.times[-1]:
                v.times = v.times[-1:]
                v.note = f"slow: {v.times[0] / ref.times[-1]:.0f}× eager, remaining rounds skipped"
    for v in variants:
        v.step = None                    # let the models go
    return variants

