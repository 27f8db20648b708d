"""Flux's own layer tests, translated: FluxML/Flux.jl test/layers/conv.jl at v0.16.11
(commit 443ed1bc8c157168e4fe99a045f42014ae26def8). The v0.14.25 file (commit
0567cb30a79e328a5077a6851ddbfe4db9b72d81) differs only in using implicit ``params`` for the
gradients (translated at the end) and in lacking the initialiser shape check.

Shapes reversed (Julia's ``W×H×C×N`` is ``(N, C, H, W)``), kernel/stride/pad tuples in data
order (Julia's reversed; a ``2N`` pad tuple is Flux's unchanged, ``F.pad`` order). NNlib's
``maxpool``/``meanpool`` are ``torch.nn.functional``'s. Flux's ``Conv`` flips its kernel and
flux_torch's does not (docs/porting.md, "Convolution, pooling, upsampling"): the tests that
rely on the flip are xfails, each followed by the same check with the kernel flipped.
"""
import math

import pytest
import torch
import torch.nn.functional as F

import flux_torch as Flux
from flux_torch import (AdaptiveMaxPool, AdaptiveMeanPool, Chain, Conv, ConvTranspose, CrossCor,
                        Dense, DepthwiseConv, Descent, GlobalMaxPool, GlobalMeanPool, MaxPool,
                        MeanPool, SamePad, gradient, relu, softmax)
from flux_checks import v014_namespace

pytestmark = pytest.mark.filterwarnings("ignore:.*float64 input; converting it:UserWarning")

FLIP = pytest.mark.xfail(strict=True, reason="deliberate deviation: Conv computes torch's "
                                              "cross-correlation, Flux's flips the kernel "
                                              "(docs/porting.md, Convolution)")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_pooling():
    x, y = torch.randn(2, 3, 10, 10), torch.randn(2, 3, 20, 20)
    assert torch.equal(AdaptiveMaxPool((5, 5))(x), F.max_pool2d(x, 2))
    assert torch.equal(AdaptiveMeanPool((5, 5))(x), F.avg_pool2d(x, 2))
    assert torch.equal(AdaptiveMaxPool((5, 10))(y), F.max_pool2d(y, (4, 2)))      # Flux's (10, 5), (2, 4)
    assert torch.equal(AdaptiveMeanPool((5, 10))(y), F.avg_pool2d(y, (4, 2)))
    assert GlobalMaxPool()(x).shape == (2, 3, 1, 1)
    assert GlobalMeanPool()(x).shape == (2, 3, 1, 1)
    assert torch.equal(MaxPool((2, 2))(x), F.max_pool2d(x, 2))
    assert torch.equal(MeanPool((2, 2))(x), F.avg_pool2d(x, 2))


def lenet(C=Conv):
    return Chain(C((2, 2), 1, 16, relu), MaxPool((2, 2)), C((2, 2), 16, 8, relu), MaxPool((2, 2)),
                 lambda x: x.reshape(x.shape[0], -1), Dense(288, 10), softmax)


def test_cnn():
    r = torch.zeros(5, 1, 28, 28)
    assert lenet()(r).shape == (5, 10)
    bias = Conv(torch.ones(3, 1, 2, 2), torch.ones(3))                        # test bias switch
    op = bias(torch.zeros(1, 1, 28, 28))
    assert float(op.sum()) == op.numel()


@pytest.mark.parametrize("lmap", [lambda m: m, Flux.cpu, Flux.f32], ids=["identity", "cpu", "f32"])
def test_no_bias_mapped(lmap):
    ip = torch.zeros(1, 1, 28, 28)
    model = lmap(Conv((2, 2), 1, 3, bias=False))
    assert abs(float(model(ip).sum())) < 1e-6
    g = gradient(lambda m: m(ip).sum(), model)[0]
    assert g.bias is None


def test_no_bias_train():
    """Only a bias could fit this target, so training without one must not converge."""
    model = Conv((2, 2), 1, 3, bias=False)
    ip, op = torch.zeros(1, 1, 28, 28), torch.zeros(1, 3, 27, 27) + 2
    opt_state = Flux.setup(Descent(), model)
    for _ in range(10 ** 3):
        g = gradient(lambda m: Flux.mse(m(ip), op), model)[0]
        Flux.update_(opt_state, model, g)
    assert math.isclose(float(Flux.Losses.mse(model(ip), op)), 4.0)


def test_grouped_conv():
    c = Conv((3,), 100, 25, groups=5)
    assert c.weight.shape == (25, 20, 3)                                       # Flux's (3, 20, 25)
    assert c(torch.rand(2, 100, 28)).shape == (2, 25, 26)
    c = Conv((3, 3), 100, 25, groups=5)
    assert c.weight.shape == (25, 20, 3, 3)
    assert c(torch.rand(2, 100, 28, 28)).shape == (2, 25, 26, 26)
    c = Conv((5, 4, 3), 100, 25, groups=5)                                     # Flux's (3, 4, 5)
    assert c.weight.shape == (25, 20, 5, 4, 3)
    assert c(torch.rand(2, 100, 12, 11, 10)).shape == (2, 25, 8, 8, 8)
    with pytest.raises(ValueError):                                            # AssertionError
        Conv((2, 2), 3, 10, groups=2)
    with pytest.raises(ValueError):
        Conv((2, 2), 2, 9, groups=2)
    with pytest.raises(ValueError):                                            # new in v0.16
        Conv((3, 3), 1, 1, init=lambda *_: torch.rand(1, 3, 3))


def _channels_in(l):          # Flux._channels_in, written for the reversed weight shapes
    return l.weight.shape[0] if isinstance(l, ConvTranspose) else l.weight.shape[1] * l.groups


def _channels_out(l):
    return l.weight.shape[1] * l.groups if isinstance(l, ConvTranspose) else l.weight.shape[0]


def test_channels_in_out():
    for k in [(3,), (5, 6), (1, 2, 3)]:
        assert _channels_in(Conv(k, 2, 4)) == 2 and _channels_out(Conv(k, 2, 4)) == 4
    assert [_channels_in(ConvTranspose(k, c, 4)) for k, c in [((3,), 1), ((5, 6), 2), ((1, 2, 3), 3)]] == [1, 2, 3]
    assert [_channels_out(ConvTranspose(k, 2, c)) for k, c in [((3,), 1), ((5, 6), 2), ((1, 2, 3), 3)]] == [1, 2, 3]
    assert _channels_in(ConvTranspose((6,), 8, 4, groups=4)) == 8
    assert _channels_in(ConvTranspose((5, 6), 2, 4, groups=2)) == 2
    assert _channels_in(ConvTranspose((1, 2, 3), 3, 6, groups=3)) == 3
    assert _channels_out(ConvTranspose((1,), 10, 15, groups=5)) == 15
    assert _channels_out(ConvTranspose((3, 2), 10, 15, groups=5)) == 15
    assert _channels_out(ConvTranspose((5, 6), 2, 2, groups=2)) == 2
    g = torch.Generator().manual_seed(1)
    pick = lambda lo, hi: int(torch.randint(lo, hi + 1, (), generator=g))
    for Layer in (Conv, ConvTranspose):
        for _ in range(10):
            groups = pick(1, 10)
            k = tuple(pick(1, 5) for _ in range(pick(1, 3)))
            cin, cout = pick(1, 5) * groups, pick(1, 5) * groups
            layer = Layer(k, cin, cout, groups=groups)
            assert _channels_in(layer) == cin and _channels_out(layer) == cout


def test_asymmetric_padding():
    r = torch.ones(1, 1, 28, 28)
    m = Conv((3, 3), 1, 1, relu, pad=(0, 1, 1, 2))
    m.weight[:] = 1.0
    m.bias[:] = 0.0
    y = m(r)[0, 0]                                 # Julia's y_hat[i, j] is y[j-1, i-1]
    assert y.shape == (29, 27)                     # Flux's (27, 29)
    assert float(y[0, 0]) == 6.0 and float(y[1, 1]) == 9.0
    assert float(y[0, -1]) == 4.0                  # y_hat[end, 1]
    assert float(y[-1, 0]) == 3.0                  # y_hat[1, end]
    assert float(y[-2, 0]) == 6.0                  # y_hat[1, end-1]
    assert float(y[-1, -1]) == 2.0


def test_depthwise_conv():
    r = torch.zeros(5, 3, 28, 28)
    assert DepthwiseConv((2, 2), 3, 15)(r).shape[1] == 15
    assert DepthwiseConv((3, 2), 3, 9)(r).shape[1] == 9
    assert DepthwiseConv((3, 2), 3, 9, bias=False)(r).shape[1] == 9
    with pytest.raises(ValueError):
        DepthwiseConv((2, 2), 3, 10)


def test_conv_transpose():
    x = torch.zeros(1, 1, 5, 5)
    y = Conv((3, 3), 1, 1)(x)
    assert ConvTranspose((3, 3), 1, 1)(y).shape == ConvTranspose((3, 3), 1, 1, bias=False)(y).shape == x.shape
    m = ConvTranspose((3, 3), 1, 1)
    gradient(lambda m: m(x).sum(), m)                                          # #900: does not throw
    x = torch.zeros(4, 2, 5, 5)
    gradient(lambda m: m(x).sum(), ConvTranspose((3, 3), 2, 3))
    x = torch.randn(3, 2, 10, 10)                                             # groups
    m1 = ConvTranspose((3, 3), 2, 4, pad=SamePad())
    assert m1.weight.shape == (2, 4, 3, 3)                                     # Flux's (3, 3, 4, 2)
    assert m1(x).shape == (3, 4, 10, 10)
    m2 = ConvTranspose((3, 3), 2, 4, groups=2, pad=SamePad())
    assert m2.weight.shape == (2, 2, 3, 3)
    assert m1(x).shape == m2(x).shape
    gradient(lambda m: m(x).sum(), m2)
    m = ConvTranspose((3,), 2, 4, pad=SamePad(), groups=2)
    assert m(torch.randn(1, 2, 10)).shape == (1, 4, 10) and m.weight.numel() == 3 * (2 * 4) / 2
    m = ConvTranspose((5, 3), 4, 4, pad=SamePad(), groups=4)                  # Flux's (3, 5)
    assert m(torch.randn(2, 4, 11, 10)).shape == (2, 4, 11, 10) and m.weight.numel() == 15 * 16 / 4
    m = ConvTranspose((3, 5, 3), 3, 6, pad=SamePad(), groups=3)
    assert m(torch.randn(2, 3, 12, 11, 10)).shape == (2, 6, 12, 11, 10)
    assert m.weight.numel() == (3 * 5 * 3) * (3 * 6) / 3
    assert "groups=2" in repr(ConvTranspose((3, 3), 2, 4, groups=2))
    assert "ConvTranspose((3, 3), 2, 4" in repr(ConvTranspose((3, 3), 2, 4, groups=2))   # "2 => 4"
    x = torch.randn(2, 3, 11, 10)                                             # outpad, stride > 1
    m1 = ConvTranspose((5, 3), 3, 6, stride=3)
    m2 = ConvTranspose((5, 3), 3, 6, stride=3, outpad=(0, 1))                 # Flux's outpad=(1, 0)
    assert m2(x).shape[2:] == (m1(x).shape[2], m1(x).shape[3] + 1)
    x = torch.randn(2, 3, 12, 11, 10)
    m1 = ConvTranspose((3, 5, 3), 3, 6, stride=3)
    m2 = ConvTranspose((3, 5, 3), 3, 6, stride=3, outpad=(1, 0, 1))
    assert m2(x).shape[2:] == tuple(a + b for a, b in zip(m1(x).shape[2:], (1, 0, 1)))


def test_crosscor():
    x = torch.rand(1, 1, 28, 28)
    w = torch.rand(1, 1, 2, 2)
    y = CrossCor(w, torch.tensor([0.0]))
    torch.testing.assert_close((w[0, 0] * x[0, 0, :2, :2]).sum(), y(x)[0, 0, 0, 0], rtol=2e-7, atol=1e-6)
    r = torch.zeros(5, 1, 28, 28)
    m = Chain(CrossCor((2, 2), 1, 16, relu), MaxPool((2, 2)), CrossCor((2, 2), 16, 8, relu, bias=False),
              MaxPool((2, 2)), lambda x: x.reshape(x.shape[0], -1), Dense(288, 10), softmax)
    assert m(r).shape == (5, 10)
    # what Flux's two flip checks say, with flux_torch's Conv: a Flux kernel loads flipped
    flux_conv = Conv(Flux.from_flux_weight(w, julia_size=False), torch.tensor([0.0]))
    assert not torch.equal(y(x), flux_conv(x))
    torch.testing.assert_close(CrossCor(w.flip(-1, -2), torch.tensor([0.0]))(x), flux_conv(x))


@FLIP
def test_crosscor_differs_from_conv():
    x, w = torch.rand(1, 1, 28, 28), torch.rand(1, 1, 2, 2)
    assert not torch.equal(CrossCor(w, torch.tensor([0.0]))(x), Conv(w, torch.tensor([0.0]))(x))


def _delta():
    data = torch.zeros(1, 1, 7, 7)
    data[0, 0, 3, 3] = 1
    return data


@FLIP
def test_conv_non_quadratic_window_700():
    l = Conv((3, 3), 1, 1)
    expected = torch.zeros(1, 1, 5, 5)
    expected[0, 0, 1:-1, 1:-1] = l.weight[0, 0]
    torch.testing.assert_close(expected + l.bias, l(_delta()))


def test_conv_non_quadratic_window_700_crosscorrelation():
    """#700 with flux_torch's cross-correlation: a delta picks out the flipped kernel."""
    for k, out in [((3, 3), (5, 5)), ((1, 3), (7, 5)), ((3, 1), (5, 7))]:   # Flux's (3,3), (3,1), (1,3)
        l = Conv(k, 1, 1)
        kh, kw = k
        expected = torch.zeros(1, 1, *out)
        top, left = 3 - (kh - 1), 3 - (kw - 1)                                 # delta at (3, 3)
        expected[0, 0, top:top + kh, left:left + kw] = l.weight[0, 0].flip(-1, -2)
        torch.testing.assert_close(expected + l.bias, l(_delta()))
    Conv((1, 6), 1, 1, Flux.σ)(torch.randn(1, 1, 10, 10))                     # does not throw


LAYERS = [Conv, ConvTranspose, DepthwiseConv, CrossCor]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("ltype", LAYERS, ids=lambda l: l.__name__)
def test_symmetric_non_constant_padding(ltype, nd):
    kernel = (3,) * nd
    data = torch.ones(1, 1, *(k + 5 for k in kernel))
    pad = tuple(reversed(range(1, nd + 1)))                 # Flux's (1, 2, 3) per dim, reversed
    expanded = tuple(p for i in range(1, nd + 1) for p in (i, i))   # Flux's 2N tuple unchanged
    l = ltype(kernel, 1, 1, pad=pad)
    l_expanded = ltype(kernel, 1, 1, pad=expanded)
    assert l(data).shape == l_expanded(data).shape


@pytest.mark.parametrize("k", [(1,), (2,), (3,), (4, 5), (6, 7, 8)])
@pytest.mark.parametrize("ltype", LAYERS, ids=lambda l: l.__name__)
def test_samepad_kernelsize(ltype, k):
    k = tuple(reversed(k))
    data = torch.ones(1, 1, *(kk + 3 for kk in k))
    assert ltype(k, 1, 1, pad=SamePad())(data).shape == data.shape
    dilation = tuple(kk // 2 for kk in k)                   # 0 for k = 1: NNlib accepts it
    assert ltype(k, 1, 1, pad=SamePad(), dilation=dilation)(data).shape == data.shape
    out = ltype(k, 1, 1, pad=SamePad(), stride=3)(data).shape[2:]
    if ltype is ConvTranspose:
        assert out == tuple(3 * s for s in data.shape[2:])
    else:
        assert out == tuple(-(-s // 3) for s in data.shape[2:])


@pytest.mark.parametrize("k", [(1,), (2,), (3,), (4, 5), (6, 7, 8)])
@pytest.mark.parametrize("ltype", [MeanPool, MaxPool], ids=lambda l: l.__name__)
def test_samepad_windowsize(ltype, k):
    k = tuple(reversed(k))
    data = torch.ones(1, 1, *(kk + 3 for kk in k))
    out = ltype(k, pad=SamePad())(data).shape[2:]
    assert out == tuple(-(-s // kk) for s, kk in zip(data.shape[2:], k))


def test_bugs_fixed():                                     # https://github.com/FluxML/Flux.jl/issues/1421
    base_randn = lambda *d: torch.randn(*d, dtype=torch.float64)
    assert Conv((5, 5), 10, 20, Flux.identity, init=base_randn).bias.dtype == torch.float64


@pytest.mark.parametrize("fun", LAYERS, ids=lambda l: l.__name__)
def test_constructors(fun):
    f64 = dict(dtype=torch.float64)
    assert fun(torch.rand(4, 3, 2, **f64)).bias.dtype == torch.float64      # Flux's rand(2, 3, 4)
    assert fun(torch.rand(5, 4, 3, 2, **f64), False).bias is None          # bias === false
    if fun is Conv:
        assert fun(torch.rand(6, 5, 4, 3, 2, **f64), torch.rand(6, **f64)).bias.dtype == torch.float64
    elif fun is DepthwiseConv:
        assert fun(torch.rand(6, 5, 4, 3, 2, **f64), torch.rand(30, **f64)).bias.dtype == torch.float64
    with pytest.raises(ValueError):                                         # DimensionMismatch
        fun(torch.rand(4, 3, 2), torch.rand(6))


@pytest.mark.skip(reason="@test_skip in Flux: Conv(rand(2,3,4,5,6), 1:6).bias isa Vector{Float64}")
def test_constructor_range_bias():
    pass


def test_type_matching():
    """@inferred has no Python meaning; the output types are checked."""
    x = torch.rand(5, 2, 10, dtype=torch.float64)
    xi = torch.randint(-3, 4, (5, 2, 10))
    c1 = Conv((3,), 2, 4, relu)
    assert c1(x).dtype == torch.float32 and c1(x).dim() == 3
    assert c1(xi).dtype == torch.float32
    assert CrossCor((3,), 2, 1, relu)(x).dtype == torch.float32
    assert ConvTranspose((3,), 2, 4, relu)(x).dtype == torch.float32


def test_v014_implicit_gradients():
    """v0.14.25 takes these gradients with implicit params; a bias-free layer has no bias in them."""
    F14 = v014_namespace()
    ip = torch.zeros(1, 1, 28, 28)
    model = F14.Conv((2, 2), 1, 3, bias=False)
    gs = F14.gradient(lambda: model(ip).sum(), F14.params(model))
    assert [p.shape for p in gs.params] == [model.weight.shape]
    opt, op = F14.Descent(), torch.zeros(1, 3, 27, 27) + 2
    for _ in range(100):
        gs = F14.gradient(lambda: F14.Losses.mse(model(ip), op), F14.params(model))
        F14.Optimise.update_(opt, F14.params(model), gs)
    assert math.isclose(float(F14.Losses.mse(model(ip), op)), 4.0)
    m = F14.ConvTranspose((3, 3), 1, 1)
    assert isinstance(F14.gradient(lambda: m(torch.zeros(1, 1, 5, 5)).sum(), F14.params(m)), F14.Grads)
