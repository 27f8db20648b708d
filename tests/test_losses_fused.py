"""The losses that call one of torch's loss kernels (logitcrossentropy, kldivergence,
logitbinarycrossentropy, huber_loss) against Flux's formulas written out here in
float64, values and gradients, over agg, dim, eps, label smoothing and one-hot, soft
and integer labels; a torch-function mode records which torch function ran, so a
case that should take the kernel cannot silently fall back to the formula (and one
that must not take it does not)."""
import builtins

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from flux_torch import losses as L

f64 = torch.float64
AGGS = {
    "mean": torch.mean, "sum": torch.sum, "builtin sum": builtins.sum, "np.mean": np.mean,
    "none": lambda x: x, "nonlinear": lambda x: (x ** 2).sum() + x.max(),
}


class Recorder(TorchFunctionMode):
    """Records every torch-level function called while it is active (top level only)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls.append(func)
        return func(*args, **(kwargs or {}))


def run(loss, *args, **kwargs):
    with Recorder() as rec:
        out = loss(*args, **kwargs)
    return out, rec.calls


# ---------------------------------------------------------------- Flux's formulas, written out

def xlogy_ref(x, y):
    return torch.where(x == 0, torch.zeros((), dtype=f64), x * torch.log(y))


def agg_ref(agg):
    return {builtins.sum: torch.sum, np.mean: torch.mean}.get(agg, agg)


def lce_ref(ŷ, y, dim, agg):
    return agg_ref(agg)(-(y * torch.log_softmax(ŷ, dim)).sum(dim, keepdim=True))


def kl_ref(ŷ, y, dim, agg, eps):
    a = agg_ref(agg)
    return a(xlogy_ref(y, y).sum(dim, keepdim=True)) + a(-xlogy_ref(y, ŷ + eps).sum(dim, keepdim=True))


def lbce_ref(ŷ, y, agg):
    return agg_ref(agg)((1 - y) * ŷ - torch.log(torch.sigmoid(ŷ)))


def huber_ref(ŷ, y, agg, δ):
    err = (ŷ - y).abs()
    inside = (err < δ).to(f64)
    return agg_ref(agg)(err * err * inside * 0.5 + δ * (err - 0.5 * δ) * (1 - inside))


def labels(kind, shape, dim, gen):
    """One-hot, soft, smoothed, integer or bool labels of ``shape``, classes along ``dim``."""
    c = shape[dim]
    idx = torch.randint(0, c, shape[:dim % len(shape)] + shape[dim % len(shape) + 1:], generator=gen)
    hot = F.one_hot(idx, c).movedim(-1, dim)
    if kind == "onehot":
        return hot.to(f64)
    if kind == "smoothed":
        return L.label_smoothing(hot.to(f64), 0.1, dim=dim)
    if kind == "soft":
        return torch.softmax(torch.randn(shape, generator=gen, dtype=f64), dim)
    if kind == "long":
        return hot
    return hot.bool()


def check(fused, ref, wrt):
    """Values and gradients (with respect to ``wrt``) of two scalar or tensor results agree."""
    torch.testing.assert_close(fused, ref, rtol=1e-10, atol=1e-12)
    gf = torch.autograd.grad(fused.sum(), wrt, allow_unused=True)
    gr = torch.autograd.grad(ref.sum(), wrt, allow_unused=True)
    for a, b in zip(gf, gr):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- logitcrossentropy

SHAPES_DIMS = [((5, 3), -1), ((5, 3), 0), ((4,), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((2, 3, 4), -3)]


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("agg", list(AGGS), ids=list(AGGS))
@pytest.mark.parametrize("kind", ["onehot", "soft", "smoothed", "bool"])
def test_logitcrossentropy_kernel_is_flux_formula(shape, dim, agg, kind):
    gen = torch.Generator().manual_seed(len(shape) * 10 + dim)
    ŷ = torch.randn(shape, generator=gen, dtype=f64, requires_grad=True)
    y = labels(kind, shape, dim, gen)
    wrt = [ŷ]
    if y.is_floating_point():
        y.requires_grad_()
        wrt.append(y)
    out, calls = run(L.logitcrossentropy, ŷ, y, dim=dim, agg=AGGS[agg])
    assert F.cross_entropy in calls and torch.log_softmax not in calls
    ref = lce_ref(ŷ, y.to(f64) if not y.is_floating_point() else y, dim, AGGS[agg])
    assert out.shape == ref.shape
    check(out, ref, wrt)


def test_logitcrossentropy_kernel_float32_and_finite_differences():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, generator=gen)
    y = torch.softmax(torch.randn(6, 4, generator=gen), -1)
    out, calls = run(L.logitcrossentropy, x, y)
    assert F.cross_entropy in calls and out.dtype == torch.float32
    assert out.item() == pytest.approx(lce_ref(x.double(), y.double(), -1, torch.mean).item(), rel=1e-6)
    ŷ64, y64 = x.double().requires_grad_(), y.double().requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: L.logitcrossentropy(a, b), (ŷ64, y64))
    assert torch.autograd.gradgradcheck(lambda a, b: L.logitcrossentropy(a, b, agg=torch.sum), (ŷ64, y64))


@pytest.mark.parametrize("case", ["mixed dtypes", "broadcast label", "tuple dim", "no classes",
                                  "empty batch", "list label"])
def test_logitcrossentropy_formula_where_the_kernel_differs(case):
    gen = torch.Generator().manual_seed(1)
    ŷ = torch.randn(4, 3, generator=gen, dtype=f64)
    y = torch.eye(3, dtype=f64)[[0, 2, 1, 0]]
    dim = -1
    if case == "mixed dtypes":               # Flux promotes: the float64 label stays float64
        ŷ = ŷ.float()
    elif case == "broadcast label":          # Flux's size rule lets a leading 1 be left out
        ŷ, y = ŷ.reshape(1, 4, 3), y
    elif case == "tuple dim":
        dim = (-1, -2)
    elif case == "no classes":
        ŷ, y = ŷ[:, :0], y[:, :0]
    elif case == "empty batch":
        ŷ, y = ŷ[:0], y[:0]
    elif case == "list label":               # becomes a float32 tensor, as ŷ is
        ŷ, y = ŷ.float(), y.tolist()
    out, calls = run(L.logitcrossentropy, ŷ, y, dim=dim)
    if case == "list label":                 # converted, then the kernel is fine
        assert F.cross_entropy in calls
    else:
        assert F.cross_entropy not in calls
    yt = torch.as_tensor(y, dtype=f64)
    ref = agg_ref(torch.mean)(-(yt * (ŷ.double() - torch.logsumexp(ŷ.double(), dim, keepdim=True)))
                              .sum(dim, keepdim=True))
    torch.testing.assert_close(out.double(), ref, equal_nan=True, rtol=1e-6, atol=1e-7)


def test_logitcrossentropy_infinite_logits_agree():
    """A -Inf logit at a zero label gives 0 * -Inf = NaN in Flux's formula; torch's
    probability-target kernel multiplies the same way."""
    ŷ = torch.tensor([[0.0, -float("inf"), 1.0], [2.0, 0.5, -1.0]], dtype=f64)
    y = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=f64)
    for agg in (torch.mean, lambda x: x):
        out, calls = run(L.logitcrossentropy, ŷ, y, agg=agg)
        assert F.cross_entropy in calls
        torch.testing.assert_close(out, lce_ref(ŷ, y, -1, agg), equal_nan=True)


# ---------------------------------------------------------------- kldivergence

@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("agg", ["mean", "sum", "builtin sum", "np.mean"])
@pytest.mark.parametrize("kind", ["onehot", "soft", "long"])
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_kldivergence_kernel_is_flux_formula(shape, dim, agg, kind, eps):
    gen = torch.Generator().manual_seed(len(shape) + 7 * dim)
    ŷ = torch.softmax(torch.randn(shape, generator=gen, dtype=f64), dim).requires_grad_()
    y = labels(kind, shape, dim, gen)
    kw = {} if eps is None else {"eps": eps}
    out, calls = run(L.kldivergence, ŷ, y, dim=dim, agg=AGGS[agg], **kw)
    assert F.kl_div in calls
    ref = kl_ref(ŷ, y.to(f64), dim, AGGS[agg], torch.finfo(f64).eps if eps is None else eps)
    check(out, ref, [ŷ])
    if kind == "soft" and agg == "mean":
        assert torch.autograd.gradcheck(lambda a: L.kldivergence(a, y, dim=dim, **kw),
                                        (ŷ.detach().requires_grad_(),))


@pytest.mark.parametrize("case", ["eps 0", "agg none", "agg nonlinear", "label needs gradient",
                                  "tuple dim", "mixed dtypes"])
def test_kldivergence_formula_where_the_kernel_differs(case):
    gen = torch.Generator().manual_seed(2)
    ŷ = torch.softmax(torch.randn(4, 3, generator=gen, dtype=f64), -1)
    y = torch.eye(3, dtype=f64)[[0, 2, 1, 0]]
    ŷ[0, 1] = 0.0                             # eps = 0: log(0) at a zero label, Flux gives 0 there
    kw, agg, dim, eps = {}, torch.mean, -1, torch.finfo(f64).eps
    if case == "eps 0":
        kw["eps"] = eps = 0
    elif case == "agg none":
        kw["agg"] = agg = AGGS["none"]
    elif case == "agg nonlinear":            # Flux adds agg(entropy) and agg(cross entropy)
        kw["agg"] = agg = AGGS["nonlinear"]
    elif case == "label needs gradient":     # the kernel's own gradient in y is NaN at y == 0
        y.requires_grad_()
    elif case == "tuple dim":
        kw["dim"] = dim = (-1,)
    elif case == "mixed dtypes":
        ŷ = ŷ.float()
    ŷ.requires_grad_()
    out, calls = run(L.kldivergence, ŷ, y, **kw)
    assert F.kl_div not in calls
    ref = kl_ref(ŷ.double(), y, dim, agg, eps)
    torch.testing.assert_close(out.double(), ref, rtol=1e-6, atol=1e-7)
    assert torch.isfinite(out).all()
    if case == "label needs gradient":
        gy = torch.autograd.grad(out, y)[0]
        assert torch.isfinite(gy).all()


def test_kldivergence_zero_prediction_with_default_eps_takes_the_kernel():
    ŷ = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=f64, requires_grad=True)
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=f64)
    out, calls = run(L.kldivergence, ŷ, y)
    assert F.kl_div in calls
    check(out, kl_ref(ŷ, y, -1, torch.mean, torch.finfo(f64).eps), [ŷ])


# ---------------------------------------------------------------- logitbinarycrossentropy

@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 2)])
@pytest.mark.parametrize("agg", list(AGGS), ids=list(AGGS))
@pytest.mark.parametrize("kind", ["binary", "soft", "smoothed", "long", "bool"])
def test_logitbinarycrossentropy_kernel_is_flux_formula(shape, agg, kind):
    gen = torch.Generator().manual_seed(len(shape))
    ŷ = (3 * torch.randn(shape, generator=gen, dtype=f64)).requires_grad_()
    hot = torch.randint(0, 2, shape, generator=gen)
    y = {"binary": hot.to(f64), "soft": torch.rand(shape, generator=gen, dtype=f64),
         "smoothed": L.label_smoothing(hot.to(f64), 0.2, dim=None), "long": hot,
         "bool": hot.bool()}[kind]
    wrt = [ŷ]
    if y.is_floating_point():
        y.requires_grad_()
        wrt.append(y)
    out, calls = run(L.logitbinarycrossentropy, ŷ, y, agg=AGGS[agg])
    assert F.binary_cross_entropy_with_logits in calls
    check(out, lbce_ref(ŷ, y.to(f64), AGGS[agg]), wrt)
    if kind == "soft" and agg == "mean":
        assert torch.autograd.gradcheck(lambda a: L.logitbinarycrossentropy(a, y.detach().to(f64)),
                                        (ŷ.detach().requires_grad_(),))


@pytest.mark.parametrize("y", [1, torch.tensor([1.0, 0.0, 1.0], dtype=torch.float32),
                               torch.tensor([[1.0, 0.0, 1.0]], dtype=f64)],
                         ids=["constant label", "mixed dtypes", "broadcast label"])
def test_logitbinarycrossentropy_formula_where_the_kernel_differs(y):
    ŷ = torch.tensor([2.0, -1.0, 3.0], dtype=f64, requires_grad=True)
    out, calls = run(L.logitbinarycrossentropy, ŷ, y)
    assert F.binary_cross_entropy_with_logits not in calls
    yt = torch.as_tensor(y, dtype=f64)
    check(out, lbce_ref(ŷ, yt, torch.mean), [ŷ])


# ---------------------------------------------------------------- huber_loss

@pytest.mark.parametrize("delta", [1, 0.05, 2.5, 0.3, np.float64(0.7)])
@pytest.mark.parametrize("agg", list(AGGS), ids=list(AGGS))
def test_huber_kernel_is_flux_formula(delta, agg):
    gen = torch.Generator().manual_seed(3)
    ŷ = torch.randn(5, 4, generator=gen, dtype=f64)
    y = torch.randn(5, 4, generator=gen, dtype=f64)
    y[0, 0] = ŷ[0, 0]                          # |ŷ - y| = 0: both give gradient 0 here
    y[0, 1] = ŷ[0, 1] - float(delta)           # |ŷ - y| = δ exactly: the outer branch in both
    y[0, 2] = ŷ[0, 2] + float(delta)
    ŷ.requires_grad_()
    y.requires_grad_()
    out, calls = run(L.huber_loss, ŷ, y, agg=AGGS[agg], delta=delta)
    assert F.huber_loss in calls
    check(out, huber_ref(ŷ, y, AGGS[agg], float(delta)), [ŷ, y])


def test_huber_kernel_finite_differences_and_float32():
    gen = torch.Generator().manual_seed(4)
    ŷ = torch.randn(10, generator=gen, dtype=f64, requires_grad=True)
    y = torch.randn(10, generator=gen, dtype=f64)
    assert torch.autograd.gradcheck(lambda a: L.huber_loss(a, y, δ=0.5), (ŷ,))
    out, calls = run(L.huber_loss, ŷ.detach().float(), y.float(), delta=0.5)
    assert F.huber_loss in calls and out.dtype == torch.float32
    assert out.item() == pytest.approx(huber_ref(ŷ.detach(), y, torch.mean, 0.5).item(), rel=1e-6)


@pytest.mark.parametrize("delta", [0, torch.tensor(0.5, dtype=f64)], ids=["zero delta", "tensor delta"])
def test_huber_formula_where_the_kernel_refuses(delta):
    ŷ = torch.tensor([1.0, 2.5, -1.0], dtype=f64, requires_grad=True)
    y = torch.tensor([1.2, 2.0, 0.0], dtype=f64)
    out, calls = run(L.huber_loss, ŷ, y, delta=delta)
    assert F.huber_loss not in calls
    check(out, huber_ref(ŷ, y, torch.mean, delta), [ŷ])
