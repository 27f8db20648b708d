"""Flux's own layer tests, translated: FluxML/Flux.jl test/layers/normalisation.jl and
test/test_common/normalization.jl (WeightNorm) at v0.16.11 (commit
443ed1bc8c157168e4fe99a045f42014ae26def8); the v0.14.25 file (commit
0567cb30a79e328a5077a6851ddbfe4db9b72d81) differs in the ``f16`` checks at the end.

Shapes reversed (batch first, channels at dim 1); Julia's ``dims=d`` is ``dim=-d``; a Julia
array literal is built with :func:`julia`, which reverses its dims. ``evalwgrad`` (a layer's
output inside a pullback, so in training mode) uses ``flux_torch.pullback``. ``@inferred`` and
``@allocated`` have no Python meaning and are left out. ForwardDiff is torch's forward mode
(``torch.func.jacfwd``); NNlib's ``within_gradient`` sees ForwardDiff's dual numbers, so where
Flux relies on it the translation switches the layer to training mode with ``trainmode_``.
"""
import math

import numpy as np
import pytest
import torch

import flux_torch as Flux
from flux_torch import (AlphaDropout, BatchNorm, Chain, Conv, Dense, Dropout, GroupNorm,
                        InstanceNorm, LayerNorm, WeightNorm, gradient, relu, sigmoid, tanh,
                        trainmode_)
from flux_torch import testmode_ as set_testmode        # a name starting with test_ is collected
from flux_checks import v014_namespace

pytestmark = pytest.mark.filterwarnings("ignore:.*float64 input; converting it:UserWarning")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def evalwgrad(f, x):
    return Flux.pullback(f, x)[0]


def julia(*slices, dtype=torch.float32):
    """A Julia array literal ``[a b; c d;;; e f; g h]`` (given as its 2-d slices, each a list of
    rows) as the batch-first tensor of the same memory: every dim reversed."""
    a = np.stack([np.array(s, dtype=np.float64) for s in slices], axis=-1)
    return torch.tensor(np.transpose(a), dtype=dtype)


def zeros_count(y):
    return int((y == 0).sum())


RNGS = [pytest.param(lambda: {}, id="default-rng"),
        pytest.param(lambda: {"rng": torch.Generator().manual_seed(1)}, id="rng")]


# ---------------------------------------------------------------- Dropout

@pytest.mark.parametrize("rng_kwargs", RNGS)
def test_dropout(rng_kwargs):
    kw = rng_kwargs()
    for x in (torch.tensor([1.0 + 0j, 2.0 + 1j, 3.0 + 3j]), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)):
        assert torch.equal(x, Dropout(0.1, **kw)(x))
        assert torch.equal(x, evalwgrad(Dropout(0, **kw), x))
        assert torch.equal(torch.zeros_like(x), evalwgrad(Dropout(1, **kw), x))
    x = torch.rand(100, dtype=torch.float64)
    m = Dropout(0.9, **kw)
    assert zeros_count(evalwgrad(m, x)) > 50
    set_testmode(m, True)
    assert zeros_count(evalwgrad(m, x)) == 0                      # overrides istraining
    set_testmode(m, False)
    assert zeros_count(evalwgrad(m, x)) > 50
    assert zeros_count(evalwgrad(Dropout(0.9, active=False, **kw), x)) == 0
    x = torch.rand(100)
    m = Chain(Dense(100, 100), Dropout(0.9, **kw))
    assert zeros_count(evalwgrad(m, x)) > 50
    set_testmode(m, True)
    assert zeros_count(evalwgrad(m, x)) == 0
    x = torch.rand(50, 100, dtype=torch.float64)                 # Flux's rand(100, 50)
    for active in (None, True):                                    # as Flux (test mode), and in training
        y = Dropout(0.5, dim=0, active=active, **kw)(x)            # Flux's dims=2
        c = [zeros_count(y[:, i]) for i in range(100)]
        assert min(c) == max(c)
        y = Dropout(0.5, dim=1, active=active, **kw)(x)            # Flux's dims=1
        c = [zeros_count(y[i]) for i in range(50)]
        assert min(c) == max(c)
    m = Dropout(0.9, **kw)                                         # issue #1084
    x = torch.rand(100, dtype=torch.float64)
    set_testmode(m)
    assert zeros_count(m(x)) == 0
    trainmode_(m)
    assert zeros_count(m(x)) > 50
    rng = [kw["rng"]] if kw else []
    assert zeros_count(Flux.dropout(*rng, x, 0.9)) > 50
    assert zeros_count(Flux.dropout(*rng, x, 0.9 * 0)) == 0
    assert Flux.cpu(m).rng is kw.get("rng")                       # CPU generators map onto the CPU


def test_dropout_active_keyword():
    assert Dropout(0.5, active=True).active is True
    with pytest.raises(Exception):
        Dropout(0.5, active="something_else")


@pytest.mark.parametrize("rng_kwargs", RNGS)
def test_alphadropout(rng_kwargs):
    kw = rng_kwargs()
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert torch.equal(x, AlphaDropout(0.1, **kw)(x))
    assert torch.equal(x, evalwgrad(AlphaDropout(0, **kw), x))
    assert torch.equal(torch.zeros_like(x), evalwgrad(AlphaDropout(1, **kw), x))
    x = torch.randn(1000, dtype=torch.float64)
    m = AlphaDropout(0.5, **kw)
    y = evalwgrad(m, x)
    assert abs(float(y.mean())) < 0.2 and abs(float(y.var()) - 1) < 0.2   # unit mean and variance
    set_testmode(m, True)
    assert torch.equal(evalwgrad(m, x), x)
    set_testmode(m, False)
    y = evalwgrad(m, x)
    assert abs(float(y.mean())) < 0.2 and abs(float(y.var()) - 1) < 0.2
    if not kw:                   # known good range, from PyTorch's tests (@test_skip for MersenneTwister)
        assert 40 < float(evalwgrad(m, torch.ones(100, dtype=torch.float64)).sum()) < 130
    assert Flux.cpu(m).rng is kw.get("rng")


def test_alphadropout_active_keyword():
    assert AlphaDropout(0.5, active=True).active is True
    with pytest.raises(Exception):
        AlphaDropout(0.5, active="something_else")


# ---------------------------------------------------------------- BatchNorm

X = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)   # Flux's [1 3 5; 2 4 6]


def test_batchnorm():
    m = BatchNorm(2)
    assert Flux.hasaffine(m) is True and len(Flux.trainables(m)) == 2
    assert m.β.tolist() == [0, 0] and m.γ.tolist() == [1, 1]
    y = evalwgrad(m, X)
    torch.testing.assert_close(y, torch.tensor([[-1.22474, -1.22474], [0, 0], [1.22474, 1.22474]]),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(m.μ, torch.tensor([0.3, 0.4]))       # .1 * mean(x) + .9 * 0
    var = X.var(dim=0, correction=0)
    torch.testing.assert_close(m.σ2, (0.1 * var * (3 / 2) + 0.9).float())   # 1.3, 1.3
    x2 = m(X)                                                          # test mode: running statistics
    assert abs(float(x2[0, 0]) - (1 - 0.3) / math.sqrt(1.3)) < 1e-5


def test_batchnorm_track_stats_false_and_activation():
    x = X.float()
    BatchNorm(2, track_stats=False)(x)
    m = BatchNorm(2, sigmoid)
    y = m(x)
    torch.testing.assert_close(y, torch.sigmoid((x - m.μ) / torch.sqrt(m.σ2 + m.ϵ)), atol=1e-7, rtol=0)


@pytest.mark.parametrize("shape", [(1, 2, 3), (1, 2, 3, 2), (1, 2, 3, 2, 2)])   # Flux's (3,2,1), (2,3,2,1)...
def test_batchnorm_higher_dims_as_a_matrix(shape):
    """BatchNorm over (N, C, spatial...) is BatchNorm over the (N·spatial, C) matrix."""
    m = trainmode_(BatchNorm(2))
    x = torch.arange(1.0, math.prod(shape) + 1).reshape(shape)
    perm = (0,) + tuple(range(2, len(shape))) + (1,)                  # channels last
    flat = x.permute(perm).reshape(-1, 2)
    y = m(flat).reshape(x.permute(perm).shape).permute(tuple(np.argsort(perm)))
    torch.testing.assert_close(m(x), y)


@pytest.mark.skip(reason="Julia-only: @allocated m(x) < 100_000_000 measures Julia allocations")
def test_batchnorm_allocations():
    pass


def test_batchnorm_trainables_and_active():
    assert len(Flux.trainables(BatchNorm(10))) == 2
    assert len(Flux.trainables(BatchNorm(10, affine=True))) == 2
    assert len(Flux.trainables(BatchNorm(10, affine=False))) == 0
    assert BatchNorm(5, active=True).active is True
    with pytest.raises(Exception):
        BatchNorm(5, active="something_else")


# ---------------------------------------------------------------- InstanceNorm

def test_instancenorm():
    m = InstanceNorm(2, affine=True, track_stats=True)
    x = torch.arange(1.0, 13).reshape(2, 2, 3)                          # Flux's sizes (3, 2, 2)
    assert len(Flux.trainables(m)) == 2
    assert m.β.tolist() == [0, 0] and m.γ.tolist() == [1, 1]
    evalwgrad(m, x)
    torch.testing.assert_close(m.μ, torch.tensor([0.5, 0.8]))          # .1 * (2 + 8) / 2, .1 * (5 + 11) / 2
    n = 3
    σ2 = x.var(dim=-1, correction=0)                                    # Flux's dims=1:N-2
    torch.testing.assert_close(m.σ2, 0.1 * (n / (n - 1)) * σ2.mean(dim=0) + 0.9)
    y = m(x)
    assert m.μ.shape == (2,) and m.σ2.shape == (2,)
    want = (x - m.μ.reshape(1, 2, 1)) / torch.sqrt(m.σ2.reshape(1, 2, 1) + 1e-5)
    torch.testing.assert_close(y, want, atol=1e-5, rtol=0)


def test_instancenorm_activation():
    x = torch.arange(1.0, 13, dtype=torch.float64).reshape(2, 2, 3)
    m = InstanceNorm(2, sigmoid, affine=True, track_stats=True)
    evalwgrad(m, x)
    y = m(x)                                                            # inference after a training step
    μ, σ2 = m.μ.reshape(1, 2, 1).double(), m.σ2.reshape(1, 2, 1).double()
    close(y, torch.sigmoid((x - μ) / torch.sqrt(σ2 + m.ϵ)), atol=1e-7, rtol=0)
    for m, affine in ((InstanceNorm(2, sigmoid, affine=True, track_stats=False), True),
                      (InstanceNorm(2, sigmoid), False)):
        assert Flux.hasaffine(m) is affine and len(Flux.trainables(m)) == (2 if affine else 0)
        y = m(x)
        μ, σ2 = x.mean(dim=-1, keepdim=True), x.var(dim=-1, correction=0, keepdim=True)
        close(y, torch.sigmoid((x - μ) / torch.sqrt(σ2 + m.ϵ)), atol=1e-7, rtol=0)


def test_instancenorm_higher_dims():
    m = trainmode_(InstanceNorm(2, affine=True))
    x = torch.arange(1.0, 49).reshape(3, 2, 1, 4, 2)                    # Flux's sizes (2, 4, 1, 2, 3)
    y = m(x.reshape(3, 2, 8)).reshape(x.shape)
    torch.testing.assert_close(m(x), y)
    sizes = (6, 2, 4, 3, 5, 5)                                          # Flux's (5, 5, 3, 4, 2, 6)
    m = InstanceNorm(2, affine=True, track_stats=True)
    x = torch.arange(1.0, math.prod(sizes) + 1).reshape(sizes)
    y = evalwgrad(m, x)
    assert m.μ.shape == (2,) and m.σ2.shape == (2,) and y.shape == sizes


def test_instancenorm_is_batchnorm_with_channels_and_batch_squashed():
    sizes = (6, 2, 4, 3, 5, 5)
    m_inorm, m_bnorm = trainmode_(InstanceNorm(2, affine=True)), trainmode_(BatchNorm(12))
    x = torch.arange(1.0, math.prod(sizes) + 1).reshape(sizes)
    torch.testing.assert_close(m_inorm(x), m_bnorm(x.reshape(1, 12, *sizes[2:])).reshape(sizes))


def test_instancenorm_trainables_and_active():
    assert len(Flux.trainables(InstanceNorm(10))) == 0
    assert len(Flux.trainables(InstanceNorm(10, affine=True))) == 2
    assert len(Flux.trainables(InstanceNorm(10, affine=False))) == 0
    assert InstanceNorm(5, active=True).active is True
    with pytest.raises(Exception):
        InstanceNorm(5, active="something_else")


# ---------------------------------------------------------------- LayerNorm

def close(a, b, **kw):
    torch.testing.assert_close(a, b.to(a.dtype), **kw)


def test_layernorm():
    for shape in [(3, 2), (4, 3, 2), (5, 4, 3, 2)]:                     # Flux's rand(2, 3) ...
        x = torch.rand(shape, dtype=torch.float64)
        close(LayerNorm(2)(x), Flux.normalise(x, dim=-1))
    x = torch.rand(2, dtype=torch.float64)
    close(LayerNorm(2, tanh)(x), torch.tanh(Flux.normalise(x, dim=-1)))
    x = torch.rand(5, 4, 3, 2, dtype=torch.float64)
    close(LayerNorm((3, 2))(x), Flux.normalise(x, dim=(-1, -2)))       # Flux's (2, 3), dims=(1, 2)
    close(LayerNorm((4, 3, 2))(x), Flux.normalise(x, dim=(-1, -2, -3)))
    m = LayerNorm((4, 3, 2))
    assert Flux.hasaffine(m) is True and len(Flux.trainables(m)) == 2
    m = LayerNorm((4, 3, 2), affine=False)
    assert Flux.hasaffine(m) is False and len(Flux.trainables(m)) == 0


# ---------------------------------------------------------------- GroupNorm

def test_groupnorm():
    m = GroupNorm(4, 2)
    x = torch.arange(1.0, 25).reshape(2, 4, 3)                            # Flux's sizes (3, 4, 2)
    assert len(Flux.trainables(m)) == 2
    assert m.β.tolist() == [0, 0, 0, 0] and m.γ.tolist() == [1, 1, 1, 1]
    evalwgrad(m, x)
    assert m.μ is None and m.σ2 is None
    y = julia([[-1.4638476, 0.29276943, -1.4638476, 0.29276943], [-0.87830865, 0.87830853, -0.8783088, 0.8783083],
               [-0.29276967, 1.4638474, -0.2927699, 1.4638472]],
              [[-1.4638476, 0.29276943, -1.4638472, 0.29276943], [-0.8783083, 0.8783083, -0.8783083, 0.8783083],
               [-0.29276943, 1.4638472, -0.29276943, 1.4638472]])
    torch.testing.assert_close(m(x), y, atol=1e-5, rtol=0)
    m = GroupNorm(4, 2, sigmoid)
    y = julia([[0.18787955, 0.57267404, 0.18787955, 0.57267404], [0.2935284, 0.70647156, 0.29352835, 0.70647156],
               [0.42732593, 0.81212044, 0.42732587, 0.8121204]],
              [[0.18787955, 0.57267404, 0.1878796, 0.57267404], [0.29352847, 0.70647156, 0.29352847, 0.70647156],
               [0.42732602, 0.8121204, 0.42732602, 0.8121204]])
    torch.testing.assert_close(m(x), y, atol=1e-5, rtol=0)


def test_groupnorm_higher_dims_and_equivalences():
    m = trainmode_(GroupNorm(2, 2))
    x = torch.arange(1.0, 49).reshape(3, 2, 1, 4, 2)                      # Flux's sizes (2, 4, 1, 2, 3)
    torch.testing.assert_close(m(x), m(x.reshape(3, 2, 8)).reshape(x.shape))
    x = torch.arange(1.0, 2 * 2 * 3 * 4 * 5 + 1).reshape(5, 4, 3, 2, 2)   # Flux's (2, 2, 3, 4, 5)
    IN, GN = trainmode_(InstanceNorm(4, affine=True)), trainmode_(GroupNorm(4, 4))
    torch.testing.assert_close(IN(x), GN(x))                              # groups of one channel
    x = torch.arange(1.0, 2 * 2 * 3 * 4 + 1).reshape(1, 4, 3, 2, 2)       # Flux's (2, 2, 3, 4, 1)
    BN, GN = trainmode_(BatchNorm(4)), trainmode_(GroupNorm(4, 4))
    torch.testing.assert_close(BN(x), GN(x))                              # and a batch of one
    assert GroupNorm(5, 5, active=True).active is True
    with pytest.raises(Exception):
        GroupNorm(5, 5, active="something_else")


# ---------------------------------------------------------------- second derivatives, forward mode

def test_second_derivatives():
    m1 = Dropout(0.5)
    h = Flux.hessian_reverse(lambda x: m1(x).sum(), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert torch.equal(h, torch.zeros(3, 3, dtype=torch.float64))
    m2 = Chain(BatchNorm(3), torch.sum)
    h = Flux.hessian_reverse(m2, torch.tensor([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]))   # Float32[1 2; 3 4; 5 6]
    torch.testing.assert_close(h, torch.zeros(6, 6), atol=1e-5, rtol=0)


def test_forward_mode():
    bn = BatchNorm(3)
    J = torch.func.jacfwd(bn)(torch.rand(4, 3))
    assert J.dtype == torch.float32
    trainmode_(bn)                                                       # Flux issue #2122
    J = torch.func.jacfwd(bn)(torch.rand(4, 3))
    assert J.dtype == torch.float32 and bool(bn.μ.any())
    x5 = torch.rand(3, 5)
    bn1, bn2 = BatchNorm(5, relu), trainmode_(BatchNorm(5, relu))        # ForwardDiff: within_gradient
    g1 = gradient(lambda x: (bn1(x) ** 2).sum(), x5)[0]
    g2 = torch.func.jacfwd(lambda x: (bn2(x) ** 2).sum())(x5)
    torch.testing.assert_close(g1, g2)
    v1, re1 = Flux.destructure(BatchNorm(5, relu))                       # the harder case runs
    gradient(lambda v: (re1(v)(x5) ** 2).sum(), v1)
    v2, re2 = Flux.destructure(trainmode_(BatchNorm(5, relu)))
    torch.func.jacfwd(lambda v: (re2(v)(x5) ** 2).sum())(v2)


# ---------------------------------------------------------------- WeightNorm (test_common)

def test_weightnorm():
    x = torch.rand(3, 1)                                                 # Flux's rand(Float32, 1, 3)
    mn = WeightNorm(Dense(1, 2))
    m = Flux.remove_weight_norms(mn)
    torch.testing.assert_close(m(x), mn(x))
    with pytest.raises(ValueError, match="does not have field"):
        WeightNorm(m, "weights")
    with pytest.raises(ValueError, match="is all zero"):
        WeightNorm(m, "bias")
    og = gradient(lambda m: m(x).sum(), m)[0]
    g = gradient(lambda mn: mn(x).sum(), mn)[0]
    assert g.layer.weight is not None and g.layer.bias is not None and g.g is not None
    v = mn.layer.weight                                                  # the direction
    eps = torch.finfo(v.dtype).eps
    v = v / torch.sqrt((v ** 2).sum(dim=1, keepdim=True) + eps)          # Flux's dims=2: Dense's shape is Flux's
    torch.testing.assert_close(og.weight * v, g.g)
    torch.testing.assert_close(og.weight * mn.g - mn.g * g.g * v, g.layer.weight, atol=1e-6, rtol=1e-5)
    om = Flux.remove_weight_norms(mn)
    assert isinstance(om, Dense)
    torch.testing.assert_close(om.weight, m.weight)
    torch.testing.assert_close(om.bias, m.bias)


def test_weightnorm_in_a_chain():
    c = Chain(WeightNorm(Conv((3,), 1, 2)), Conv((3,), 2, 2), WeightNorm(Conv((3,), 2, 3)),
              lambda x: x.reshape(-1, 18), WeightNorm(Dense(18, 4)), Dense(4, 1))
    assert isinstance(c[0], WeightNorm) and isinstance(c[1], Conv) and isinstance(c[2], WeightNorm)
    assert isinstance(c[4], WeightNorm) and isinstance(c[5], Dense)
    oc = Flux.remove_weight_norms(c)
    assert [type(oc[i]) for i in (0, 1, 2, 4, 5)] == [Conv, Conv, Conv, Dense, Dense]
    x = torch.rand(1, 1, 12)                                             # Flux's rand(Float32, 12, 1, 1)
    torch.testing.assert_close(c(x), oc(x))


# ---------------------------------------------------------------- v0.14.25's differences

def test_v014_f16_batchnorm():
    """v0.14.25: f16 converts BatchNorm wholly and it runs in Float16 (v0.16 keeps the statistics
    in Float32, issue 11, the lead's part)."""
    F14 = v014_namespace()
    x = X.float()
    for m in (F14.BatchNorm(2, track_stats=False), F14.BatchNorm(2, sigmoid)):
        y = m(x)
        y16 = F14.f16(m)(F14.f16(x))
        assert y16.dtype == torch.float16
        torch.testing.assert_close(y16.float(), y, atol=1e-3, rtol=1e-3)


def test_v014_layernorm_is_normalise():
    F14 = v014_namespace()
    x = torch.rand(5, 4, 3, 2, dtype=torch.float64)
    close(F14.LayerNorm(2)(x), F14.normalise(x, dim=-1))
    close(F14.LayerNorm((3, 2))(x), F14.normalise(x, dim=(-1, -2)))
    y = F14.normalise(torch.tensor([90.0, 100, 110, 130, 70], dtype=torch.float64))   # v0.14's docstring
    torch.testing.assert_close(y, torch.tensor([-0.49999975000012503, 0.0, 0.49999975000012503,
                                                1.499999250000375, -1.499999250000375], dtype=torch.float64))
