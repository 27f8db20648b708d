"""Upsample and PixelShuffle against the values in NNlib's and Flux's docstrings, Flux's
test/layers/upsample.jl (translated: Julia size (W, H, C, N) is shape (N, C, H, W), and
spatial tuples reverse), and torch.nn twins."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from flux_torch import gradient
from flux_torch.layers.upsample import PixelShuffle, Upsample

torch.manual_seed(0)


def test_docstring_reprs_and_shapes():
    m = Upsample(scale=(3, 2))                                   # Flux: scale = (2, 3)
    assert repr(m) == 'Upsample("nearest", scale=(3, 2))'
    assert m(torch.ones(1, 1, 2, 2)).shape == (1, 1, 6, 4)       # Julia (4, 6, 1, 1)
    m = Upsample("bilinear", size=(5, 4))
    assert repr(m) == 'Upsample("bilinear", size=(5, 4))'
    assert m(torch.ones(1, 1, 2, 2)).shape == (1, 1, 5, 4)
    assert repr(Upsample(2, "bilinear")) == 'Upsample("bilinear", scale=2)'
    assert repr(Upsample(":trilinear", scale=2)) == 'Upsample("trilinear", scale=2)'


def test_flux_bilinear_and_trilinear_shapes():
    x = torch.rand(3, 2, 4, 3)                                   # Julia rand(3, 4, 2, 3)
    assert Upsample("bilinear", scale=(3, 2))(x).shape == (3, 2, 12, 6)
    assert Upsample("bilinear", scale=3)(x).shape == (3, 2, 12, 9)
    assert Upsample("bilinear", size=(6, 4))(x).shape == (3, 2, 6, 4)
    x = torch.rand(4, 3, 2, 4, 3)                                # Julia rand(3, 4, 2, 3, 4)
    assert Upsample("trilinear", scale=(2, 3, 2))(x).shape == (4, 3, 4, 12, 6)
    assert Upsample("trilinear", scale=3)(x).shape == (4, 3, 6, 12, 9)
    y = Upsample("trilinear", size=(4, 6, 4))(x)
    assert y.shape == (4, 3, 4, 6, 4) and y.dtype == torch.float32


def test_flux_nearest_shapes():
    assert Upsample("nearest", scale=(2,))(torch.rand(3, 2, 3)).shape == (3, 2, 6)
    x = torch.rand(3, 2, 4, 3)                                   # Julia rand(3, 4, 2, 3)
    assert Upsample("nearest", scale=(3, 2))(x).shape == (3, 2, 12, 6)
    assert Upsample("nearest", scale=(2,))(x).shape == (3, 2, 4, 6)   # Julia's first dim = last here
    y = Upsample("nearest", scale=2)(x)
    assert y.shape == (3, 2, 8, 6)
    assert torch.equal(Upsample(2)(x), y)
    assert Upsample("nearest", size=(8, 6))(x).shape == (3, 2, 8, 6)


def test_nearest_values_nnlib_docstring():
    x = torch.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])[None, None]   # Julia [1 2 3; 4 5 6]
    julia = torch.tensor([[1, 1, 1, 2, 2, 2, 3, 3, 3], [1, 1, 1, 2, 2, 2, 3, 3, 3],
                          [4, 4, 4, 5, 5, 5, 6, 6, 6], [4, 4, 4, 5, 5, 5, 6, 6, 6]], dtype=torch.float32)
    assert torch.equal(Upsample(scale=(3, 2))(x)[0, 0], julia.T)
    assert torch.equal(Upsample(size=(9, 4))(x)[0, 0], julia.T)
    julia2 = torch.tensor([[1, 2, 3], [1, 2, 3], [4, 5, 6], [4, 5, 6]], dtype=torch.float32)
    assert torch.equal(Upsample(scale=(2,))(x)[0, 0], julia2.T)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_nearest_matches_torch(nd):
    x = torch.randn(2, 3, *(3, 4, 2)[:nd])
    scale = (2, 3, 1)[:nd]
    want = F.interpolate(x, scale_factor=scale, mode="nearest")
    assert torch.equal(Upsample(scale=scale)(x), want)


def test_bilinear_values_nnlib_docstring():
    x = torch.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])[None, None]
    julia = torch.tensor([[1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0],
                          [2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75, 4.0],
                          [3.0, 3.25, 3.5, 3.75, 4.0, 4.25, 4.5, 4.75, 5.0],
                          [4.0, 4.25, 4.5, 4.75, 5.0, 5.25, 5.5, 5.75, 6.0]])
    torch.testing.assert_close(Upsample("bilinear", scale=(3, 2))(x)[0, 0], julia.T)
    torch.testing.assert_close(Upsample("bilinear", size=(9, 4))(x)[0, 0], julia.T)
    y = Upsample("bilinear", scale=(3.5, 2.5))(x)[0, 0].T         # Julia (2.5, 3.5): 5×10
    assert y.shape == (5, 10)
    shown = [[1.0, 1.22222, 1.44444, 1.66667, 1.88889], [1.75, 1.97222, 2.19444, 2.41667, 2.63889],
             [2.5, 2.72222, 2.94444, 3.16667, 3.38889], [3.25, 3.47222, 3.69444, 3.91667, 4.13889],
             [4.0, 4.22222, 4.44444, 4.66667, 4.88889]]
    np.testing.assert_allclose(y[:, :5].numpy(), shown, atol=1e-5)
    np.testing.assert_allclose(y[:, -4:].numpy()[[0, 4]], [[2.33333, 2.55556, 2.77778, 3.0],
                                                           [5.33333, 5.55556, 5.77778, 6.0]], atol=1e-5)


def test_bilinear_gradient_matches_twin():
    x = torch.randn(2, 3, 4, 5)
    m = Upsample("bilinear", scale=2)
    t = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
    g = gradient(lambda x: (m(x) ** 2 * torch.arange(80.0).reshape(8, 10)).sum(), x)[0]
    xr = x.clone().requires_grad_()
    want = torch.autograd.grad((t(xr) ** 2 * torch.arange(80.0).reshape(8, 10)).sum(), xr)[0]
    torch.testing.assert_close(g, want)


def test_pixelshuffle_flux_docstring():
    # Julia xs = [2row + col + channel/10 for row in 1:2, col in 1:2, channel in 1:4, n in 1:1]
    r, c, ch = torch.meshgrid(torch.arange(1.0, 3), torch.arange(1.0, 3), torch.arange(1.0, 5),
                              indexing="ij")
    xj = (2 * r + c + ch / 10)[..., None]                        # Julia (2, 2, 4, 1)
    julia = torch.tensor([[3.1, 3.3, 4.1, 4.3], [3.2, 3.4, 4.2, 4.4],
                          [5.1, 5.3, 6.1, 6.3], [5.2, 5.4, 6.2, 6.4]])
    got = PixelShuffle(2)(xj.permute(3, 2, 1, 0))
    assert got.shape == (1, 1, 4, 4)
    torch.testing.assert_close(got[0, 0], julia.T)
    r, c, ch = torch.meshgrid(torch.arange(1.0, 3), torch.arange(1.0, 4), torch.arange(1.0, 5),
                              indexing="ij")
    xj = (3 * r + c + ch / 10)[..., None]                        # Julia (2, 3, 4, 1)
    julia = torch.tensor([[4.1, 4.3, 5.1, 5.3, 6.1, 6.3], [4.2, 4.4, 5.2, 5.4, 6.2, 6.4],
                          [7.1, 7.3, 8.1, 8.3, 9.1, 9.3], [7.2, 7.4, 8.2, 8.4, 9.2, 9.4]])
    torch.testing.assert_close(PixelShuffle(2)(xj.permute(3, 2, 1, 0))[0, 0], julia.T)


def test_pixelshuffle_1d_nnlib_docstring():
    i, ch = torch.meshgrid(torch.arange(1.0, 4), torch.arange(1.0, 7), indexing="ij")
    yj = (i + ch / 10)[..., None]                                # Julia (3, 6, 1)
    julia = torch.tensor([[1.1, 1.3, 1.5], [1.2, 1.4, 1.6], [2.1, 2.3, 2.5],
                          [2.2, 2.4, 2.6], [3.1, 3.3, 3.5], [3.2, 3.4, 3.6]])   # (6, 3, 1)
    got = PixelShuffle(2)(yj.permute(2, 1, 0))
    torch.testing.assert_close(got, julia[..., None].permute(2, 1, 0))


def test_pixelshuffle_shapes_and_twin():
    assert PixelShuffle(2)(torch.rand(3, 18, 3)).shape == (3, 9, 6)          # Julia (3, 18, 3)
    assert PixelShuffle(3)(torch.rand(3, 18, 4, 3)).shape == (3, 2, 12, 9)   # Julia (3, 4, 18, 3)
    assert PixelShuffle(2)(torch.rand(1, 16, 2, 3, 4)).shape == (1, 2, 4, 6, 8)
    x = torch.rand(2, 8, 3, 5)
    assert torch.equal(PixelShuffle(2)(x), nn.PixelShuffle(2)(x))
    assert repr(PixelShuffle(2)) == "PixelShuffle(2)"


def _nnlib_pixel_shuffle(xj, r):
    """NNlib.pixel_shuffle step by step, on a numpy array of Julia's size (column-major reshapes)."""
    d = xj.ndim - 2
    sizein, (cin, n) = xj.shape[:d], xj.shape[d:]
    x = xj.reshape(*sizein, *(r,) * d, cin // r ** d, n, order="F")
    perm = [v for i in range(d) for v in (d + i, i)] + [2 * d, 2 * d + 1]
    return x.transpose(perm).reshape(*(s * r for s in sizein), cin // r ** d, n, order="F")


@pytest.mark.parametrize("size", [(5,), (3, 4), (2, 3, 4)])
def test_pixelshuffle_matches_nnlib_algorithm(size):
    d = len(size)
    xj = np.random.default_rng(d).standard_normal((*size, 2 * 2 ** d, 3))   # Julia (s..., C r^d, N)
    want = _nnlib_pixel_shuffle(xj, 2)
    got = PixelShuffle(2)(torch.from_numpy(xj.transpose(*reversed(range(xj.ndim))).copy()))
    np.testing.assert_array_equal(got.numpy(), want.transpose(*reversed(range(want.ndim))))


def test_errors():
    with pytest.raises(ValueError, match="mode='bicubic' is not supported"):
        Upsample("bicubic", scale=2)
    with pytest.raises(ValueError, match="either scale or size"):
        Upsample("nearest")
    with pytest.raises(ValueError, match="either scale or size"):
        Upsample(scale=2, size=(4, 4))
    with pytest.raises(ValueError, match="divisible"):
        Upsample(size=(5, 4))(torch.rand(1, 1, 2, 2))
    with pytest.raises(ValueError, match="integer scales"):
        Upsample(scale=1.5)(torch.rand(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"3 entries"):
        Upsample("bilinear", scale=(2, 2, 2))(torch.rand(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"PixelShuffle\(2\) .* divisible by r\^d = 2\^2"):
        PixelShuffle(2)(torch.rand(1, 6, 2, 2))
    with pytest.raises(TypeError, match="positive integer"):
        PixelShuffle(0)
