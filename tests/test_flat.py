"""The recorded walk (``_flat``) and its compiled replay, against fmapstructure and the loops."""
from collections import namedtuple
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from flux_torch import Chain, Dense, fmapstructure, gradient, relu
from flux_torch._flat import _COMPILE_AFTER, Flat, flat
from flux_torch._flat_compile import compile_fits, compile_mirror
from flux_torch.losses import mse

Pair = namedtuple("Pair", ["a", "b"])


@dataclass
class Box:
    w: torch.Tensor
    n: int


def _models():
    shared = Dense(2, 2)
    yield Chain(Dense(3, 4, relu), Dense(4, 2))
    yield {"odd key": torch.randn(2), 3: [torch.randn(1), 2.5], "t": (torch.randn(2), "s")}
    yield Chain(shared, shared)                                   # a shared layer
    yield [torch.ones(2), Pair(torch.zeros(1), torch.arange(3)), Box(torch.randn(2), 4)]
    yield Chain(nn.Linear(2, 3), Dense(3, 1))                     # an nn.Module inside
    tied = torch.randn(2, 2)
    yield {"x": tied, "y": [tied, torch.randn(1)]}                # a tied tensor


@pytest.mark.parametrize("model", list(_models()))
def test_compiled_mirror_matches_fmapstructure(model):
    rec = Flat(model)
    grads = [torch.full_like(t, float(i + 1)) for i, t in enumerate(rec.tensors)]
    by_id = {id(t): g for t, g in zip(rec.tensors, grads)}
    want = fmapstructure(lambda x: by_id.get(id(x)), model, plain=True)
    got = compile_mirror(rec)(model, grads)
    replayed = rec.replay_mirror(model, by_id)
    plain = fmapstructure(lambda x: x, got, plain=True)
    assert _same(plain, want)
    assert _same(fmapstructure(lambda x: x, replayed, plain=True), want)
    assert type(got) is type(replayed)


@pytest.mark.parametrize("model", list(_models()))
def test_compiled_fits_notices_what_the_loop_notices(model):
    rec = Flat(model)
    fits = compile_fits(rec)
    assert fits(model) and rec.replay_fits(model)
    assert not fits(_other(model)) and not rec.replay_fits(_other(model))


def test_compiled_fits_after_changes():
    m = Chain(Dense(3, 4, relu), Dense(4, 2))
    rec = Flat(m)
    fits = compile_fits(rec)
    m.layers[0].weight = torch.randn(4, 3)          # a replaced tensor
    assert not fits(m) and not rec.replay_fits(m)
    rec = Flat(m)
    fits = compile_fits(rec)
    m.layers[1].extra = torch.randn(1)               # an added attribute
    assert not fits(m) and not rec.replay_fits(m)
    d = {"a": torch.ones(1), "n": 3}
    rec = Flat(d)
    fits = compile_fits(rec)
    d["n"] = 3.0                                     # an equal scalar still fits, as in the loop
    assert fits(d) == rec.replay_fits(d) is True
    d["n"] = 4
    assert fits(d) == rec.replay_fits(d) is False
    del d["a"]
    assert fits(d) == rec.replay_fits(d) is False


def test_gradient_is_the_same_before_and_after_the_record_compiles():
    m = Chain(Dense(3, 4, relu), Dense(4, 2))
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    first = gradient(lambda m: mse(m(x), y), m)[0]
    for _ in range(_COMPILE_AFTER + 1):
        later = gradient(lambda m: mse(m(x), y), m)[0]
    assert flat(m)._fits is not None and flat(m)._mirror is not None
    for a, b in zip(first.layers, later.layers):
        assert type(a) is type(b) is Dense and a.σ is None and b.σ is None
        torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)
        torch.testing.assert_close(a.bias, b.bias, rtol=0, atol=0)
    m.layers[1].weight = torch.randn(2, 4)          # the compiled record notices a new tensor
    newer = gradient(lambda m: mse(m(x), y), m)[0]
    w = m.layers[1].weight.clone().requires_grad_()
    h = torch.relu(m.layers[0](x))
    want, = torch.autograd.grad(mse(h @ w.T + m.layers[1].bias, y), w)
    torch.testing.assert_close(newer.layers[1].weight, want)


def _other(model):
    """A structure like ``model`` with other objects in it."""
    return fmapstructure(lambda x: x.clone() if isinstance(x, torch.Tensor) else x, model)


def _same(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return a == b


@pytest.mark.parametrize("model", list(_models()))
def test_compiled_read_matches_the_plan_loop(model):
    from flux_torch._flat_compile import compile_read
    from flux_torch.optimise import Descent, setup
    from flux_torch.optimise.plan import plan_for
    plan = plan_for(setup(Descent(0.1), model), model)
    slots = [it[1] for it in plan.items if it[1] >= 0]
    rec = plan.flat
    grads = [torch.full_like(t, float(i + 1)) for i, t in enumerate(rec.tensors)]
    grads[0] = None                                  # a missing gradient reads as None
    g = rec.replay_mirror(model, {id(t): x for t, x in zip(rec.tensors, grads)})
    vals = plan.read(g)
    got = compile_read(rec, slots)(g)
    assert len(got) == len(slots)
    for s, v in zip(slots, got):
        assert v is vals[s]
    assert compile_read(rec, slots)(None) == [None] * len(slots)


def test_a_recurrent_state_does_not_make_the_record_stale():
    """A forward pass replaces a Recur's state (and an LSTM's (h, c) tuple); the record
    stays, as only non-trainable parts changed, and the gradients equal those of a record
    made afresh (oracle: torch.autograd on the same tensors)."""
    from flux_torch.v014 import LSTM, reset_
    torch.manual_seed(0)
    m = Chain(LSTM(3, 4), Dense(4, 1))
    x, y = torch.randn(2, 3), torch.randn(2, 1)
    m(x)
    rec = flat(m)
    m(x)                                        # a new state tuple
    assert flat(m) is rec and m.layers[0].state is not None
    for _ in range(_COMPILE_AFTER + 1):
        m(x)
        assert flat(m) is rec
    reset_(m)
    g = gradient(lambda m: mse(m(x), y), m)[0]
    assert g.layers[0].state is None
    ps = rec.tensors
    for p in ps:
        p.requires_grad_(True)
    reset_(m)
    want = torch.autograd.grad(mse(m(x), y), ps)
    for p in ps:
        p.requires_grad_(False)
    got = [g.layers[0].cell.Wi, g.layers[0].cell.Wh, g.layers[0].cell.b, g.layers[0].cell.state0[0],
           g.layers[0].cell.state0[1], g.layers[1].weight, g.layers[1].bias]
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)
    m.layers[1].weight = torch.randn(1, 4)      # a trainable tensor replaced: a new record
    assert flat(m) is not rec
