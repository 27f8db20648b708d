"""Pooling layers against torch.nn.functional, pooling written out by hand (NNlib's
definition: max ignores padding, mean divides by the window size), and the shapes and
printed forms of Flux's docstrings and test/layers/conv.jl "Pooling" (translated)."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from flux_torch import Chain, gradient
from flux_torch.layers.conv import Conv, SamePad
from flux_torch.layers.pool import (AdaptiveMaxPool, AdaptiveMeanPool, GlobalMaxPool,
                                    GlobalMeanPool, MaxPool, MeanPool)

torch.manual_seed(0)


def test_flux_pooling_testset():
    x = torch.randn(2, 3, 10, 10)
    y = torch.randn(2, 3, 20, 20)
    assert torch.equal(AdaptiveMaxPool((5, 5))(x), F.max_pool2d(x, 2))
    assert torch.equal(AdaptiveMeanPool((5, 5))(x), F.avg_pool2d(x, 2))
    assert torch.equal(AdaptiveMaxPool((5, 10))(y), F.max_pool2d(y, (4, 2)))   # Julia (10, 5)
    assert torch.equal(AdaptiveMeanPool((5, 10))(y), F.avg_pool2d(y, (4, 2)))
    assert GlobalMaxPool()(x).shape == GlobalMeanPool()(x).shape == (2, 3, 1, 1)
    assert torch.equal(MaxPool((2, 2))(x), F.max_pool2d(x, 2))
    assert torch.equal(MeanPool((2, 2))(x), F.avg_pool2d(x, 2))


def test_maxpool_docstring():
    xs = torch.rand(2, 3, 100, 100)
    m = Chain(Conv((5, 5), 3, 7, pad=SamePad()), MaxPool((5, 5), pad=SamePad()))
    lines = repr(m).splitlines()
    assert lines[0] == "Chain(" and lines[-1] == ")"
    assert lines[1].startswith("  Conv((5, 5), 3, 7, pad=2),") and lines[1].endswith("# 532 parameters")
    assert lines[2] == "  MaxPool((5, 5), pad=2),"
    assert m[0](xs).shape == (2, 7, 100, 100)
    assert m(xs).shape == (2, 7, 20, 20)
    layer = MaxPool((5,), pad=2, stride=(3,))
    assert repr(layer) == "MaxPool((5,), pad=2, stride=3)"
    assert layer(torch.rand(2, 7, 100)).shape == (2, 7, 34)


def test_meanpool_docstring():
    xs = torch.rand(2, 3, 100, 100)
    m = Chain(Conv((5, 5), 3, 7), MeanPool((5, 5), pad=SamePad()))
    assert repr(m).splitlines()[2] == "  MeanPool((5, 5), pad=2),"
    assert m[0](xs).shape == (2, 7, 96, 96)
    assert m(xs).shape == (2, 7, 20, 20)


def test_adaptive_docstrings():
    xs = torch.rand(2, 3, 100, 100)
    assert AdaptiveMaxPool((25, 25))(xs).shape == (2, 3, 25, 25)
    torch.testing.assert_close(MaxPool((4, 4))(xs), AdaptiveMaxPool((25, 25))(xs))
    torch.testing.assert_close(MeanPool((4, 4))(xs), AdaptiveMeanPool((25, 25))(xs))
    assert repr(AdaptiveMaxPool((25, 25))) == "AdaptiveMaxPool((25, 25))"
    assert repr(AdaptiveMeanPool((5,))) == "AdaptiveMeanPool((5,))"


def test_global_docstrings():
    xs = torch.rand(2, 3, 100, 100)
    m = Chain(Conv((3, 3), 3, 7), GlobalMaxPool())
    assert m(xs).shape == (2, 7, 1, 1)
    assert Chain(Conv((3, 3), 3, 7), GlobalMeanPool())(xs).shape == (2, 7, 1, 1)
    assert GlobalMaxPool()(torch.rand(7, 5, 3)).shape == (7, 5, 1)        # Julia rand(3, 5, 7)
    assert repr(GlobalMaxPool()) == "GlobalMaxPool()" and repr(GlobalMeanPool()) == "GlobalMeanPool()"


@pytest.mark.parametrize("ltype", [MeanPool, MaxPool])
@pytest.mark.parametrize("k", [(1,), (2,), (3,), (4, 5), (6, 7, 8)])
def test_samepad_window_sizes(ltype, k):
    data = torch.ones(1, 1, *(kk + 3 for kk in k))
    out = ltype(k, pad=SamePad())(data).shape[2:]
    assert tuple(out) == tuple(-(-s // kk) for s, kk in zip(data.shape[2:], k))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_matches_torch_functional(nd):
    x = torch.randn(2, 3, *(9,) * nd)
    k, s, p = (3, 2, 3)[:nd], (2, 1, 3)[:nd], (1, 1, 0)[:nd]
    fmax = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[nd - 1]
    fmean = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[nd - 1]
    torch.testing.assert_close(MaxPool(k, stride=s, pad=p)(x), fmax(x, k, s, p))
    torch.testing.assert_close(MeanPool(k, stride=s, pad=p)(x), fmean(x, k, s, p, count_include_pad=True))
    torch.testing.assert_close(GlobalMaxPool()(x), x.amax(dim=tuple(range(2, nd + 2)), keepdim=True))
    torch.testing.assert_close(GlobalMeanPool()(x), (F.adaptive_avg_pool1d(x.reshape(2, 3, -1), 1)
                                                     .reshape(2, 3, *(1,) * nd)))


def _pool_by_hand(x, k, stride, lo, hi, kind):
    """NNlib's pooling of a (N, C, H, W) numpy array: max over the real elements of each window,
    or their sum divided by prod(k)."""
    n, c, h, w = x.shape
    out_h = (h + lo[0] + hi[0] - k[0]) // stride[0] + 1
    out_w = (w + lo[1] + hi[1] - k[1]) // stride[1] + 1
    y = np.zeros((n, c, out_h, out_w))
    for i, j in itertools.product(range(out_h), range(out_w)):
        r0, c0 = i * stride[0] - lo[0], j * stride[1] - lo[1]
        win = x[:, :, max(r0, 0):max(r0 + k[0], 0), max(c0, 0):max(c0 + k[1], 0)]
        y[:, :, i, j] = win.max(axis=(2, 3)) if kind == "max" else win.sum(axis=(2, 3)) / (k[0] * k[1])
    return y


@pytest.mark.parametrize("pad,k,stride", [((1, 0, 2, 1), (3, 2), (2, 1)),   # asymmetric, F.pad order
                                          ((2, 1), (3, 2), (1, 1)),         # per dim, wider than torch allows
                                          (SamePad(), (2, 2), (2, 2))])
def test_padding_semantics_by_hand(pad, k, stride):
    x = -torch.rand(2, 2, 7, 6, dtype=torch.float64) - 1          # all negative: pads must not win the max
    mx, mn = MaxPool(k, pad=pad, stride=stride), MeanPool(k, pad=pad, stride=stride)
    stored = mx.pad
    if len(stored) == 2:
        lo = hi = stored
    else:
        lo, hi = (stored[2], stored[0]), (stored[3], stored[1])
    want = _pool_by_hand(x.numpy(), k, stride, lo, hi, "max")
    np.testing.assert_allclose(mx(x).numpy(), want)
    np.testing.assert_allclose(mn(x).numpy(), _pool_by_hand(x.numpy(), k, stride, lo, hi, "mean"))


def test_adaptive_uses_fluxs_fixed_window():
    x = torch.arange(7.0).reshape(1, 1, 7)
    # Flux: stride = 7 ÷ 5 = 1, window = 7 - 4·1 = 3 (torch's adaptive pooling varies the window)
    assert AdaptiveMaxPool((5,))(x).tolist() == [[[2.0, 3.0, 4.0, 5.0, 6.0]]]
    assert AdaptiveMeanPool((5,))(x).tolist() == [[[1.0, 2.0, 3.0, 4.0, 5.0]]]
    with pytest.raises(ValueError, match="smaller"):
        AdaptiveMaxPool((8,))(x)


def test_gradient_matches_autograd_twin():
    x = torch.randn(2, 3, 8, 8)
    m = Chain(Conv((3, 3), 3, 4, pad=1), MaxPool((2, 2)), MeanPool((2, 2), pad=1, stride=1),
              GlobalMaxPool())
    t = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.MaxPool2d(2), nn.AvgPool2d(2, 1, 1),
                      nn.AdaptiveMaxPool2d(1))
    with torch.no_grad():
        t[0].weight.copy_(m[0].weight)
        t[0].bias.copy_(m[0].bias)
    g = gradient(lambda m: (m(x) ** 2).sum(), m)[0]
    (t(x) ** 2).sum().backward()
    torch.testing.assert_close(g.layers[0].weight, t[0].weight.grad)
    torch.testing.assert_close(g.layers[0].bias, t[0].bias.grad)


def test_inputs_accepted():
    assert MaxPool((2,))(torch.tensor([[[1, 5, 2, 3]]])).tolist() == [[[5.0, 3.0]]]
    assert MeanPool((2,))(np.array([[[1.0, 3.0]]])).tolist() == [[[2.0]]]
    assert MaxPool((2,))([[[1.0, 5.0]]]).tolist() == [[[5.0]]]
    assert MaxPool((2,))(torch.zeros(1, 1, 4, dtype=torch.float64)).dtype == torch.float64


def test_errors():
    with pytest.raises(ValueError, match=r"MaxPool\(\(2, 2\)\) expects a 4-dimensional input .*"
                                         r"\(3, 8, 8\).*unsqueeze\(0\)"):
        MaxPool((2, 2))(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match=r"AdaptiveMeanPool\(\(2, 2\)\) expects a 4-dimensional"):
        AdaptiveMeanPool((2, 2))(torch.rand(2, 3, 8, 8, 8))
    with pytest.raises(ValueError, match=r"GlobalMeanPool\(\) expects .* \(3, 4\)"):
        GlobalMeanPool()(torch.rand(3, 4))
    with pytest.raises(TypeError, match="window size as a tuple"):
        MaxPool(2)
    with pytest.raises(ValueError, match="stride="):
        MeanPool((2, 2), stride=(1, 1, 1))
