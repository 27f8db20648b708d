"""NNlib's activation tests, translated: FluxML/NNlib.jl test/activations.jl at v0.9.36 (commit
4ed25976bb6c67a4f2d04630e26fd1f37fbde6eb, the newest tag of the mirror; Flux v0.16.11 asks
for NNlib 0.9.42, whose activations are the same functions).

A Julia number is a Python number (flux_torch computes it in float64 and returns a Python
float, docs/porting.md, Functions); ``T(val)`` for ``T`` in Float16/32/64 is a 0-d tensor of
that dtype; ``f.(x)`` is ``f(x)`` on a tensor; ``gradtest`` is ``torch.autograd.gradcheck``
(finite differences in float64); ``ForwardDiff.derivative`` is a central difference;
``hessian_dual`` is ``flux_torch.hessian``. Julia's ``@inferred``, ChainRules' ``rrule``
lookups and lazy ``Broadcasted`` have no Python meaning.
"""
import math

import pytest
import torch

import flux_torch as Flux
from flux_torch import (celu, elu, gelu, gelu_erf, gelu_sigmoid, gelu_tanh, hardsigmoid, hardswish,
                        hardtanh, hardσ, leakyrelu, lisht, logcosh, logsigmoid, logσ, mish, relu,
                        relu6, rrelu, selu, sigmoid, sigmoid_fast, softplus, softshrink, softsign,
                        swish, tanh_fast, tanhshrink, trelu, σ)

ACTIVATION_FUNCTIONS = [σ, hardσ, hardtanh, relu, leakyrelu, relu6, rrelu, elu, gelu_tanh, gelu_sigmoid,
                        gelu_erf, swish, hardswish, selu, celu, softplus, softsign, logσ, logcosh,
                        mish, tanhshrink, softshrink, trelu, lisht, tanh_fast, sigmoid_fast]
BINARY_ACTIVATIONS = [leakyrelu, rrelu, elu, celu, softshrink, trelu]
ids = lambda f: f.__name__
F64 = torch.float64


def test_values_at_zero():
    assert sigmoid(0.0) == 0.5 and hardsigmoid(0.0) == 0.5
    for f in (hardtanh, relu, leakyrelu, relu6, rrelu, elu, gelu, gelu_tanh, gelu_sigmoid, gelu_erf,
              swish, hardswish, lisht, softsign, selu, celu, trelu, mish, tanhshrink, softshrink):
        assert f(0.0) == 0.0, f.__name__
    assert softplus(0.0) == pytest.approx(math.log(2.0))
    assert softplus(1e8) == pytest.approx(1e8) and softplus(-1e8) == pytest.approx(0.0)
    assert logcosh(0.0) == math.log(math.cosh(0.0))


def central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_softplus_is_smooth_at_the_origin():          # NNlib issue 671
    assert Flux.gradient(softplus, 0.0)[0] == pytest.approx(0.5)
    assert Flux.gradient(lambda x: Flux.gradient(softplus, x)[0], 0.0)[0] == pytest.approx(0.25)
    assert central(softplus, 0.0) == pytest.approx(0.5)


def test_values_at_one_and_minus_one():
    e = math.exp
    assert sigmoid(1.0) == pytest.approx(1.0 / (1.0 + e(-1.0)), rel=1e-15)
    assert hardsigmoid(1.0) == max(0, min(1, (1 + 3) / 6))
    for f in (hardtanh, relu, leakyrelu, relu6, rrelu, elu, celu):
        assert f(1.0) == 1.0, f.__name__
    for f in (gelu, gelu_tanh, gelu_sigmoid):
        assert f(1.0) == pytest.approx(0.8411919906082768) and f(-1.0) == pytest.approx(-0.15880800939172324)
    assert gelu_erf(1.0) == pytest.approx(0.8413447460685429, rel=1e-15)
    assert gelu_erf(-1.0) == pytest.approx(-0.15865525393145707, rel=1e-15)
    assert swish(1.0) == sigmoid(1.0) and hardswish(1.0) == hardsigmoid(1.0)
    assert lisht(1.0) == pytest.approx(math.tanh(1.0))
    assert softplus(1.0) == pytest.approx(math.log(e(1.0) + 1.0))
    assert softsign(1.0) == 0.5 and softsign(-1.0) == -0.5
    assert selu(1.0) == pytest.approx(1.0507009873554804934193349852946, rel=1e-15)
    assert trelu(1.0) == 0.0 and trelu(-1.0) == 0.0
    assert logcosh(1.0) == pytest.approx(math.log(math.cosh(1.0)))
    assert mish(1.0) == pytest.approx(math.tanh(math.log(1.0 + e(1.0))))
    assert tanhshrink(1.0) == pytest.approx(0.23840584404423515) and softshrink(1.0) == 0.5
    assert sigmoid(-1.0) == pytest.approx(e(-1.0) / (1.0 + e(-1.0)), rel=1e-15)
    assert hardsigmoid(-1.0) == max(0, min(1, (-1 + 3) / 6))
    assert hardtanh(-1.0) == -1.0 and relu(-1.0) == 0.0 and relu6(-1.0) == 0.0
    assert leakyrelu(-1.0) == -0.01
    assert -1 / 3.0 <= rrelu(-1.0) <= -1 / 8.0
    assert elu(-1.0) == pytest.approx(e(-1.0) - 1.0, rel=1e-15)
    assert swish(-1.0) == -sigmoid(-1.0) and hardswish(-1.0) == -hardsigmoid(-1.0)
    assert lisht(-1.0) == pytest.approx(-1.0 * math.tanh(-1.0))
    assert softplus(-1.0) == pytest.approx(math.log(e(-1.0) + 1.0))
    assert selu(-1.0) == pytest.approx(1.0507009873554804934193349852946 * 1.6732632423543772848170429916717
                                       * (e(-1.0) - 1.0))
    assert celu(-1.0) == pytest.approx(e(-1.0) - 1, rel=1e-15)
    assert mish(-1.0) == pytest.approx(-math.tanh(math.log(1.0 + e(-1.0))))
    assert tanhshrink(-1.0) == pytest.approx(-0.23840584404423515) and softshrink(-1.0) == -0.5


@pytest.mark.parametrize("a", ACTIVATION_FUNCTIONS, ids=ids)
def test_float_types(a):
    for T in (torch.float16, torch.float32, F64):
        for val in (-10, -1, 0, 1, 10):
            assert a(torch.tensor(val, dtype=T)).dtype == T
            if a in BINARY_ACTIVATIONS:
                for beta in (0.1, 0.5, 1):
                    assert a(torch.tensor(val, dtype=T), beta).dtype == T


@pytest.mark.parametrize("a", ACTIVATION_FUNCTIONS, ids=ids)
def test_array_input(a):
    x = torch.rand(5, dtype=F64)
    assert a(x).shape == x.shape
    assert Flux.gradient(lambda p: a(p).sum(), x)[0].shape == x.shape
    if a in BINARY_ACTIVATIONS:
        assert a(x, 0.1).shape == x.shape
        assert Flux.gradient(lambda p: a(p, 0.1).sum(), x)[0].shape == x.shape


@pytest.mark.parametrize("a", ACTIVATION_FUNCTIONS, ids=ids)
def test_nan_propagation(a):
    nan, inf = torch.tensor(float("nan")), torch.tensor(float("inf"))
    assert bool(torch.isnan(a(nan)))
    if a is softsign:
        return
    assert not bool(torch.isnan(a(inf)))
    if a in (gelu, gelu_tanh, gelu_sigmoid, gelu_erf, swish, hardswish, logcosh, mish):
        return
    assert not bool(torch.isnan(a(-inf)))


@pytest.mark.parametrize("a", ACTIVATION_FUNCTIONS, ids=ids)
def test_integer_inputs(a):
    assert isinstance(a(1), float)
    assert a(torch.tensor(1, dtype=torch.int32)).is_floating_point()


@pytest.mark.xfail(strict=True, reason="deliberate deviation: an activation of a Python number gives "
                                       "a Python float (docs/porting.md, Functions)")
@pytest.mark.parametrize("a", [relu, relu6, hardtanh, trelu], ids=ids)
def test_int_passes_through(a):
    assert isinstance(a(1), int)


def test_special_values():
    assert elu(42) == 42 and elu(42.0) == 42.0
    assert elu(-4) == pytest.approx(math.exp(-4) - 1)
    assert mish(-5) == pytest.approx(-0.033576237730161704)
    assert mish(9) == pytest.approx(9 * math.tanh(math.log(1 + math.exp(9))), rel=1e-15)
    xs = torch.tensor([[1.0, 1000.0], [2.0, 2000.0], [3.0, 3000.0]])
    assert mish(xs).dtype == xs.dtype and mish(xs).shape == xs.shape
    assert leakyrelu(0.4, 0.3) == pytest.approx(0.4) and leakyrelu(-0.4, 0.3) == pytest.approx(-0.12)
    assert relu6(10.0) == 6.0
    assert -0.2 <= rrelu(-0.4, 0.25, 0.5) <= -0.1
    assert celu(42) == 42 and celu(42.0) == 42.0
    assert celu(-4, 0.5) == pytest.approx(0.5 * (math.exp(-4.0 / 0.5) - 1))
    assert softshrink(15.0, 5.0) == 10.0 and softshrink(4.0, 5.0) == 0.0 and softshrink(-15.0, 5.0) == -10.0
    xs = torch.randn(10, 10, dtype=F64)
    torch.testing.assert_close(logsigmoid(xs), torch.log(sigmoid(xs)))
    for T in (torch.float32, F64):
        torch.testing.assert_close(logsigmoid(torch.tensor([-100_000, 100_000.0], dtype=T)),
                                   torch.tensor([-100_000, 0.0], dtype=T))
        torch.testing.assert_close(hardsigmoid(torch.tensor([-100_000, 100_000.0], dtype=T)),
                                   torch.tensor([0.0, 1.0], dtype=T))
    assert logcosh(1_000.0) + math.log(2) == 1_000.0
    assert hardsigmoid(0.3) == pytest.approx(max(0, min(1, (0.3 + 3) / 6)), rel=1e-15)
    assert hardsigmoid(-0.3) == pytest.approx(max(0, min(1, (-0.3 + 3) / 6)), rel=1e-15)
    assert hardtanh(10.0) == 1.0
    assert lisht(2.5) == pytest.approx(2.5 * math.tanh(2.5), rel=1e-15)
    assert trelu(0.5) == 0.0 and trelu(1.0) == 0.0 and trelu(1.1) == 1.1 and trelu(0.9, 0.5) == 0.9


def ulps(x, truth):
    """How many float32 steps ``x`` is from the float32 nearest to ``truth`` (a float64)."""
    target = truth.float()
    a, b = x.view(torch.int32).long(), target.view(torch.int32).long()
    return (a - b).abs()


@pytest.mark.parametrize("fast, exact, worst", [(tanh_fast, math.tanh, 5), (sigmoid_fast, None, 2)])
def test_fast_variants_float32(fast, exact, worst):
    x32 = torch.arange(1e-6, 5, 1e-4, dtype=torch.float32)
    for xs in (x32, -x32):
        ref = torch.tanh(xs.double()) if fast is tanh_fast else torch.sigmoid(xs.double())
        err = ulps(fast(xs), ref)
        assert float(err.float().mean()) < 0.8 and int(err.max()) <= worst
    xbig = torch.cat([torch.arange(6, 201, 3, dtype=torch.float32), torch.tensor([1000.0, 3.4028235e38])])
    ref = torch.tanh if fast is tanh_fast else torch.sigmoid
    torch.testing.assert_close(fast(xbig), ref(xbig))
    torch.testing.assert_close(fast(-xbig), ref(-xbig))


@pytest.mark.skip(reason="the Float64 variant counts ulps against BigFloat; no arbitrary precision "
                         "library is a test dependency")
def test_fast_variants_float64():
    pass


@pytest.mark.parametrize("a", ACTIVATION_FUNCTIONS, ids=ids)
def test_gradient_types(a):
    for T in (torch.float16, torch.float32, F64):
        for val in (-10, -1, 0, 1, 10):
            assert Flux.gradient(a, torch.tensor(float(val), dtype=T))[0].dtype == T


def gradtest(f, *xs):
    return torch.autograd.gradcheck(f, tuple(x.requires_grad_() for x in xs), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("f", [f for f in ACTIVATION_FUNCTIONS if f is not rrelu], ids=ids)
def test_gradient_correctness(f):
    g = torch.Generator().manual_seed(17)
    r = lambda *s: torch.rand(*s, dtype=F64, generator=g)
    assert gradtest(f, 2 + r(()))
    assert gradtest(f, -2 - r(()))
    assert gradtest(f, 2 + r(2, 2))
    assert gradtest(f, -2 - r(2, 2))
    if f in BINARY_ACTIVATIONS:
        for β in (0.2, 0.7):
            assert gradtest(lambda x: f(x, β), 1 + r(()))
            assert gradtest(lambda x: f(x, β), -2 + r(()))


@pytest.mark.parametrize("act", [σ, relu, selu, lambda x: elu(x, 2), logσ, lambda x: leakyrelu(x, 0.2)])
def test_flux_like_usage(act):
    """σ.(W*x .+ b) with x a vector or a batch, batch first: act(x @ W.T + b)."""
    W, b = torch.randn(2, 5, dtype=F64), torch.randn(2, dtype=F64)
    for x in (torch.randn(5, dtype=F64), torch.randn(3, 5, dtype=F64)):
        assert gradtest(lambda x, W, b: act(x @ W.T + b), x.clone(), W.clone(), b.clone())


def test_zygote_issue_758():
    g = Flux.gradient(lambda xs: selu(xs).sum(), torch.tensor([1_000.0, 10_000.0], dtype=F64))[0]
    torch.testing.assert_close(g, torch.tensor([1.0507009873554805] * 2, dtype=F64), rtol=1e-8, atol=0)
    assert Flux.gradient(selu, 1_000) == (1.0507009873554805,)
    big = torch.tensor([1_000.0, 10_000.0], dtype=F64)
    assert Flux.gradient(lambda xs: elu(xs, 2).sum(), big)[0].tolist() == [1.0, 1.0]
    assert Flux.gradient(lambda x: elu(x, 2), 1_000) == (1.0,)
    assert Flux.gradient(lambda x: elu(x, 2), -1) == (pytest.approx(2 * math.exp(-1)),)
    for x in ([100.0, 1_000.0], [1_000.0, 10_000.0]):
        assert gradtest(selu, torch.tensor(x, dtype=F64))
        assert gradtest(lambda x: elu(x, 3.5), torch.tensor(x, dtype=F64))
    assert gradtest(selu, torch.tensor(10.0, dtype=F64))


@pytest.mark.parametrize("f", [hardσ, hardtanh, relu6, hardswish], ids=ids)
def test_saturated_gradients(f):
    for x in (-50.0, 50.0, -7.0, 7.0):
        ad = Flux.gradient(lambda z: f(z).sum(), torch.tensor([x], dtype=F64))[0][0]
        assert float(ad) == pytest.approx(central(f, x), abs=1e-6)


@pytest.mark.parametrize("f", [f for f in ACTIVATION_FUNCTIONS if f is not rrelu], ids=ids)
def test_second_derivatives(f):
    s = lambda x: torch.sin(f(x))
    h = Flux.hessian(s, 0.23)
    assert h == pytest.approx(Flux.hessian_reverse(s, 0.23))
    x = torch.tensor([-0.9, -0.2, 0.1, 0.3, 1.2], dtype=F64)
    q = lambda x: (f(x + 0.1) ** 2).sum()
    oracle = torch.autograd.functional.hessian(q, x)
    torch.testing.assert_close(Flux.hessian(q, x), oracle)
    torch.testing.assert_close(Flux.hessian_reverse(q, x), oracle)
    if f in BINARY_ACTIVATIONS:
        s2 = lambda x: torch.sin(f(x, 0.3))
        assert Flux.hessian(s2, 0.45) == pytest.approx(Flux.hessian_reverse(s2, 0.45))
        q2 = lambda x: (f(x + 0.1, 0.3) ** 2).sum()
        torch.testing.assert_close(Flux.hessian(q2, x), torch.autograd.functional.hessian(q2, x))


HOLO = [(σ, lambda z: 1 / (1 + torch.exp(-z))), (swish, lambda z: z / (1 + torch.exp(-z))),
        (softplus, lambda z: torch.log(1 + torch.exp(z))), (logσ, lambda z: -torch.log(1 + torch.exp(-z))),
        (mish, lambda z: z * torch.tanh(torch.log(1 + torch.exp(z)))), (logcosh, lambda z: torch.log(torch.cosh(z))),
        (tanh_fast, torch.tanh), (lisht, lambda z: z * torch.tanh(z)), (tanhshrink, lambda z: z - torch.tanh(z))]
ZS = torch.tensor([0.4 + 0.6j, -0.7 + 0.2j, 1.2 - 0.9j, -0.3 - 1.1j], dtype=torch.complex128)


@pytest.mark.parametrize("f, naive", HOLO, ids=lambda p: getattr(p, "__name__", ""))
def test_complex_holomorphic(f, naive):
    for z in ZS:
        torch.testing.assert_close(f(z), naive(z))
        g = Flux.gradient(lambda z: f(z).abs() ** 2, z)[0]
        torch.testing.assert_close(g, Flux.gradient(lambda z: naive(z).abs() ** 2, z)[0])
    g = Flux.gradient(lambda z: (f(z).abs() ** 2).sum(), ZS)[0]
    torch.testing.assert_close(g, Flux.gradient(lambda z: (naive(z).abs() ** 2).sum(), ZS)[0])


def test_complex_numerical_stability():
    for z in (600 + 2j, -600 + 2j, 80 - 50j, -80 + 50j):
        z = torch.tensor(z, dtype=torch.complex128)
        assert bool(torch.isfinite(σ(z))) and bool(torch.isfinite(softplus(z))) and bool(torch.isfinite(swish(z)))
    assert abs(complex(σ(torch.tensor(-800 + 0j, dtype=torch.complex128)))) < 1e-12
    assert complex(softplus(torch.tensor(800 + 1j, dtype=torch.complex128))).real == pytest.approx(800)


@pytest.mark.parametrize("f", [relu, leakyrelu, relu6, elu, selu, celu, hardσ, hardtanh, hardswish,
                               trelu, softshrink], ids=ids)
def test_piecewise_activations_reject_complex(f):
    with pytest.raises(TypeError, match="complex"):
        f(torch.tensor(1.0 + 1.0j))
