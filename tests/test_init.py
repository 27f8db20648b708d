"""Initialisers: Flux's formulas checked statistically (fixed generator, large sizes),
Flux's doc values, torch.nn.init's fan convention, and Flux's calling conventions."""
import math

import numpy as np
import pytest
import torch
from torch.nn.init import _calculate_fan_in_and_fan_out

from flux_torch.init import (
    create_bias, glorot_normal, glorot_uniform, identity_init, kaiming_normal,
    kaiming_uniform, lecun_normal, nfan, ones32, orthogonal, rand32, randn32,
    sparse_init, truncated_normal, zeros32,
)

RANDOM = [glorot_uniform, glorot_normal, kaiming_uniform, kaiming_normal, truncated_normal,
          lecun_normal, orthogonal, rand32, randn32]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_nfan_flux_docs_and_torch_convention():
    assert nfan(20, 10) == (10, 20)            # Flux.nfan(size(Dense(10, 20).weight))
    assert nfan(10, 2, 3, 3) == (18, 90)       # Flux.nfan(size(Conv((3,3), 2=>10).weight))
    assert nfan() == (1, 1) and nfan(7) == (1, 7) and nfan((20, 10)) == (10, 20)
    for shape in [(20, 10), (10, 2, 3, 3), (4, 3, 5), (6, 2, 3, 3, 3)]:
        assert nfan(*shape) == _calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("init", RANDOM)
def test_float32_plain_reproducible(init):
    a = init(30, 20, rng=gen(3))
    assert a.dtype == torch.float32 and a.shape == (30, 20) and not a.requires_grad
    assert torch.equal(a, init(30, 20, rng=gen(3)))          # same generator state, same draw
    assert torch.equal(a, init(gen(3), 30, 20))               # Flux's init(rng, dims...)
    assert torch.equal(a, init(gen(3))(30, 20))               # Flux's init(rng) -> function
    assert not torch.equal(a, init(30, 20, rng=gen(4)))
    torch.manual_seed(5)
    b = init(30, 20)
    torch.manual_seed(5)
    assert torch.equal(b, init((30, 20)))                     # global generator, tuple size


@pytest.mark.parametrize("shape", [(200, 300), (64, 32, 3, 3)])
def test_glorot_uniform(shape):
    fi, fo = nfan(*shape)
    for gain in (1, 2.5):
        w = glorot_uniform(*shape, gain=gain, rng=gen())
        bound = gain * math.sqrt(6 / (fi + fo))
        assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound
        assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.01)
        assert abs(w.mean().item()) < 0.01 * bound


def test_glorot_uniform_flux_doc_extrema():
    for shape, ext in [((10, 100), 0.233), ((100, 10), 0.233), ((100, 100), 0.173)]:
        w = glorot_uniform(*shape, rng=gen())
        assert w.max().item() == pytest.approx(ext, abs=1.5e-3)     # Flux shows ±0.233/0.234
        assert -w.min().item() == pytest.approx(ext, abs=1.5e-3)


def test_glorot_normal():
    # Flux docs: std ≈ 0.044, 0.045, 0.032; Dense(10 => 1000; init=glorot_normal(gain=100)) ≈ 4.45
    for shape, std in [((10, 1000), 0.0445), ((1000, 10), 0.0445), ((1000, 1000), 0.0316)]:
        assert glorot_normal(*shape, rng=gen()).std().item() == pytest.approx(std, rel=0.02)
    w = glorot_normal(gain=100)(1000, 10)
    assert w.std().item() == pytest.approx(100 * math.sqrt(2 / 1010), rel=0.02)
    w = glorot_normal(64, 32, 3, 3, rng=gen())
    assert w.std().item() == pytest.approx(math.sqrt(2 / (9 * 96)), rel=0.01)


def test_kaiming_uniform():
    # Flux docs: extrema ±0.774 for (100, 10), ±0.245 for (10, 100) and (100, 100)
    for shape in [(100, 10), (10, 100), (100, 100), (64, 32, 3, 3)]:
        w = kaiming_uniform(*shape, rng=gen())
        bound = math.sqrt(2) * math.sqrt(3 / nfan(*shape)[0])
        assert w.abs().max() <= bound and w.abs().max() > 0.98 * bound
    assert kaiming_uniform(100, 10, rng=gen()).max().item() == pytest.approx(0.774, abs=2e-3)
    w = kaiming_uniform(500, 400, gain=1, rng=gen())
    ref = torch.empty(500, 400).uniform_(-math.sqrt(3 / 400), math.sqrt(3 / 400))  # nn.init twin
    assert w.std().item() == pytest.approx(ref.std().item(), rel=0.01)


def test_kaiming_normal():
    # Flux docs: std ≈ 0.044, 0.45, 0.045
    for shape, std in [((10, 1000), 0.0447), ((1000, 10), 0.447), ((1000, 1000), 0.0447)]:
        assert kaiming_normal(*shape, rng=gen()).std().item() == pytest.approx(std, rel=0.02)
    w = kaiming_normal(64, 32, 3, 3, rng=gen())
    torch_std = torch.nn.init.kaiming_normal_(torch.empty(64, 32, 3, 3), nonlinearity="relu").std()
    assert w.std().item() == pytest.approx(math.sqrt(2 / 288), rel=0.01)
    assert w.std().item() == pytest.approx(torch_std.item(), rel=0.02)
    assert kaiming_normal(gain=3.0)(1000, 100).std().item() == pytest.approx(0.3, rel=0.02)


def _truncated_std(a, b):
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    Z = 0.5 * (math.erf(b / math.sqrt(2)) - math.erf(a / math.sqrt(2)))
    return math.sqrt(1 + (a * phi(a) - b * phi(b)) / Z - ((phi(a) - phi(b)) / Z) ** 2)


def test_truncated_normal():
    w = truncated_normal(10 ** 6, rng=gen())
    assert round(w.min().item(), 3) == -2.0 and round(w.max().item(), 3) == 2.0   # Flux docs
    assert w.std().item() == pytest.approx(_truncated_std(-2, 2), rel=0.005)
    assert truncated_normal(10 ** 6, lo=-100, hi=100, rng=gen()).std().item() == pytest.approx(1, rel=0.005)
    w = truncated_normal(10 ** 6, mean=1, std=0.5, lo=0, hi=1.5, rng=gen())
    assert w.min() >= 0 and w.max() <= 1.5
    assert w.std().item() == pytest.approx(0.5 * _truncated_std(-2, 1), rel=0.005)
    with pytest.warns(UserWarning, match="more than 2 std"):
        truncated_normal(10, mean=10)


def test_lecun_normal():
    # Flux docs: std ≈ 0.032, 0.32, 0.032; lo/hi stay at ±2, not scaled by std
    for shape, std in [((10, 1000), 0.0316), ((1000, 10), 0.316), ((1000, 1000), 0.0316)]:
        assert lecun_normal(*shape, rng=gen()).std().item() == pytest.approx(std, rel=0.02)
    w = lecun_normal(1000, 1, gain=2, rng=gen())
    assert w.abs().max() <= 2.0 and w.abs().max() > 1.5


def test_orthogonal():
    I = torch.eye
    W = orthogonal(5, 7, rng=gen())
    torch.testing.assert_close(W @ W.T, I(5), atol=1e-5, rtol=0)
    W2 = orthogonal(7, 5, rng=gen())
    torch.testing.assert_close(W2.T @ W2, I(5), atol=1e-5, rtol=0)
    assert not torch.allclose(W2 @ W2.T, I(7), atol=1e-3)
    W3 = orthogonal(4, 2, 3, 3, rng=gen())                 # Flux's orthogonal(3, 3, 2, 4), reversed
    M = W3.reshape(4, -1)
    torch.testing.assert_close(M @ M.T, I(4), atol=1e-5, rtol=0)
    W4 = orthogonal(6, 6, gain=3.0, rng=gen())
    torch.testing.assert_close(W4 @ W4.T, 9 * I(6), atol=1e-4, rtol=0)
    v = orthogonal(5, gain=2.0, rng=gen())                  # issue 11 §2: Flux gives a vector
    assert v.shape == (5,) and abs(float(v.norm()) - 2.0) < 1e-5


def test_sparse_init():
    assert int((sparse_init(10, 10, sparsity=1 / 5, rng=gen()) == 0).sum()) == 20   # Flux docs
    z = (sparse_init(10, 11, sparsity=0.9) == 0).sum(dim=0)
    assert z.tolist() == [9] * 11
    w = sparse_init(10, 3, sparsity=0.5)                     # Dense(3 => 10) weight
    assert (w == 0).sum(dim=0).tolist() == [5, 5, 5]
    w = sparse_init(1000, 200, sparsity=0.3, std=0.5, rng=gen())
    assert w[w != 0].std().item() == pytest.approx(0.5, rel=0.01)
    rows_with_zero = (w == 0).any(dim=1).sum().item()
    assert rows_with_zero > 900                              # zeros are shuffled within columns
    assert sparse_init(4, 4, sparsity=2.0).count_nonzero() == 0
    assert int((sparse_init(100, 100, sparsity=-0.1) == 0).sum()) == 0     # issue 11 §2: none
    with pytest.raises(ValueError, match="2-dimensional"):
        sparse_init(3, 4, 5, sparsity=0.1)
    with pytest.raises(TypeError, match="sparsity="):
        sparse_init(3, 4)


def test_identity_init_flux_doc_examples():
    torch.testing.assert_close(identity_init(3, 5), torch.eye(3, 5))
    # Dense(5 => 3, relu, init=identity_init)([1,-2,3,-4,5]) == [1, 0, 3]
    y = torch.relu(identity_init(3, 5) @ torch.tensor([1.0, -2, 3, -4, 5]))
    assert y.tolist() == [1.0, 0.0, 3.0]
    # identity_init(3,3,2; gain=100) is Julia (k=3, in=3, out=2); torch order (2, 3, 3)
    w = identity_init(2, 3, 3, gain=100)
    ref = torch.zeros(2, 3, 3)
    ref[0, 0, 1] = ref[1, 1, 1] = 100
    torch.testing.assert_close(w, ref)
    assert torch.equal(identity_init(4), torch.zeros(4))
    assert torch.equal(identity_init(3, 3, shift=1), torch.roll(torch.eye(3), 1, 0))
    assert torch.equal(identity_init(3, 4, shift=(1, 2)), torch.roll(torch.eye(3, 4), (1, 2), (0, 1)))
    assert torch.equal(identity_init(gen(), 3, 3), torch.eye(3))          # rng ignored


def test_identity_init_is_identity_convolution():
    x = torch.randn(2, 3, 7, 7)
    w = identity_init(3, 3, 3, 3)
    torch.testing.assert_close(torch.nn.functional.conv2d(x, w, padding=1), x)
    # Flux doc: Conv((2,2), 1 => 1, init=identity_init(gain=10), pad=SamePad()) scales by 10;
    # an even kernel's SamePad() puts the extra element first, (1, 0) on each spatial dim, as
    # Flux does (docs/porting.md), so the tap sits at index k // 2.
    w = identity_init(3, 3, 2, 2, gain=10)
    xp = torch.nn.functional.pad(x, (1, 0, 1, 0))
    torch.testing.assert_close(torch.nn.functional.conv2d(xp, w), 10 * x)


def test_constant_and_plain_random():
    assert torch.equal(zeros32(2, 3), torch.zeros(2, 3)) and zeros32(2).dtype == torch.float32
    assert torch.equal(ones32((2, 3)), torch.ones(2, 3)) and zeros32().shape == ()
    assert torch.equal(zeros32(2, rng=gen()), torch.zeros(2))
    u = rand32(10 ** 5, rng=gen())
    assert u.min() >= 0 and u.max() < 1 and u.mean().item() == pytest.approx(0.5, abs=0.01)
    n = randn32(10 ** 5, rng=gen())
    assert n.std().item() == pytest.approx(1, rel=0.01)


def test_partial_application():
    f = glorot_uniform(gain=2)
    assert repr(f) == "glorot_uniform(gain=2)"
    w = f(100, 100)
    assert w.abs().max() > math.sqrt(6 / 200) and w.abs().max() <= 2 * math.sqrt(6 / 200)
    assert callable(glorot_uniform()) and callable(kaiming_normal(gain=1.0))
    g = kaiming_uniform(rng=gen(), gain=1)
    assert torch.equal(g(20, 10), kaiming_uniform(20, 10, gain=1, rng=gen()))
    h = truncated_normal(std=0.1)
    assert h(10 ** 4, std=1.0).std().item() > 0.5             # call keywords override
    assert sparse_init(sparsity=0.5)(10, 3).eq(0).sum().item() == 15


def test_bad_arguments():
    with pytest.raises(TypeError, match="integers"):
        glorot_uniform(2.5, 3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'gian'"):
        glorot_uniform(2, 3, gian=2)
    with pytest.raises(TypeError, match="both"):
        glorot_uniform(gen(), 2, 3, rng=gen())


def test_create_bias():
    w = torch.ones(3, 2, dtype=torch.float64)
    b = create_bias(w, True, 3)
    assert torch.equal(b, torch.zeros(3, dtype=torch.float64)) and b.device == w.device
    assert create_bias(w, False, 3) is None
    assert create_bias(w, np.bool_(False), 3) is None
    b = create_bias(w, torch.tensor([1.0, 2.0, 3.0]), 3)
    assert b.dtype == torch.float64 and b.tolist() == [1.0, 2.0, 3.0]
    assert create_bias(w, np.arange(3), 3).dtype == torch.float64
    same = torch.zeros(3, dtype=torch.float64)
    assert create_bias(w, same, 3) is same
    with pytest.raises(ValueError, match=r"expected a bias of shape \(3,\), but got shape \(4,\)"):
        create_bias(w, torch.zeros(4), 3)


def test_identity_init_even_kernel_conv_samepad_is_identity():
    # Flux doc: x4 = cat([1 2 3; 4 5 6; 7 8 9]; dims=4)
    # Conv((2,2), 1 => 1, init=Flux.identity_init(gain=10), pad=SamePad())(x4) == 10 .* x4
    from flux_torch import Conv, SamePad
    x4 = torch.tensor([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]).T.reshape(1, 1, 3, 3)
    y = Conv((2, 2), 1, 1, init=identity_init(gain=10), pad=SamePad())(x4)
    torch.testing.assert_close(y, 10 * x4)
    y3 = Conv((3, 3), 1, 1, init=identity_init(gain=10), pad=SamePad())(x4)
    torch.testing.assert_close(y3, 10 * x4)
