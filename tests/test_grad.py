"""gradient / withgradient / pullback / jacobian / hessian against oracles: Flux's Basics page,
Zygote's tests and docstrings (test/features.jl, test/deprecated.jl, src/lib/grad.jl),
torch.autograd on hand-written torch code and torch.autograd.functional."""
from collections import namedtuple
from dataclasses import dataclass
import math

import numpy as np
import pytest
import torch
from torch import nn

from flux_torch import (Chain, Dense, Grads, gradient, hessian, istraining, jacobian, params,
                        pullback, withgradient)
from flux_torch.functors import functor


def basics_f(x):                       # f(x) = 3x^2 + 2x + 1 from Flux's Basics page
    return 3 * x ** 2 + 2 * x + 1


def sq_dist(x, y):                     # f(x, y) = sum((x .- y).^2)
    return ((x - y) ** 2).sum()


# ------------------------------------------------------------------ Flux's Basics page

def test_basics_first_and_second_derivative():
    df = lambda x: gradient(basics_f, x)[0]
    d2f = lambda x: gradient(df, x)[0]
    assert df(2) == 14.0 and type(df(2)) is float
    assert d2f(2) == 6.0 and type(d2f(2)) is float


def test_third_order_nesting():
    # d³/dx³ x⁴ = 24x, at x = 2: 48
    d1 = lambda x: gradient(lambda y: y ** 4, x)[0]
    d2 = lambda x: gradient(d1, x)[0]
    d3 = lambda x: gradient(d2, x)[0]
    assert d1(2.0) == 32.0 and d2(2.0) == 48.0 and d3(2.0) == 48.0
    # and on a tensor: d³/dx³ sum(sin x) = -cos x
    x = torch.tensor([0.3, -1.2], dtype=torch.float64)
    g3 = gradient(lambda a: gradient(lambda b: gradient(lambda c: c.sin().sum(), b)[0].sum(),
                                     a)[0].sum(), x)[0]
    torch.testing.assert_close(g3, -x.cos())


def test_basics_two_arguments_integer_lists():
    gx, gy = gradient(sq_dist, [2, 1], [2, 0])
    assert isinstance(gx, torch.Tensor) and gx.dtype == torch.get_default_dtype()
    torch.testing.assert_close(gx, torch.tensor([0.0, 2.0]))
    torch.testing.assert_close(gy, torch.tensor([0.0, -2.0]))


def test_basics_implicit_params():
    x, y = torch.tensor([2.0, 1.0]), torch.tensor([2.0, 0.0])
    gs = gradient(lambda: sq_dist(x, y), params(x, y))
    assert isinstance(gs, Grads) and repr(gs) == "Grads(...)"
    torch.testing.assert_close(gs[x], torch.tensor([0.0, 2.0]))
    torch.testing.assert_close(gs[y], torch.tensor([0.0, -2.0]))


def test_basics_linear_regression_step():
    torch.manual_seed(0)
    W, b = torch.rand(2, 5, dtype=torch.float64), torch.rand(2, dtype=torch.float64)
    x, y = torch.rand(5, dtype=torch.float64), torch.rand(2, dtype=torch.float64)

    def loss(x, y):
        return ((y - (W @ x + b)) ** 2).sum()

    gs = gradient(lambda: loss(x, y), params(W, b))
    # oracle: d/dW sum((y - Wx - b)^2) = -2 (y - Wx - b) x'
    r = y - (W @ x + b)
    torch.testing.assert_close(gs[W], -2 * torch.outer(r, x))
    torch.testing.assert_close(gs[b], -2 * r)
    before = loss(x, y)
    W -= 0.1 * gs[W]                   # the tutorial's update works as written
    assert loss(x, y) < before
    assert not W.requires_grad and not b.requires_grad


# ------------------------------------------------------------------ return kinds (SPEC §3)

def test_number_in_float_out():
    g = gradient(lambda a, b: a * b, 2, 3)     # Zygote: gradient(mul, 2, 3) == (3, 2)
    assert g == (3.0, 2.0) and all(type(v) is float for v in g)
    assert gradient(lambda x: 5 * x, 2) == (5.0,)


def test_tensor_and_list_in_tensor_out():
    t = torch.tensor([1.0, 2.0, 3.0])
    (g,) = gradient(lambda x: (x * x).sum(), t)
    torch.testing.assert_close(g, 2 * t)
    (g,) = gradient(lambda x: (x * x).sum(), [1, 2, 3])           # Zygote: ([2, 4, 6],)
    assert isinstance(g, torch.Tensor)
    torch.testing.assert_close(g, torch.tensor([2.0, 4.0, 6.0]))
    (g,) = gradient(lambda x: (x * x).sum(), (1.0, 2.0))
    assert isinstance(g, torch.Tensor)
    torch.testing.assert_close(g, torch.tensor([2.0, 4.0]))
    # Zygote: gradient(x -> sum(x ./ [1,2,4]), [1,2,pi]) == ([1.0, 0.5, 0.25],)
    (g,) = gradient(lambda x: (x / torch.tensor([1.0, 2.0, 4.0])).sum(), [1.0, 2.0, math.pi])
    torch.testing.assert_close(g, torch.tensor([1.0, 0.5, 0.25]))


def test_integer_tensor_promoted():
    (g,) = gradient(lambda x: (x ** 2).sum(), torch.tensor([1, 2]))
    assert g.dtype == torch.get_default_dtype()
    torch.testing.assert_close(g, torch.tensor([2.0, 4.0]))


def test_numpy_in_numpy_out():
    (g,) = gradient(lambda x: (x ** 2).sum(), np.array([1.0, 2.0]))
    assert isinstance(g, np.ndarray) and g.dtype == np.float64
    np.testing.assert_allclose(g, [2.0, 4.0])
    (g,) = gradient(lambda x: (x ** 2).sum(), np.array([1, 3]))
    assert isinstance(g, np.ndarray)
    np.testing.assert_allclose(g, [2.0, 6.0])


def test_containers_keep_their_type():
    a, b = torch.tensor([1.0, 2.0]), torch.tensor(3.0)
    (g,) = gradient(lambda d: (d["a"] * d["b"]).sum(), {"a": a, "b": b})
    assert type(g) is dict and set(g) == {"a", "b"}
    torch.testing.assert_close(g["a"], torch.tensor([3.0, 3.0]))
    torch.testing.assert_close(g["b"], torch.tensor(3.0))
    (g,) = gradient(lambda l: (l[0] * l[1]).sum(), [a, b])
    assert type(g) is list
    torch.testing.assert_close(g[1], torch.tensor(3.0))
    (g,) = gradient(lambda t: (t[0] * t[1]).sum(), (a, b))
    assert type(g) is tuple
    torch.testing.assert_close(g[0], torch.tensor([3.0, 3.0]))


def test_namedtuple_gradient_flux_params_gradient():
    # Flux test/utils.jl "params gradient": m = (x=[1,2.0], y=[3.0])
    M = namedtuple("M", ["x", "y"])
    m = M(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64))
    (g,) = gradient(lambda m: sum(p.norm() for p in params(m)), m)
    assert type(g) is M
    torch.testing.assert_close(g.x, torch.tensor([0.4472135954999579, 0.8944271909999159],
                                                 dtype=torch.float64))
    torch.testing.assert_close(g.y, torch.tensor([1.0], dtype=torch.float64))


def test_functor_object_gradient_same_class():
    @functor
    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def __call__(self, x):
            return x @ self.W.T + self.b

    a = Affine(torch.randn(2, 3, dtype=torch.float64), torch.randn(2, dtype=torch.float64))
    x = torch.randn(4, 3, dtype=torch.float64)
    (g,) = gradient(lambda m: (m(x) ** 2).sum(), a)
    assert type(g) is Affine
    W, b = a.W.clone().requires_grad_(), a.b.clone().requires_grad_()
    ((x @ W.T + b) ** 2).sum().backward()
    torch.testing.assert_close(g.W, W.grad)
    torch.testing.assert_close(g.b, b.grad)


def test_dataclass_gradient():
    @dataclass
    class P:
        w: torch.Tensor
        name: str

    (g,) = gradient(lambda p: (p.w ** 2).sum(), P(torch.tensor([1.0, -2.0]), "p"))
    assert type(g) is P and g.name is None
    torch.testing.assert_close(g.w, torch.tensor([2.0, -4.0]))


def test_model_gradient_attribute_access_and_none_fields():
    m = Chain(Dense(3, 2, torch.tanh), Dense(2, 1))
    (g,) = gradient(lambda m: m(torch.ones(3)).sum(), m)
    assert type(g) is Chain and type(g.layers[0]) is Dense
    assert g.layers[0].σ is None            # a function field has no gradient
    assert g.layers[0].weight.shape == (2, 3)


def test_unused_and_non_differentiable_inputs_give_none():
    assert gradient(lambda x, y: 2 * x, 1.0, 2.0) == (2.0, None)
    assert gradient(lambda x, s: x * len(s), 2.0, "abc") == (3.0, None)
    assert gradient(lambda x: 3.0, 1.0) == (None,)          # constant output
    (g,) = gradient(lambda x: torch.tensor(1.0), torch.ones(2))
    assert g is None
    # Flux test/utils.jl "zero bias": gradient with a `false` argument
    o = torch.ones(2, 3)
    g = gradient(lambda x, y: (x + y).sum(), o, False)
    torch.testing.assert_close(g[0], torch.ones(2, 3))
    assert g[1] is None


def test_zygote_second_order_values():
    # Zygote test/features.jl "second order"
    g = gradient(lambda x: gradient(lambda y: (y ** 2).sum(), x)[0].sum(), [1, 2])[0]
    torch.testing.assert_close(g, torch.tensor([2.0, 2.0]))
    g = gradient(lambda x: gradient(lambda y: y.sin().sum(), x)[0].sum(),
                 torch.tensor([1.0, 2.0], dtype=torch.float64))[0]
    torch.testing.assert_close(g, torch.tensor([-0.8414709848078965, -0.9092974268256817],
                                               dtype=torch.float64))


def test_implicit_second_order():
    W = torch.tensor([1.0, 2.0])
    gs = gradient(lambda: gradient(lambda: (W ** 3).sum(), params(W))[W].sum(), params(W))
    torch.testing.assert_close(gs[W], 6 * W)                 # d/dW sum(3W^2) = 6W
    assert not W.requires_grad


def test_integer_field_of_model_gives_none():
    @functor
    class Embed:
        def __init__(self):
            self.w, self.ids = torch.ones(2), torch.tensor([0, 1, 1])

        def __call__(self, x):
            return (self.w[self.ids] * x).sum()

    (g,) = gradient(lambda e: e(2.0), Embed())
    torch.testing.assert_close(g.w, torch.tensor([2.0, 4.0]))
    assert g.ids is None


def test_perturbation_confusion():
    assert gradient(lambda x: x * gradient(lambda y: x + y, x)[0], 1.0) == (1.0,)
    t = torch.tensor(1.0)
    (g,) = gradient(lambda x: x * gradient(lambda y: x + y, x)[0], t)
    torch.testing.assert_close(g, torch.tensor(1.0))


# ------------------------------------------------------------------ errors and state

def test_non_scalar_output_error_in_zygote_words():
    with pytest.raises(ValueError, match="Output is an array, so the gradient is not defined. "
                                         "Perhaps you wanted jacobian."):
        gradient(lambda x: x * 2, torch.ones(3))
    with pytest.raises(ValueError, match="Output is an array"):
        gradient(lambda: torch.ones(2) * 2, params(torch.ones(2)))
    with pytest.raises(ValueError, match="Output should be scalar"):
        gradient(lambda x: "not a number", 1.0)


def test_requires_grad_restored_also_when_f_raises():
    W = torch.ones(2)
    user = torch.ones(2, requires_grad=True)
    ps = params(W, user)

    def boom():
        assert W.requires_grad          # switched on during the call
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        gradient(boom, ps)
    assert not W.requires_grad and user.requires_grad
    assert not istraining()

    d = Dense(2, 2)

    def boom2(m):
        raise KeyError("boom2")

    with pytest.raises(KeyError):
        gradient(boom2, d)
    assert not d.weight.requires_grad and not d.bias.requires_grad
    with pytest.raises(KeyError):
        withgradient(boom2, d)
    assert not d.weight.requires_grad and not istraining()


def test_implicit_switches_requires_grad_only_during_call():
    W = torch.ones(3)
    seen = []
    gs = gradient(lambda: (seen.append(W.requires_grad), (W * 2).sum())[1], params(W))
    assert seen == [True] and not W.requires_grad
    torch.testing.assert_close(gs[W], torch.full((3,), 2.0))


def test_no_graph_at_top_level():
    d = Dense(3, 2, torch.tanh)
    x = torch.randn(4, 3)
    (g,) = gradient(lambda m: m(x).sum(), d)
    assert g.weight.grad_fn is None and not g.weight.requires_grad
    (gx,) = gradient(lambda x: d(x).sum(), x)
    assert gx.grad_fn is None and not gx.requires_grad
    gs = gradient(lambda: d(x).sum(), params(d))
    assert gs[d.weight].grad_fn is None and not gs[d.weight].requires_grad
    r = withgradient(lambda m: m(x).sum(), d)
    assert r.val.grad_fn is None and r.grad[0].bias.grad_fn is None
    y, back = pullback(lambda m: m(x), d)
    assert y.grad_fn is None and back(torch.ones(4, 2))[0].weight.grad_fn is None
    assert d.weight.grad is None and not d.weight.requires_grad


def test_istraining_inside_gradient_dropout_style():
    def drop(x):                          # a Dropout-like layer: zero in train mode
        return x * 0 if istraining() else x

    assert not istraining()
    assert gradient(lambda x: drop(x) + x, 2.0) == (1.0,)
    assert gradient(lambda x: gradient(lambda y: drop(y) * y, x)[0], 2.0) == (0.0,)
    flags = []
    gradient(lambda x: (flags.append(istraining()), x)[1], 1.0)
    assert flags == [True] and not istraining()
    torch.testing.assert_close(drop(torch.ones(2)), torch.ones(2))


def test_tied_weights_summed():
    W = torch.randn(3, 3, dtype=torch.float64)
    m = Chain(Dense(W, False), Dense(W, False, torch.tanh))
    x = torch.randn(5, 3, dtype=torch.float64)
    Wo = W.clone().requires_grad_()
    torch.tanh(x @ Wo.T @ Wo.T).sum().backward()
    gs = gradient(lambda: m(x).sum(), params(m))
    assert len(params(m)) == 1
    torch.testing.assert_close(gs[W], Wo.grad)
    (g,) = gradient(lambda m: m(x).sum(), m)
    torch.testing.assert_close(g.layers[0].weight, Wo.grad)
    torch.testing.assert_close(g.layers[1].weight, Wo.grad)


def test_nn_module_argument():
    lin = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    (g,) = gradient(lambda m: (m(x) ** 2).sum(), lin)
    (lin(x) ** 2).sum().backward()
    torch.testing.assert_close(g["weight"], lin.weight.grad)
    torch.testing.assert_close(g["bias"], lin.bias.grad)


# ------------------------------------------------------------------ withgradient

def test_withgradient_zygote_values():
    r = withgradient(lambda a, b: a * b, 2, 3)      # (val = 6, grad = (3, 2))
    assert r.val == 6.0 and r.grad == (3.0, 2.0)
    val, grad = r
    assert val == 6.0

    def f(x):                                       # Zygote test/features.jl "withgradient"
        z = 1 / x
        return z.sum(), z

    r = withgradient(f, [1, 2, 4])
    assert isinstance(r.val, tuple)
    assert float(r.val[0]) == 1.75
    torch.testing.assert_close(r.val[1], torch.tensor([1.0, 0.5, 0.25]))
    torch.testing.assert_close(r.grad[0], torch.tensor([-1.0, -0.25, -0.0625]))

    NT = namedtuple("NT", ["div", "mul"])
    r = withgradient(lambda x, y: NT(x / y, x * y), 3.0, 4.0)
    assert float(r.val.div) == 0.75 and float(r.val.mul) == 12.0
    assert r.grad == (0.25, -0.1875)


def test_withgradient_tuple_gradient_is_of_first():
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    f3 = lambda x: (x.sin().sum(), x.cos().sum(), x.tan().sum())
    g1 = gradient(lambda x: f3(x)[0], x)[0]
    _, g2 = withgradient(lambda x: f3(x)[0], x)
    y3, g3 = withgradient(f3, x)
    torch.testing.assert_close(g1, x.cos())
    torch.testing.assert_close(g2[0], g1)
    torch.testing.assert_close(g3[0], g1)
    assert len(y3) == 3


def test_withgradient_implicit():
    w, x = torch.tensor([3.0, 1.0]), torch.tensor([2.0, 4.0])
    r = withgradient(lambda: (w * x).sum(), params(w))      # Zygote test/deprecated.jl
    assert float(r.val) == 10.0
    torch.testing.assert_close(r.grad[w], x)


# ------------------------------------------------------------------ pullback

def test_pullback_called_twice():
    y, back = pullback(lambda a, b: a * b, 2, 3)   # Zygote: y == 6, back(4) == (12, 8)
    assert float(y) == 6.0
    assert back(4) == (12.0, 8.0)
    assert back(4) == (12.0, 8.0)
    assert back(1) == (3.0, 2.0)

    y, back = pullback(lambda x: (x * x).sum(), [1, 2, 3])    # y == 14, back(1) == ([2,4,6],)
    assert float(y) == 14.0
    torch.testing.assert_close(back(1)[0], torch.tensor([2.0, 4.0, 6.0]))
    torch.testing.assert_close(back(2)[0], torch.tensor([4.0, 8.0, 12.0]))


def test_pullback_vjp_matches_torch():
    A = torch.randn(3, 4, dtype=torch.float64)
    x = torch.randn(4, dtype=torch.float64)
    f = lambda x: torch.tanh(A @ x)
    y, back = pullback(f, x)
    for _ in range(2):
        dy = torch.randn(3, dtype=torch.float64)
        _, vjp = torch.autograd.functional.vjp(f, x, dy)
        torch.testing.assert_close(back(dy)[0], vjp)
    torch.testing.assert_close(y, f(x))


def test_pullback_model_and_implicit():
    d = Dense(3, 2, torch.tanh)
    x = torch.randn(5, 3)
    y, back = pullback(lambda m: m(x), d)
    dy = torch.randn(5, 2)
    W, b = d.weight.clone().requires_grad_(), d.bias.clone().requires_grad_()
    torch.tanh(x @ W.T + b).backward(dy)
    for _ in range(2):
        (g,) = back(dy)
        torch.testing.assert_close(g.weight, W.grad)
        torch.testing.assert_close(g.bias, b.grad)
    y, back = pullback(lambda: d(x), params(d))
    assert not d.weight.requires_grad
    for _ in range(2):
        gs = back(dy)
        torch.testing.assert_close(gs[d.weight], W.grad)
    assert not d.weight.requires_grad


# ------------------------------------------------------------------ jacobian / hessian

def test_jacobian_zygote_docstring():
    ja, jx = jacobian(lambda a, x: a ** 2 * x, [1, 2, 3], 1)
    torch.testing.assert_close(ja, torch.diag(torch.tensor([2.0, 4.0, 6.0])))
    assert jx.dim() == 1
    torch.testing.assert_close(jx.double(), torch.tensor([1.0, 4.0, 9.0], dtype=torch.float64))
    (j,) = jacobian(lambda a: 100 * a[0:3] ** 2, list(range(1, 8)))
    expected = torch.zeros(3, 7)
    expected[0, 0], expected[1, 1], expected[2, 2] = 200, 400, 600
    torch.testing.assert_close(j, expected)
    ja, js = jacobian(lambda a, s: a ** len(s), [1, 2, 3], "str")
    torch.testing.assert_close(ja, torch.diag(torch.tensor([3.0, 12.0, 27.0])))
    assert js is None


def test_jacobian_scalar_output_has_one_row():
    x = torch.tensor([1.0, 2.0, 3.0])
    (j,) = jacobian(lambda x: (x ** 2).sum(), x)
    torch.testing.assert_close(j, (2 * x).reshape(1, 3))


def test_jacobian_of_non_array_argument_is_none():
    # Zygote: "For arguments of any type except Number & AbstractArray, the result is nothing."
    d = {"a": torch.tensor([1.0, 2.0]), "b": torch.tensor([3.0, 4.0])}
    ja, jd = jacobian(lambda a, d: a * d["a"] * d["b"], torch.ones(2), d)
    torch.testing.assert_close(ja, torch.diag(torch.tensor([3.0, 8.0])))
    assert jd is None


def test_jacobian_matches_torch_autograd_functional():
    A = torch.randn(3, 2, 2, dtype=torch.float64)
    x = torch.randn(2, 2, dtype=torch.float64)
    s = torch.randn(3, dtype=torch.float64)
    f = lambda x, s: torch.sin(torch.einsum("kij,ij->k", A, x)) * s
    jx, js = jacobian(f, x, s)
    ox, os_ = torch.autograd.functional.jacobian(f, (x, s))
    torch.testing.assert_close(jx, ox.reshape(3, 4))
    torch.testing.assert_close(js, os_.reshape(3, 3))


def test_jacobian_implicit():
    w, x = torch.tensor([3.0, 1.0]), torch.tensor([2.0, 4.0])
    js = jacobian(lambda: w * x, params(w))                  # Zygote: [x1 0; 0 x2]
    torch.testing.assert_close(js[w], torch.tensor([[2.0, 0.0], [0.0, 4.0]]))


def test_hessian_zygote_docstring():
    h = hessian(lambda x: x[0] * x[1], torch.randn(2))
    torch.testing.assert_close(h, torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    # Julia's [1 2; 3 4] is the row-major tensor [[1, 3], [2, 4]]; linear order 1, 3, 2, 4
    h = hessian(lambda x: (x ** 3).sum(), torch.tensor([[1.0, 3.0], [2.0, 4.0]]))
    torch.testing.assert_close(h, torch.diag(torch.tensor([6.0, 18.0, 12.0, 24.0])))
    assert hessian(lambda x: x ** 3, 2.0) == 12.0


def test_hessian_matches_torch_autograd_functional():
    A = torch.randn(4, 4, dtype=torch.float64)
    x = torch.randn(4, dtype=torch.float64)
    f = lambda x: (torch.sin(x) * (A @ x)).sum() + (x ** 4).sum()
    torch.testing.assert_close(hessian(f, x), torch.autograd.functional.hessian(f, x))
    xn = x.numpy()
    h = hessian(f, xn)
    assert isinstance(h, np.ndarray)
    np.testing.assert_allclose(h, torch.autograd.functional.hessian(f, x).numpy(), rtol=1e-10)


def test_gradient_matches_finite_differences_float64():
    d = Dense(torch.randn(2, 3, dtype=torch.float64), torch.randn(2, dtype=torch.float64),
              torch.tanh)
    x = torch.randn(4, 3, dtype=torch.float64)
    loss = lambda m: (m(x) ** 2).sum()
    (g,) = gradient(loss, d)
    eps, num = 1e-6, torch.zeros_like(d.weight)
    for idx in np.ndindex(*d.weight.shape):
        old = d.weight[idx].item()
        d.weight[idx] = old + eps
        up = loss(d).item()
        d.weight[idx] = old - eps
        down = loss(d).item()
        d.weight[idx] = old
        num[idx] = (up - down) / (2 * eps)
    torch.testing.assert_close(g.weight, num, rtol=1e-6, atol=1e-8)


# ---- Zygote docstring examples, translated (0-based dims, batch-first shapes) ----

def test_zygote_gradient_docstring_int_argument_used_as_index():
    # gradient([7, 11], 0, 1) do x, y, d; p = size(x, d); sum(x.^p .+ y) end
    #   == ([14.0, 22.0], 2.0, nothing)
    from flux_torch import gradient

    def f(x, y, d):
        p = x.shape[d]
        return (x ** p + y).sum()
    gx, gy, gd = gradient(f, [7, 11], 0, 0)
    assert torch.equal(gx, torch.tensor([14.0, 22.0]))
    assert gy == 2.0 and isinstance(gy, float)
    assert gd is None


def test_zygote_pullback_of_numbers_gives_a_number():
    # y, back = pullback(*, 2.0, 3.0, 5.0); y == 30.0; back(1.0) == (15.0, 10.0, 6.0)
    from flux_torch import pullback
    y, back = pullback(lambda a, b, c: a * b * c, 2.0, 3.0, 5.0)
    assert y == 30.0 and isinstance(y, float)
    assert back(1.0) == (15.0, 10.0, 6.0)
    assert back(2.0) == (30.0, 20.0, 12.0)


def test_zygote_withgradient_named_output_and_numbers():
    # withgradient(3.0, 4.0) do x, y; (div = x/y, mul = x*y) end
    #   == (val = (div = 0.75, mul = 12.0), grad = (0.25, -0.1875))
    from collections import namedtuple
    from flux_torch import withgradient
    r = withgradient(lambda x, y: {"div": x / y, "mul": x * y}, 3.0, 4.0)
    assert r.val == {"div": 0.75, "mul": 12.0}
    assert r.grad == (0.25, -0.1875)
    NT = namedtuple("NT", "div mul")
    r = withgradient(lambda x, y: NT(x / y, x * y), 3.0, 4.0)
    assert r.val == NT(0.75, 12.0) and r.grad == (0.25, -0.1875)


def test_gradient_numpy_scalars_are_numbers():
    from flux_torch import gradient
    assert gradient(lambda x: x ** 3, np.float64(2.0)) == (12.0,)
    assert gradient(lambda x: x ** 3, np.float32(2.0)) == (12.0,)


def test_gradient_complex_output_in_zygotes_words():
    from flux_torch import gradient
    with pytest.raises(ValueError, match="Output is complex, so the gradient is not defined"):
        gradient(lambda x: x * 1j, torch.tensor(2.0))


def test_zygote_jacobian_docstring_examples():
    from flux_torch.jacobian import jacobian, withjacobian
    # jacobian(a -> 100*a[1:3].^2, 1:7)[1]
    J = jacobian(lambda a: 100 * a[:3] ** 2, range(1, 8))[0]
    expect = torch.zeros(3, 7)
    expect[0, 0], expect[1, 1], expect[2, 2] = 200, 400, 600
    assert torch.equal(J, expect)
    # jacobian((a,s) -> a.^length(s), [1,2,3], "str") == ([3 0 0; 0 12 0; 0 0 27], nothing)
    J, Js = jacobian(lambda a, s: a ** len(s), [1, 2, 3], "str")
    assert torch.equal(J, torch.diag(torch.tensor([3.0, 12.0, 27.0]))) and Js is None
    # withjacobian(cumsum, [1,2,3]) == (val = [1, 3, 6], grad = ([1 0 0; 1 1 0; 1 1 1],))
    val, (J,) = withjacobian(lambda x: torch.cumsum(x, 0), [1, 2, 3])
    assert torch.equal(val, torch.tensor([1.0, 3.0, 6.0]))
    assert torch.equal(J, torch.tril(torch.ones(3, 3)))


def test_zygote_hessian_family_docstring_examples():
    from flux_torch import gradient
    from flux_torch.jacobian import diaghessian, hessian, hessian_reverse
    # hessian(x -> sum(x.^3), [1 2; 3 4]): linear (column-major) indexing of x, which is
    # row-major indexing of the reversed (2, 2) data [[1, 3], [2, 4]]
    x = torch.tensor([[1.0, 3.0], [2.0, 4.0]])
    assert torch.equal(hessian(lambda x: (x ** 3).sum(), x), torch.diag(torch.tensor([6.0, 18, 12, 24])))
    assert hessian(torch.sin, math.pi / 2) == pytest.approx(-1.0)
    assert hessian_reverse(torch.sin, math.pi / 2) == pytest.approx(-1.0)
    # diaghessian(x -> sum(x.^3), [1 2; 3 4])[1] == [6 12; 18 24] (reversed: [[6, 18], [12, 24]])
    assert torch.equal(diaghessian(lambda x: (x ** 3).sum(), x)[0], torch.tensor([[6.0, 18], [12, 24]]))
    # diaghessian((x,y) -> sum(x .* y .* y'), [1 22; 333 4], [0.5, 0.666]) == ([0 0; 0 0], [2.0, 8.0])
    X = torch.tensor([[1.0, 22.0], [333.0, 4.0]])              # Julia's matrix; sum(x .* y .* y')
    h = diaghessian(lambda x, y: (x * y[:, None] * y[None, :]).sum(), X, torch.tensor([0.5, 0.666]))
    assert torch.equal(h[0], torch.zeros(2, 2)) and torch.allclose(h[1], torch.tensor([2.0, 8.0]))
    # diaghessian(atan, 1, 2) == (-0.16, 0.16)
    h = diaghessian(lambda a, b: torch.atan2(a, b), 1, 2)
    assert h == pytest.approx((-0.16, 0.16))
    # Diagonal == hessian
    assert gradient(lambda z: z, 1.0) == (1.0,)


def test_ignore_derivatives():
    from flux_torch import gradient
    from flux_torch.gradient import ignore_derivatives
    x = torch.tensor(3.0)
    assert gradient(lambda x: x * ignore_derivatives(x), x) == (torch.tensor(3.0),)
    assert gradient(lambda x: x + ignore_derivatives(lambda: x ** 2), x) == (torch.tensor(1.0),)
