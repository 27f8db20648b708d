"""NNlib's softmax tests, translated: FluxML/NNlib.jl test/softmax.jl at v0.9.36 (commit
4ed25976bb6c67a4f2d04630e26fd1f37fbde6eb). Shapes reversed (batch first): NNlib's default
``dims=1`` is ``dim=-1``, ``dims=d`` is ``dim=-d``, ``dims=:`` is ``dim=None``; a Julia matrix
literal is transposed. ``∇softmax_data(dy, y)`` (the pullback) is the vector-Jacobian product
torch.autograd computes; ``gradtest`` is ``torch.autograd.gradcheck``; ``hessian_dual`` is
``flux_torch.hessian``. The mutating ``softmax!``/``logsoftmax!`` have no flux_torch form."""

import pytest
import torch

import flux_torch as Flux
from flux_torch import logsoftmax, logsumexp, softmax

F64 = torch.float64


def vjp(f, x, dy):
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, dy)
    return g


def test_integer_input():
    assert softmax(torch.tensor([0, 0])).tolist() == [0.5, 0.5]


def test_different_dims():
    xs = torch.rand(2, 2, 2, 2, 2, dtype=F64)
    for fn in (softmax, logsoftmax):
        for d in range(-1, -6, -1):
            y = fn(xs, dim=d)
            torch.testing.assert_close(y, torch.softmax(xs, d) if fn is softmax else torch.log_softmax(xs, d))


def test_softmax():
    xs = torch.rand(5, 5, dtype=F64)
    torch.testing.assert_close(softmax(xs).sum(dim=-1), torch.ones(5, dtype=F64))
    torch.testing.assert_close(softmax(xs, dim=-2).sum(dim=-2), torch.ones(5, dtype=F64))
    assert float(softmax(xs.flatten()).sum()) == pytest.approx(1)
    torch.testing.assert_close(torch.log(softmax(xs, dim=-2)), logsoftmax(xs, dim=-2))
    xs = torch.tensor([-100_000.0, -100_000.0], dtype=F64)
    torch.testing.assert_close(softmax(xs), torch.tensor([0.5, 0.5], dtype=F64))
    torch.testing.assert_close(logsoftmax(xs), torch.log(torch.tensor([0.5, 0.5], dtype=F64)))
    xs = torch.rand(5, dtype=F64)
    torch.testing.assert_close(softmax(xs), torch.exp(xs) / torch.exp(xs).sum())
    torch.testing.assert_close(logsoftmax(xs), torch.log(softmax(xs)))
    torch.testing.assert_close(logsoftmax(torch.tensor([1, 2, 3000.0])), torch.tensor([-2999, -2998, 0.0]))
    xs = torch.tensor([[1.0, 1000], [2, 2000], [3, 3000]])            # Flux's [1 2 3; 1000 2000 3000]
    torch.testing.assert_close(logsoftmax(xs), torch.tensor([[-999.0, 0], [-1998, 0], [-2997, 0]]))
    torch.testing.assert_close(vjp(logsoftmax, xs, torch.ones_like(xs)), torch.tensor([[1.0, -1]] * 3))
    torch.testing.assert_close(vjp(softmax, xs, torch.ones_like(xs)), torch.zeros_like(xs))


def test_against_pytorch_logsoftmax_values():
    xs = torch.tensor([[-0.238639, 0.748142, -0.283194, -0.525461, -1.5348, -0.797842],
                       [0.690384, 0.211427, 0.254794, -0.213572, -0.314174, -0.372663],
                       [-1.146370, -0.577988, 0.718952, 0.919720, -0.620773, 0.929977]], dtype=F64).T
    ys = torch.tensor([[0.237703, -0.621474, 0.448193, 0.546047, 0.564185, 0.632273],
                       [-0.930163, 0.0519798, 0.0549979, 0.3799, -0.477112, 0.437428],
                       [0.69246, 0.569494, -0.503191, -0.925947, -0.0870738, -1.0697]], dtype=F64).T
    torch.testing.assert_close(vjp(logsoftmax, xs, torch.ones_like(xs)), ys, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(vjp(softmax, xs, torch.ones_like(xs)), torch.zeros_like(xs), atol=1e-6, rtol=0)


INF, NAN = float("inf"), float("nan")


def test_inf_and_nan():
    T = lambda rows: torch.tensor(rows).T                              # a Julia literal, reversed
    torch.testing.assert_close(softmax(T([[1, 2], [3, INF]])), T([[0.11920292, 0.0], [0.880797, 1.0]]))
    torch.testing.assert_close(softmax(T([[1, -INF], [3, INF]])), T([[0.11920292, 0.0], [0.880797, 1.0]]))
    torch.testing.assert_close(softmax(T([[1, INF], [3, INF]])), T([[0.11920292, 0.5], [0.880797, 0.5]]))
    torch.testing.assert_close(softmax(T([[1, 2], [3, NAN]])), T([[0.11920292, NAN], [0.880797, NAN]]),
                               equal_nan=True)
    torch.testing.assert_close(softmax(T([[1, 2], [3, INF]]), dim=-2), T([[0.26894143, 0.7310586], [0.0, 1.0]]))
    torch.testing.assert_close(softmax(T([[1, 2], [3, INF]]), dim=None), T([[0.0, 0.0], [0.0, 1.0]]))
    torch.testing.assert_close(softmax(T([[1, 2], [3, INF]]), dim=(-1, -2)), T([[0.0, 0.0], [0.0, 1.0]]))
    for m in ([[1, 2], [3, INF]], [[1, -INF], [3, INF]], [[1, INF], [3, INF]]):
        torch.testing.assert_close(torch.exp(logsoftmax(T(m))), softmax(T(m)))


def test_logsumexp():
    flogsoft = lambda x, dim: (x - logsoftmax(x, dim=dim)).mean(dim=dim, keepdim=dim is not None)
    x = torch.rand(4, 3, dtype=F64)
    torch.testing.assert_close(logsumexp(x), flogsoft(x, None))
    torch.testing.assert_close(logsumexp(x, dim=-1), flogsoft(x, -1))


@pytest.mark.parametrize("d", [None, -1, -2])
@pytest.mark.parametrize("f", [softmax, logsoftmax, logsumexp], ids=lambda f: f.__name__)
def test_autodiff(f, d):
    x = torch.randn(4, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: f(x, dim=d), (x,))


def test_autodiff_weighted():
    w = torch.arange(1.0, 4, dtype=F64)
    for f in (softmax, logsoftmax):
        for shape in ((3,), (5, 3)):
            x = torch.randn(shape, dtype=F64, requires_grad=True)
            assert torch.autograd.gradcheck(lambda x: f(x) * w, (x,))
        x = torch.randn(5, 3, dtype=F64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda x: f(x, dim=-2) * w, (x,))


@pytest.mark.parametrize("f", [lambda x: torch.sin(softmax(x)).sum(), lambda x: torch.sin(logsoftmax(x)).sum(),
                               lambda x: torch.sin(logsumexp(x))], ids=["softmax", "logsoftmax", "logsumexp"])
def test_second_derivatives(f):
    x = torch.tensor([[1.0, 6], [2, 5], [3, 4]], dtype=F64)             # Flux's [1 2 3; 6 5 4]
    torch.testing.assert_close(Flux.hessian(f, x), Flux.hessian_reverse(f, x))
    torch.testing.assert_close(Flux.hessian(f, x), torch.autograd.functional.hessian(f, x).reshape(6, 6))
