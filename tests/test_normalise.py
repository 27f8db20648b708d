"""BatchNorm, InstanceNorm, GroupNorm, LayerNorm against the torch.nn twins / torch.nn.functional
and the numbers in Flux v0.14's test/layers/normalisation.jl and `normalise` docstring.

Conventions checked here:
- Running statistics follow Flux's `_track_stats!`: μ ← (1-mtm)μ + mtm·mean, σ² ← (1-mtm)σ² +
  mtm·(m/(m-1))·var, i.e. the corrected batch variance. torch's BatchNorm/InstanceNorm use the same
  momentum convention and also the unbiased variance for the running estimate, so the twins agree.
- LayerNorm is Flux v0.16's `normalise` (NNlib): (x - μ) / sqrt(σ² + ϵ), torch.nn.LayerNorm's
  formula; LayerNormV014 (flux_torch.v014's) is v0.14's (x - μ) / (σ + ϵ).
- Flux's σ² field is `σ2` here (`²` is not allowed in Python identifiers).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from flux_torch import Chain, Dense, f32, f64, gradient, params, relu, sigmoid, tanh, trainmode_
from flux_torch import testmode_ as set_testmode   # (a name starting with test_ would be collected)
from flux_torch.layers.normalise import (BatchNorm, GroupNorm, InstanceNorm, LayerNorm, LayerNormV014,
                                        hasaffine)


def in_gradient(m, x):
    """Flux's `evalwgrad`: the layer's output computed inside a gradient call."""
    out = []

    def f(m):
        y = m(x)
        out.append(y.detach())
        return y.sum()
    gradient(f, m)
    return out[0]


def randomise(m, seed=0):
    g = torch.Generator().manual_seed(seed)
    for name in ("β", "γ"):
        t = getattr(m, name)
        if t is not None:
            t.copy_(torch.randn(t.shape, generator=g))
    return m


def copy_to_twin(m, twin):
    with torch.no_grad():
        if m.γ is not None:
            twin.weight.copy_(m.γ)
            twin.bias.copy_(m.β)
        if m.μ is not None:
            twin.running_mean.copy_(m.μ)
            twin.running_var.copy_(m.σ2)
    return twin


X = torch.randn(6, 3, 5, 4, generator=torch.Generator().manual_seed(1))


# ------------------------------------------------------------------ BatchNorm: Flux's own test numbers

def test_batchnorm_flux_numbers():
    m = BatchNorm(2)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])     # Flux's 2×3 [1 3 5; 2 4 6], batch first
    assert hasaffine(m) and len(params(m)) == 2
    assert m.β.tolist() == [0, 0] and m.γ.tolist() == [1, 1]
    y = in_gradient(m, x)
    torch.testing.assert_close(y, torch.tensor([[-1.22474, -1.22474], [0, 0], [1.22474, 1.22474]]),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(m.μ, torch.tensor([0.3, 0.4]))
    torch.testing.assert_close(m.σ2, torch.tensor([1.3, 1.3]))      # .1 * var * 3/2 + .9
    torch.testing.assert_close(m(x)[0, 0], torch.tensor((1 - 0.3) / 1.3 ** 0.5), atol=1e-5, rtol=0)


def test_batchnorm_with_activation_test_mode_formula():
    m = BatchNorm(2, sigmoid)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    torch.testing.assert_close(m(x), torch.sigmoid((x - m.μ) / torch.sqrt(m.σ2 + m.ϵ)))


@pytest.mark.parametrize("shape, Twin", [((6, 3), nn.BatchNorm1d), ((6, 3, 7), nn.BatchNorm1d),
                                         ((6, 3, 5, 4), nn.BatchNorm2d), ((2, 3, 2, 3, 4), nn.BatchNorm3d)])
def test_batchnorm_train_and_eval_vs_twin(shape, Twin):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(2))
    m = randomise(BatchNorm(3, momentum=0.3))
    twin = copy_to_twin(m, Twin(3, momentum=0.3))
    y = in_gradient(m, x)                      # training: batch statistics, running stats updated
    twin.train()
    torch.testing.assert_close(y, twin(x).detach())
    torch.testing.assert_close(m.μ, twin.running_mean)
    torch.testing.assert_close(m.σ2, twin.running_var)
    twin.eval()
    μ = m.μ.clone()
    torch.testing.assert_close(m(x), twin(x).detach())    # test mode: running statistics, no update
    assert torch.equal(m.μ, μ)


def test_batchnorm_running_stats_flux_formula():
    m = BatchNorm(3)
    in_gradient(m, X)
    mean = X.mean(dim=(0, 2, 3))
    var = X.var(dim=(0, 2, 3), correction=0)
    n = X.numel() // 3
    torch.testing.assert_close(m.μ, 0.1 * mean)
    torch.testing.assert_close(m.σ2, 0.9 + 0.1 * var * n / (n - 1))


def test_batchnorm_gradient_vs_autograd():
    m = randomise(BatchNorm(3, relu))
    twin = copy_to_twin(m, nn.BatchNorm2d(3)).train()
    w = torch.randn_like(X)
    gm, gx = gradient(lambda m, x: (m(x) * w).sum(), m, X)
    xt = X.clone().requires_grad_()
    (torch.relu(twin(xt)) * w).sum().backward()
    torch.testing.assert_close(gm.γ, twin.weight.grad)
    torch.testing.assert_close(gm.β, twin.bias.grad)
    torch.testing.assert_close(gx, xt.grad)
    assert gm.μ is None and gm.σ2 is None


def test_batchnorm_track_stats_false_uses_batch_statistics_always():
    m = BatchNorm(3, track_stats=False)
    assert m.μ is None and m.σ2 is None
    torch.testing.assert_close(m(X), F.batch_norm(X, None, None, m.γ, m.β, True))
    torch.testing.assert_close(set_testmode(m)(X), F.batch_norm(X, None, None, m.γ, m.β, True))


def test_batchnorm_modes():
    m = BatchNorm(3)
    m(X)                                    # outside gradient: test mode, no update
    assert torch.equal(m.μ, torch.zeros(3))
    set_testmode(m)
    in_gradient(m, X)                       # forced test mode wins inside gradient
    assert torch.equal(m.μ, torch.zeros(3))
    trainmode_(m)
    m(X)                                    # forced train mode outside gradient
    torch.testing.assert_close(m.μ, 0.1 * X.mean(dim=(0, 2, 3)))
    set_testmode(m, "auto")
    assert m.active is None
    assert BatchNorm(5, active=True).active is True
    with pytest.raises(ValueError, match="active"):
        BatchNorm(5, active="something_else")


def test_batchnorm_counts_and_printing():
    assert len(params(BatchNorm(10))) == 2
    assert len(params(BatchNorm(10, affine=False))) == 0
    assert repr(BatchNorm(64)) == "BatchNorm(64)  # 128 parameters, plus 128 non-trainable"
    assert repr(BatchNorm(64, relu)) == "BatchNorm(64, relu)  # 128 parameters, plus 128 non-trainable"
    assert repr(set_testmode(BatchNorm(2))).startswith("BatchNorm(2, active=False)")
    assert repr(BatchNorm(2, affine=False)).startswith("BatchNorm(2, affine=False)")
    m = BatchNorm(2, affine=False, track_stats=False, eps=1e-3, momentum=0.2)
    assert eval(repr(m).split("  #")[0])._inline() == m._inline()
    # Flux's field order; Python stores the identifier ϵ NFKC-normalised, as ε (m.ϵ still works)
    assert [k for k in vars(BatchNorm(2))] == ["λ", "β", "γ", "μ", "σ2", "ε", "momentum", "affine",
                                               "track_stats", "active", "chs"]


def test_batchnorm_in_chain_and_f64_round_trip():
    c = Chain(Dense(4, 3), BatchNorm(3, relu))
    assert "# plus 2 non-trainable, 6 parameters" in repr(c)
    m64 = f64(randomise(BatchNorm(3)))
    assert all(t.dtype == torch.float64 for t in (m64.β, m64.γ, m64.μ, m64.σ2))
    x = X.double()
    twin = copy_to_twin(m64, nn.BatchNorm2d(3).double()).train()
    torch.testing.assert_close(in_gradient(m64, x), twin(x).detach())
    torch.testing.assert_close(m64.σ2, twin.running_var)
    back = f32(m64)
    assert back.μ.dtype == torch.float32 and back(X).dtype == torch.float32


def test_batchnorm_keyword_aliases():
    assert BatchNorm(2, ϵ=1e-3).ϵ == BatchNorm(2, epsilon=1e-3).ϵ == BatchNorm(2, eps=1e-3).ϵ == 1e-3
    assert BatchNorm(2, lambda_=relu).λ is relu
    m = BatchNorm(2, initβ=lambda n: torch.full((n,), 2.0), initgamma=lambda n: torch.full((n,), 3.0))
    assert m.β.tolist() == [2, 2] and m.γ.tolist() == [3, 3]
    with pytest.raises(TypeError, match="pass only one"):
        BatchNorm(2, eps=1e-3, ϵ=1e-4)
    with pytest.raises(TypeError, match="unexpected"):
        BatchNorm(2, mtm=0.1)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm\(3\) expects x.shape\[1\] == 3 .*\(3, 5\).*x.T"):
        BatchNorm(3)(torch.rand(3, 5))
    with pytest.raises(ValueError, match=r"\(7, 7, 3, 5\).*batch first.*permute\(3, 2, 1, 0\)"):
        BatchNorm(3)(torch.rand(7, 7, 3, 5))
    with pytest.raises(ValueError, match="movedim"):
        BatchNorm(3)(torch.rand(5, 7, 7, 3))
    with pytest.raises(ValueError, match="at least 2 dims"):
        BatchNorm(3)(torch.rand(3))
    with pytest.raises(ValueError, match="more than one value per channel"):
        trainmode_(BatchNorm(3))(torch.rand(1, 3))
    with pytest.raises(TypeError, match="positive integer"):
        BatchNorm(0)


# ------------------------------------------------------------------ InstanceNorm

def test_instancenorm_flux_numbers():
    m = InstanceNorm(2, affine=True, track_stats=True)
    x = torch.arange(1.0, 13.0).reshape(2, 2, 3)         # Flux's reshape(1:12, 3, 2, 2), batch first
    assert len(params(m)) == 2
    in_gradient(m, x)
    torch.testing.assert_close(m.μ, torch.tensor([0.5, 0.8]))
    n = 3
    var = x.var(dim=2, correction=0).mean(dim=0)
    torch.testing.assert_close(m.σ2, 0.1 * n / (n - 1) * var + 0.9)
    y = m(x)
    torch.testing.assert_close(y, (x - m.μ[:, None]) / torch.sqrt(m.σ2[:, None] + 1e-5), atol=1e-5, rtol=0)


def test_instancenorm_default_no_affine_batch_stats():
    m = InstanceNorm(2, sigmoid)
    assert not hasaffine(m) and len(params(m)) == 0 and m.μ is None
    x = torch.arange(1.0, 13.0, dtype=torch.float64).reshape(2, 2, 3)
    μ, σ2 = x.mean(dim=2, keepdim=True), x.var(dim=2, correction=0, keepdim=True)
    torch.testing.assert_close(f64(m)(x), torch.sigmoid((x - μ) / torch.sqrt(σ2 + 1e-5)))


def test_instancenorm_train_eval_vs_twin():
    m = randomise(InstanceNorm(3, affine=True, track_stats=True, momentum=0.2))
    twin = copy_to_twin(m, nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.2))
    y = in_gradient(m, X)
    torch.testing.assert_close(y, twin.train()(X).detach())
    torch.testing.assert_close(m.μ, twin.running_mean)
    torch.testing.assert_close(m.σ2, twin.running_var)
    torch.testing.assert_close(m(X), twin.eval()(X).detach())


def test_instancenorm_gradient_and_printing():
    m = randomise(InstanceNorm(3, affine=True))
    twin = copy_to_twin(m, nn.InstanceNorm2d(3, affine=True))
    w = torch.randn_like(X)
    gm, gx = gradient(lambda m, x: (m(x) * w).sum(), m, X)
    xt = X.clone().requires_grad_()
    (twin(xt) * w).sum().backward()
    torch.testing.assert_close(gm.γ, twin.weight.grad)
    torch.testing.assert_close(gx, xt.grad)
    assert repr(InstanceNorm(3)) == "InstanceNorm(3)"
    assert repr(InstanceNorm(3, affine=True)) == "InstanceNorm(3, affine=True)  # 6 parameters"
    assert len(params(InstanceNorm(10, affine=True))) == 2
    with pytest.raises(ValueError, match="at least 3 dims"):
        InstanceNorm(3)(torch.rand(4, 3))


def test_instancenorm_equals_batchnorm_on_merged_batch_and_channels():
    x = torch.arange(1.0, 1 + 6 * 2 * 4 * 3 * 5 * 5).reshape(6, 2, 4, 3, 5, 5) / 1000
    inorm = trainmode_(InstanceNorm(2, affine=True))
    bnorm = trainmode_(BatchNorm(12))
    torch.testing.assert_close(inorm(x), bnorm(x.reshape(1, 12, 4, 3, 5, 5)).reshape(x.shape))


# ------------------------------------------------------------------ GroupNorm

# Flux's GroupNorm(4, 2) test on reshape(1:24, 3, 4, 2): expected values printed in Flux's tests.
_GN_Y = [[[-1.4638476, 0.29276943, -1.4638476, 0.29276943], [-0.87830865, 0.87830853, -0.8783088, 0.8783083],
          [-0.29276967, 1.4638474, -0.2927699, 1.4638472]],
         [[-1.4638476, 0.29276943, -1.4638472, 0.29276943], [-0.8783083, 0.8783083, -0.8783083, 0.8783083],
          [-0.29276943, 1.4638472, -0.29276943, 1.4638472]]]
_GN_SIGMOID = [[[0.18787955, 0.57267404, 0.18787955, 0.57267404], [0.2935284, 0.70647156, 0.29352835, 0.70647156],
                [0.42732593, 0.81212044, 0.42732587, 0.8121204]],
               [[0.18787955, 0.57267404, 0.1878796, 0.57267404], [0.29352847, 0.70647156, 0.29352847, 0.70647156],
                [0.42732602, 0.8121204, 0.42732602, 0.8121204]]]


def _julia(rows):   # [n][w][c] as printed by Julia for size (3, 4, 2) -> batch-first (2, 4, 3)
    return torch.tensor(rows).permute(0, 2, 1)


def test_groupnorm_flux_numbers():
    x = torch.arange(1.0, 25.0).reshape(2, 4, 3)
    m = GroupNorm(4, 2)
    assert len(params(m)) == 2 and m.β.tolist() == [0] * 4 and m.γ.tolist() == [1] * 4
    in_gradient(m, x)
    assert m.μ is None and m.σ2 is None
    torch.testing.assert_close(m(x), _julia(_GN_Y), atol=1e-5, rtol=0)
    torch.testing.assert_close(GroupNorm(4, 2, sigmoid)(x), _julia(_GN_SIGMOID), atol=1e-6, rtol=0)


@pytest.mark.parametrize("shape", [(6, 6), (6, 6, 5), (3, 6, 4, 5)])
def test_groupnorm_vs_twin_and_gradient(shape):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    m = randomise(GroupNorm(6, 3, relu, eps=1e-4))
    twin = nn.GroupNorm(3, 6, eps=1e-4)
    with torch.no_grad():
        twin.weight.copy_(m.γ)
        twin.bias.copy_(m.β)
    torch.testing.assert_close(m(x), torch.relu(twin(x)).detach())
    w = torch.randn_like(x)
    gm, gx = gradient(lambda m, x: (m(x) * w).sum(), m, x)
    xt = x.clone().requires_grad_()
    (torch.relu(twin(xt)) * w).sum().backward()
    torch.testing.assert_close(gm.γ, twin.weight.grad)
    torch.testing.assert_close(gm.β, twin.bias.grad)
    torch.testing.assert_close(gx, xt.grad)


def test_groupnorm_equals_instancenorm_and_batchnorm():
    x = torch.arange(1.0, 1 + 5 * 4 * 3 * 2 * 2).reshape(5, 4, 3, 2, 2)
    torch.testing.assert_close(trainmode_(InstanceNorm(4, affine=True))(x), trainmode_(GroupNorm(4, 4))(x))
    x1 = x[:1]
    torch.testing.assert_close(trainmode_(BatchNorm(4))(x1), trainmode_(GroupNorm(4, 4))(x1))


def test_groupnorm_printing_and_errors():
    assert repr(GroupNorm(4, 2)) == "GroupNorm(4, 2)  # 8 parameters"
    assert repr(GroupNorm(4, 2, relu, affine=False)) == "GroupNorm(4, 2, relu, affine=False)"
    assert GroupNorm(5, 5, active=True).active is True
    with pytest.raises(ValueError, match=r"number of groups \(4\) must divide the number of channels \(6\)"):
        GroupNorm(6, 4)
    with pytest.raises(ValueError, match=r"GroupNorm\(4, 2\) expects x.shape\[1\] == 4"):
        GroupNorm(4, 2)(torch.rand(2, 3, 5))


# ------------------------------------------------------------------ LayerNorm

def flux_normalise(x, dims, eps=1e-5, v014=False):
    """Flux's `normalise` in float64: v0.16 (NNlib) (x - μ) / sqrt(σ² + eps), v0.14
    (x - μ) / (σ + eps); σ² uncorrected."""
    x = x.double()
    μ = x.mean(dim=dims, keepdim=True)
    σ2 = x.var(dim=dims, correction=0, keepdim=True)
    return (x - μ) / (σ2.sqrt() + eps) if v014 else (x - μ) / (σ2 + eps).sqrt()


LAYERNORMS = [pytest.param(LayerNorm, False, id="v016"), pytest.param(LayerNormV014, True, id="v014")]


@pytest.mark.parametrize("LN, v014", LAYERNORMS)
def test_layernorm_flux_docstring_numbers(LN, v014):
    y = f64(LN(5))(torch.tensor([90.0, 100, 110, 130, 70], dtype=torch.float64))
    if v014:     # Flux v0.14's `normalise` docstring
        expected = [-0.49999975000012503, 0.0, 0.49999975000012503, 1.499999250000375,
                    -1.499999250000375]
    else:        # σ² = 400: (x - 100) / sqrt(400 + 1e-5)
        expected = [d / math.sqrt(400 + 1e-5) for d in (-10, 0, 10, 30, -30)]
    torch.testing.assert_close(y, torch.tensor(expected, dtype=torch.float64), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("LN, v014", LAYERNORMS)
@pytest.mark.parametrize("shape", [(3, 2), (4, 3, 2), (5, 4, 3, 2)])
def test_layernorm_last_dim_matches_flux_normalise(shape, LN, v014):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(LN(2)(x), flux_normalise(x, -1, v014=v014).float())


@pytest.mark.parametrize("LN, v014", LAYERNORMS)
def test_layernorm_several_dims_and_activation(LN, v014):
    x = torch.rand(5, 4, 3, 2, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(LN(3, 2)(x), flux_normalise(x, (-2, -1), v014=v014).float())
    torch.testing.assert_close(LN((4, 3, 2))(x), flux_normalise(x, (-3, -2, -1), v014=v014).float())
    v = torch.rand(2)
    torch.testing.assert_close(LN(2, tanh)(v), torch.tanh(flux_normalise(v, -1, v014=v014)).float())


def test_layernorm_eps_goes_to_the_variance_in_v016_only():
    """Flux v0.16 (NNlib #2701) adds eps to σ², v0.14 to σ: with a large eps they differ."""
    x = torch.tensor([[1.0, 3.0]])           # σ = 1
    torch.testing.assert_close(LayerNorm(2, eps=3.0)(x), torch.tensor([[-0.5, 0.5]]))   # 1/sqrt(4)
    torch.testing.assert_close(LayerNormV014(2, eps=3.0)(x), torch.tensor([[-0.25, 0.25]]))   # 1/(1+3)
    assert repr(LayerNormV014(2)) == repr(LayerNorm(2)) == "LayerNorm(2)  # 4 parameters"
    assert isinstance(LayerNormV014(2), LayerNorm)


def test_layernorm_vs_torch_twin_and_gradient():
    x = torch.randn(6, 4, 5, generator=torch.Generator().manual_seed(6))
    m = LayerNorm(4, 5)
    g = torch.Generator().manual_seed(7)
    m.diag.scale.copy_(torch.randn(4, 5, generator=g))
    m.diag.bias.copy_(torch.randn(4, 5, generator=g))
    twin = nn.LayerNorm((4, 5))
    with torch.no_grad():
        twin.weight.copy_(m.diag.scale)
        twin.bias.copy_(m.diag.bias)
    # Flux v0.16 divides by sqrt(σ² + ϵ), as torch does
    torch.testing.assert_close(m(x), twin(x).detach())
    w = torch.randn_like(x)
    gm, gx = gradient(lambda m, x: (m(x) * w).sum(), m, x)
    xt = x.clone().requires_grad_()
    (twin(xt) * w).sum().backward()
    torch.testing.assert_close(gm.diag.scale, twin.weight.grad)
    torch.testing.assert_close(gm.diag.bias, twin.bias.grad)
    torch.testing.assert_close(gx, xt.grad)


@pytest.mark.parametrize("LN, v014", LAYERNORMS)
def test_layernorm_gradient_vs_float64_formula(LN, v014):
    x = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    m = f64(LN(5))
    w = torch.randn_like(x)
    (gx,) = gradient(lambda x: (m(x) * w).sum(), x)
    xt = x.clone().requires_grad_()
    (flux_normalise(xt, -1, v014=v014) * w).sum().backward()
    torch.testing.assert_close(gx, xt.grad)


def test_layernorm_counts_printing_errors():
    m = LayerNorm((2, 3, 4))
    assert hasaffine(m) and len(params(m)) == 2 and m.diag.scale.shape == (2, 3, 4)
    assert list(vars(m)) == ["λ", "diag", "ε", "size", "affine"]      # Flux's fields (ϵ stored as ε)
    assert repr(m.diag) == "Scale(2, 3, 4)  # 48 parameters"
    m = LayerNorm((2, 3, 4), affine=False)
    assert not hasaffine(m) and len(params(m)) == 0
    assert repr(LayerNorm(5)) == "LayerNorm(5)  # 10 parameters"
    assert repr(LayerNorm(3, 4, tanh, affine=False)) == "LayerNorm(3, 4, tanh, affine=False)"
    with pytest.raises(ValueError, match=r"LayerNorm\(3, 4\) expects x.shape\[-2:\] == \(3, 4\).*permute"):
        LayerNorm(3, 4)(torch.rand(4, 3, 5))
    with pytest.raises(TypeError, match="positive"):
        LayerNorm(0)
    x = torch.rand(2, 5)
    assert f64(LayerNorm(5))(x.double()).dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_normalisation_on_gpu():
    from flux_torch import gpu
    m = gpu(BatchNorm(3))
    x = gpu(X)
    y = in_gradient(m, x)
    assert y.device.type == "cuda" and m.μ.device.type == "cuda"
    twin = nn.BatchNorm2d(3).train()
    torch.testing.assert_close(y.cpu(), twin(X).detach(), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(m.μ.cpu(), twin.running_mean, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(gpu(LayerNorm(4))(x).cpu(), flux_normalise(X, -1).float(), rtol=1e-4, atol=1e-4)


def test_f16_keeps_normalisation_in_float32_as_flux_v016():
    """Flux v0.16 (NEWS, #2700): f16/bf16 keep BatchNorm/InstanceNorm/GroupNorm statistics and
    affine parameters in float32 while the data flows in half precision; LayerNorm converts
    fully; v0.14's f16 converts everything. Oracle: the float32 layer on the same data."""
    import flux_torch as Flux
    import flux_torch.v014 as F14
    torch.manual_seed(0)
    for half, conv in ((torch.float16, Flux.f16), (torch.bfloat16, Flux.bf16)):
        m = Flux.Chain(Flux.Conv((3, 3), 2, 4), Flux.BatchNorm(4), Flux.GroupNorm(4, 2),
                       Flux.InstanceNorm(4, affine=True), Flux.LayerNorm(2))
        h = conv(m)
        assert h[0].weight.dtype == half and h[4].diag.scale.dtype == half
        for k in (1, 2, 3):
            assert all(t.dtype == torch.float32 for t in Flux.fleaves(h[k]) if isinstance(t, torch.Tensor)
                       and t.is_floating_point())
        x = torch.randn(5, 2, 6, 6).to(half)
        y = h[:4](x)
        assert y.dtype == half
        want = m[1:4](h[0](x).float())
        torch.testing.assert_close(y.float(), want, atol=0.05, rtol=0.05)
    assert F14.f16(Flux.BatchNorm(3)).γ.dtype == torch.float16
