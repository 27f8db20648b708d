"""Dense, Chain, compose and activations(): against torch.nn.functional, hand-written torch
autograd, Flux's Basics page and Flux v0.14's test/layers/basic.jl (shapes reversed: batch first)."""
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from flux_torch import (Chain, ComposedFunction, Dense, activations, compose, glorot_uniform,
                        gradient, identity, ones32, params, randn32, relu, softmax, σ)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ------------------------------------------------------------------ Dense: forward

@pytest.mark.parametrize("act, oracle", [
    (identity, lambda y: y), (σ, torch.sigmoid), (relu, F.relu), (torch.tanh, torch.tanh),
    (softmax, lambda y: F.softmax(y, dim=-1)),          # SPEC §5: the whole pre-activation
])
def test_dense_matches_f_linear(act, oracle):
    d = Dense(10, 5, act)
    x = torch.randn(64, 10)
    torch.testing.assert_close(d(x), oracle(F.linear(x, d.weight, d.bias)))


def test_dense_shapes():
    d = Dense(10, 5)
    assert d.weight.shape == (5, 10) and d.bias.shape == (5,)
    assert Dense(10, 100).weight.shape == (100, 10)
    assert d(randn32(10)).shape == (5,)
    assert d(torch.randn(2, 10)).shape == (2, 5)
    assert d(torch.randn(3, 2, 10)).shape == (3, 2, 5)          # Flux (10,2,3) -> (5,2,3)
    assert d(torch.randn(4, 3, 2, 10)).shape == (4, 3, 2, 5)
    y = d(torch.randn(3, 2, 10))
    x = torch.randn(3, 2, 10)
    torch.testing.assert_close(d(x), F.linear(x, d.weight, d.bias))
    assert y.dtype == torch.float32


def test_dense_float32_params_and_zero_bias():
    d = Dense(4, 3)
    assert d.weight.dtype == torch.float32 and d.bias.dtype == torch.float32
    assert torch.equal(d.bias, torch.zeros(3))
    assert not d.weight.requires_grad and not isinstance(d.weight, nn.Parameter)
    limit = (6 / (4 + 3)) ** 0.5                                  # glorot_uniform bound
    assert d.weight.abs().max() <= limit


def test_dense_pair_form():
    d = Dense((10, 5), σ)                                         # Flux's Dense(10 => 5, σ)
    assert d.weight.shape == (5, 10) and d.σ is σ
    x = torch.randn(3, 10)
    torch.testing.assert_close(d(x), torch.sigmoid(F.linear(x, d.weight, d.bias)))
    assert Dense((3, 4)).σ is identity


def test_dense_bias_keyword():
    d = Dense(3, 2, bias=False)
    assert d.bias is None
    x = torch.randn(4, 3)
    torch.testing.assert_close(d(x), F.linear(x, d.weight))
    b = torch.tensor([1.0, -1.0])
    d = Dense(3, 2, bias=b)
    torch.testing.assert_close(d(x), F.linear(x, d.weight, b))
    assert Dense(3, 2, bias=torch.tensor([1, 2])).bias.dtype == torch.float32
    with pytest.raises(ValueError):
        Dense(3, 4, bias=torch.rand(5))                           # Flux: DimensionMismatch


def test_dense_from_weight():
    W = torch.rand(100, 10)
    assert Dense(W, torch.rand(100)).σ is identity
    assert Dense(W).σ is identity
    assert Dense(W, False).σ is identity and Dense(W, False).bias is None
    assert Dense(W, False, torch.tanh).σ is torch.tanh
    assert Dense(W).weight is W
    W16 = torch.rand(100, 10, dtype=torch.float16)
    assert Dense(W16, True).bias.dtype == torch.float16          # matching type
    assert Dense(W16, torch.rand(100)).bias.dtype == torch.float16
    with pytest.raises(ValueError):
        Dense(torch.rand(4, 3), torch.rand(5))
    with pytest.raises((TypeError, ValueError)):
        Dense(torch.rand(5))


def test_dense_init_keyword():
    d = Dense(3, 4, init=lambda o, i: torch.randn(o, i, dtype=torch.float64), bias=True)
    assert d.bias.dtype == torch.float64                          # bias follows the weight
    d = Dense(3, 4, init=lambda o, i: torch.randn(o, i, dtype=torch.float64), bias=[1, 2, 3, 4])
    assert d.bias.dtype == torch.float64
    g = lambda s: torch.Generator().manual_seed(s)
    a = Dense(5, 7, init=glorot_uniform(g(42)))
    b = Dense(5, 7, init=glorot_uniform(rng=g(42)))
    c = Dense(5, 7, init=glorot_uniform(g(43)))
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)
    assert torch.equal(a.weight, glorot_uniform(7, 5, rng=g(42)))


def test_dense_ones_init_values():
    # Flux "zeros" testset, batch first: Julia's 10×2 input [ones 2*ones] is a (2, 10) tensor
    assert torch.equal(Dense(10, 1, identity, init=ones32)(torch.ones(1, 10)), torch.full((1, 1), 10.0))
    assert torch.equal(Dense(10, 1, identity, init=ones32)(torch.ones(2, 10)), torch.full((2, 1), 10.0))
    assert torch.equal(Dense(10, 2, identity, init=ones32)(torch.ones(1, 10)), torch.full((1, 2), 10.0))
    x = torch.stack([torch.ones(10), 2 * torch.ones(10)])
    expected = torch.tensor([[10.0, 10.0], [20.0, 20.0]])
    assert torch.equal(Dense(10, 2, identity, init=ones32)(x), expected)
    assert torch.equal(Dense(10, 2, identity, init=ones32, bias=False)(x), expected)


def test_dense_constructor_errors():
    with pytest.raises(TypeError):
        Dense(10, 10.5)
    with pytest.raises(TypeError):
        Dense(10, 10.5, torch.tanh)
    with pytest.raises(TypeError):
        Dense(3, 2, 5)                                            # not a function


def test_dense_input_size_errors():
    d = Dense(10, 5)
    msg = ("Dense(10, 5) expects x.shape[-1] == 10, but got a tensor of shape (10, 64); "
           "flux_torch puts the batch first: did you mean x.T?")
    with pytest.raises(ValueError, match=re.escape(msg)):
        d(torch.rand(10, 64))
    with pytest.raises(ValueError, match=r"Dense\(10, 5\)") as err:
        d(randn32(1))
    assert "x.T" not in str(err.value)
    with pytest.raises(ValueError):
        d(torch.randn(2, 3, 11))
    with pytest.raises((ValueError, TypeError)):
        d(1.0)                                                    # Flux: MethodError


def test_dense_type_matching():
    d1 = Dense(2, 3)
    d2 = Dense(d1.weight, False)
    x1 = torch.randn(4, 2)
    torch.testing.assert_close(d1(x1), x1 @ d1.weight.T + d1.bias)
    torch.testing.assert_close(d2(x1), x1 @ d1.weight.T)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x3 = torch.randint(-5, 6, (4, 2))
        torch.testing.assert_close(d2(x3), x3.float() @ d1.weight.T)
        x4 = torch.rand(4, 2) > 0.5
        torch.testing.assert_close(d2(x4), x4.float() @ d1.weight.T)
        torch.testing.assert_close(d2(np.ones((4, 2), dtype=np.float32)),
                                   torch.ones(4, 2) @ d1.weight.T)


# ------------------------------------------------------------------ Dense: gradients

def test_dense_gradient_vs_autograd():
    d = Dense(4, 3, torch.tanh)
    x, y = torch.randn(6, 4), torch.randn(6, 3)
    (g,) = gradient(lambda m: ((m(x) - y) ** 2).mean(), d)
    W, b = d.weight.clone().requires_grad_(), d.bias.clone().requires_grad_()
    ((torch.tanh(x @ W.T + b) - y) ** 2).mean().backward()
    torch.testing.assert_close(g.weight, W.grad)
    torch.testing.assert_close(g.bias, b.grad)
    (gx,) = gradient(lambda x: Dense(d.weight, False)(x).sum(), x)
    torch.testing.assert_close(gx, torch.ones(6, 3) @ d.weight)


# ------------------------------------------------------------------ Chain

def test_chain_basics_page():
    layers = [Dense(10, 5, σ), Dense(5, 2), softmax]
    x = torch.rand(10)
    folded = x
    for f in layers:
        folded = f(folded)
    model2 = Chain(*layers)
    torch.testing.assert_close(model2(x), folded)
    assert model2(x).shape == (2,)
    torch.testing.assert_close(model2(x).sum(), torch.tensor(1.0))
    assert Chain(lambda x: x ** 2, lambda x: x + 1)(5) == 26


def test_chain_runs_and_errors():
    Chain(Dense(10, 5, σ), Dense(5, 2))(randn32(10))
    with pytest.raises(ValueError):
        Chain(Dense(10, 5, σ), Dense(2, 1))(randn32(10))
    with pytest.raises(TypeError):
        Chain(Dense(2, 2), 3)


def test_chain_indexing_and_slicing():
    c = Chain(Dense(10, 5, σ), Dense(5, 2), Dense(2, 1, relu))
    assert len(c) == 3
    assert c[-1] is c[2] and c[0] is c.layers[0]                # c[end], c[begin]
    s = c[0:2]
    assert type(s) is Chain and len(s) == 2 and s[0] is c[0] and s[1] is c[1]
    assert [l for l in c] == list(c.layers)
    x = randn32(10)
    torch.testing.assert_close(c[1:](c[0](x)), c(x))


def test_named_chain():
    m = Chain(first=Dense(10, 5, σ), second=Dense(5, 2))
    m(randn32(10))
    assert m["first"] is m[0] and m.first is m[0] and m.second is m[1]
    s = m[0:2]
    assert type(s) is Chain and s["first"] is m["first"] and list(s.layers) == ["first", "second"]
    with pytest.raises(ValueError):
        Chain(layers=Dense(10, 10), two=identity)                # reserved name
    with pytest.raises(KeyError):
        Chain(Dense(2, 2))["first"]


def test_chain_of_list():
    layers = [Dense(10, 5, σ), Dense(5, 2)]
    c = Chain(layers)
    assert c(torch.randn(10)).shape == (2,)
    assert isinstance(c[0:1].layers, list)
    assert len(params(c)) == 4


def test_activations():
    dummy = Chain(lambda x: x ** 2, lambda x: x - 3, torch.tan)
    x = torch.randn(10, dtype=torch.float64)
    a = activations(dummy, x)
    assert isinstance(a, tuple) and len(a) == 3
    torch.testing.assert_close(a[0], x ** 2)
    torch.testing.assert_close(a[1], x ** 2 - 3)
    torch.testing.assert_close(a[2], torch.tan(x ** 2 - 3))
    assert activations(Chain(), x) == ()
    assert activations(Chain(identity, lambda x: "foo"), x)[1] == "foo"

    c = Chain(Dense(3, 5, relu), Dense(5, 1, relu))
    X = torch.ones(3)
    gradient(lambda: activations(c, X)[1][0], params(c))
    c2 = Chain(enc=c[0], dec=c[1])
    for u, v in zip(activations(c, X), activations(c2, X)):
        torch.testing.assert_close(u, v)
    gradient(lambda: activations(c2, X)[1][0], params(c2))


def test_chain_with_nn_module_and_functions():
    lin = nn.Linear(4, 2)
    m = Chain(Dense(3, 4, relu), lin, lambda x: 2 * x, torch.tanh)
    x = torch.randn(5, 3)
    d = m[0]
    with torch.no_grad():
        expected = torch.tanh(2 * lin(F.relu(F.linear(x, d.weight, d.bias))))
    torch.testing.assert_close(m(x), expected)
    (g,) = gradient(lambda m: m(x).sum(), m)
    W1, b1 = d.weight.clone().requires_grad_(), d.bias.clone().requires_grad_()
    W2, b2 = lin.weight.detach().clone().requires_grad_(), lin.bias.detach().clone().requires_grad_()
    torch.tanh(2 * (F.relu(x @ W1.T + b1) @ W2.T + b2)).sum().backward()
    torch.testing.assert_close(g.layers[0].weight, W1.grad)
    torch.testing.assert_close(g.layers[0].bias, b1.grad)
    torch.testing.assert_close(g.layers[1]["weight"], W2.grad)
    torch.testing.assert_close(g.layers[1]["bias"], b2.grad)
    assert g.layers[2] is None and g.layers[3] is None


def test_chain_gradient_vs_handwritten_autograd():
    m = Chain(Dense(4, 8, torch.tanh), Dense(8, 3), softmax)
    x, y = torch.randn(16, 4), torch.randn(16, 3)
    loss = lambda m: ((m(x) - y) ** 2).sum()
    (g,) = gradient(loss, m)
    ws = [t.clone().requires_grad_() for t in (m[0].weight, m[0].bias, m[1].weight, m[1].bias)]
    W1, b1, W2, b2 = ws
    h = torch.tanh(x @ W1.T + b1) @ W2.T + b2
    ((torch.exp(h) / torch.exp(h).sum(-1, keepdim=True) - y) ** 2).sum().backward()
    got = (g.layers[0].weight, g.layers[0].bias, g.layers[1].weight, g.layers[1].bias)
    for a, b in zip(got, ws):
        torch.testing.assert_close(a, b.grad)
    gs = gradient(lambda: loss(m), params(m))
    for p, b in zip(params(m), ws):
        torch.testing.assert_close(gs[p], b.grad)


# ------------------------------------------------------------------ compose

def test_compose():
    d1, d2 = Dense(10, 5, σ), Dense(5, 2)
    m = compose(d2, d1)                                           # Dense(5, 2) ∘ Dense(10, 5, σ)
    assert isinstance(m, ComposedFunction)
    x = torch.rand(10)
    torch.testing.assert_close(m(x), d2(d1(x)))
    assert m(x).shape == (2,)
    f, g, h = (lambda x: x + 1), (lambda x: 2 * x), (lambda x: x ** 2)
    assert compose(f, g, h)(3) == f(g(h(3))) == 19
    ps = params(m)
    assert len(ps) == 4 and ps[0] is d2.weight
    (gm,) = gradient(lambda m: m(x).sum(), m)
    W2 = d2.weight.clone().requires_grad_()
    (torch.sigmoid(F.linear(x, d1.weight, d1.bias)) @ W2.T + d2.bias).sum().backward()
    torch.testing.assert_close(gm.outer.weight, W2.grad)
    with pytest.raises(TypeError):
        compose()


def test_named_layers_are_attributes_in_the_model_gradient_and_state_tree():
    # Flux's training page: opt_state.layers.enc (a NamedTuple there)
    import flux_torch as Flux
    m = Flux.Chain(enc=Flux.Dense(2, 3), dec=Flux.Dense(3, 2))
    assert m.layers.enc is m["enc"] is m.enc
    st = Flux.setup(Flux.Descent(0.1), m)
    Flux.freeze_(st.layers.enc)
    before = m.enc.weight.clone()
    g = Flux.gradient(lambda model: model(torch.ones(2)).sum(), m)[0]
    assert torch.equal(g.layers.dec.bias, torch.ones(2))        # d(sum)/d(bias) = 1
    Flux.update_(st, m, g)
    assert torch.equal(m.enc.weight, before)
    with pytest.raises(AttributeError, match="no layer named 'mid'"):
        m.layers.mid


def test_flux_module_names_resolve():
    import flux_torch as Flux
    assert Flux.Zygote.gradient is Flux.gradient and Flux.Zygote.ignore is Flux.ignore_derivatives
    assert Flux.Optimisers.Adam is Flux.Adam and Flux.Optimisers.setup is Flux.setup
    assert Flux.Functors.fmap is Flux.fmap
    assert [tuple(t.shape) for t in Flux.trainables(Flux.Dense(2, 3))] == [(3, 2), (3,)]
