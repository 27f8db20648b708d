"""Optimisers.jl's tests of ``trainables``, translated.

Source: https://github.com/FluxML/Optimisers.jl, test/trainables.jl at v0.4.8
(commit b3595f5c9639d8e014929dcd2af5effb3966d6c0); the models are those of
test/destructure.jl (see tests/test_optimisers_jl_destructure.py for how they translate).
"""
import inspect

import pytest
import torch

import flux_torch as Flux
from flux_torch import Optimisers, functor, gradient

from test_optimisers_jl_destructure import (D, T, eq, m1, m2, m3, m4, m5, m6, m7, m8, m9)

trainables = Optimisers.trainables

NEEDS_PATH = "needs core change: trainables(x, path=True) giving (KeyPath, tensor) pairs"
HAS_PATH = "path" in inspect.signature(trainables).parameters


def test_trainables():
    ps = trainables(m1)
    assert isinstance(ps, list) and len(ps) == 1 and eq(ps[0], m1)
    ps = trainables(m2)
    assert isinstance(ps, list) and len(ps) == 2 and eq(ps[0], m2[0]) and eq(ps[1], m2[1])
    ps = trainables(m3)
    assert len(ps) == 2 and eq(ps[0], [1, 2, 3]) and eq(ps[1], [4, 5, 6])
    ps = trainables(m4)
    assert len(ps) == 2 and eq(ps[0], [1, 2, 3]) and eq(ps[1], [4, 5, 6])
    ps = trainables(m5)
    assert len(ps) == 3 and eq(ps[0], [1, 2, 3]) and eq(ps[1], [4, 5, 6]) and eq(ps[2], [4, 5, 6])
    ps = trainables(m7)
    assert len(ps) == 1 and eq(ps[0], [1.0, 2.0, 3.0])
    ps = trainables(m8)
    assert len(ps) == 3 and eq(ps[0], [1, 2, 3]) and eq(ps[1], [4.0]) and eq(ps[2], [5.0])
    ps = trainables(m9)
    assert len(ps) == 2 and eq(ps[0], [1, 2, 3]) and eq(ps[1], m9["b"])


def loss(m):
    return sum((p.abs() ** 2).sum() for p in trainables(m))


def test_gradient():
    assert eq(gradient(loss, m1)[0], [2.0, 4.0, 6.0])
    g = gradient(loss, m2)[0]
    assert eq(g[0], [2.0, 4.0, 6.0]) and eq(g[1], [8.0, 10.0, 12.0])
    g = gradient(loss, m3)[0]
    assert eq(g["x"], [2.0, 4.0, 6.0]) and g["y"] is None and eq(g["z"], [8.0, 10.0, 12.0])
    g = gradient(loss, m4)[0]
    assert eq(g["x"], [2.0, 4.0, 6.0]) and eq(g["y"], [2.0, 4.0, 6.0]) and eq(g["z"], [8.0, 10.0, 12.0])
    assert g["x"] is g["y"]     # shared gradient for shared weights

    g = gradient(loss, m5)[0]
    assert eq(g["a"][0]["x"], [2.0, 4.0, 6.0]) and g["a"][0]["y"] is None
    assert eq(g["a"][0]["z"], [8.0, 10.0, 12.0]) and g["a"][1] is None
    assert eq(g["b"][0], [2.0, 4.0, 6.0]) and g["b"][1] is None
    assert eq(g["c"][0]["x"], [2.0, 4.0, 6.0]) and eq(g["c"][0]["y"], [2.0, 4.0, 6.0])
    assert eq(g["c"][0]["z"], [8.0, 10.0, 12.0]) and g["c"][1] is None

    g = gradient(loss, m7)[0]
    assert g.a[0] is None and eq(g.a[1], [2.0, 4.0, 6.0]) and g.c is None

    g = gradient(loss, m9)[0]
    assert eq(g["a"], [2.0, 4.0, 6.0]) and eq(g["b"], 2 * m9["b"])
    assert eq(g["c"][0], 2 * m9["b"]) and eq(g["c"][1], [2.0, 4.0, 6.0])


def test_complex_parameters():
    ps = trainables(m6)
    assert len(ps) == 2 and eq(ps[0], [1, 2, 3]) and eq(ps[1], torch.tensor([4.0 + 1j]))
    g = gradient(loss, m6)[0]
    assert eq(g["a"], [2.0, 4.0, 6.0]) and eq(g["b"], torch.tensor([8.0 + 2j]))
    assert eq(g["c"], [2.0, 4.0, 6.0])


def test_gradient_m7_non_child_field_is_none():
    assert gradient(loss, m7)[0].b is None


def test_gradient_m8():
    g = gradient(loss, m8)[0]
    assert eq(g[0].x, [2.0, 4.0, 6.0]) and eq(g[0].y, [2.0, 4.0, 6.0])
    assert g[1]["a"] is None and eq(g[1]["b"].x, [8.0]) and g[1]["b"].y is None
    assert g[2][0].tolist() == [10.0]


@pytest.mark.xfail(reason="deliberate: an empty tuple's gradient is the empty tuple, where Zygote "
                          "gives nothing (docs/porting.md, Gradients: the same kind of object)",
                   strict=True)
def test_gradient_m8_empty_tuple_is_nothing():
    assert gradient(loss, m8)[0][1]["c"] is None


def test_dict():
    d = {"a": torch.rand(2, dtype=D), "b": torch.ones(2, dtype=D)}
    ps = trainables(d)
    assert len(ps) == 2 and eq(ps[0], d["a"]) and eq(ps[1], d["b"])
    g = gradient(lambda d: (trainables(d)[0] ** 2).sum() / 2 + trainables(d)[1].sum(), d)[0]
    assert eq(g["a"], d["a"])
    assert eq(g["b"], [1.0, 1.0])      # @test_broken in Optimisers.jl; torch.autograd has it


def test_second_order_derivatives():
    @functor
    class DenseLayer:
        def __init__(self, w, b):
            self.w, self.b = w, b

    model = DenseLayer(torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=D), T(0.0, 0.0))
    g = gradient(lambda m: loss(gradient(loss, m)[0]), model)[0]
    assert eq(g.w, [[8.0, 16.0], [24.0, 32.0]])
    assert eq(g.b, [0.0, 0.0])


@pytest.mark.xfail(not HAS_PATH, reason=NEEDS_PATH, raises=TypeError, strict=True)
def test_trainables_with_path():
    ps = trainables(m4, path=True)
    assert len(ps) == 2
    assert ps[0][0] == Flux.KeyPath("x") and eq(ps[0][1], [1.0, 2.0, 3.0])
    assert ps[1][0] == Flux.KeyPath("z") and eq(ps[1][1], [4.0, 5.0, 6.0])

    g = gradient(lambda m: (trainables(m, path=True)[0][1] ** 2).sum(), m4)[0]
    assert eq(g["x"], [2.0, 4.0, 6.0])
    assert eq(g["y"], [2.0, 4.0, 6.0])
    assert g["z"] is None
