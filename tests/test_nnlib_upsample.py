"""NNlib's upsampling tests, translated: FluxML/NNlib.jl test/testsuite/upsample.jl at v0.9.36
(commit 4ed25976bb6c67a4f2d04630e26fd1f37fbde6eb), on the CPU, through flux_torch's
``Upsample`` and ``PixelShuffle`` layers (NNlib's ``upsample_nearest``, ``upsample_linear``...,
``pixel_shuffle``). Shapes and scale tuples reversed (batch first); ``∇upsample_*`` is the
gradient flux_torch computes; ``gradtest`` is ``torch.autograd.gradcheck``. Rational and UInt8
element types are Julia's; ``align_corners=false`` is not an option of flux_torch's Upsample
(which uses NNlib's default, ``true``)."""
from fractions import Fraction

import pytest
import torch

import flux_torch as Flux
from flux_torch import PixelShuffle, Upsample

F64 = torch.float64


def gradtest(f, x):
    return torch.autograd.gradcheck(f, (x.double().requires_grad_(),), atol=1e-3)


def test_nearest_integer_scale():
    x = torch.tensor([[1.0, 3.0], [2.0, 4.0]]).reshape(1, 1, 2, 2)       # Julia T[1 2; 3 4]
    assert Upsample("nearest", scale=(3, 3))(x)[0, 0, :, 0].tolist() == [1, 1, 1, 2, 2, 2]
    y = Upsample("nearest", scale=(3, 2))(x)                             # Julia (2, 3)
    assert y.shape == (1, 1, 6, 4)
    torch.testing.assert_close(y, Upsample("nearest", size=(6, 4))(x))
    dx = Flux.gradient(lambda x: (Upsample("nearest", scale=(3, 2))(x) * y).sum(), x)[0]
    assert dx[0, 0].tolist() == [[6, 18], [12, 24]]                      # [6 12; 18 24], transposed
    assert gradtest(Upsample("nearest", scale=(3, 2)), torch.rand(1, 1, 2, 2))
    assert gradtest(Upsample("nearest", size=(6, 4)), torch.rand(1, 1, 2, 2))
    with pytest.raises(ValueError):
        Upsample("nearest", scale=(1, 2, 3, 4, 5))(x)
    with pytest.raises(ValueError):
        Upsample("nearest", size=(4, 3))(x)                              # not a multiple


def test_linear_1d():
    x = torch.tensor([1.0, 2, 3, 4]).repeat(3, 1).reshape(1, 3, 4)        # hcat(x, x, x)[:, :, :]
    y = torch.tensor([float(1 + Fraction(i, 3)) for i in range(10)]).repeat(3, 1).reshape(1, 3, 10)
    torch.testing.assert_close(Upsample("bilinear", scale=2.5)(x), y)
    torch.testing.assert_close(Upsample("bilinear", size=10)(x), y)
    assert gradtest(Upsample("bilinear", scale=2.5), x)


def test_bilinear_2d():
    x = torch.tensor([[1.0, 3.0], [2.0, 4.0]]).reshape(1, 1, 2, 2).repeat(2, 2, 1, 1)
    F = Fraction
    rows = [[1, F(4, 3), F(5, 3), 2], [F(7, 5), F(26, 15), F(31, 15), F(12, 5)],        # Julia's 6×4
            [F(9, 5), F(32, 15), F(37, 15), F(14, 5)], [F(11, 5), F(38, 15), F(43, 15), F(16, 5)],
            [F(13, 5), F(44, 15), F(49, 15), F(18, 5)], [3, F(10, 3), F(11, 3), 4]]
    y_true = torch.tensor([[float(v) for v in r] for r in rows]).T.reshape(1, 1, 4, 6).repeat(2, 2, 1, 1)
    y = Upsample("bilinear", scale=(2, 3))(x)                            # Julia (3, 2)
    assert y.shape == y_true.shape and y.dtype == torch.float32
    torch.testing.assert_close(y, y_true)
    assert gradtest(Upsample("bilinear", scale=(2, 3)), x)
    o = torch.ones(1, 2, 4, 6)
    g = Flux.gradient(lambda x: (Upsample("bilinear", size=(4, 6))(x) * o).sum(), torch.rand(1, 2, 2, 2))[0]
    torch.testing.assert_close(g, 6 * torch.ones(1, 2, 2, 2))
    y2 = torch.tensor([[1, 1.25, 1.5, 1.75, 2], [1.5, 1.75, 2, 2.25, 2.5], [2, 2.25, 2.5, 2.75, 3],
                       [2.5, 2.75, 3, 3.25, 3.5], [3, 3.25, 3.5, 3.75, 4]]).T   # y_true_2, in floats
    torch.testing.assert_close(Upsample("bilinear", scale=2.5)(x)[0, 0], y2)


def test_trilinear_3d():
    x = torch.ones(1, 1, 3, 3, 3)                                         # WHDCN: constant in W, H
    for d in range(3):
        x[:, :, d] = d + 1.0
    y_true = torch.ones(1, 1, 5, 5, 5)
    for d, v in enumerate([1, 1.5, 2, 2.5, 3]):
        y_true[:, :, d] = v
    y = Upsample("trilinear", size=(5, 5, 5))(x)
    assert y.shape == y_true.shape and y.dtype == torch.float32
    torch.testing.assert_close(y, y_true)
    assert gradtest(Upsample("trilinear", scale=(2, 2, 2)), x)


def test_pixel_shuffle():
    x = torch.arange(1, 17).reshape(1, 4, 2, 2)                           # reshape(1:16, (2, 2, 4, 1))
    y_true = torch.tensor([[1, 9, 3, 11], [5, 13, 7, 15], [2, 10, 4, 12], [6, 14, 8, 16]]).T.reshape(1, 1, 4, 4)
    y = PixelShuffle(2)(x)
    assert y.shape == y_true.shape and torch.equal(y.to(y_true.dtype), y_true)
    x = torch.arange(1, 33).reshape(1, 8, 2, 2)
    y_true = torch.stack([torch.tensor([[1, 9, 3, 11], [5, 13, 7, 15], [2, 10, 4, 12], [6, 14, 8, 16]]).T,
                          torch.tensor([[17, 25, 19, 27], [21, 29, 23, 31], [18, 26, 20, 28], [22, 30, 24, 32]]).T])
    y = PixelShuffle(2)(x)
    assert torch.equal(y.to(torch.int64), y_true.unsqueeze(0))
    x = torch.arange(1, 4 * 3 * 27 * 2 + 1).reshape(2, 27, 3, 4)
    y = PixelShuffle(3)(x)
    assert y.shape == (2, 3, 9, 12)
    torch.testing.assert_close(torch.cat([PixelShuffle(3)(x[[0]]), PixelShuffle(3)(x[[1]])]), y)  # batch kept
    g = torch.Generator().manual_seed(2)
    pick = lambda: int(torch.randint(1, 6, (), generator=g))
    for d in (1, 2, 3):
        r, n, c = pick(), pick(), pick()
        insize = [pick() for _ in range(d)]
        x = torch.rand(n, r ** d * c, *reversed(insize), dtype=F64)
        y = PixelShuffle(r)(x)
        assert y.shape == (n, c, *[r * s for s in reversed(insize)])
        assert torch.autograd.gradcheck(PixelShuffle(r), (x.requires_grad_(),))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_complex_valued(d):
    mode = {1: "bilinear", 2: "bilinear", 3: "trilinear"}[d]
    x = torch.randn(1, 1, *(12, 8, 4)[3 - d:], dtype=torch.complex64)
    for m, k in ((mode, 2), ("nearest", (2,) * d)):
        up = Upsample(m, scale=k)
        xup = up(x)
        assert xup.shape[2:] == (24, 16, 8)[3 - d:]
        assert torch.equal(xup.real, up(x.real)) and torch.equal(xup.imag, up(x.imag))
        up = Upsample(m, size=(48, 24, 8)[3 - d:])
        xup = up(x)
        assert xup.shape[2:] == (48, 24, 8)[3 - d:]
        assert torch.equal(xup.real, up(x.real)) and torch.equal(xup.imag, up(x.imag))
