"""jacobian / withjacobian / hessian / hessian_reverse / diaghessian on torch.func against
oracles: the general row-by-row autograd path, torch.autograd.functional, and central
finite differences in float64. Spies on the torch.func entry points check which path
ran, so neither path can silently stand in for the other."""
import importlib
import math

import numpy as np
import pytest
import torch

import flux_torch as Flux
from flux_torch import Chain, Dense, gradient, params

J = importlib.import_module("flux_torch.jacobian")
f64 = torch.float64


@pytest.fixture
def spy(monkeypatch):
    """Counts the calls of the torch.func transforms the module uses."""
    calls = {"vjp": 0, "jacfwd": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper
    monkeypatch.setattr(J, "vjp", counted("vjp", J.vjp))
    monkeypatch.setattr(J, "jacfwd", counted("jacfwd", J.jacfwd))
    return calls


def fd_jacobian(f, x, h=1e-6):
    """Central differences of f (float64 tensor -> tensor) at x: (y.numel(), x.numel())."""
    x = x.detach().to(f64)
    cols = []
    for i in range(x.numel()):
        e = torch.zeros_like(x).reshape(-1)
        e[i] = h
        e = e.reshape(x.shape)
        cols.append(((f(x + e) - f(x - e)) / (2 * h)).reshape(-1))
    return torch.stack(cols, 1)


def general(f, *args):
    return J._autograd_withjacobian(f, args)


# ---------------------------------------------------------------- jacobian values

CASES = {
    "tanh(Wx)": (lambda W: lambda x: torch.tanh(W @ x), (4,)),
    "cumsum of a matrix": (lambda W: lambda x: torch.cumsum(x * W.sum(), 1), (3, 4)),
    "softmax rows": (lambda W: lambda x: torch.softmax(x, -1) ** 2, (2, 5)),
    "scalar output": (lambda W: lambda x: (x ** 3).sum() * W[0, 0], (6,)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_jacobian_on_torch_func_matches_general_path_and_finite_differences(case, spy):
    make, shape = CASES[case]
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(7, 4, generator=gen, dtype=f64)
    f = make(W)
    x = torch.randn(shape, generator=gen, dtype=f64)
    val, (jx,) = Flux.withjacobian(f, x)
    assert spy["vjp"] == 1
    ref = general(f, x)
    torch.testing.assert_close(jx, ref.grad[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(val, ref.val)
    torch.testing.assert_close(jx, fd_jacobian(f, x), rtol=1e-6, atol=1e-8)
    assert jx.shape == (f(x).numel(), x.numel()) and not jx.requires_grad and not val.requires_grad


def test_jacobian_of_the_issue_size_agrees_with_rows():
    gen = torch.Generator().manual_seed(1)
    W = torch.randn(2000, 200, generator=gen) / 15
    x = torch.randn(200, generator=gen)
    (jx,) = Flux.jacobian(lambda x: torch.tanh(W @ x), x)
    want = (1 - torch.tanh(W @ x) ** 2)[:, None] * W                # d tanh(Wx)/dx
    assert jx.shape == (2000, 200) and jx.dtype == torch.float32
    torch.testing.assert_close(jx, want, rtol=1e-5, atol=1e-6)


def test_long_outputs_are_pulled_back_in_chunks(monkeypatch, spy):
    monkeypatch.setattr(J, "_CHUNK_ELEMENTS", 50)                   # 5 rows of 10 per vmap
    x = torch.linspace(-1, 1, 4, dtype=f64)
    f = lambda x: torch.outer(torch.sin(x), torch.arange(1.0, 4.0, dtype=f64)).reshape(-1)[:10]
    (jx,) = Flux.jacobian(f, x)
    assert spy["vjp"] == 1
    torch.testing.assert_close(jx, general(f, x).grad[0], rtol=1e-12, atol=0)


def test_argument_kinds_shapes_and_types(spy):
    f = lambda a, s, m, b: a ** 2 * s * b.sum()
    a, s = np.array([1.0, 2.0, 3.0]), 0.5
    ja, js, jm, jb = Flux.jacobian(f, a, s, Chain(Dense(2, 2)), torch.tensor([2.0, 1.0], dtype=f64))
    assert spy["vjp"] == 1
    assert isinstance(ja, np.ndarray) and ja.shape == (3, 3) and ja.dtype == np.float64
    np.testing.assert_allclose(ja, np.diag(2 * a * s * 3.0))
    assert js.shape == (3,) and js.dtype == f64 and jm is None
    torch.testing.assert_close(js, torch.tensor(a ** 2 * 3.0))
    torch.testing.assert_close(jb, torch.tensor(a ** 2 * s)[:, None].expand(3, 2))
    # lists, ranges and integer tensors are data, converted to the default float dtype
    (jl,) = Flux.jacobian(lambda a: 100 * a[:3] ** 2, range(1, 8))
    assert jl.dtype == torch.get_default_dtype() and jl.shape == (3, 7)
    assert torch.equal(jl[:, :3], torch.diag(torch.tensor([200.0, 400.0, 600.0])))
    # a bool tensor and a string give no Jacobian
    jt, jstr = Flux.jacobian(lambda t, s: t.to(f64) * len(s), torch.tensor([True, False]), "ab")
    assert jt is None and jstr is None


def test_float32_argument_float64_output_keeps_argument_dtype(spy):
    x = torch.tensor([1.0, 2.0])
    (jx,) = Flux.jacobian(lambda x: x.to(f64) ** 2, x)
    assert spy["vjp"] == 1 and jx.dtype == torch.float32
    assert jx.dtype == general(lambda x: x.to(f64) ** 2, x).grad[0].dtype


# ---------------------------------------------------------------- nesting

def test_jacobian_nested_in_gradient_keeps_the_graph(spy):
    W = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=f64)

    def outer(x):
        (jx,) = Flux.jacobian(lambda z: torch.sin(W @ z), x)   # cos(Wx)[:, None] * W
        return jx.sum()
    x = torch.tensor([0.3, -0.7], dtype=f64)
    (g,) = gradient(outer, x)
    assert spy["vjp"] == 1
    want = fd_jacobian(lambda z: torch.stack([outer(z)]), x).reshape(-1)
    torch.testing.assert_close(g, want, rtol=1e-6, atol=1e-8)


def test_jacobian_nested_in_gradient_of_a_closed_over_model(spy):
    m = Chain(Dense(3, 2, Flux.tanh))
    m = Flux.f64(m)
    x = torch.tensor([0.1, -0.2, 0.3], dtype=f64)

    def loss(m):
        return (Flux.jacobian(lambda z: m(z), x)[0] ** 2).sum()
    (g,) = gradient(loss, m)
    assert spy["vjp"] == 1
    w = m.layers[0].weight.detach()
    want = fd_jacobian(lambda W: torch.stack([(Flux.jacobian(
        lambda z: torch.tanh(W @ z + m.layers[0].bias), x)[0] ** 2).sum()]), w).reshape(w.shape)
    torch.testing.assert_close(g.layers[0].weight, want, rtol=1e-6, atol=1e-8)


def test_training_mode_layers_update_their_state_once(spy):
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(3), dtype=f64)
    bn, bn_ref = Flux.f64(Flux.BatchNorm(3)), Flux.f64(Flux.BatchNorm(3))
    (jx,) = Flux.jacobian(lambda z: bn(z), x)                    # training mode: batch statistics
    assert spy["vjp"] == 1
    torch.testing.assert_close(jx, general(lambda z: bn_ref(z), x).grad[0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(bn.μ, bn_ref.μ, rtol=0, atol=0)
    torch.testing.assert_close(bn.μ, 0.1 * x.mean(0), rtol=1e-12, atol=0)
    assert type(bn.μ) is torch.Tensor and not bn.μ.requires_grad


def test_no_perturbation_confusion():
    # d/dx [x * jacobian(y -> x + y, x)] = 1, not 2 (the inner derivative is in y alone)
    (g,) = gradient(lambda x: (x * Flux.jacobian(lambda y: x + y, x)[0]).sum(),
                    torch.tensor([1.0], dtype=f64))
    assert g.tolist() == [1.0]


# ---------------------------------------------------------------- the general path still serves

class Counter:
    def __init__(self):
        self.total = torch.zeros(2, dtype=f64)


FALLBACKS = {
    "in-place update of a closed-over tensor":
        lambda c: lambda x: (c.total.add_(x.detach()), x ** 2)[1],
    "numpy inside": lambda c: lambda x: x ** 2 + 0 * torch.as_tensor(x.detach().numpy()),
    "gradient inside": lambda c: lambda x: gradient(lambda z: (z ** 3).sum(), x)[0],
}


@pytest.mark.parametrize("case", list(FALLBACKS))
def test_functions_torch_func_refuses_take_the_general_path(case):
    c = Counter()
    f = FALLBACKS[case](c)
    x = torch.tensor([0.5, 2.0], dtype=f64)
    (jx,) = Flux.jacobian(f, x)
    c2 = Counter()
    torch.testing.assert_close(jx, general(FALLBACKS[case](c2), x).grad[0])
    torch.testing.assert_close(jx, fd_jacobian(FALLBACKS[case](Counter()), x), rtol=1e-6, atol=1e-8)
    if case.startswith("in-place"):
        assert c.total.tolist() == [0.5, 2.0]       # refused before the update: counted once


def test_int_arguments_and_params_take_the_general_path(spy):
    ja, jx = Flux.jacobian(lambda a, x: a ** 2 * x, torch.tensor([1.0, 2.0, 3.0]), 1)
    assert spy["vjp"] == 0 and jx.dtype == f64
    assert torch.equal(ja, torch.diag(torch.tensor([2.0, 4.0, 6.0])))
    w, x = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    js = Flux.jacobian(lambda: w * x, params(w))
    assert spy["vjp"] == 0 and torch.equal(js[w], torch.diag(x))


# ---------------------------------------------------------------- hessians

def test_hessian_forward_over_reverse(spy):
    gen = torch.Generator().manual_seed(2)
    A = torch.randn(4, 4, generator=gen, dtype=f64)
    f = lambda x: torch.log1p((A @ x) ** 2).sum() + x.prod()
    x = torch.randn(4, generator=gen, dtype=f64)
    h = Flux.hessian(f, x)
    assert spy["jacfwd"] == 1
    torch.testing.assert_close(h, torch.autograd.functional.hessian(f, x), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(h, J._autograd_hessian(f, (x,), 0), rtol=1e-10, atol=1e-12)
    grad_f = lambda z: torch.autograd.functional.jacobian(f, z)
    torch.testing.assert_close(h, fd_jacobian(grad_f, x), rtol=1e-6, atol=1e-7)


def test_hessian_reverse_over_reverse(spy):
    f = lambda x: (torch.sin(x) * x[..., :1]).sum()
    x = torch.tensor([[0.2, 1.3], [-0.4, 0.9]], dtype=f64)
    h = Flux.hessian_reverse(f, x)
    assert spy["vjp"] == 1 and spy["jacfwd"] == 0 and h.shape == (4, 4)
    torch.testing.assert_close(h, torch.autograd.functional.hessian(f, x).reshape(4, 4))


def test_hessian_of_numbers_numpy_and_nested():
    assert Flux.hessian(lambda x: x ** 3, 2.0) == 12.0
    assert Flux.hessian(lambda x: x ** 3, 2) == 12.0            # an int: the general path
    h = Flux.hessian(lambda x: (x ** 4).sum(), np.array([1.0, 2.0]))
    assert isinstance(h, np.ndarray)
    np.testing.assert_allclose(h, np.diag([12.0, 48.0]))
    # d/da of trace(hessian(x -> a x³)) at x = (1, 2): sum(6 x) = 18
    (g,) = gradient(lambda a: Flux.hessian(lambda x: (a * x ** 3).sum(),
                                           torch.tensor([1.0, 2.0], dtype=f64)).trace(), 1.5)
    assert g == pytest.approx(18.0)


def test_hessian_with_python_branches_falls_back(spy):
    def f(x):
        return (x ** 3).sum() if x.sum() > 0 else (x ** 2).sum()    # vmap cannot branch
    x = torch.tensor([1.0, 2.0], dtype=f64)
    h = Flux.hessian(f, x)
    assert spy["jacfwd"] == 1
    assert torch.equal(h, torch.diag(torch.tensor([6.0, 12.0], dtype=f64)))


def test_diaghessian_on_torch_func(spy):
    X = torch.tensor([[1.0, 22], [333, 4]], dtype=f64)
    y = torch.tensor([0.5, 0.666], dtype=f64)
    f = lambda x, y: (x * y[:, None] * y[None, :]).sum()
    hx, hy = Flux.diaghessian(f, X, y)
    assert spy["jacfwd"] == 2
    assert torch.equal(hx, torch.zeros(2, 2, dtype=f64))
    want = torch.autograd.functional.hessian(lambda y: f(X, y), y).diagonal()
    torch.testing.assert_close(hy, want)
    a, b = Flux.diaghessian(lambda a, b: torch.atan2(a, b), 1.0, 2.0)
    assert a == pytest.approx(-0.16) and b == pytest.approx(0.16)
    assert Flux.diaghessian(lambda a, s: a ** 2, 3.0, "s") == (2.0, None)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_jacobian_on_cuda_matches_cpu():
    W = torch.randn(50, 20, dtype=f64)
    x = torch.randn(20, dtype=f64)
    (jc,) = Flux.jacobian(lambda z: torch.tanh(W.cuda() @ z), x.cuda())
    (j,) = Flux.jacobian(lambda z: torch.tanh(W @ z), x)
    assert jc.device.type == "cuda"
    torch.testing.assert_close(jc.cpu(), j)


def test_output_kinds():
    with pytest.raises(ValueError, match="complex output"):
        Flux.jacobian(lambda x: x * 1j, torch.ones(2))
    with pytest.raises(TypeError, match="returns a tensor, or a number"):
        Flux.jacobian(lambda x: "no", torch.ones(2))
    val, (jx,) = Flux.withjacobian(lambda x: 3.0, torch.ones(2))        # a constant number
    assert val.tolist() == [3.0] and torch.equal(jx, torch.zeros(1, 2))
    val, (jx,) = Flux.withjacobian(lambda x: x[:0], torch.ones(2))      # no output at all
    assert val.shape == (0,) and jx.shape == (0, 2)
    assert math.isclose(Flux.hessian_reverse(torch.sin, math.pi / 2), -1.0)
