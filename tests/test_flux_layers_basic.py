"""Flux's own layer tests, translated: FluxML/Flux.jl test/layers/basic.jl at v0.16.11
(commit 443ed1bc8c157168e4fe99a045f42014ae26def8); the v0.14.25 file (commit
0567cb30a79e328a5077a6851ddbfe4db9b72d81) differs in the cases at the end.

Translated by the porting rules (docs/porting.md): every Julia array shape reversed (batch
first), 0-based ids and indices, ``in => out`` written ``in, out``, Julia's ``+`` as
``operator.add``. Julia's exceptions map to Python's: ``DimensionMismatch``/``ArgumentError``
→ ``ValueError``, ``MethodError`` → ``TypeError`` (or ``ValueError`` where Python has one
type for both shapes: a 1-d and a 2-d tensor are both tensors). Flux prints a warning for
Float64 input to a Float32 layer, as flux_torch does: it is silenced here.
"""
import math
import operator

import numpy as np
import pytest
import torch

import flux_torch as Flux
from flux_torch import (Adam, Bilinear, Chain, Dense, Embedding, EmbeddingBag, Maxout,
                        PairwiseFusion, Parallel, Scale, SkipConnection, fmap, gradient, hcat,
                        identity, onehot, onehotbatch, relu, tanh, vcat, σ)
from flux_checks import check_gradients, leaves_close, v014_namespace

pytestmark = pytest.mark.filterwarnings("ignore:.*float64 input; converting it:UserWarning")

EQUALITY = pytest.mark.xfail(strict=True, reason="needs core change: value equality of layers "
                                                  "(==), the lead's part of issue 11")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def randn32(*s):
    return torch.randn(*s)


def randn(*s):
    return torch.randn(*s, dtype=torch.float64)


# ---------------------------------------------------------------- helpers

def test_activations():
    dummy_model = Chain(lambda x: x ** 2, lambda x: x - 3, torch.tan)
    x = randn(10)
    acts = Flux.activations(dummy_model, x)
    assert torch.equal(acts[0], x ** 2)
    assert torch.equal(acts[1], x ** 2 - 3)
    assert torch.equal(acts[2], torch.tan(x ** 2 - 3))
    assert Flux.activations(Chain(), x) == ()
    assert Flux.activations(Chain(identity, lambda x: "foo"), x)[1] == "foo"   # results of any type


# ---------------------------------------------------------------- Chain

def test_chain():
    Chain(Dense(10, 5, σ), Dense(5, 2))(randn32(10))                 # @test_nowarn (warnings are errors)
    with pytest.raises(ValueError):                                   # DimensionMismatch
        Chain(Dense(10, 5, σ), Dense(2, 1))(randn32(10))
    Chain(first=Dense(10, 5, σ), second=Dense(5, 2))(randn32(10))
    m = Chain(first=Dense(10, 5, σ), second=Dense(5, 2))
    assert m["first"] is m[0]
    assert m == m
    with pytest.raises(ValueError):                                   # reserved name
        Chain(layers=Dense(10, 10), two=identity)
    Chain([Dense(10, 5, σ), Dense(5, 2)])(randn32(10))               # vector of layers
    c = Chain(Dense(10, 5, σ), Dense(5, 2), Dense(2, 1, relu))
    assert c[0] is c[0] and c[2] is c[-1]                             # c[begin], c[end]


def test_chain_multiple_args_become_a_tuple():                       # new in v0.16
    assert Chain(identity)(1, 2, 3) == (1, 2, 3)


def test_chain_slice_and_fmap_equal():
    m = Chain(first=Dense(10, 5, σ), second=Dense(5, 2))
    assert m[0:2] == m
    assert m == fmap(identity, m)                                     # does not forget names


def test_activations_gradient():
    c = Chain(Dense(3, 5, relu), Dense(5, 1, relu))
    X = torch.ones(3)
    gradient(lambda c: Flux.activations(c, X)[1][0], c)
    c2 = Chain(enc=c[0], dec=c[1])
    for a, b in zip(Flux.activations(c, X), Flux.activations(c2, X)):
        assert torch.equal(a, b)
    gradient(lambda c: Flux.activations(c, X)[1][0], c2)


# ---------------------------------------------------------------- Dense

def test_dense_constructors():
    assert Dense(10, 100).weight.shape == (100, 10)
    assert Dense(10, 100).bias.shape == (100,)
    assert Dense(torch.rand(100, 10, dtype=torch.float64), torch.rand(100, dtype=torch.float64)).σ is identity
    assert Dense(torch.rand(100, 10)).σ is identity
    assert Dense(torch.rand(100, 10), False).σ is identity
    assert Dense(torch.rand(100, 10), False, tanh).σ is tanh
    assert Dense(torch.rand(100, 10, dtype=torch.float16), True).bias.dtype == torch.float16
    assert Dense(torch.rand(100, 10, dtype=torch.float16),
                 torch.rand(100, dtype=torch.float64)).bias.dtype == torch.float16      # converts
    base_randn = lambda *d: torch.randn(*d, dtype=torch.float64)                      # Base.randn
    assert Dense(3, 4, init=base_randn, bias=True).bias.dtype == torch.float64
    assert Dense(3, 4, init=base_randn, bias=[1, 2, 3, 4]).bias.dtype == torch.float64
    with pytest.raises(TypeError):
        Dense(10, 10.5)
    with pytest.raises(TypeError):
        Dense(10, 10.5, tanh)
    with pytest.raises(ValueError):
        Dense(3, 4, bias=torch.rand(5))
    with pytest.raises(ValueError):
        Dense(torch.rand(4, 3), torch.rand(5))
    for bad in [(torch.rand(5),), (torch.rand(5), torch.rand(5)), (torch.rand(5), torch.rand(5), tanh)]:
        with pytest.raises((TypeError, ValueError)):                 # MethodError: a vector weight
            Dense(*bad)


def test_dense_dimensions():
    assert len(Dense(10, 5)(randn32(10))) == 5
    with pytest.raises(ValueError):
        Dense(10, 5)(randn32(1))
    with pytest.raises((TypeError, ValueError)):                     # a number is not a vector
        Dense(10, 5)(1)
    assert Dense(10, 5)(randn(10)).shape == (5,)
    assert Dense(10, 5)(randn(2, 10)).shape == (2, 5)
    assert Dense(10, 5)(randn(3, 2, 10)).shape == (3, 2, 5)
    assert Dense(10, 5)(randn(4, 3, 2, 10)).shape == (4, 3, 2, 5)
    with pytest.raises(ValueError):
        Dense(10, 5)(randn(3, 2, 11))


@pytest.mark.skip(reason="Julia-only: the broadcast call Dense(10 => 5).(x) has no Python form")
def test_dense_broadcast_call():
    pass


def test_dense_zeros():
    ones = lambda *d: torch.ones(*d, dtype=torch.float64)                             # Base.ones
    assert torch.equal(Dense(10, 1, identity, init=ones)(ones(1, 10)), 10 * ones(1, 1))
    assert torch.equal(Dense(10, 1, identity, init=ones)(ones(2, 10)), 10 * ones(2, 1))
    assert torch.equal(Dense(10, 2, identity, init=ones)(ones(1, 10)), 10 * ones(1, 2))
    x = torch.cat([ones(1, 10), 2 * ones(1, 10)])                                    # [ones 2ones]
    want = torch.tensor([[10.0, 10.0], [20.0, 20.0]], dtype=torch.float64)         # [10 20; 10 20]'
    assert torch.equal(Dense(10, 2, identity, init=ones)(x), want)
    assert torch.equal(Dense(10, 2, identity, init=ones, bias=False)(x), want)


def test_dense_type_matching():
    d1 = Dense(2, 3)
    d2 = Dense(d1.weight, False)
    x1 = torch.randn(4, 2)
    W = d1.weight
    torch.testing.assert_close(d1(x1), d2(x1))
    torch.testing.assert_close(d1(x1), x1 @ W.T)
    x2 = x1.double()
    torch.testing.assert_close(d1(x2), (x2 @ W.double().T).float())
    assert d1(x2).dtype == torch.float32 and d2(x2).dtype == torch.float32   # _match_eltype
    x3 = torch.randint(-5, 6, (4, 2))
    torch.testing.assert_close(d1(x3), d2(x3))
    torch.testing.assert_close(d1(x3), x3.float() @ W.T)
    x4 = torch.rand(4, 2) > 0.5
    torch.testing.assert_close(d1(x4), x4.float() @ W.T)
    x5 = onehotbatch(list(np.random.default_rng(0).random(5) > 0.5), [True, False])
    torch.testing.assert_close(d1(x5), d2(x5))
    torch.testing.assert_close(d1(x5), x5 @ W.T)


# ---------------------------------------------------------------- Scale

def test_scale():
    assert len(Scale(10)(randn(10))) == 10
    assert len(Scale(10)(randn(1))) == 10
    assert len(Scale(10, bias=False)(randn(10))) == 10
    assert len(Scale(10, tanh)(randn(10))) == 10
    with pytest.raises(ValueError):
        Scale(10)(randn(2))
    assert Scale(2)([[1], [2]]).tolist() == [[1, 1], [2, 2]]                # Julia [1 2] → [1 2; 1 2]
    assert Scale(2)([1, 2]).tolist() == [1, 2]
    assert Scale(2, init=lambda *d: torch.randn(*d, dtype=torch.float64))([1, 2]).tolist() != [1, 2]
    assert Scale(2, bias=False)([[1, 3], [2, 4]]).tolist() == [[1, 3], [2, 4]]
    ones = lambda *d: torch.ones(*d, dtype=torch.float64)
    sq = Scale(2, torch.square, bias=False, init=ones)([[1, 3], [2, 4]])
    assert sq.tolist() == [[1, 9], [4, 16]]                                  # [1 4; 9 16]'
    assert Scale(2)(torch.rand(4, 3, 2)).shape == (4, 3, 2)
    assert Scale(3, 2)(torch.rand(4, 3, 2)).shape == (4, 3, 2)              # Scale(2, 3) reversed
    assert Scale(4, 3, 2, bias=False)(torch.rand(4, 3, 2)).shape == (4, 3, 2)
    assert Scale(3, 2, bias=False)(torch.rand(4, 1, 2)).shape == (4, 3, 2)
    zeros = lambda *d: torch.zeros(*d, dtype=torch.float64)
    assert torch.equal(Scale(3, 2, tanh, bias=False, init=zeros)(torch.rand(4, 1, 2, dtype=torch.float64)),
                       torch.zeros(4, 3, 2, dtype=torch.float64))
    for bad in [(1.0,), (1.0, 2.0), (), (math.sin,)]:
        with pytest.raises(TypeError):
            Scale(*bad)


# ---------------------------------------------------------------- Maxout

def test_maxout():
    mo = Maxout(lambda: identity, 4)
    x = torch.rand(40, dtype=torch.float64)
    assert torch.equal(mo(x), x)
    mo = Maxout(lambda x: x, lambda x: 2 * x, lambda x: 0.5 * x)
    assert torch.equal(mo(x), 2 * x)
    # complex alternatives: x -> [0.5; 0.1] * x on the 1×2 row [3.0 2.0], batch first
    mo = Maxout(lambda x: x @ torch.tensor([[0.5, 0.1]], dtype=torch.float64),
                lambda x: x @ torch.tensor([[0.2, 0.7]], dtype=torch.float64))
    inp = torch.tensor([[3.0], [2.0]], dtype=torch.float64)
    assert torch.equal(mo(inp), inp * torch.tensor([0.5, 0.7], dtype=torch.float64))
    assert len(Flux.trainables(Maxout(lambda: Dense(32, 64), 4))) == 8     # 4 alts, weight and bias


# ---------------------------------------------------------------- SkipConnection

def test_skipconnection():
    inp = randn(10, 10, 10, 10)
    assert torch.equal(SkipConnection(lambda x: torch.zeros(x.shape, dtype=x.dtype), operator.add)(inp), inp)
    inp = randn(2, 10)
    sc = SkipConnection(Dense(10, 10), lambda a, b: torch.cat([a, b], dim=0))   # Julia cat(dims=2)
    assert sc(inp).shape == (4, 10)


# ---------------------------------------------------------------- Bilinear

def test_bilinear():
    x = torch.randn(9, 10)
    assert SkipConnection(Dense(10, 10), Bilinear(10, 10, 5))(x).shape == (9, 5)
    x, y = torch.zeros(9, 10), torch.zeros(9, 2)
    b = Bilinear(10, 2, 3)
    assert b(x, y).shape == (9, 3) and float((b(x, y) ** 2).sum()) == 0
    x = torch.randn(7, 11)
    b = Bilinear(11, 11, 3)
    assert b(x).shape == (7, 3)
    assert check_gradients(b, x)


def test_bilinear_constructors():
    b1 = Bilinear(randn(3, 4, 5))
    assert b1.bias.dtype == torch.float64 and b1.σ is identity
    assert Bilinear(randn(3, 4, 5), False).bias is None                     # Flux's bias === false
    b3 = Bilinear(torch.randn(3, 4, 5, dtype=torch.float16), True, tanh)
    assert b3.σ is tanh and b3.bias.dtype == torch.float16
    assert b3(torch.rand(4), torch.rand(5)).shape == (3,)
    with pytest.raises(ValueError):
        Bilinear(torch.rand(3))                                              # expects a 3-array
    with pytest.raises(ValueError):
        Bilinear(torch.rand(3, 4), False, tanh)
    with pytest.raises(ValueError):
        Bilinear(torch.rand(3, 4, 5), torch.rand(6), tanh)                   # wrong length bias


@pytest.mark.skip(reason="@test_skip in Flux: Bilinear(3,3,7; bias=1:7, init=zeros32).bias isa Vector{Float32}")
def test_bilinear_range_bias():
    pass


# ---------------------------------------------------------------- Parallel

def test_parallel_zero_sum_and_concat():
    inp = randn(10, 10, 10, 10)
    assert torch.equal(Parallel(operator.add, lambda x: torch.zeros_like(x), identity)(inp), inp)
    inp = randn32(2, 10)
    cat2 = lambda a, b: torch.cat([a, b], dim=0)                             # Julia cat(dims=2)
    assert Parallel(cat2, Dense(10, 10), identity)(inp).shape == (4, 10)
    assert Parallel(hcat, one=Dense(10, 10), two=identity)(inp).shape == (4, 10)


def test_parallel_vararg_input():
    inputs = randn32(10), randn32(5), randn32(4)
    assert Parallel(operator.add, Dense(10, 2), Dense(5, 2), Dense(4, 2))(inputs).shape == (2,)
    assert Parallel(operator.add, a=Dense(10, 2), b=Dense(5, 2), c=Dense(4, 2))(inputs).shape == (2,)
    with pytest.raises(ValueError):                                          # wrong number of inputs
        Parallel(operator.add, math.sin, math.cos)(1, 2, 3)
    assert math.isclose(Parallel(operator.add, math.sin, math.cos)(math.pi / 2), 1)   # one input
    assert math.isclose(Parallel(operator.truediv, abs)(3, -4), 3 / 4)       # one layer, several inputs
    assert math.isclose(Parallel(operator.truediv, abs)((3, -4)), 3 / 4)
    assert math.isclose(Parallel(operator.truediv, f=abs)(3, -4), 3 / 4)


def test_parallel_named_access():
    m = Parallel(hcat, one=Dense(10, 10), two=identity)
    assert m[0] is m["one"]
    with pytest.raises(ValueError):
        Parallel(hcat, layers=Dense(10, 10), two=identity)                   # reserved names
    with pytest.raises(ValueError):
        Parallel(hcat, connection=Dense(10, 10), two=identity)
    assert vcat(*[0.0]).tolist() == Parallel(vcat, x=math.log)(1).tolist() == [0]
    assert Parallel(vcat, math.log)(1).tolist() == [0]


def test_parallel_slice_and_fmap_equal():
    m = Parallel(hcat, one=Dense(10, 10), two=identity)
    assert m[0:2] == m
    assert m == fmap(identity, m)


def test_parallel_trivial_cases():
    inv = lambda x: 1 / x
    for make in (lambda: Parallel(hcat), lambda: Parallel(hcat, inv), lambda: Parallel(hcat, inv, math.sqrt)):
        with pytest.raises(ValueError):                                      # zero inputs: an error
            make()()
    with pytest.raises(ValueError):                                          # zero layers: an error (v0.16)
        Parallel(hcat)


def test_parallel_connection_is_called_once():
    cnt = [0]

    def f_cnt(*x):
        cnt[0] += 1
        return sum(x)
    Parallel(f_cnt, math.sin, math.cos, math.tan)(1)
    assert cnt[0] == 1
    Parallel(f_cnt, math.sin, math.cos, math.tan)(1, 2, 3)
    assert cnt[0] == 2
    Parallel(f_cnt, math.sin)(1)
    assert cnt[0] == 3
    Parallel(f_cnt, math.sin)(1, 2, 3)
    assert cnt[0] == 4


class Input:                     # https://github.com/FluxML/Flux.jl/issues/1673: a plain struct
    def __init__(self, x):
        self.x = x

    def __rmatmul__(self, a):    # Base.:*(a::AbstractArray, b::Input) = a * b.x
        return a @ self.x


class L1:
    def __init__(self, x):
        self.x = x

    def __call__(self, x):
        return self.x @ x


def test_parallel_input_domain_forward():
    par = Parallel(operator.add, L1(torch.rand(3, 3)), L1(torch.rand(3, 3)))
    ip, ip2 = Input(torch.rand(3, 3)), Input(torch.rand(3, 3))
    torch.testing.assert_close(par(ip), par.layers[0](ip.x) + par.layers[1](ip.x))
    torch.testing.assert_close(par(ip, ip2), par.layers[0](ip.x) + par.layers[1](ip2.x))


def test_parallel_input_domain_gradient():
    par = Parallel(operator.add, L1(torch.rand(3, 3)), L1(torch.rand(3, 3)))
    ip, ip2 = Input(torch.rand(3, 3)), Input(torch.rand(3, 3))
    gs = gradient(lambda par, *x: par(*x).sum(), par, ip, ip2)
    gs_reg = gradient(lambda par, x, y: (par.layers[0](x.x) + par.layers[1](y.x)).sum(), par, ip, ip2)
    for a, b in zip(gs[0].layers, gs_reg[0].layers):
        torch.testing.assert_close(a.x, b.x)
    torch.testing.assert_close(gs[1].x, gs_reg[1].x)
    torch.testing.assert_close(gs[2].x, gs_reg[2].x)


# ---------------------------------------------------------------- Embedding

VOCAB, EMBED = 10, 4


def test_embedding():
    m = Embedding(VOCAB, EMBED)
    assert m.weight.shape == (VOCAB, EMBED)                                  # Flux's (embed, vocab)'
    assert m(0).dtype == torch.float32 and m(0).dim() == 1
    torch.testing.assert_close(m(1), m.weight[1])
    torch.testing.assert_close(m(onehot(2, range(VOCAB))), m.weight[2])
    with pytest.raises(ValueError):
        m(onehot(2, range(1000)))
    torch.testing.assert_close(m(3), m(torch.arange(VOCAB) == 3))
    x = torch.randint(0, VOCAB, (3,))                                         # a batch of ids
    y = m(x)
    assert y.dtype == torch.float32 and y.dim() == 2
    torch.testing.assert_close(y, m.weight[x])
    y2 = m(onehotbatch(x, range(VOCAB)))
    assert y2.dtype == torch.float32
    torch.testing.assert_close(y2, y)
    with pytest.raises(ValueError):
        m(onehotbatch(x, range(1000)))
    torch.testing.assert_close(y, m(x[:, None] == torch.arange(VOCAB)))
    x = torch.randint(0, VOCAB, (4, 3))                                       # more dims
    y = m(x)
    assert y.dtype == torch.float32 and y.shape == (4, 3, EMBED)
    x3 = onehotbatch(x, range(VOCAB))
    assert x3.shape == (4, 3, VOCAB)
    assert m(x3).shape == (4, 3, EMBED)


PAD = 1                                                                        # Flux's pad = 2


def test_embedding_padding_idx():                                            # new in v0.16
    m = Embedding(VOCAB, EMBED, padding_idx=PAD)
    assert m.padding_idx == PAD
    assert bool((m.weight[PAD] == 0).all())
    assert f"padding_idx={PAD}" in repr(m)
    with pytest.raises(ValueError):
        Embedding(VOCAB, EMBED, padding_idx=-1)                              # Flux's 0
    with pytest.raises(ValueError):
        Embedding(VOCAB, EMBED, padding_idx=VOCAB)                           # Flux's vocab_size + 1
    assert bool((m(PAD) == 0).all())
    x = torch.tensor([0, PAD, 2, PAD, 3])                                     # Flux's [1, pad, 3, pad, 4]
    y = m(x)
    assert bool((y[[1, 3]] == 0).all())
    torch.testing.assert_close(y, m(onehotbatch(x, range(VOCAB))))
    assert bool((m(onehot(PAD, range(VOCAB))) == 0).all())
    xnd = torch.tensor([[0, 2], [PAD, PAD]])                                  # Flux's [1 pad; 3 pad]
    assert bool((m(xnd)[1, 0] == 0).all()) and bool((m(xnd)[1, 1] == 0).all())


def test_embedding_padding_gradient_and_training():
    m = Embedding(VOCAB, EMBED, padding_idx=PAD)
    x = torch.tensor([0, PAD, 2, PAD, 3])
    m0 = Embedding(m.weight.clone())                                          # padding_idx = None
    others = [i for i in range(VOCAB) if i != PAD]
    for inp in (x, onehotbatch(x, range(VOCAB))):
        g = gradient(lambda m: m(inp).sum(), m)[0].weight
        g0 = gradient(lambda m: m(inp).sum(), m0)[0].weight
        assert bool((g[PAD] == 0).all())
        assert bool((g0[PAD] != 0).any())                                     # unmasked reference
        assert torch.equal(g[others], g0[others])
    assert bool((gradient(lambda m: m(PAD).sum(), m)[0].weight == 0).all())  # scalar-index path
    assert check_gradients(m, x)
    assert check_gradients(m, onehotbatch(x, range(VOCAB), dtype=torch.bool))
    opt_state = Flux.setup(Adam(0.1), m)
    Flux.train_(lambda m, x: ((m(x) - 1) ** 2).sum(), m, [(x,) for _ in range(5)], opt_state)
    assert bool((m.weight[PAD] == 0).all())


# ---------------------------------------------------------------- EmbeddingBag

def test_embeddingbag_offsets():
    """Flux's ``_splitat`` tests, through ``EmbeddingBag(data, offsets)`` (0-based starts), the
    only place flux_torch splits: each bag must equal the bag given explicitly."""
    eb = EmbeddingBag(10, 3, torch.sum)
    data = torch.arange(9)                                                     # Flux's 1:9
    for at, bags in [([0, 2, 5], [[0, 1], [2, 3, 4], [5, 6, 7, 8]]), (list(range(9)), [[i] for i in range(9)]),
                     ([0], [list(range(9))]), ([0, 8], [list(range(8)), [8]])]:
        torch.testing.assert_close(eb(data, at), torch.stack([eb(b) for b in bags]))
    for at in ([0, 1, 1, 4], [0, 4, 1], [1, 2, 4], [0, 4, 10]):               # not increasing, not from 0, too large
        with pytest.raises(ValueError):
            eb(data, at)


@pytest.mark.parametrize("reduction", [torch.sum, torch.mean, torch.amax])   # sum, mean, maximum
def test_embeddingbag(reduction):
    emb_bag = EmbeddingBag(VOCAB, EMBED, reduction)
    emb = Embedding(emb_bag.weight)
    assert emb_bag.weight.shape == (VOCAB, EMBED)
    with pytest.raises((TypeError, ValueError)):
        emb_bag(1)
    x = torch.randint(0, VOCAB, (3,))                                         # single bag
    y = emb_bag(x)
    assert y.dtype == torch.float32 and y.shape == (EMBED,)
    torch.testing.assert_close(y, reduction(emb(x), dim=-2))
    torch.testing.assert_close(emb_bag([0, 2, 1, 3, 4, 6], [0, 2, 4]), emb_bag([[0, 2], [1, 3], [4, 6]]))
    torch.testing.assert_close(emb_bag([0, 2, 1, 3, 4, 6], [0, 2, 4]),
                               emb_bag(torch.tensor([[0, 2], [1, 3], [4, 6]])))   # Flux's [1 2 5; 3 4 7]
    with pytest.raises(ValueError):
        emb_bag([0, 1, 2, 3, 4, 5], [1, 3])
    with pytest.raises(ValueError):
        emb_bag([0, 1, 2, 3, 4, 5], [0, 11])
    torch.testing.assert_close(emb_bag(list(range(10)), [0, 4, 5, 7]),           # docstring example
                               emb_bag([[0, 1, 2, 3], [4], [5, 6], [7, 8, 9]]))
    xs = [torch.randint(0, VOCAB, (3,)) for _ in range(4)]                    # vector of bags
    y = emb_bag(xs)
    assert y.dtype == torch.float32 and y.shape == (4, EMBED)
    torch.testing.assert_close(y, torch.stack([reduction(emb(b), dim=-2) for b in xs]))
    x = torch.randint(0, VOCAB, (5, 3))                                       # a matrix: 5 bags of 3
    xvec = list(x)
    y = emb_bag(x)
    torch.testing.assert_close(y, emb_bag(xvec))
    torch.testing.assert_close(y, torch.stack([reduction(emb(b), dim=-2) for b in xvec]))
    with pytest.raises((TypeError, ValueError)):                              # a one-hot vector is no bag
        emb_bag(onehot(2, range(VOCAB)))
    i2 = torch.randint(0, VOCAB, (3,))
    y2 = emb_bag(onehotbatch(i2, range(VOCAB)))
    assert y2.dtype == torch.float32 and y2.shape == (EMBED,)
    torch.testing.assert_close(y2, reduction(emb(i2), dim=-2))
    with pytest.raises(ValueError):
        emb_bag(onehotbatch(range(5), range(1000)))


# ---------------------------------------------------------------- second derivatives

def test_second_derivatives():
    """Zygote's hessian_dual (forward over reverse) against hessian_reverse; both against
    torch.autograd.functional.hessian as the oracle."""
    m1 = Chain(Dense(3, 4, tanh, bias=False), Dense(4, 2))
    m1v = Chain([m1[0], m1[1]])                                               # vector of layers
    m2 = Chain(Dense(3, 4, tanh), Dense(4, 2), Flux.softmax)                 # @test_broken in Zygote only
    x = torch.tensor([1.0, 2.0, 3.0])
    for m in (m1, m1v, m2):
        f = lambda x, m=m: m(x).sum()
        oracle = torch.autograd.functional.hessian(f, x)
        torch.testing.assert_close(Flux.hessian(f, x), oracle)
        torch.testing.assert_close(Flux.hessian_reverse(f, x), oracle)
    m3 = Chain(Flux.Conv((3,), 2, 3, relu), Dense(2, 2))                     # NNlib issue 362
    x3 = torch.tensor([[[1.0, 3.0, 5.0, 7.0], [2.0, 4.0, 6.0, 8.0]]])         # cat(Float32[1 2; …]; dims=3)
    f3 = lambda x: m3(x).sum()
    torch.testing.assert_close(Flux.hessian(f3, x3), Flux.hessian_reverse(f3, x3))


def test_gradients_of_chain_vector():
    m1 = Chain(Dense(3, 4, tanh, bias=False), Dense(4, 2))
    m1v = Chain([m1[0], m1[1]])
    assert sum(p.numel() for p in Flux.trainables(m1)) == sum(p.numel() for p in Flux.trainables(m1v))
    x1 = torch.randn(5, 3)
    torch.testing.assert_close(m1(x1), m1v(x1))
    y1 = (torch.rand(5, 2) > 0.5).float()
    g1 = gradient(lambda m: Flux.logitcrossentropy(m(x1), y1), m1)[0]
    g1v = gradient(lambda m: Flux.logitcrossentropy(m(x1), y1), m1v)[0]
    assert leaves_close(g1, g1v)
    torch.testing.assert_close(Flux.destructure(m1)[0], Flux.destructure(m1v)[0])
    z1 = torch.rand(22)
    torch.testing.assert_close(Flux.destructure(m1)[1](z1)[0].weight, Flux.destructure(m1v)[1](z1)[0].weight)


# ---------------------------------------------------------------- PairwiseFusion

def test_pairwise_fusion():
    x = (torch.rand(10, 1, dtype=torch.float64), torch.rand(10, 30, dtype=torch.float64))
    y = PairwiseFusion(operator.add, Dense(1, 30), Dense(30, 10))(x)
    assert len(y) == 2 and y[0].shape == (10, 30) and y[1].shape == (10, 10)
    x = torch.rand(10, 1, dtype=torch.float64)
    y = PairwiseFusion(operator.add, Dense(1, 10), Dense(10, 1))(x)          # Julia's .+
    assert len(y) == 2 and y[0].shape == (10, 10) and y[1].shape == (10, 1)
    m = PairwiseFusion(vcat, lambda x: x + 1, lambda x: x + 2, lambda x: x ** 3)
    out = m(2, 10, 20)
    assert out[0] == 3 and out[1].tolist() == [5, 12] and out[2].tolist() == [125, 1728, 8000]
    out = m(7)
    assert out[0] == 8 and out[1].tolist() == [10, 9] and out[2].tolist() == [1000, 729, 343]


# ---------------------------------------------------------------- v0.14.25's differences

def test_v014_parallel_trivial_cases():
    """v0.14.25: a Parallel without layers is allowed and still calls the connection once."""
    F14 = v014_namespace()
    assert F14.Parallel(hcat).layers == ()                                   # not a NamedTuple
    assert F14.Parallel(hcat)(1).numel() == 0                                 # hcat()
    assert F14.Parallel(hcat, lambda x: 1 / x)(2).tolist() == [[0.5]]        # hcat(1/2)


def test_v014_implicit_gradients():
    """v0.14.25 differentiates with implicit params: gradient(() -> ..., params(c))."""
    F14 = v014_namespace()
    c = F14.Chain(F14.Dense(3, 5, relu), F14.Dense(5, 1, relu))
    X = torch.ones(3)
    gs = F14.gradient(lambda: F14.activations(c, X)[1][0], F14.params(c))
    assert set(map(id, gs.params)) == set(map(id, F14.params(c)))
    b = F14.Bilinear(11, 11, 3)
    x = torch.randn(7, 11)
    gs = F14.gradient(lambda: (b(x) ** 2).sum(), F14.params(b))
    assert gs[b.weight].shape == b.weight.shape
    m1 = F14.Chain(F14.Dense(3, 4, tanh, bias=False), F14.Dense(4, 2))
    m1v = F14.Chain([m1[0], m1[1]])
    x1, y1 = torch.randn(5, 3), (torch.rand(5, 2) > 0.5).float()
    g1 = F14.gradient(lambda: Flux.logitcrossentropy(m1(x1), y1), F14.params(m1))
    g1v = F14.gradient(lambda: Flux.logitcrossentropy(m1v(x1), y1), F14.params(m1v))
    torch.testing.assert_close(g1[m1[0].weight], g1v[m1v[0].weight])
    torch.testing.assert_close(g1[m1[1].bias], g1v[m1v[1].bias])
