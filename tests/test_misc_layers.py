"""Bilinear, Scale, Embedding and EmbeddingBag against Flux v0.14 (src/layers/basic.jl
docstrings, test/layers/basic.jl) translated batch first with 0-based ids, and against
their torch.nn twins (nn.Bilinear, nn.Embedding, nn.EmbeddingBag) with copied weights."""
import numpy as np
import pytest
import torch
from torch import nn

from flux_torch import (Chain, Dense, f64, gradient, identity_init, onehot, onehotbatch, params,
                        tanh, zeros32)
from flux_torch.layers.containers import SkipConnection
from flux_torch.layers.embedding import Embedding, EmbeddingBag
from flux_torch.layers.misc import Bilinear, Scale


def close(a, b, tol=1e-5):
    return torch.allclose(a, b, atol=tol, rtol=tol)


def twin_bilinear(b):
    out, in1, in2 = b.weight.shape
    t = nn.Bilinear(in1, in2, out, bias=b.bias is not None)
    with torch.no_grad():
        t.weight.copy_(b.weight)
        if b.bias is not None:
            t.bias.copy_(b.bias)
    return t


# ------------------------------------------------------------------ Bilinear

def test_bilinear_docstring():
    x, y = torch.randn(32, 5), torch.randn(32, 5)
    B = Bilinear((5, 5), 7)
    assert repr(B) == "Bilinear(5, 7)  # 182 parameters"
    assert B(x).shape == (32, 7)
    assert torch.equal(B(x, y), B((x, y)))
    sc = SkipConnection(Chain(Dense(5, 20, tanh), Dense(20, 9, tanh)), Bilinear((9, 5), 3, bias=False))
    assert sc(x).shape == (32, 3)
    b = Bilinear(torch.rand(4, 8, 16), False, tanh)
    assert repr(b) == "Bilinear((8, 16), 4, tanh, bias=False)  # 512 parameters"


def test_bilinear_values_vs_nn_bilinear():
    b = Bilinear((4, 3), 5, tanh)
    b.bias = torch.randn(5)
    x, y = torch.randn(7, 4), torch.randn(7, 3)
    assert close(b(x, y), torch.tanh(twin_bilinear(b)(x, y)))
    # the formula itself: z[i] = x' W[i] y + b[i]
    assert close(b(x[0], y[0]), torch.tanh(torch.einsum("j,ijk,k->i", x[0], b.weight, y[0]) + b.bias))


def test_bilinear_flux_tests():
    x = torch.randn(9, 10)
    assert SkipConnection(Dense(10, 10), Bilinear(10, 10, 5))(x).shape == (9, 5)
    b = Bilinear(10, 2, 3)
    z = b(torch.zeros(9, 10), torch.zeros(9, 2))
    assert z.shape == (9, 3) and (z ** 2).sum() == 0
    assert Bilinear(11, 11, 3)(torch.randn(7, 11)).shape == (7, 3)
    b1 = Bilinear(torch.randn(3, 4, 5, dtype=torch.float64))
    assert b1.bias.dtype == torch.float64 and b1.bias.shape == (3,)
    assert Bilinear(torch.randn(3, 4, 5), False).bias is None
    b3 = Bilinear(torch.randn(3, 4, 5), True, tanh)
    assert b3.σ is tanh and b3(torch.rand(4), torch.rand(5)).shape == (3,)
    b4 = Bilinear(3, 3, 7, bias=torch.arange(1.0, 8.0), init=zeros32)
    assert b4.bias.tolist() == list(range(1, 8))
    with pytest.raises(ValueError, match="3-dimensional"):
        Bilinear(torch.rand(3))
    with pytest.raises(ValueError, match="3-dimensional"):
        Bilinear(torch.rand(3, 4), False, tanh)
    with pytest.raises(ValueError):
        Bilinear(torch.rand(3, 4, 5), torch.rand(6), tanh)      # wrong length bias


def test_bilinear_bad_inputs():
    b = Bilinear((4, 3), 5)
    with pytest.raises(ValueError, match=r"Bilinear\(\(4, 3\), 5\) expects x.shape\[-1\] == 4"):
        b(torch.rand(2, 3), torch.rand(2, 3))
    with pytest.raises(ValueError, match="same batch size"):
        b(torch.rand(2, 4), torch.rand(3, 3))
    with pytest.raises(TypeError):
        Bilinear("a", 3)


def test_bilinear_gradient_vs_autograd_and_f64():
    b = Bilinear((4, 3), 2, tanh)
    x, y = torch.randn(6, 4), torch.randn(6, 3)
    g = gradient(lambda m: (m(x, y) ** 2).sum(), b)[0]
    t = twin_bilinear(b)
    (torch.tanh(t(x, y)) ** 2).sum().backward()
    assert close(g.weight, t.weight.grad) and close(g.bias, t.bias.grad)
    b64 = f64(b)
    assert b64.weight.dtype == torch.float64
    assert close(b64(x.double(), y.double()).float(), b(x, y))


# ------------------------------------------------------------------ Scale

def test_scale_docstring_translated():
    a = Scale(2)
    assert repr(a) == "Scale(2)  # 4 parameters"
    assert [p.tolist() for p in params(a)] == [[1.0, 1.0], [0.0, 0.0]]
    # Flux: a([1 2 3]) is 2×3 [1 2 3; 1 2 3]; the 1×3 input is (3, 1) here, the result (3, 2)
    assert a([[1], [2], [3]]).tolist() == [[1, 1], [2, 2], [3, 3]]
    # Flux: Scale(Float32[1 2 3 4], false, abs2) is Scale(1, 4, abs2; bias=false); reversed shapes
    b = Scale(torch.tensor([[1.0], [2.0], [3.0], [4.0]]), False, torch.square)
    assert repr(b) == "Scale(4, 1, square, bias=False)  # 4 parameters"
    assert b([1, 10]).tolist() == torch.tensor([[1.0, 4, 9, 16], [100, 400, 900, 1600]]).T.tolist()
    assert len(params(b)) == 1


def test_scale_values_gradient_and_errors():
    s = Scale(3, 2, tanh)
    s.scale, s.bias = torch.randn(3, 2), torch.randn(3, 2)
    x = torch.randn(5, 3, 2)
    assert close(s(x), torch.tanh(s.scale * x + s.bias))
    g = gradient(lambda m: m(x).sum(), s)[0]
    w, b = s.scale.clone().requires_grad_(), s.bias.clone().requires_grad_()
    torch.tanh(w * x + b).sum().backward()
    assert close(g.scale, w.grad) and close(g.bias, b.grad)
    assert repr(Scale(2, 3, bias=False)) == "Scale(2, 3, bias=False)  # 6 parameters"
    with pytest.raises(ValueError, match=r"Scale\(3, 2, tanh\) multiplies elementwise"):
        s(torch.rand(5, 2, 3))
    with pytest.raises(TypeError, match="Scale expects sizes"):
        Scale(2.5)
    assert f64(s)(x.double()).dtype == torch.float64


# ------------------------------------------------------------------ Embedding

def test_embedding_docstring_translated():
    emb = Embedding(26, 4, init=identity_init(gain=22))
    assert repr(emb) == "Embedding(26, 4)  # 104 parameters"
    assert emb(1).tolist() == [0, 22, 0, 0]                           # Flux: emb(2)
    ids = [2, 0, 19, 13, 3, 14, 6]                                    # Flux: [3, 1, 20, 14, 4, 15, 7]
    flux_cols = [[0, 22, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0],
                 [22, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 22, 0, 0]]     # Flux's printed 4×7 matrix
    assert emb(ids).tolist() == torch.tensor(flux_cols, dtype=torch.float32).T.tolist()
    assert torch.equal(emb(ids), emb(onehotbatch("cat&dog", "abcdefghijklmnopqrstuvwxyz", "n")))
    assert emb(torch.randint(0, 26, (12, 1, 10))).shape == (12, 1, 10, 4)


def test_embedding_flux_tests_translated():
    vocab, dim = 10, 4
    m = Embedding(vocab, dim)
    assert m.weight.shape == (vocab, dim)               # torch's (in, out); Flux stores (out, in)
    assert m(0).dtype == torch.float32 and m(0).shape == (dim,)
    assert torch.equal(m(1), m.weight[1])
    assert close(m(onehot(2, range(vocab))), m.weight[2])
    with pytest.raises(ValueError, match="one-hot"):
        m(onehot(2, range(1000)))
    assert close(m(3), m(torch.arange(vocab) == 3))
    x = torch.randint(0, vocab, (3,))
    y = m(x)
    assert y.shape == (3, dim) and torch.equal(y, m.weight[x])
    assert close(m(onehotbatch(x, range(vocab))), y)
    with pytest.raises(ValueError):
        m(onehotbatch(x, range(1000)))
    assert close(m(x[:, None] == torch.arange(vocab)), y)
    x = torch.randint(0, vocab, (4, 3))
    assert m(x).shape == (4, 3, dim)
    x3 = onehotbatch(x, range(vocab))
    assert x3.shape == (4, 3, vocab) and m(x3).shape == (4, 3, dim)


def test_embedding_vs_nn_embedding_and_gradient():
    m = Embedding(7, 3)
    t = nn.Embedding(7, 3)
    with torch.no_grad():
        t.weight.copy_(m.weight)                        # same layout: no transpose
    ids = torch.tensor([[0, 6, 2], [2, 2, 5]])
    assert torch.equal(m(ids), t(ids))
    assert torch.equal(m(np.array([1, 3])), t(torch.tensor([1, 3])))
    g = gradient(lambda e: (e(ids) ** 2).sum(), m)[0]
    (t(ids) ** 2).sum().backward()
    assert close(g.weight, t.weight.grad)
    x = torch.rand(5, 7)                                # float input: soft one-hot, x @ weight
    g = gradient(lambda e: e(x).sum(), m)[0]
    w = m.weight.clone().requires_grad_()
    (x @ w).sum().backward()
    assert close(g.weight, w.grad)


def test_embedding_bad_ids_and_construction():
    m = Embedding(10, 4)
    with pytest.raises(IndexError, match=r"range\(0, 10\).*got 10"):
        m(10)
    with pytest.raises(IndexError, match="got -1"):
        m(torch.tensor([1, -1]))
    with pytest.raises(TypeError, match="Embedding expects sizes"):
        Embedding(10.5, 4)
    with pytest.raises(ValueError, match=r"\(in, out\)"):
        Embedding(torch.rand(3))
    e = Embedding((5, 2))
    assert e.weight.shape == (5, 2) and Embedding(e.weight).weight is e.weight


def test_embedding_f64():
    m = f64(Embedding(5, 2))
    assert m.weight.dtype == torch.float64 and m([1, 2]).dtype == torch.float64
    assert m(torch.rand(3, 5, dtype=torch.float64)).dtype == torch.float64


# ------------------------------------------------------------------ EmbeddingBag

def test_embedding_bag_docstring_translated():
    eb = EmbeddingBag(26, 3, init=identity_init(gain=100))
    assert repr(eb) == "EmbeddingBag(26, 3)  # 78 parameters"
    assert eb([1]).tolist() == [0, 100, 0]
    assert close(eb([2, 2, 0]), torch.tensor([100 / 3, 0, 200 / 3]))
    assert close(eb([[2, 0, 2], [1, 0]]), torch.tensor([[100 / 3, 0, 200 / 3], [50, 50, 0]]))
    # Flux: eb([1 1 1 1; 1 2 3 4]) = 4 bags of 2 -> 3×4; here 4 bags as rows
    assert close(eb([[0, 0], [0, 1], [0, 2], [0, 3]]),
                 torch.tensor([[100.0, 0, 0], [50, 50, 0], [50, 0, 50], [50, 0, 0]]))
    assert eb(torch.randint(0, 26, (5, 5, 10))).shape == (5, 5, 3)
    data = [10, 0, 11, 1, 12, 2, 13]
    assert close(eb(data, [0, 3]), torch.tensor([[100 / 3, 0, 0], [0, 25, 25]]))
    abc = "abcdefghijklmnopqrstuvwxyz"
    assert close(eb(onehotbatch("bba", abc)), torch.tensor([100 / 3, 200 / 3, 0]))
    assert close(eb([onehotbatch("bba", abc), onehotbatch("cc", abc)]),
                 torch.tensor([[100 / 3, 200 / 3, 0], [0, 0, 100]]))


@pytest.mark.parametrize("reduction, ref", [
    ("sum", lambda e: e.sum(-2)), ("mean", lambda e: e.mean(-2)), ("max", lambda e: e.amax(-2)),
    (torch.sum, lambda e: e.sum(-2)), (torch.amax, lambda e: e.amax(-2)),
    ("custom", None)])
def test_embedding_bag_flux_tests_translated(reduction, ref):
    vocab, dim = 10, 4
    if ref is None:                                     # a general function, called f(e, dim=-2)
        reduction = lambda e, dim: e.median(dim=dim).values   # noqa: E731
        ref = lambda e: e.median(dim=-2).values                 # noqa: E731
    eb = EmbeddingBag(vocab, dim, reduction)
    emb = Embedding(eb.weight)
    assert eb.weight.shape == (vocab, dim)
    with pytest.raises(TypeError, match="not just one id"):
        eb(2)
    x = torch.randint(0, vocab, (3,))
    assert close(eb(x), ref(emb(x)))
    bags = [[0, 2], [1, 3], [4, 6]]
    assert close(eb([0, 2, 1, 3, 4, 6], [0, 2, 4]), eb(bags))
    assert close(eb([0, 2, 1, 3, 4, 6], [0, 2, 4]), eb(torch.tensor(bags)))
    for bad in ([1, 3], [0, 11], [0, 2, 2], [0, 4, 2]):
        with pytest.raises(ValueError, match="offsets"):
            eb([0, 1, 2, 3, 4, 5], bad)
    assert close(eb(list(range(10)), [0, 4, 5, 7]), eb([[0, 1, 2, 3], [4], [5, 6], [7, 8, 9]]))
    xs = [torch.randint(0, vocab, (n,)) for n in (3, 1, 4, 2)]
    assert close(eb(xs), torch.stack([ref(emb(b)) for b in xs]))
    x = torch.randint(0, vocab, (5, 3))
    assert close(eb(x), torch.stack([ref(emb(b)) for b in x]))
    with pytest.raises(ValueError, match="one-hot vector"):
        eb(onehot(2, range(vocab)))
    i2 = torch.randint(0, vocab, (3,))
    assert close(eb(onehotbatch(i2, range(vocab))), ref(emb(i2)))
    with pytest.raises(ValueError):
        eb(onehotbatch(range(5), range(1000)))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_vs_nn_embedding_bag_and_gradient(mode):
    eb = EmbeddingBag(8, 3, mode=mode)
    t = nn.EmbeddingBag(8, 3, mode=mode)
    with torch.no_grad():
        t.weight.copy_(eb.weight)
    data, offsets = torch.tensor([1, 2, 4, 5, 4, 3, 2, 7]), torch.tensor([0, 3, 4])
    assert close(eb(data, offsets), t(data, offsets))
    g = gradient(lambda m: (m(data, offsets) ** 2).sum(), eb)[0]
    (t(data, offsets) ** 2).sum().backward()
    assert close(g.weight, t.weight.grad)
    assert repr(eb) == ("EmbeddingBag(8, 3)" if mode == "mean" else f"EmbeddingBag(8, 3, {mode!r})") \
        + "  # 24 parameters"


def test_embedding_bag_construction_and_f64():
    with pytest.raises(ValueError, match="reduction"):
        EmbeddingBag(3, 2, "median")
    w = torch.rand(5, 2)
    assert EmbeddingBag(w).weight is w and EmbeddingBag(w, "sum").reduction == "sum"
    m = f64(EmbeddingBag(5, 2))
    assert m([[1, 2], [3, 4]]).dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu():
    from flux_torch import gpu
    e, eb, b, s = (gpu(m) for m in (Embedding(5, 2), EmbeddingBag(5, 2), Bilinear(3, 2), Scale(3)))
    ids = gpu(torch.tensor([[1, 2], [3, 4]]))
    assert e(ids).device.type == "cuda" and eb(ids).device.type == "cuda"
    assert eb([[1, 2], [3]]).device.type == "cuda"
    x = gpu(torch.rand(4, 3))
    assert b(x).device.type == "cuda" and s(x).device.type == "cuda"
