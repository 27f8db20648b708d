"""Conv, CrossCor, DepthwiseConv, ConvTranspose, SamePad and from_flux_weight against
torch.nn twins with copied weights, a true convolution written out by hand (Flux's
definition), and the shapes, counts and printed forms of Flux's docstrings and
test/layers/conv.jl (translated: Julia size (W, H, C, N) is shape (N, C, H, W) here)."""
import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from flux_torch import Chain, Dense, f64, gradient, params, relu, softmax, σ
from flux_torch.layers.conv import Conv, CrossCor, DepthwiseConv, SamePad, from_flux_weight
from flux_torch.layers.conv_transpose import ConvTranspose
from flux_torch.layers.pool import MaxPool

torch.manual_seed(0)


def rev(x):
    """Julia-layout tensor -> flux_torch layout (the "reverse every shape" rule)."""
    return x.permute(*reversed(range(x.dim())))


# ------------------------------------------------ Flux's docstrings: shapes, counts, repr

def test_conv_docstring():
    xs = torch.rand(2, 3, 100, 100)                          # rand32(100, 100, 3, 50), fewer images
    layer = Conv((5, 5), 3, 7, relu, bias=False)
    assert repr(layer) == "Conv((5, 5), 3, 7, relu, bias=False)  # 525 parameters"
    assert layer(xs).shape == (2, 7, 96, 96)
    assert Conv((5, 5), 3, 7, stride=2)(xs).shape == (2, 7, 48, 48)
    assert Conv((5, 5), 3, 7, stride=2, pad=SamePad())(xs).shape == (2, 7, 50, 50)
    assert Conv((1, 1), 3, 7, pad=(20, 10, 0, 0))(xs).shape == (2, 7, 100, 130)
    assert Conv((5, 5), 3, 7, stride=2, dilation=4)(xs).shape == (2, 7, 42, 42)


def test_samepad_docstring():
    xs = torch.rand(2, 3, 100, 100)
    layer = Conv((2, 2), 3, 7, pad=SamePad())
    assert repr(layer) == "Conv((2, 2), 3, 7, pad=(1, 0, 1, 0))  # 91 parameters"
    assert layer(xs).shape == (2, 7, 100, 100)
    assert repr(Conv((2, 2), 3, 7)) == "Conv((2, 2), 3, 7)  # 91 parameters"
    assert Conv((2, 2), 3, 7)(xs).shape == (2, 7, 99, 99)
    layer3 = Conv((5, 5), 3, 7, stride=2, pad=SamePad())
    assert repr(layer3) == "Conv((5, 5), 3, 7, pad=2, stride=2)  # 532 parameters"
    assert layer3(xs).shape == (2, 7, 50, 50)


def test_conv_from_weight_docstring():
    layer = Conv(torch.rand(5, 4, 3), torch.zeros(5), σ)     # Julia rand(3, 4, 5), zeros(5)
    assert repr(layer) == "Conv((3,), 4, 5, σ)  # 65 parameters"
    assert layer(torch.randn(64, 4, 100)).shape == (64, 5, 98)
    assert len(params(layer)) == 2


def test_crosscor_docstrings():
    xs = torch.rand(2, 3, 100, 100)
    layer = CrossCor((5, 5), 3, 6, relu, bias=False)
    assert repr(layer) == "CrossCor((5, 5), 3, 6, relu, bias=False)  # 450 parameters"
    assert layer(xs).shape == (2, 6, 96, 96)
    assert CrossCor((5, 5), 3, 7, stride=3, pad=(0, 2))(xs).shape == (2, 7, 32, 34)  # Julia pad=(2,0)
    layer = CrossCor(torch.rand(5, 4, 3), torch.zeros(5), relu)
    assert repr(layer) == "CrossCor((3,), 4, 5, relu)  # 65 parameters"
    assert layer(torch.randn(64, 4, 100)).shape == (64, 5, 98)


def test_depthwise_docstring():
    xs = torch.rand(2, 3, 100, 100)
    layer = DepthwiseConv((5, 5), 3, 6, relu, bias=False)
    assert repr(layer) == "Conv((5, 5), 3, 6, relu, groups=3, bias=False)  # 150 parameters"
    assert layer(xs).shape == (2, 6, 96, 96)
    assert DepthwiseConv((5, 5), 3, 9, stride=2, pad=2)(xs).shape == (2, 9, 50, 50)


def test_convtranspose_docstrings():
    xs = torch.rand(2, 3, 100, 100)
    layer = ConvTranspose((5, 5), 3, 7, relu)
    assert repr(layer) == "ConvTranspose((5, 5), 3, 7, relu)  # 532 parameters"
    assert layer(xs).shape == (2, 7, 104, 104)
    assert ConvTranspose((5, 5), 3, 7, stride=2)(xs).shape == (2, 7, 203, 203)
    assert ConvTranspose((5, 5), 3, 7, stride=2, outpad=1)(xs).shape == (2, 7, 204, 204)
    assert ConvTranspose((5, 5), 3, 7, stride=3, pad=SamePad())(xs).shape == (2, 7, 300, 300)
    layer = ConvTranspose(torch.rand(5, 4, 3), torch.zeros(4), σ)  # Julia rand(3, 4, 5), zeros(4)
    assert repr(layer) == "ConvTranspose((3,), 5, 4, σ)  # 64 parameters"
    assert layer(torch.randn(64, 5, 100)).shape == (64, 4, 102)
    assert len(params(layer)) == 2


def test_parameter_counts_and_pair_forms():
    assert repr(Conv((3, 3), 1, 16)) == "Conv((3, 3), 1, 16)  # 160 parameters"
    assert repr(Conv((3, 3), (1, 16), relu, pad=1)) == "Conv((3, 3), 1, 16, relu, pad=1)  # 160 parameters"
    assert repr(Conv((3, 3), 1, 16, σ=relu)) == "Conv((3, 3), 1, 16, relu)  # 160 parameters"
    assert Conv((3, 2), 2, 4, stride=(1, 2), dilation=(2, 1), pad=(1, 2))._inline() == \
        "Conv((3, 2), 2, 4, pad=(1, 2), stride=(1, 2), dilation=(2, 1))"
    assert ConvTranspose((3, 3), 2, 4, groups=2, stride=2, outpad=(0, 1))._inline() == \
        "ConvTranspose((3, 3), 2, 4, stride=2, groups=2, outpad=(0, 1))"


def test_repr_rebuilds_the_layer():
    for layer in [Conv((3, 2), 2, 4, relu, stride=(1, 2), pad=(1, 0, 2, 1), bias=False),
                  ConvTranspose((3,), 4, 6, groups=2, outpad=1, stride=2),
                  CrossCor((1, 2, 3), 1, 2, dilation=2)]:
        rebuilt = eval(layer._inline())
        assert rebuilt._inline() == layer._inline()


# ------------------------------------------------ Flux test/layers/conv.jl, translated

def test_cnn_chain_shapes():
    m = Chain(Conv((2, 2), 1, 16, relu), MaxPool((2, 2)), Conv((2, 2), 16, 8, relu), MaxPool((2, 2)),
              lambda x: x.reshape(x.shape[0], -1), Dense(288, 10), softmax)
    assert m(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


def test_bias_switch():
    layer = Conv(torch.ones(3, 1, 2, 2), torch.ones(3))
    op = layer(torch.zeros(1, 1, 28, 28))
    assert op.sum().item() == op.numel()
    nobias = Conv((2, 2), 1, 3, bias=False)
    assert nobias.bias is None and float(nobias(torch.zeros(1, 1, 28, 28)).sum()) == 0.0
    assert len(params(nobias)) == 1


def test_grouped_conv():
    c = Conv((3,), 100, 25, groups=5)
    assert c.weight.shape == (25, 20, 3) and c(torch.rand(2, 100, 28)).shape == (2, 25, 26)
    c = Conv((3, 3), 100, 25, groups=5)
    assert c.weight.shape == (25, 20, 3, 3) and c(torch.rand(2, 100, 28, 28)).shape == (2, 25, 26, 26)
    c = Conv((5, 4, 3), 100, 25, groups=5)                      # Julia (3, 4, 5) kernel
    assert c.weight.shape == (25, 20, 5, 4, 3)
    assert c(torch.rand(2, 100, 12, 11, 10)).shape == (2, 25, 8, 8, 8)
    with pytest.raises(ValueError, match="groups=2"):
        Conv((2, 2), 3, 10, groups=2)
    with pytest.raises(ValueError, match="divisible"):
        Conv((2, 2), 2, 9, groups=2)


@pytest.mark.parametrize("layer", [Conv, ConvTranspose])
def test_channels_in_out_random(layer):
    rng = np.random.default_rng(0)
    for _ in range(10):
        groups = int(rng.integers(1, 11))
        k = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        cin, cout = int(rng.integers(1, 6)) * groups, int(rng.integers(1, 6)) * groups
        m = layer(k, cin, cout, groups=groups)
        assert m._inline().startswith(f"{layer.__name__}({k}, {cin}, {cout}")
        x = torch.rand(1, cin, *(kk + 2 for kk in k))
        assert m(x).shape[1] == cout


def test_asymmetric_padding():
    m = Conv((3, 3), 1, 1, relu, pad=(0, 1, 1, 2))              # Flux's tuple, unchanged
    m.weight[:] = 1.0
    m.bias[:] = 0.0
    y = m(torch.ones(1, 1, 28, 28))[0, 0].T                     # Julia's y_hat[w, h]
    assert y.shape == (27, 29)
    assert (y[0, 0], y[1, 1], y[-1, 0], y[0, -1], y[0, -2], y[-1, -1]) == (6, 9, 4, 3, 6, 2)


def test_depthwise_conv():
    r = torch.zeros(5, 3, 28, 28)
    assert DepthwiseConv((2, 2), 3, 15)(r).shape[1] == 15
    assert DepthwiseConv((3, 2), 3, 9, bias=False)(r).shape[1] == 9
    with pytest.raises(ValueError, match="multiple of in"):
        DepthwiseConv((2, 2), 3, 10)
    d = DepthwiseConv(torch.rand(6, 5, 4, 3, 2), torch.rand(30))   # Julia rand(2,3,4,5,6), rand(30)
    assert d.groups == 5 and d.weight.shape == (30, 1, 4, 3, 2) and d.bias.shape == (30,)


def test_convtranspose_flux_tests():
    y = Conv((3, 3), 1, 1)(torch.zeros(1, 1, 5, 5))
    assert ConvTranspose((3, 3), 1, 1)(y).shape == ConvTranspose((3, 3), 1, 1, bias=False)(y).shape == (1, 1, 5, 5)
    x = torch.randn(3, 2, 10, 10)
    m1 = ConvTranspose((3, 3), 2, 4, pad=SamePad())
    assert m1.weight.shape == (2, 4, 3, 3) and m1(x).shape == (3, 4, 10, 10)
    m2 = ConvTranspose((3, 3), 2, 4, groups=2, pad=SamePad())
    assert m2.weight.shape == (2, 2, 3, 3) and m2(x).shape == m1(x).shape
    m = ConvTranspose((3,), 2, 4, pad=SamePad(), groups=2)
    assert m(torch.randn(1, 2, 10)).shape == (1, 4, 10) and m.weight.numel() == 3 * 2 * 4 // 2
    m = ConvTranspose((5, 3), 4, 4, pad=SamePad(), groups=4)
    assert m(torch.randn(2, 4, 11, 10)).shape == (2, 4, 11, 10) and m.weight.numel() == 3 * 5 * 4
    m = ConvTranspose((3, 5, 3), 3, 6, pad=SamePad(), groups=3)
    assert m(torch.randn(2, 3, 12, 11, 10)).shape == (2, 6, 12, 11, 10)
    assert "groups=2" in repr(ConvTranspose((3, 3), 2, 4, groups=2))
    assert "2, 4" in repr(ConvTranspose((3, 3), 2, 4, groups=2))
    x = torch.randn(2, 3, 11, 10)
    a, b = ConvTranspose((5, 3), 3, 6, stride=3), ConvTranspose((5, 3), 3, 6, stride=3, outpad=(0, 1))
    assert tuple(b(x).shape[2:]) == (a(x).shape[2], a(x).shape[3] + 1)


@pytest.mark.parametrize("ltype", [Conv, ConvTranspose, DepthwiseConv, CrossCor])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_symmetric_nonconstant_padding(ltype, nd):
    kernel = (3,) * nd
    data = torch.ones(1, 1, *(k + 5 for k in kernel))
    pad = tuple(range(1, nd + 1))
    expanded = tuple(p for p in reversed(pad) for _ in (0, 1))  # F.pad order, last dim first
    assert ltype(kernel, 1, 1, pad=pad)(data).shape == ltype(kernel, 1, 1, pad=expanded)(data).shape


@pytest.mark.parametrize("ltype", [Conv, ConvTranspose, DepthwiseConv, CrossCor])
@pytest.mark.parametrize("k", [(1,), (2,), (3,), (4, 5), (6, 7, 8)])
def test_samepad_kernel_sizes(ltype, k):
    data = torch.ones(1, 1, *(kk + 3 for kk in k))
    assert ltype(k, 1, 1, pad=SamePad())(data).shape == data.shape
    dil = tuple(max(1, kk // 2) for kk in k)                    # torch refuses dilation 0
    assert ltype(k, 1, 1, pad=SamePad(), dilation=dil)(data).shape == data.shape
    out = ltype(k, 1, 1, pad=SamePad(), stride=3)(data).shape[2:]
    if ltype is ConvTranspose:
        assert tuple(out) == tuple(3 * s for s in data.shape[2:])
    else:
        assert tuple(out) == tuple(-(-s // 3) for s in data.shape[2:])


@pytest.mark.parametrize("fun", [Conv, CrossCor, ConvTranspose, DepthwiseConv])
def test_constructors_from_weights(fun):
    assert fun(torch.rand(4, 3, 2, dtype=torch.float64)).bias.dtype == torch.float64
    assert fun(torch.rand(5, 4, 3, 2), False).bias is None
    if fun is Conv:
        assert fun(torch.rand(6, 5, 4, 3, 2), torch.rand(6)).bias.shape == (6,)
    with pytest.raises(ValueError):
        fun(torch.rand(4, 3, 2), torch.rand(6))


def test_type_matching():
    c1 = Conv((3,), 2, 4, relu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert c1(torch.rand(5, 2, 10, dtype=torch.float64)).dtype == torch.float32
        assert ConvTranspose((3,), 2, 4)(np.random.rand(5, 2, 10)).dtype == torch.float32
    assert c1(torch.randint(-3, 4, (5, 2, 10))).dtype == torch.float32
    assert c1(np.zeros((5, 2, 10), dtype=np.float32)).dtype == torch.float32


# ------------------------------------------------ values against torch.nn twins

def _twin(layer, cls, **kw):
    t = cls(**kw)
    with torch.no_grad():
        t.weight.copy_(layer.weight)
        if layer.bias is not None:
            t.bias.copy_(layer.bias)
    return t


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_matches_torch(nd):
    k, stride, pad, dil = (3, 2, 3)[:nd], (2, 1, 1)[:nd], (1, 0, 2)[:nd], (1, 2, 1)[:nd]
    m = Conv(k, 4, 6, stride=stride, pad=pad, dilation=dil, groups=2)
    cls = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[nd - 1]
    t = _twin(m, cls, in_channels=4, out_channels=6, kernel_size=k, stride=stride, padding=pad,
              dilation=dil, groups=2)
    x = torch.randn(2, 4, *(7,) * nd)
    torch.testing.assert_close(m(x), t(x).detach())
    c = CrossCor(k, 4, 6, torch.tanh, stride=stride, pad=pad, dilation=dil)
    t = _twin(c, cls, in_channels=4, out_channels=6, kernel_size=k, stride=stride, padding=pad, dilation=dil)
    torch.testing.assert_close(c(x), torch.tanh(t(x)).detach())


def test_asymmetric_pad_matches_fpad_then_conv():
    m = Conv((3, 2), 2, 3, pad=(1, 0, 2, 1), stride=(2, 1))
    x = torch.randn(2, 2, 8, 9)
    want = F.conv2d(F.pad(x, (1, 0, 2, 1)), m.weight, m.bias, stride=(2, 1))
    torch.testing.assert_close(m(x), want)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_convtranspose_matches_torch(nd):
    k, stride, pad, dil, outpad = (3, 4, 2)[:nd], (2, 3, 2)[:nd], (1, 2, 0)[:nd], (2, 1, 1)[:nd], (1, 2, 1)[:nd]
    m = ConvTranspose(k, 4, 6, stride=stride, pad=pad, dilation=dil, outpad=outpad, groups=2)
    cls = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[nd - 1]
    t = _twin(m, cls, in_channels=4, out_channels=6, kernel_size=k, stride=stride, padding=pad,
              output_padding=outpad, dilation=dil, groups=2)
    x = torch.randn(2, 4, *(4,) * nd)
    torch.testing.assert_close(m(x), t(x).detach())


def _conv_adjoint(y, w, stride, fpad, dilation, insize, groups=1):
    """The adjoint of x -> conv(F.pad(x, fpad), w) at y, by torch.autograd (torch layout)."""
    x = torch.zeros(y.shape[0], w.shape[1] * groups, *insize, dtype=y.dtype, requires_grad=True)
    out = F.conv2d(F.pad(x, fpad), w, None, stride, 0, dilation, groups)
    return torch.autograd.grad(out, x, y)[0]


@pytest.mark.parametrize("pad,outpad,stride", [((1, 0, 2, 1), (1, 0), (2, 1)),     # asymmetric
                                               ((-1, -1, 0, 0), (0, 0), (3, 1))])  # negative (SamePad)
def test_convtranspose_fallback_is_adjoint_of_conv(pad, outpad, stride):
    w = torch.randn(3, 2, 3, 2, dtype=torch.float64)          # (in, out/groups, k...) of the transpose
    m = ConvTranspose(w, False, stride=stride, pad=pad, outpad=outpad, dilation=(1, 2))
    y = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    got = m(y)
    lo_hi = [(pad[2], pad[3]), (pad[0], pad[1])]                # (H, W) from F.pad order
    k_eff = (3, 1 + (2 - 1) * 2)
    insize = tuple((n - 1) * s + k - lo - hi + o for n, s, k, (lo, hi), o
                   in zip((4, 5), stride, k_eff, lo_hi, outpad))
    want = _conv_adjoint(y, w, stride, pad, (1, 2), insize)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want)


def test_convtranspose_outpad_beyond_torch_limit_appends_zeros_plus_bias():
    m = ConvTranspose((3, 3), 2, 3, outpad=(2, 1))             # torch wants outpad < stride
    x = torch.randn(2, 2, 4, 4)
    core = F.conv_transpose2d(x, m.weight)                      # (2, 3, 6, 6)
    want = torch.zeros(2, 3, 8, 7)
    want[:, :, :6, :6] = core
    want += m.bias.reshape(-1, 1, 1)
    torch.testing.assert_close(m(x), want)


# ------------------------------------------------ Flux weights: a true convolution by hand

def _flux_conv(x, w, stride, pads, dilation):
    """Flux's Conv (NNlib, kernel flipped) written out, all in Julia layout:
    x (spatial..., cin, N), w (k..., cin, cout), pads [(lo, hi)] per Julia spatial dim."""
    nd = w.dim() - 2
    xp = x
    for d, (lo, hi) in enumerate(pads):
        shape = list(xp.shape)
        shape[d] = lo
        before = torch.zeros(shape, dtype=x.dtype)
        shape[d] = hi
        xp = torch.cat([before, xp, torch.zeros(shape, dtype=x.dtype)], dim=d)
    k = w.shape[:nd]
    out = [(xp.shape[d] - (k[d] - 1) * dilation[d] - 1) // stride[d] + 1 for d in range(nd)]
    y = 0
    for tap in itertools.product(*(range(kk) for kk in k)):
        sl = tuple(slice(t * dl, t * dl + s * (o - 1) + 1, s)
                   for t, dl, s, o in zip(tap, dilation, stride, out))
        flipped = tuple(kk - 1 - t for kk, t in zip(k, tap))
        y = y + torch.einsum("...in,io->...on", xp[sl], w[flipped])
    return y


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_from_flux_weight_gives_flux_conv(nd):
    kj, sj, dj = (3, 2, 2)[:nd], (2, 1, 1)[:nd], (1, 2, 1)[:nd]  # Julia order
    pads = [(1, 0), (2, 1), (0, 1)][:nd]
    wj = torch.randn(*kj, 2, 3, dtype=torch.float64)             # Julia size (k..., in, out)
    xj = torch.randn(*(6, 7, 5)[:nd], 2, 2, dtype=torch.float64)  # Julia size (spatial..., C, N)
    want = _flux_conv(xj, wj, sj, pads, dj)
    fpad = tuple(p for lh in pads for p in lh)                   # Flux's pad tuple, literally
    m = Conv(from_flux_weight(wj), False, stride=sj[::-1], pad=fpad, dilation=dj[::-1])
    torch.testing.assert_close(m(rev(xj)), rev(want))
    c = CrossCor(from_flux_weight(torch.flip(wj, dims=tuple(range(nd))), CrossCor), False,
                 stride=sj[::-1], pad=fpad, dilation=dj[::-1])
    torch.testing.assert_close(c(rev(xj)), rev(want))            # Flux: CrossCor(flip(w)) ≈ Conv(w)


def test_from_flux_weight_julia_size_false():
    wj = torch.randn(3, 2, 1, 4)
    torch.testing.assert_close(from_flux_weight(rev(wj).contiguous(), julia_size=False),
                               from_flux_weight(wj))
    with pytest.raises(ValueError, match="Dense"):
        from_flux_weight(wj, Dense)


def test_flux_crosscor_value():
    xj, wj = torch.rand(28, 28, 1, 1), torch.rand(2, 2, 1, 1)
    y = CrossCor(from_flux_weight(wj, CrossCor), torch.zeros(1))(rev(xj))
    torch.testing.assert_close(y[0, 0, 0, 0], (wj * xj[:2, :2]).sum(), rtol=2e-7, atol=1e-6)
    assert not torch.allclose(y, Conv(from_flux_weight(wj), torch.zeros(1))(rev(xj)))


@pytest.mark.parametrize("kj", [(3, 3), (3, 1), (1, 3)])
def test_flux_non_quadratic_window(kj):                         # Flux issue #700
    data = torch.zeros(7, 7, 1, 1)
    data[3, 3] = 1
    wj = torch.randn(*kj, 1, 1)
    got = Conv(from_flux_weight(wj), False)(rev(data))
    expected = torch.zeros(8 - kj[0], 8 - kj[1], 1, 1)
    expected[4 - kj[0]:4, 4 - kj[1]:4] = wj
    torch.testing.assert_close(got, rev(expected))


def test_from_flux_weight_convtranspose_is_adjoint_of_flux_conv():
    wj = torch.randn(3, 2, 2, 4, dtype=torch.float64)            # Julia (k..., out/groups, in)
    yj = torch.randn(4, 5, 4, 2, dtype=torch.float64)            # Julia (W, H, in, N)
    sj, pads, dj, outpad = (2, 1), [(1, 0), (0, 1)], (1, 2), (1, 0)
    insize = [(n - 1) * s + 1 + (k - 1) * d - lo - hi + o
              for n, s, k, d, (lo, hi), o in zip(yj.shape[:2], sj, wj.shape[:2], dj, pads, outpad)]
    xj = torch.zeros(*insize, 2, 2, dtype=torch.float64, requires_grad=True)
    want = torch.autograd.grad(_flux_conv(xj, wj, sj, pads, dj), xj, yj)[0]
    m = ConvTranspose(from_flux_weight(wj, ConvTranspose), False, stride=sj[::-1],
                      pad=tuple(p for lh in pads for p in lh), dilation=dj[::-1], outpad=outpad[::-1])
    torch.testing.assert_close(m(rev(yj)), rev(want))


# ------------------------------------------------ gradients, f64, devices

@pytest.mark.parametrize("kind", ["conv", "crosscor", "transpose"])
def test_gradient_matches_autograd_twin(kind):
    x = torch.randn(2, 4, 6, 6)
    if kind == "transpose":
        m = ConvTranspose((3, 3), 4, 2, stride=2, pad=1, groups=2)
        t = _twin(m, nn.ConvTranspose2d, in_channels=4, out_channels=2, kernel_size=3, stride=2,
                  padding=1, groups=2)
    else:
        m = (Conv((3, 3), 4, 2, stride=2, pad=1, groups=2) if kind == "conv"
             else CrossCor((3, 3), 4, 2, stride=2, pad=1))
        t = _twin(m, nn.Conv2d, in_channels=4, out_channels=2, kernel_size=3, stride=2, padding=1,
                  groups=m.__dict__.get("groups", 1))
    g = gradient(lambda m: (m(x) ** 2).sum(), m)[0]
    (t(x) ** 2).sum().backward()
    torch.testing.assert_close(g.weight, t.weight.grad)
    torch.testing.assert_close(g.bias, t.bias.grad)
    gx = gradient(lambda x: (m(x) ** 2).sum(), x)[0]
    xr = x.clone().requires_grad_()
    torch.testing.assert_close(gx, torch.autograd.grad((t(xr) ** 2).sum(), xr)[0])


def test_gradient_without_bias():
    m = Conv((2, 2), 1, 3, bias=False)
    g = gradient(lambda m: m(torch.ones(1, 1, 5, 5)).sum(), m)[0]
    assert g.bias is None and g.weight.shape == m.weight.shape


def test_f64_round_trip():
    m = Conv((3, 3), 2, 3, relu, pad=(1, 0, 0, 1))
    m64 = f64(m)
    assert type(m64) is Conv and m64.weight.dtype == m64.bias.dtype == torch.float64
    assert m64.pad == m.pad and m64.groups == 1
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64)
    want = relu(F.conv2d(F.pad(x, (1, 0, 0, 1)), m.weight.double(), m.bias.double()))
    y = m64(x)
    assert y.dtype == torch.float64
    torch.testing.assert_close(y, want)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu():
    from flux_torch import gpu
    m = gpu(Conv((3, 3), 2, 3, pad=(1, 0, 0, 1)))
    x = torch.randn(2, 2, 5, 5)
    assert m(gpu(x)).device.type == "cuda"
    with pytest.raises(RuntimeError, match="cuda"):
        m(x)


# ------------------------------------------------ errors

def test_input_shape_errors():
    m = Conv((3, 3), 1, 16)
    with pytest.raises(ValueError, match=r"Conv\(\(3, 3\), 1, 16\) expects a 4-dimensional.*"
                                         r"\(28, 28, 1, 5\).*x.permute\(3, 2, 1, 0\)"):
        m(torch.rand(28, 28, 1, 5))                              # Julia's (W, H, C, N)
    with pytest.raises(ValueError, match=r"unsqueeze\(0\)"):
        m(torch.rand(1, 28, 28))
    with pytest.raises(ValueError, match=r"permute\(0, 3, 1, 2\)"):
        m(torch.rand(5, 28, 28, 1))
    with pytest.raises(ValueError, match="1 channel .*shape \\(5, 2, 28, 28\\)"):
        m(torch.rand(5, 2, 28, 28))
    with pytest.raises(ValueError, match=r"ConvTranspose\(\(3,\), 2, 4\) expects a 3-dimensional"):
        ConvTranspose((3,), 2, 4)(torch.rand(10, 2))


def test_constructor_errors():
    with pytest.raises(TypeError, match=r"kernel size as a tuple.*\(3, 3\)"):
        Conv(3, 1, 16)
    with pytest.raises(TypeError, match="in => out"):
        Conv((3, 3), 1)
    with pytest.raises(ValueError, match="pad="):
        Conv((3, 3), 1, 2, pad=(1, 2, 3))
    with pytest.raises(ValueError, match="stride="):
        Conv((3, 3), 1, 2, stride=(1, 2, 3))
    with pytest.raises(TypeError, match="groups"):
        CrossCor((3, 3), 2, 2, groups=2)
    with pytest.raises(ValueError, match="weight"):
        Conv(torch.rand(3, 3))
    with pytest.raises(TypeError, match="activation"):
        Conv((3, 3), 1, 2, "relu")
