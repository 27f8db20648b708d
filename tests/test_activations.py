"""Activations against torch.nn.functional twins, NNlib's formulas and NNlib's test values,
with gradients checked by finite differences in float64."""
import importlib
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from flux_torch.activation import (
    celu, elu, gelu, gelu_erf, gelu_tanh, hardsigmoid, hardswish, hardσ,
    identity, leakyrelu, logcosh, logsigmoid, logσ, mish, relu, selu,
    sigmoid, sigmoid_fast, softplus, softshrink, softsign, swish, tanh, tanh_fast,
    tanhshrink, thresholdrelu, trelu, σ,
)

# by sys.modules: the package attribute `activations` is Flux's activations(chain, x)
A = importlib.import_module("flux_torch.activation")
SELU_λ = 1.0507009873554804934193349852946
SELU_α = 1.6732632423543772848170429916717
ALIASES = {"sigmoid": "σ", "hardsigmoid": "hardσ", "logsigmoid": "logσ",
           "gelu_tanh": "gelu", "thresholdrelu": "trelu"}
RANDOM = {"rrelu"}          # random slopes: tested on its own
UNARY = [n for n in A.__all__ if n not in ALIASES and n != "identity" and n not in RANDOM]


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


# NNlib's definitions, written out in numpy float64 (src/activations.jl).
NNLIB = {
    "σ": lambda x: 1 / (1 + np.exp(-x)),
    "hardσ": lambda x: np.maximum(0, np.minimum(1, (x + 3) / 6)),
    "logσ": lambda x: -_softplus(-x),
    "hardtanh": lambda x: np.clip(x, -1, 1),
    "relu": lambda x: np.where(x < 0, 0.0, x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leakyrelu": lambda x: np.where(x > 0, x, 0.01 * x),
    "elu": lambda x: np.where(x >= 0, x, np.expm1(x)),
    "gelu": lambda x: x / 2 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "gelu_sigmoid": lambda x: x / (1 + np.exp(-math.sqrt(8 / math.pi) * (x + 0.044715 * x ** 3))),
    "gelu_erf": lambda x: x / 2 * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
    "swish": lambda x: x / (1 + np.exp(-x)),
    "hardswish": lambda x: x * np.maximum(0, np.minimum(1, (x + 3) / 6)),
    "lisht": lambda x: x * np.tanh(x),
    "selu": lambda x: SELU_λ * np.where(x > 0, x, SELU_α * np.expm1(x)),
    "celu": lambda x: np.where(x >= 0, x, np.expm1(x)),
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "logcosh": lambda x: x + _softplus(-2 * x) - math.log(2),
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "tanhshrink": lambda x: x - np.tanh(x),
    "softshrink": lambda x: np.where(x >= 0.5, x - 0.5, np.where(x <= -0.5, x + 0.5, 0.0)),
    "trelu": lambda x: np.where(x <= 1, 0.0, x),
    "tanh_fast": np.tanh,
    "sigmoid_fast": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
}

TWINS = {
    "σ": torch.sigmoid, "hardσ": F.hardsigmoid, "logσ": F.logsigmoid, "hardtanh": F.hardtanh,
    "relu": F.relu, "relu6": F.relu6, "leakyrelu": F.leaky_relu, "elu": F.elu,
    "gelu": lambda x: F.gelu(x, approximate="tanh"), "gelu_erf": F.gelu, "swish": F.silu,
    "hardswish": F.hardswish, "selu": F.selu, "celu": F.celu, "softplus": F.softplus,
    "softsign": F.softsign, "mish": F.mish, "tanhshrink": F.tanhshrink,
    "softshrink": F.softshrink, "trelu": lambda x: F.threshold(x, 1.0, 0.0),
    "tanh_fast": torch.tanh, "sigmoid_fast": torch.sigmoid, "tanh": torch.tanh,
}

# Points away from every kink (0, ±0.5, ±1, ±3, 6), for finite differences.
SMOOTH = torch.tensor([-7.3, -4.1, -2.2, -1.7, -0.8, -0.3, 0.2, 0.7, 1.4, 2.6, 4.4, 8.1],
                      dtype=torch.float64)


def test_exports_and_names():
    assert set(NNLIB) == set(UNARY)
    for name in A.__all__:
        f = getattr(A, name)
        assert f.__name__ == ALIASES.get(name, name)
        assert f.__doc__ and ">>>" in f.__doc__
    assert sigmoid is σ and hardsigmoid is hardσ and logsigmoid is logσ
    assert gelu_tanh is gelu and thresholdrelu is trelu


@pytest.mark.parametrize("name", UNARY)
def test_matches_nnlib_formula_float64(name):
    x = np.linspace(-12, 12, 481)
    got = getattr(A, name)(torch.from_numpy(x))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), NNLIB[name](x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(TWINS))
def test_matches_torch_twin_float32(name):
    x = torch.randn(64, 17, generator=torch.Generator().manual_seed(0)) * 4
    got = getattr(A, name)(x)
    assert got.dtype == torch.float32 and got.shape == x.shape
    torch.testing.assert_close(got, TWINS[name](x))


@pytest.mark.parametrize("name", UNARY)
def test_number_input_gives_python_float(name):
    f = getattr(A, name)
    for v in (-2.5, 0.7, 3, np.float32(1.25)):
        out = f(v)
        assert type(out) is float
        assert out == pytest.approx(float(NNLIB[name](np.float64(v))), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", UNARY)
def test_list_numpy_and_int_input(name):
    f = getattr(A, name)
    expect = f(torch.tensor([-2.0, 0.0, 3.0]))
    torch.testing.assert_close(f([-2.0, 0.0, 3.0]), expect)
    torch.testing.assert_close(f(np.array([-2.0, 0.0, 3.0], dtype=np.float32)), expect)
    torch.testing.assert_close(f(torch.tensor([-2, 0, 3])), expect)   # ints -> float32
    torch.testing.assert_close(f(np.array([-2.0, 0.0, 3.0])),
                               f(torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64)))


@pytest.mark.parametrize("name", UNARY)
def test_gradient_finite_differences(name):
    f = getattr(A, name)
    x = SMOOTH.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(f, (x,))
    assert torch.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("name", UNARY)
def test_nan_and_inf_propagation(name):
    # NNlib's test/activations.jl "NaN propagation" testset.
    f = getattr(A, name)
    assert math.isnan(f(float("nan")))
    if name == "softsign":
        return
    assert not math.isnan(f(float("inf")))
    if name in ("gelu", "gelu_erf", "gelu_sigmoid", "swish", "hardswish", "logcosh", "mish"):
        return
    assert not math.isnan(f(float("-inf")))


def test_nnlib_test_values():
    # From NNlib's test/activations.jl and docstrings.
    assert σ(0.0) == 0.5 and hardσ(0.0) == 0.5 and gelu(0.0) == 0.0
    assert softplus(0.0) == pytest.approx(math.log(2.0))
    assert softplus(1e8) == pytest.approx(1e8) and softplus(-1e8) == pytest.approx(0.0)
    assert σ(1.0) == pytest.approx(1.0 / (1.0 + math.exp(-1.0)), rel=1e-15)
    assert hardσ(1.0) == pytest.approx(4 / 6) and hardswish(1.0) == pytest.approx(hardσ(1.0))
    assert gelu(1.0) == pytest.approx(0.8411919906082768)
    assert gelu(-1.0) == pytest.approx(-0.15880800939172324)
    assert gelu_erf(1.0) == pytest.approx(0.8413447460685429, rel=1e-15)
    assert gelu_erf(-1.0) == pytest.approx(-0.15865525393145707, rel=1e-14)
    assert selu(1.0) == pytest.approx(SELU_λ, rel=1e-15)
    assert selu(-1.0) == pytest.approx(SELU_λ * SELU_α * (math.exp(-1.0) - 1.0))
    assert leakyrelu(-1.0) == pytest.approx(-0.01) and trelu(1.0) == 0.0
    assert softsign(1.0) == 0.5 and softsign(-1.0) == -0.5
    assert tanhshrink(1.0) == pytest.approx(0.23840584404423515)
    assert softshrink(1.0) == 0.5 and softshrink(-1.0) == -0.5
    assert mish(-1.0) == pytest.approx(-math.tanh(math.log(1.0 + math.exp(-1.0))))
    assert logcosh(1.0) == pytest.approx(math.log(math.cosh(1.0)))
    assert elu(-1.0) == pytest.approx(math.exp(-1.0) - 1.0) and celu(-1.0) == pytest.approx(math.exp(-1.0) - 1)
    assert elu(-10.0) == pytest.approx(-0.9999546, abs=1e-7)
    assert elu(-10.0, 2) == pytest.approx(-1.9999092, abs=1e-7)
    assert leakyrelu(-10.0, 1 / 5) == pytest.approx(-2.0) and leakyrelu(-10.0, 1 / 20) == pytest.approx(-0.5)
    assert softsign(100.0) == pytest.approx(0.990099, abs=1e-6)
    assert (tanhshrink(-10.0), tanhshrink(10.0)) == pytest.approx((-9.0, 9.0), abs=1e-7)
    assert (softshrink(-10.0), softshrink(10.0)) == (-9.5, 9.5)
    assert sigmoid_fast(0.2) == pytest.approx(0.54983395) and hardσ(0.2) == pytest.approx(0.53333336)
    assert tanh_fast(0.5) == pytest.approx(0.46211717) and tanh(0.5) == pytest.approx(math.tanh(0.5))


def test_float32_values_match_nnlib_float32_docs():
    x = torch.tensor([-10.0])
    assert elu(x).item() == pytest.approx(-0.9999546, abs=1e-7)
    assert softplus(torch.tensor([16.0])).item() == 16.0    # NNlib: softplus(16f0) == 16.0f0


def test_coefficients_and_greek_keywords():
    x = torch.linspace(-4, 4, 41, dtype=torch.float64)
    xn = x.numpy()
    np.testing.assert_allclose(leakyrelu(x, 0.2).numpy(), np.where(xn > 0, xn, 0.2 * xn))
    for f in (elu, celu):
        torch.testing.assert_close(f(x, 2.0), f(x, alpha=2.0))
        torch.testing.assert_close(f(x, α=2.0), f(x, 2))
    np.testing.assert_allclose(elu(x, 2.0).numpy(), np.where(xn >= 0, xn, 2 * np.expm1(xn)))
    np.testing.assert_allclose(celu(x, 2.0).numpy(), np.where(xn >= 0, xn, 2 * np.expm1(xn / 2)))
    torch.testing.assert_close(celu(x, 2.0), F.celu(x, 2.0))
    torch.testing.assert_close(softshrink(x, 1.5), F.softshrink(x, 1.5))
    torch.testing.assert_close(softshrink(x, λ=1.5), softshrink(x, lambda_=1.5))
    np.testing.assert_allclose(trelu(x, 2.0).numpy(), np.where(xn <= 2, 0, xn))
    torch.testing.assert_close(trelu(x, θ=2.0), trelu(x, theta=2.0))
    with pytest.raises(TypeError, match="alpha"):
        elu(x, α=1.0, alpha=2.0)
    with pytest.raises(TypeError, match="lambda_"):
        softshrink(x, 0.1, lambda_=0.2)


def test_softplus_float64_exact_past_torch_threshold():
    x = torch.tensor([19.0, 21.0, 25.0, 30.0, 35.0], dtype=torch.float64)
    np.testing.assert_allclose(softplus(x).numpy(), _softplus(x.numpy()), rtol=1e-16, atol=0)
    assert softplus(25.0) != 25.0


def test_identity_and_autograd_through_tensor():
    t = torch.ones(3)
    assert identity(t) is t and identity(3) == 3
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    (g,) = torch.autograd.grad(swish(x).sum(), x)
    s = torch.sigmoid(x.detach())
    torch.testing.assert_close(g, s + x.detach() * s * (1 - s))
    assert relu(x).requires_grad and not relu(x.detach()).requires_grad


def test_rrelu_and_gelu_sigmoid_nnlib():
    from flux_torch import gelu_sigmoid, gelu_tanh, rrelu
    # NNlib doc: extrema(rrelu.(fill(-10f0, 1000))) lies within (-10/3, -10/8)
    y = rrelu(torch.full((1000,), -10.0))
    assert y.min() >= -10 / 3 - 1e-5 and y.max() <= -10 / 8 + 1e-5 and y.unique().numel() > 1
    assert rrelu(3.0) == 3.0 and rrelu(-1.0, 0.5, 0.5) == -0.5      # explicit bounds
    a = rrelu(torch.full((5,), -1.0), rng=torch.Generator().manual_seed(1))
    b = rrelu(torch.full((5,), -1.0), rng=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    # gelu_sigmoid(x) = x σ(√(8/π)(x + 0.044715x³)) is mathematically gelu_tanh
    x = torch.linspace(-4, 4, 41, dtype=torch.float64)
    ref = x * torch.sigmoid(math.sqrt(8 / math.pi) * (x + 0.044715 * x ** 3))
    torch.testing.assert_close(gelu_sigmoid(x), ref)
    torch.testing.assert_close(gelu_sigmoid(x), F.gelu(x, approximate="tanh"))
    torch.testing.assert_close(gelu_tanh(x), ref)
