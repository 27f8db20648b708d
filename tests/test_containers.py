"""SkipConnection, Parallel, PairwiseFusion, Maxout, vcat/hcat against Flux v0.14
(src/layers/basic.jl docstrings, test/layers/basic.jl) translated batch first, and against
hand-written torch and torch.autograd."""
import math
import operator

import pytest
import torch
import torch.nn.functional as F

from flux_torch import Chain, Dense, f64, fmap, gradient, params, relu, tanh
from flux_torch.layers.containers import (Maxout, PairwiseFusion, Parallel, ParallelV014, SkipConnection,
                                         hcat, vcat)


def close(a, b, tol=1e-5):
    return torch.allclose(a, b, atol=tol, rtol=tol)


def dense_ref(d, x):
    return F.linear(x, d.weight, d.bias)


# ------------------------------------------------------------------ vcat / hcat

def test_vcat_hcat_are_torch_cat_on_batch_first_dims():
    a, b = torch.rand(4, 2), torch.rand(4, 3)
    assert torch.equal(vcat(a, b), torch.cat([a, b], dim=-1))
    assert vcat.__name__ == "vcat" and hcat.__name__ == "hcat"
    # Julia hcat of vectors [1,2], [3,4] is the 2×2 matrix [1 3; 2 4]; reversed: rows [1,2], [3,4]
    assert hcat(torch.tensor([1, 2]), torch.tensor([3, 4])).tolist() == [[1, 2], [3, 4]]
    assert hcat(a, torch.rand(5, 2)).shape == (9, 2)                # Julia: 2×4 and 2×5 -> 2×9
    assert torch.equal(hcat(a, a), torch.cat([a, a], 0))
    assert vcat(1, 2).tolist() == [1, 2]


# ------------------------------------------------------------------ SkipConnection

def test_skip_zero_sum():
    x = torch.randn(10, 10, 10, 10)
    assert torch.equal(SkipConnection(torch.zeros_like, operator.add)(x), x)


def test_skip_values_and_concat_size():
    d = Dense(10, 10)
    x = torch.randn(2, 10)                           # Flux: randn(10, 2)
    y = SkipConnection(d, hcat)(x)                   # Flux: cat(a, b, dims=2) -> (10, 4)
    assert y.shape == (4, 10)
    assert close(y, torch.cat([dense_ref(d, x), x], 0))
    assert close(SkipConnection(d, operator.add)(x), dense_ref(d, x) + x)


def test_skip_printing():
    m = SkipConnection(Dense(2, 2), operator.add)
    assert repr(m) == ("SkipConnection(\n"
                       "  Dense(2, 2),                          # 6 parameters\n"
                       "  add,\n"
                       ")")
    assert repr(Chain(SkipConnection(relu, operator.add))) == (
        "Chain(\n  SkipConnection(relu, add),\n)")


def test_skip_gradient_vs_autograd():
    d, x = Dense(3, 3, tanh), torch.randn(4, 3)
    g = gradient(lambda m: (m(x) ** 2).sum(), SkipConnection(d, operator.add))[0]
    w, b = d.weight.clone().requires_grad_(), d.bias.clone().requires_grad_()
    ((torch.tanh(F.linear(x, w, b)) + x) ** 2).sum().backward()
    assert type(g) is SkipConnection and g.connection is None
    assert close(g.layers.weight, w.grad) and close(g.layers.bias, b.grad)


# ------------------------------------------------------------------ Parallel

def test_parallel_zero_sum_and_concat_size():
    x = torch.randn(10, 10, 10, 10)
    assert torch.equal(Parallel(operator.add, torch.zeros_like, lambda t: t)(x), x)
    x = torch.randn(2, 10)
    assert Parallel(hcat, Dense(10, 10), lambda t: t)(x).shape == (4, 10)
    assert Parallel(hcat, one=Dense(10, 10), two=lambda t: t)(x).shape == (4, 10)


def test_parallel_values_vs_torch():
    a, b = Dense(5, 4), Dense(5, 3, relu)
    x = torch.randn(6, 5)
    ref = torch.cat([dense_ref(a, x), torch.relu(dense_ref(b, x))], dim=-1)
    assert close(Parallel(vcat, a, b)(x), ref)


def test_parallel_vararg_inputs():
    add3 = lambda *ys: sum(ys)                                       # noqa: E731  (Julia's +)
    d1, d2, d3 = Dense(10, 2), Dense(5, 2), Dense(4, 2)
    xs = torch.randn(10), torch.randn(5), torch.randn(4)
    ref = dense_ref(d1, xs[0]) + dense_ref(d2, xs[1]) + dense_ref(d3, xs[2])
    assert close(Parallel(add3, d1, d2, d3)(xs), ref)
    assert close(Parallel(add3, a=d1, b=d2, c=d3)(*xs), ref)
    with pytest.raises(ValueError, match="Parallel with 2 sub-layers can take one input or 2 inputs, but got 3"):
        Parallel(operator.add, math.sin, math.cos)(1, 2, 3)
    assert Parallel(operator.add, math.sin, math.cos)(math.pi / 2) == pytest.approx(1)


def test_parallel_named_access_and_reserved_names():
    one = Dense(10, 10)
    m = Parallel(hcat, one=one, two=lambda t: t)
    assert m[0] is m["one"] is m.one is one
    assert list(m.keys()) == ["one", "two"] and len(m) == 2
    sub = m[0:2]
    assert type(sub) is Parallel and list(sub.layers) == ["one", "two"] and sub[0] is one
    with pytest.raises(ValueError, match="layers"):
        Parallel(hcat, layers=Dense(10, 10), two=lambda t: t)
    with pytest.raises(ValueError, match="connection"):
        Parallel(hcat, connection=Dense(10, 10), two=lambda t: t)
    m2 = fmap(lambda t: t, m)                                       # does not forget names
    assert list(m2.layers) == ["one", "two"]
    assert Parallel(vcat, x=math.log)(1).tolist() == [0]
    assert Parallel(vcat, math.log)(1).tolist() == [0]


def test_parallel_trivial_cases_and_connection_called_once():
    with pytest.raises(ValueError, match="no sub-layers"):        # Flux v0.16
        Parallel(hcat)
    assert ParallelV014(hcat).layers == ()                         # Flux v0.14 allowed it
    assert Parallel(hcat, lambda x: 1 / x)(2).tolist() == [[0.5]]     # Julia hcat(1/2): 1×1
    with pytest.raises(ValueError, match="0 inputs"):
        Parallel(hcat, math.sin)()
    count = [0]

    def f_cnt(*xs):
        count[0] += 1
        return sum(xs)
    Parallel(f_cnt, math.sin, math.cos, math.tan)(1)
    Parallel(f_cnt, math.sin, math.cos, math.tan)(1, 2, 3)
    Parallel(f_cnt, math.sin)(1)
    Parallel(f_cnt, math.sin)(1, 2, 3)                             # one layer, three inputs
    assert count[0] == 4


def test_parallel_binary_connection_folds_over_more_branches():
    """Issue 11 §2: Julia's + is n-ary, so operator.add joins three branches as (a + b) + c."""
    a, b, c = Dense(2, 3), Dense(2, 3), Dense(2, 3)
    x = torch.rand(2)
    torch.testing.assert_close(Parallel(operator.add, a, b, c)(x), a(x) + b(x) + c(x))
    calls = []

    def sub(p, q):
        calls.append((p, q))
        return p - q
    assert Parallel(sub, lambda v: v, lambda v: 2 * v, lambda v: 3 * v)(1) == (1 - 2) - 3
    assert calls == [(1, 2), (-1, 3)]                              # a left fold, like Julia's -


def test_parallel_and_chain_take_a_tuple_of_layers():
    """Issue 11 §2: Flux's own constructors Parallel(connection, (a, b)) and Chain((a, b))."""
    a, b = Dense(2, 3), Dense(2, 4)
    p = Parallel(vcat, (a, b))
    assert p.layers == (a, b) and p(torch.ones(2)).shape == (7,)
    named = Parallel(vcat, {"x": a, "y": b})
    assert named.x is a and named[1] is b
    c = Chain((a, Dense(3, 1)))
    assert c.layers[0] is a and c(torch.ones(2)).shape == (1,)
    assert Chain({"enc": a}).enc is a


def test_parallel_docstring_model_and_printing():
    model = Chain(Dense(3, 5), Parallel(vcat, Dense(5, 4), Chain(Dense(5, 7), Dense(7, 4))), Dense(8, 17))
    assert model(torch.rand(3)).shape == (17,)
    m2 = Parallel(operator.add, α=Dense(10, 2, tanh), β=Dense(5, 2))
    assert repr(m2) == (   # Flux's bytes count Julia's overhead; here bytes are nbytes
        "Parallel(\n"
        "  add,\n"
        "  α=Dense(10, 2, tanh),                 # 22 parameters\n"
        "  β=Dense(5, 2),                        # 12 parameters\n"
        ")                   # Total: 4 arrays, 34 parameters, 136 bytes.")
    assert m2(torch.rand(10), torch.rand(5)).shape == (2,)
    assert sum(p.numel() for p in params(m2)) == 34


def test_parallel_gradient_vs_autograd():
    a, b = Dense(3, 2), Dense(4, 2)
    x, y = torch.randn(5, 3), torch.randn(5, 4)
    g = gradient(lambda m: (m(x, y) ** 2).sum(), Parallel(operator.mul, a, b))[0]
    ps = [t.clone().requires_grad_() for t in (a.weight, a.bias, b.weight, b.bias)]
    ((F.linear(x, ps[0], ps[1]) * F.linear(y, ps[2], ps[3])) ** 2).sum().backward()
    got = [g.layers[0].weight, g.layers[0].bias, g.layers[1].weight, g.layers[1].bias]
    assert all(close(u, p.grad) for u, p in zip(got, ps))


def test_parallel_bad_construction():
    with pytest.raises(TypeError, match="callables"):
        Parallel(vcat, 3)
    with pytest.raises(TypeError, match="not both"):
        Parallel(vcat, Dense(1, 1), a=Dense(1, 1))


# ------------------------------------------------------------------ PairwiseFusion

def test_pairwise_fusion_shapes_from_flux_tests():
    x = (torch.rand(10, 1), torch.rand(10, 30))               # Flux: (rand(1, 10), rand(30, 10))
    y = PairwiseFusion(operator.add, Dense(1, 30), Dense(30, 10))(x)
    assert len(y) == 2 and y[0].shape == (10, 30) and y[1].shape == (10, 10)
    y = PairwiseFusion(operator.add, Dense(1, 10), Dense(10, 1))(torch.rand(10, 1))
    assert len(y) == 2 and y[0].shape == (10, 10) and y[1].shape == (10, 1)


def test_pairwise_fusion_values_from_flux_tests():
    m = PairwiseFusion(vcat, lambda x: x + 1, lambda x: x + 2, lambda x: x ** 3)
    y = m(2, 10, 20)
    assert y[0] == 3 and y[1].tolist() == [5, 12] and y[2].tolist() == [125, 1728, 8000]
    y = m(7)
    assert y[0] == 8 and y[1].tolist() == [10, 9] and y[2].tolist() == [1000, 729, 343]
    with pytest.raises(ValueError, match="PairwiseFusion with 3 sub-layers can take one input or 3 inputs, but got 2"):
        m(1, 2)


def test_pairwise_fusion_values_vs_torch_and_gradient():
    d1, d2 = Dense(3, 4, tanh), Dense(4, 2)
    x1, x2 = torch.randn(5, 3), torch.randn(5, 4)
    m = PairwiseFusion(operator.add, d1, d2)
    y1 = torch.tanh(dense_ref(d1, x1))
    y2 = dense_ref(d2, y1 + x2)
    out = m(x1, x2)
    assert close(out[0], y1) and close(out[1], y2)
    g = gradient(lambda m: m((x1, x2))[1].sum(), m)[0]
    ps = [t.clone().requires_grad_() for t in (d1.weight, d1.bias, d2.weight, d2.bias)]
    F.linear(torch.tanh(F.linear(x1, ps[0], ps[1])) + x2, ps[2], ps[3]).sum().backward()
    got = [g.layers[0].weight, g.layers[0].bias, g.layers[1].weight, g.layers[1].bias]
    assert all(close(u, p.grad) for u, p in zip(got, ps))
    named = PairwiseFusion(operator.add, a=d1, b=d2)
    assert named["b"] is d2 and close(named(x1, x2)[1], y2)


# ------------------------------------------------------------------ Maxout

def test_maxout_flux_tests():
    x = torch.rand(40, dtype=torch.float64)
    assert torch.equal(Maxout(lambda: (lambda t: t), 4)(x), x)
    assert torch.equal(Maxout(lambda t: t, lambda t: 2 * t, lambda t: 0.5 * t)(x), 2 * x)
    # Flux: x -> [0.5; 0.1]*x and x -> [0.2; 0.7]*x on the 1×2 input [3.0 2.0]; here (2, 1) @ (1, 2)
    inp = torch.tensor([[3.0], [2.0]])
    m = Maxout(lambda t: t @ torch.tensor([[0.5, 0.1]]), lambda t: t @ torch.tensor([[0.2, 0.7]]))
    assert torch.equal(m(inp), inp * torch.tensor([0.5, 0.7]))
    assert len(params(Maxout(lambda: Dense(32, 64), 4))) == 8


def test_maxout_docstring_and_printing():
    m = Maxout(lambda x: x ** 2, lambda x: x * 3)
    assert m(torch.tensor([[-2, -1, 0, 1, 2]])).tolist() == [[4, 1, 0, 3, 6]]
    m3 = Maxout(lambda: Dense(5, 7, tanh), 3)
    assert m3(torch.rand(11, 5)).shape == (11, 7)
    assert repr(m3) == (
        "Maxout(\n"
        "  Dense(5, 7, tanh),                    # 42 parameters\n"
        "  Dense(5, 7, tanh),                    # 42 parameters\n"
        "  Dense(5, 7, tanh),                    # 42 parameters\n"
        ")                   # Total: 6 arrays, 126 parameters, 504 bytes.")


def test_maxout_values_and_gradient_vs_torch():
    a, b = Dense(3, 4), Dense(3, 4)
    x = torch.randn(6, 3)
    assert close(Maxout(a, b)(x), torch.maximum(dense_ref(a, x), dense_ref(b, x)))
    g = gradient(lambda m: m(x).sum(), Maxout(a, b))[0]
    ps = [t.clone().requires_grad_() for t in (a.weight, a.bias, b.weight, b.bias)]
    torch.maximum(F.linear(x, ps[0], ps[1]), F.linear(x, ps[2], ps[3])).sum().backward()
    got = [g.layers[0].weight, g.layers[0].bias, g.layers[1].weight, g.layers[1].bias]
    assert all(close(u, p.grad) for u, p in zip(got, ps))
    with pytest.raises(ValueError, match="at least one"):
        Maxout()


# ------------------------------------------------------------------ dtypes, devices

def test_f64_round_trip():
    m = Chain(SkipConnection(Dense(3, 3), operator.add), Parallel(vcat, Dense(3, 2), Dense(3, 1)),
              Maxout(Dense(3, 2), Dense(3, 2)))
    m64 = f64(m)
    assert all(p.dtype == torch.float64 for p in params(m64))
    x = torch.randn(4, 3, dtype=torch.float64)
    assert m64(x).dtype == torch.float64 and close(m64(x).float(), m(x.float()), 1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu():
    from flux_torch import gpu
    m = gpu(Parallel(vcat, Dense(3, 2), Maxout(Dense(3, 2), Dense(3, 2))))
    x = torch.randn(4, 3)
    assert m(gpu(x)).device.type == "cuda"
