"""The record (``record.py``) and its generated replays (``_codegen.py``), against fmapstructure and the loops."""
from collections import namedtuple
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from flux_torch import Chain, Dense, fleaves, fmap, fmapstructure, gradient, relu
from flux_torch.functors.walks import NoKeyword
from flux_torch.functors import _codegen
from flux_torch.functors.nodes import VERSION
from flux_torch.functors.record import _COMPILE_AFTER, Record, record_of as flat
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
    rec = Record(model)
    grads = [torch.full_like(t, float(i + 1)) for i, t in enumerate(rec.tensors)]
    by_id = {id(t): g for t, g in zip(rec.tensors, grads)}
    want = fmapstructure(lambda x: by_id.get(id(x)), model)
    fn = _codegen.mirror(rec, model)
    got = fn(model, grads)
    replayed = rec.replay_mirror(model, grads)
    assert _same(fmapstructure(lambda x: x, got), want)
    assert _same(fmapstructure(lambda x: x, replayed), want)
    assert type(got) is type(replayed)
    assert "def mirror(v0, g):" in fn.__source__


@pytest.mark.parametrize("model", list(_models()))
def test_compiled_fits_notices_what_the_loop_notices(model):
    rec = Record(model)
    fits = _codegen.fits(rec, model)
    assert fits(model) and rec.replay_fits(model)
    assert not fits(_other(model)) and not rec.replay_fits(_other(model))


def test_compiled_fits_after_changes():
    m = Chain(Dense(3, 4, relu), Dense(4, 2))
    rec = Record(m)
    fits = _codegen.fits(rec, m)
    m.layers[0].weight = torch.randn(4, 3)          # a replaced tensor
    assert not fits(m) and not rec.replay_fits(m) and not rec.fits(m)
    rec = Record(m)
    fits = _codegen.fits(rec, m)
    m.layers[1].extra = torch.randn(1)               # an added attribute
    assert not fits(m) and not rec.replay_fits(m) and not rec.fits(m)
    d = {"a": torch.ones(1), "n": 3}
    rec = Record(d)
    fits = _codegen.fits(rec, d)
    d["n"] = int("1000") - 997                       # an equal scalar of the same type still fits
    assert fits(d) == rec.replay_fits(d) is True
    d["n"] = 3.0                                     # an equal one of another type does not
    assert fits(d) == rec.replay_fits(d) is False
    d["n"] = 3
    d["n"] = 4
    assert fits(d) == rec.replay_fits(d) is False
    del d["a"]
    assert fits(d) == rec.replay_fits(d) is False


def test_gradient_is_the_same_before_and_after_the_record_compiles():
    m = Chain(Dense(3, 4, relu), Dense(4, 2))
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    first = gradient(lambda m: mse(m(x), y), m)[0]
    for _ in range(_COMPILE_AFTER + 1):
        VERSION[0] += 1                 # a write elsewhere: the record replays its steps
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
def test_generated_read_matches_the_loop(model):
    rec = Record(model)
    slots = [s for ss in rec.tensor_slots for s in ss]
    grads = [torch.full_like(t, float(i + 1)) for i, t in enumerate(rec.tensors)]
    grads[0] = None                                  # a missing gradient reads as None
    g = rec.replay_mirror(model, grads)
    want = rec.replay_read(g, slots)
    fn = _codegen.read(rec, None, slots)
    got = fn(g)
    assert len(got) == len(slots) == len(want)
    for a, b in zip(got, want):
        assert a is b
    assert all(a is b for a, b in zip(want, [x for x, ss in zip(grads, rec.tensor_slots) for _ in ss]))
    assert fn(None) == [None] * len(slots)


def test_a_watched_model_fits_at_once_and_notices_a_write():
    """Every node of a Chain of Dense is a tuple or a @functor class, whose attribute writes
    bump the version: an unchanged version is a fit without replaying (oracle: replay_fits)."""
    m = Chain(Dense(3, 4, relu), Dense(4, 2))
    rec = flat(m)
    assert rec.watched and flat(m) is rec
    v = VERSION[0]
    m.layers[0].bias = torch.zeros(4)
    assert VERSION[0] > v and not rec.fits(m) and not rec.replay_fits(m)
    rec2 = flat(m)
    assert rec2 is not rec and rec2.fits(m)
    assert not flat(Chain([Dense(1, 1)])).watched     # a list inside: replayed each time


def test_building_a_gradient_writes_no_watched_attribute():
    """The gradient of a Chain of Dense is made of new Dense objects: filling them in must not
    go through the watched __setattr__, or every gradient would make every record replay."""
    m = Chain(Dense(3, 4, relu), Dense(4, 2))
    rec = flat(m)
    fn = _codegen.mirror(rec, m)
    v = VERSION[0]
    g = fn(m, [torch.ones_like(t) for t in rec.tensors])
    assert VERSION[0] == v and type(g.layers[1]) is Dense and g.layers[1].σ is None
    assert torch.equal(g.layers[0].weight, torch.ones(4, 3))
    assert rec.fits(m) and rec.version == VERSION[0]


def test_the_record_dies_with_the_model():
    import gc
    import weakref
    from flux_torch.functors import record
    m = Chain(Dense(3, 4), Dense(4, 2))
    flat(m)
    key, ref = id(m), weakref.ref(m)
    assert key in record._records
    del m
    gc.collect()
    assert ref() is None and key not in record._records


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
    ps = flat(m).tensors
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


@pytest.mark.parametrize("mode", ["rebuild", "convert", "plain", "keep_types"])
@pytest.mark.parametrize("model", list(_models()))
def test_generated_map_matches_the_general_walk(model, mode):
    """The record's generated fmap computes what the general walk computes (the oracle:
    ``_fused`` with no record), calls f on the same leaves in the same order, and keeps ties."""
    from flux_torch.functors.maps import _fused
    rec = Record(model)
    fn = _codegen.mapper(rec, model, mode)
    calls_a, calls_b = [], []

    def f_of(calls):
        def f(x):
            calls.append(x)
            return x * 2 if isinstance(x, torch.Tensor) and x.is_floating_point() else x
        return f
    structural = {"plain": False, "keep_types": True}.get(mode)
    want = _fused(f_of(calls_a), model, (), {}, NoKeyword, structural, keep_unchanged=mode == "convert")
    got = fn(model, f_of(calls_b), None)
    assert len(calls_a) == len(calls_b) and all(a is b for a, b in zip(calls_a, calls_b))
    assert type(got) is type(want)
    assert _same(fmapstructure(lambda x: x, got), fmapstructure(lambda x: x, want))
    ties_want = [id(t) for t in fleaves(want) if isinstance(t, torch.Tensor)]
    ties_got = [id(t) for t in fleaves(got) if isinstance(t, torch.Tensor)]
    assert len(set(ties_want)) == len(set(ties_got))
    assert "def mapped(v0, f, run):" in fn.__source__


def test_fmap_uses_the_generated_map_after_a_few_calls():
    m = Chain(Dense(3, 4, relu), Dense(4, 2))
    f = lambda x: x * 2 if isinstance(x, torch.Tensor) else x      # noqa: E731
    outs = [fmap(f, m) for _ in range(_COMPILE_AFTER + 2)]
    assert not isinstance(flat(m)._maps["rebuild"], int)
    for o in outs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(fleaves(o), fleaves(outs[0])) if isinstance(a, torch.Tensor))
    assert outs[-1] is not m and outs[-1][0] is not m[0]
