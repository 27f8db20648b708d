"""Nothing kept alive (issue 10, SPEC §6): after ``del model, opt_state; gc.collect()`` no part of
them remains, whatever was differentiated, trained, compiled, mapped or printed with them.

Oracle: weak references to the model, its optimiser state and every one of its tensors are dead.
On the old code ``train_`` kept up to 16 steps holding models and states (a sweep of 20 models
kept 16 of them, 5.7 GB).
"""
import gc
import weakref

import pytest
import torch

import flux_torch as Flux
from flux_torch import BatchNorm, Chain, Dense, relu
from flux_torch.losses import mse


def _model():
    return Chain(Dense(4, 16, relu), BatchNorm(16), Dense(16, 1))


def _refs(*objs):
    refs = [weakref.ref(o) for o in objs]
    for o in objs:
        refs += [weakref.ref(t) for t in Flux.fleaves(o) if isinstance(t, torch.Tensor)]
    return refs


def _assert_freed(refs):
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{len(alive)} objects still alive, e.g. {type(alive[0]).__name__}"


def _data():
    return [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(3)]


def loss(m, x, y):
    return mse(m(x), y)


def test_a_sweep_of_train_calls_keeps_no_model():
    refs = []
    for _ in range(5):
        model = _model()
        state = Flux.setup(Flux.Adam(0.01), model)
        for _ in range(2):
            Flux.train_(loss, model, _data(), state)
        refs += _refs(model, state)
        del model, state
    _assert_freed(refs)


@pytest.mark.parametrize("what", ["gradient", "withgradient", "pullback", "update_", "params",
                                  "implicit", "fmap", "cpu", "state", "repr", "callbacks",
                                  "nonmutating"])
def test_each_entry_point_keeps_nothing(what):
    model = _model()
    state = Flux.setup(Flux.Momentum(0.01), model)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    for _ in range(5):            # several calls: records, plans and generated code are made
        if what == "gradient":
            g = Flux.gradient(lambda m: loss(m, x, y), model)[0]
        elif what == "withgradient":
            g = Flux.withgradient(lambda m: loss(m, x, y), model)
        elif what == "pullback":
            g = Flux.pullback(lambda m: loss(m, x, y), model)
        elif what == "update_":
            Flux.update_(state, model, Flux.gradient(lambda m: loss(m, x, y), model)[0])
        elif what == "params":
            g = Flux.params(model)
        elif what == "implicit":
            rule = Flux.Descent(0.1)
            ps = Flux.params(model)
            Flux.train_(lambda x, y: mse(model(x), y), ps, _data(), rule)  # noqa: F821  (runs before the del)
        elif what == "fmap":
            g = Flux.fmap(lambda t: t * 1 if isinstance(t, torch.Tensor) else t, model)
        elif what == "cpu":
            g = Flux.cpu(model)
        elif what == "state":
            g = Flux.state(model)
        elif what == "repr":
            g = repr(model) + repr(state)
        elif what == "callbacks":
            Flux.train_(loss, model, _data(), state, cb=lambda: None)
        elif what == "nonmutating":
            g = Flux.Optimisers.update(state, model, Flux.gradient(lambda m: loss(m, x, y), model)[0])
    refs = _refs(model, state)
    del model, state
    g = None    # noqa: F841  (what the user keeps of the results is theirs)
    rule = ps = None    # noqa: F841
    _assert_freed(refs)


def test_compiled_training_keeps_nothing():
    torch._dynamo.reset()
    model = _model()
    state = Flux.setup(Flux.Descent(0.01), model)
    for _ in range(2):
        Flux.train_(loss, model, _data(), state, compile=True)
    step = Flux.compile_step(loss, model, state)
    for x, y in _data():
        step(x, y)
    refs = _refs(model, state)
    del model, state, step
    _assert_freed(refs)
