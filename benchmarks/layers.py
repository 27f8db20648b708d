"""Each layer against the same ``torch.nn.functional`` calls written by hand, on the same tensors.

For every layer two things are timed, the flux_torch layer and a hand-written
function making the same torch calls on the layer's own tensors:

- *forward*: one call, parameters plain (``requires_grad`` off), as outside a gradient;
- *forward + backward*: the call, ``.sum()`` of the output and ``torch.autograd.grad``
  with respect to the parameters (the input for layers without any).

Layers that act differently in training (``BatchNorm``, ``Dropout``) are timed in
both modes; training mode is the automatic one of a ``gradient`` call (the timing
runs inside the same mark ``gradient`` sets), test mode the default outside.

Before timing, a guard runs both once from the same inputs (and the same random
seed) and checks that outputs and gradients agree within float32 tolerance.
Timing: interleaved rounds of ``timeit`` (the two variants alternate, the first
place rotating), ``K`` calls per round; the reported time is the minimum over rounds,
the least disturbed estimate of the cost on a noisy machine.
"""
import contextlib
import math
import timeit
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from flux_torch import (BatchNorm, Conv, ConvTranspose, Dense, Dropout, Embedding, GroupNorm,
                        LayerNorm, MaxPool, MeanPool, MultiHeadAttention, Upsample, relu)
from flux_torch.modes import differentiating
from flux_torch.v014 import LSTM      # v0.14's stateful LSTM (state0, time first), as measured so far

from timing import Config, GuardError, _compare, sync

COLUMNS = ["layer", "forward ft", "forward hand", "forward ft ÷ hand", "fwd+bwd ft", "fwd+bwd hand",
           "fwd+bwd ft ÷ hand"]
LEGEND = """\
- layers: forward = one call; fwd+bwd = the call, `.sum()`, `torch.autograd.grad` wrt the
  parameters (wrt the input for layers without parameters); hand = the same
  `torch.nn.functional` calls written by hand on the layer's own tensors. "train" rows run
  in the automatic training mode of a `gradient` call, "test" rows outside one. Times are
  the minimum over interleaved rounds; ratios > 1 mean the layer is slower."""


@dataclass
class Case:
    """One layer: ``ft(x)`` and ``hand(x)`` compute the same thing from the same tensors."""
    name: str
    ft: Callable
    hand: Callable
    x: torch.Tensor
    params: list                 # what fwd+bwd differentiates; empty: the input
    train: bool = False          # run inside gradient's training mark
    seeded: bool = False         # random: reseed before each guard call
    before: Optional[Callable] = None   # run before each call of ft (e.g. reset a state)


@contextlib.contextmanager
def _training(on):
    """The mark ``gradient`` sets for its duration (``istraining()`` is True inside)."""
    if not on:
        yield
        return
    with differentiating():
        yield


def _out(y):
    return y[0] if isinstance(y, tuple) else y


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def cases(device):
    """The layers, at typical sizes, with their hand-written twins."""
    dev = torch.device(device)
    g = _gen(0)
    rand = lambda *s: torch.randn(*s, generator=g).to(dev)
    to = lambda m: _to(m, dev)
    out = []

    d = to(Dense(256, 128, relu))
    out.append(Case("Dense(256, 128, relu), x (64, 256)", d,
                    lambda x: torch.relu(F.linear(x, d.weight, d.bias)),
                    rand(64, 256), [d.weight, d.bias]))

    c = to(Conv((3, 3), 16, 32, relu, pad=1))
    out.append(Case("Conv((3, 3), 16, 32, relu, pad=1), x (32, 16, 28, 28)", c,
                    lambda x: torch.relu(F.conv2d(x, c.weight, c.bias, 1, 1)),
                    rand(32, 16, 28, 28), [c.weight, c.bias]))

    ct = to(ConvTranspose((3, 3), 32, 16, relu, stride=2, pad=1, outpad=1))
    out.append(Case("ConvTranspose((3, 3), 32, 16, relu, stride=2, pad=1, outpad=1), x (32, 32, 14, 14)",
                    ct, lambda x: torch.relu(F.conv_transpose2d(x, ct.weight, ct.bias, 2, 1, 1)),
                    rand(32, 32, 14, 14), [ct.weight, ct.bias]))

    img = rand(32, 16, 28, 28)
    out.append(Case("MaxPool((2, 2)), x (32, 16, 28, 28)", MaxPool((2, 2)),
                    lambda x: F.max_pool2d(x, 2), img, []))
    out.append(Case("MeanPool((2, 2)), x (32, 16, 28, 28)", MeanPool((2, 2)),
                    lambda x: F.avg_pool2d(x, 2), img, []))

    feat = rand(32, 32, 14, 14)
    bn = to(BatchNorm(32, relu))
    bn_hand = lambda training: lambda x: torch.relu(F.batch_norm(
        x, bn.μ, bn.σ2, bn.γ, bn.β, training, 0.1, 1e-5))
    out.append(Case("BatchNorm(32, relu) train, x (32, 32, 14, 14)", bn, bn_hand(True), feat,
                    [bn.γ, bn.β], train=True))
    out.append(Case("BatchNorm(32, relu) test, x (32, 32, 14, 14)", bn, bn_hand(False), feat,
                    [bn.γ, bn.β]))

    ln = LayerNorm(64)
    ln.diag.bias.copy_(torch.randn(64, generator=g))      # not all zeros: the guard sees it
    ln = to(ln)

    def ln_hand(x):
        σ, μ = torch.std_mean(x, dim=-1, correction=0, keepdim=True)
        return torch.addcmul(ln.diag.bias, ln.diag.scale, (x - μ) / (σ + 1e-5))
    out.append(Case("LayerNorm(64), x (32, 10, 64)", ln, ln_hand, rand(32, 10, 64),
                    [ln.diag.scale, ln.diag.bias]))

    gn = to(GroupNorm(32, 4))
    out.append(Case("GroupNorm(32, 4), x (32, 32, 14, 14)", gn,
                    lambda x: F.group_norm(x, 4, gn.γ, gn.β, 1e-5), feat, [gn.γ, gn.β]))

    act = rand(64, 256)
    out.append(Case("Dropout(0.5) test (inactive), x (64, 256)", Dropout(0.5),
                    lambda x: F.dropout(x, 0.5, False), act, []))
    out.append(Case("Dropout(0.5) train (active), x (64, 256)", Dropout(0.5),
                    lambda x: F.dropout(x, 0.5, True), act, [], train=True, seeded=True))

    e = to(Embedding(1000, 64))
    ids = torch.randint(0, 1000, (32, 20), generator=g).to(dev)
    out.append(Case("Embedding(1000, 64), ids (32, 20)", e, lambda x: F.embedding(x, e.weight),
                    ids, [e.weight]))

    lstm = to(LSTM(32, 64))
    cell = lstm.cell

    kept = {}

    def lstm_hand(x):                    # keeps its final state, as the layer does
        n, h0, c0 = x.shape[1], cell.state0[0], cell.state0[1]
        b = cell.b
        ys, hT, cT = torch.lstm(x, (h0.expand(n, -1).unsqueeze(0), c0.expand(n, -1).unsqueeze(0)),
                                [cell.Wi, cell.Wh, b, b.new_zeros(b.shape)],
                                True, 1, 0.0, True, False, False)
        kept["state"] = hT[0], cT[0]
        return ys

    def lstm_reset():
        lstm.state = cell.state0         # start each call from state0, as the hand version
    out.append(Case("LSTM(32, 64) on a sequence, x (20, 16, 32)", lstm, lstm_hand,
                    rand(20, 16, 32), [cell.Wi, cell.Wh, cell.b, *cell.state0], before=lstm_reset))

    mha = to(MultiHeadAttention(64, nheads=8))

    def mha_hand(x):
        n, L, D = x.shape
        heads = lambda t: t.view(n, L, 8, D // 8).transpose(1, 2)
        q, k, v = (heads(F.linear(x, p.weight)) for p in (mha.q_proj, mha.k_proj, mha.v_proj))
        α = torch.softmax((q / math.sqrt(D // 8)) @ k.transpose(-1, -2), dim=-1)
        y = (α @ v).transpose(1, 2).reshape(n, L, D)
        return F.linear(y, mha.out_proj.weight), α
    out.append(Case("MultiHeadAttention(64, nheads=8), self-attention, x (32, 10, 64)", mha,
                    mha_hand, rand(32, 10, 64),
                    [p.weight for p in (mha.q_proj, mha.k_proj, mha.v_proj, mha.out_proj)]))

    small = rand(32, 16, 14, 14)
    out.append(Case("Upsample(scale=2) nearest, x (32, 16, 14, 14)", Upsample(scale=2),
                    lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), small, []))
    out.append(Case("Upsample(\"bilinear\", scale=2), x (32, 16, 14, 14)", Upsample("bilinear", scale=2),
                    lambda x: F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=True),
                    small, []))
    return out


def _to(m, dev):
    if dev.type == "cpu":
        return m
    from flux_torch import Device
    return Device(dev)(m)


def _steps(case):
    """((ft forward, hand forward), (ft fwd+bwd, hand fwd+bwd)) as argument-free callables."""
    x, ps, before = case.x, case.params, case.before
    wrt_input = not ps
    xg = x.detach().requires_grad_() if wrt_input else x

    def fwd(f, pre):
        if pre is None:
            return lambda: f(x)
        return lambda: (pre(), f(x))[1]

    def fb(f, pre):
        wrt = [xg] if wrt_input else ps

        def step():
            if pre is not None:
                pre()
            return torch.autograd.grad(_out(f(xg)).sum(), wrt)
        return step
    return (fwd(case.ft, before), fwd(case.hand, None)), (fb(case.ft, before), fb(case.hand, None))


@contextlib.contextmanager
def _grad_on(ps):
    for p in ps:
        p.requires_grad_(True)
    try:
        yield
    finally:
        for p in ps:
            p.requires_grad_(False)


def _observe(step, seeded):
    """The tensors a step gives (an output, a tuple of outputs or of gradients), as a list."""
    if seeded:
        torch.manual_seed(0)
    r = step()
    return list(r) if isinstance(r, tuple) else [r]


def _guard(case, fwd, fb):
    """Run both variants once from the same inputs; GuardError unless they agree."""
    s = case.seeded
    with _training(case.train):
        ok1, d1 = _compare(_observe(fwd[0], s), _observe(fwd[1], s))
        with _grad_on(case.params):
            ok2, d2 = _compare(_observe(fb[0], s), _observe(fb[1], s))
    if not (ok1 and ok2):
        raise GuardError(f"guard: layer {case.name}: the layer and the hand-written calls differ "
                         f"(forward max |Δ| {d1:.3g}, gradient max |Δ| {d2:.3g})")
    return max(d1, d2)


def config(mode, device):
    """Many short rounds: a round is a few milliseconds, so a busy machine spoils few of them."""
    if mode == "smoke":
        return Config(rounds=1, warmup=1, target_s=0.0, min_k=2, max_k=2, device=device)
    if mode == "quick":
        return Config(rounds=15, warmup=3, target_s=0.003, min_k=1, max_k=1000, device=device)
    return Config(rounds=41, warmup=5, target_s=0.005, min_k=1, max_k=2000, device=device)


def _time(steps, cfg):
    """Min over interleaved rounds of seconds per call, for each of the two steps."""
    for s in steps:
        for _ in range(cfg.warmup):
            s()
    sync(cfg.device)
    one = min(timeit.Timer(steps[1]).timeit(1) for _ in range(3))
    k = max(cfg.min_k, min(cfg.max_k, int(cfg.target_s / max(one, 1e-7))))
    best = [math.inf, math.inf]
    for r in range(cfg.rounds):
        for i in ((0, 1) if r % 2 == 0 else (1, 0)):
            sync(cfg.device)
            t = timeit.Timer(steps[i]).timeit(k)
            sync(cfg.device)
            best[i] = min(best[i], t / k)
    return best


def run(cfg, fmt, only=None):
    """Guard and time every layer case; returns the table rows."""
    rows = []
    print("layers: each against the same torch.nn.functional calls by hand", flush=True)
    for case in cases(cfg.device):
        if only and not any(s.lower() in case.name.lower() for s in only):
            continue
        fwd, fb = _steps(case)
        worst = _guard(case, fwd, fb)
        with _training(case.train):
            tf = _time(fwd, cfg)
            with _grad_on(case.params):
                tb = _time(fb, cfg)
        print(f"  {case.name}: guard ok (max |Δ| {worst:.2g}); forward {tf[0] / tf[1]:.2f}×, "
              f"fwd+bwd {tb[0] / tb[1]:.2f}×", flush=True)
        rows.append([case.name, fmt(tf[0]), fmt(tf[1]), f"{tf[0] / tf[1]:.2f}×",
                     fmt(tb[0]), fmt(tb[1]), f"{tb[0] / tb[1]:.2f}×"])
    return rows
