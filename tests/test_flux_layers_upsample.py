"""Flux's own layer tests, translated: FluxML/Flux.jl test/layers/upsample.jl at v0.16.11
(commit 443ed1bc8c157168e4fe99a045f42014ae26def8), identical at v0.14.25 (commit
0567cb30a79e328a5077a6851ddbfe4db9b72d81). Shapes reversed (``W×H×C×N`` is ``(N, C, H, W)``),
``scale``/``size`` tuples in data order; Julia's ``:bilinear`` is ``"bilinear"``; a shorter
nearest-mode tuple covers Flux's first dims, the last ones here."""
import torch

from flux_torch import PixelShuffle, Upsample


def check(m, x, shape):
    y = m(x)
    assert y.dtype == torch.float32 and y.dim() == x.dim() and y.shape == shape
    return y


def test_upsample_bilinear():
    x = torch.rand(3, 2, 4, 3)                                   # Flux's rand(3, 4, 2, 3)
    check(Upsample("bilinear", scale=(3, 2)), x, (3, 2, 12, 6))  # scale=(2, 3) → (6, 12, 2, 3)
    check(Upsample("bilinear", scale=3), x, (3, 2, 12, 9))
    check(Upsample("bilinear", size=(6, 4)), x, (3, 2, 6, 4))


def test_upsample_trilinear():
    x = torch.rand(4, 3, 2, 4, 3)                                # Flux's rand(3, 4, 2, 3, 4)
    check(Upsample("trilinear", scale=(2, 3, 2)), x, (4, 3, 4, 12, 6))
    check(Upsample("trilinear", scale=3), x, (4, 3, 6, 12, 9))
    check(Upsample("trilinear", size=(4, 6, 4)), x, (4, 3, 4, 6, 4))


def test_upsample_nearest():
    check(Upsample("nearest", scale=(2,)), torch.rand(3, 2, 3), (3, 2, 6))
    x = torch.rand(3, 2, 4, 3)
    check(Upsample("nearest", scale=(3, 2)), x, (3, 2, 12, 6))
    check(Upsample("nearest", scale=(2,)), x, (3, 2, 4, 6))       # Flux's first dim is the last here
    y = check(Upsample("nearest", scale=2), x, (3, 2, 8, 6))
    torch.testing.assert_close(Upsample(2)(x), y)
    check(Upsample("nearest", size=(8, 6)), x, (3, 2, 8, 6))


def test_pixelshuffle():
    check(PixelShuffle(2), torch.rand(3, 18, 3), (3, 9, 6))      # Flux's (3, 18, 3) → (6, 9, 3)
    check(PixelShuffle(3), torch.rand(3, 18, 4, 3), (3, 2, 12, 9))
