"""Flux's own loss tests, translated: FluxML/Flux.jl test/losses.jl at v0.16.11 (commit
443ed1bc8c157168e4fe99a045f42014ae26def8), identical at v0.14.25 (commit
0567cb30a79e328a5077a6851ddbfe4db9b72d81) but for its imports.

Julia's ``C × N`` arrays are ``(N, C)`` here (docs/porting.md, Losses): a Julia matrix literal
is transposed, ``M'`` is ``M`` itself; ``onehotbatch`` gives ``(N, C)``. Julia's broadcast
``f.(a, b)`` over numbers is a list comprehension; ``DomainError``/``ArgumentError`` are
``ValueError``; ``dims=0`` of ``label_smoothing`` is ``dim=None``."""
import math

import pytest
import torch

import flux_torch as Flux
from flux_torch import σ
from flux_torch.losses import (binary_focal_loss, binarycrossentropy, crossentropy, dice_coeff_loss,
                               focal_loss, hinge_loss, huber_loss, kldivergence, label_smoothing,
                               logitbinarycrossentropy, logitcrossentropy, mae, mse, msle, poisson_loss,
                               siamese_contrastive_loss, squared_hinge_loss, tversky_loss, xlogx, xlogy)

f64 = torch.float64


def t(x):
    return torch.tensor(x, dtype=f64)


def approx(a, b, **kw):
    a, b = torch.as_tensor(a, dtype=f64), torch.as_tensor(b, dtype=f64)
    torch.testing.assert_close(a, b, **({"rtol": 1e-8, "atol": 1e-8} | kw))


def onehotbatch(labels, classes):
    return Flux.onehotbatch(labels, classes).to(f64)


def test_xlogx_xlogy():
    assert xlogx(0) == 0
    assert math.isnan(xlogx(float("nan")))
    approx(xlogx(2), 2.0 * math.log(2.0))
    assert xlogy(0, 1) == 0
    assert math.isnan(xlogy(float("nan"), 1)) and math.isnan(xlogy(1, float("nan")))
    assert math.isnan(xlogy(float("nan"), float("nan")))
    approx(xlogy(2, 3), 2.0 * math.log(3.0))


def test_regression_losses():
    y, ŷ = t([1, 1, 0, 0]), t([0.9, 0.1, 0.1, 0.9])
    approx(mse(ŷ, y), (0.1 ** 2 + 0.9 ** 2) / 2)
    assert mse(torch.tensor(0 + 0j), torch.tensor(1 + 1j)) == 2          # complex values
    approx(mae(ŷ, y), 1 / 2)
    approx(huber_loss(ŷ, y), 0.20500000000000002)
    approx(msle(t([345.0, 332.0, 789.0]), t([123.0, 456.0, 789.0])), 0.38813985859136585)


# one-hot y's, batch first: Flux's 2×4 arrays are (4, 2)
Y = onehotbatch([1, 1, 0, 0], [0, 1])
Y_SMOOTHED = label_smoothing(Y, 0.1)
Ŷ = t([[0.1, 0.9], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9]])                 # Flux's [.1 .9; .9 .1; …]'
V = math.log(0.1 / 0.9)
LOGŶ = t([[V, 0.0], [0.0, V], [0.0, V], [V, 0.0]])
LOSSVALUE, LOSSVALUE_SMOOTHED = 1.203972804325936, 1.2039728043259348
YL = onehotbatch([1], [0, 1])
SF = 0.1
YLS = t([[SF, 1 - SF]])                                                  # effective y after smoothing
YLP = t([[0.9, 0.1]])
LOGYLP = t([[0.0, V]])
YA = onehotbatch([1, 1, 1, 0, 0], [0, 1])
YA_SMOOTHED = label_smoothing(YA, 2 * SF)
Y_SAME = YA.float()
Y_SIM = Y_SAME * (1 - 2 * SF) + SF
Y_DIS = Y_SIM[:, [1, 0]]                                                 # Flux swaps rows 1 and 2


def test_crossentropy():
    approx(crossentropy(t([0.1, 0.0, 0.9]), t([0.1, 0.0, 0.9])), crossentropy(t([0.1, 0.9]), t([0.1, 0.9])))
    approx(crossentropy(Ŷ, Y), LOSSVALUE)
    approx(crossentropy(Ŷ, Y_SMOOTHED), LOSSVALUE_SMOOTHED)
    approx(crossentropy(YLP, label_smoothing(YL, 2 * SF)), -(YLS * torch.log(YLP)).sum())
    approx(crossentropy(YLP, YL), -(YL * torch.log(YLP)).sum())
    assert crossentropy(Y_SAME, YA, eps=0) == 0
    assert crossentropy(YA, YA, eps=0) == 0
    assert crossentropy(Y_SIM, YA) < crossentropy(Y_SIM, YA_SMOOTHED)
    assert crossentropy(Y_DIS, YA) > crossentropy(Y_DIS, YA_SMOOTHED)


def test_logitcrossentropy():
    approx(logitcrossentropy(LOGŶ, Y), LOSSVALUE)
    approx(logitcrossentropy(LOGYLP, YL), -(YL * Flux.logsoftmax(LOGYLP)).sum())
    approx(logitcrossentropy(LOGYLP, label_smoothing(YL, 2 * SF)), -(YLS * Flux.logsoftmax(LOGYLP)).sum())


def test_binarycrossentropy():
    torch.manual_seed(0)
    logŷ, y = torch.randn(3, dtype=f64), torch.rand(3, dtype=f64)
    yls = y * (1 - 2 * SF) + SF
    p = σ(logŷ)
    smoothed = label_smoothing(y, 2 * SF, dim=None)                      # Flux's dims=0
    per = [binarycrossentropy(a, b, eps=0) for a, b in zip(p, smoothed)]
    approx(torch.stack(per), -yls * torch.log(p) - (1 - yls) * torch.log(1 - p))
    approx(binarycrossentropy(p, y, eps=0), (-y * torch.log(p) - (1 - y) * torch.log(1 - p)).mean())
    eps = torch.finfo(f64).eps
    approx(binarycrossentropy(p, y), (-y * torch.log(p + eps) - (1 - y) * torch.log(1 - p + eps)).mean())
    approx(binarycrossentropy(t([0.1, 0.2, 0.9]), 1), -torch.log(t([0.1, 0.2, 0.9])).mean())   # constant label
    ls = label_smoothing(y, 0.2)
    approx(torch.stack([logitbinarycrossentropy(a, b) for a, b in zip(logŷ, ls)]),
           torch.stack([binarycrossentropy(a, b, eps=0) for a, b in zip(p, ls)]))
    approx(logitbinarycrossentropy(logŷ, y), binarycrossentropy(p, y, eps=0))


def test_label_smoothing():
    y = onehotbatch([1], [0, 1])
    assert torch.equal(label_smoothing(y, 0.2), t([[0.1, 0.9]]))
    approx(label_smoothing(y, 0.2, dim=None),
           torch.stack([label_smoothing(v, 0.2, dim=None) for v in y.flatten()]).reshape(y.shape))
    with pytest.raises(ValueError):
        label_smoothing(t([0.0, 0.0, 1.0, 0.0]), 1.2)
    with pytest.raises(ValueError):
        label_smoothing(t([0.0, 0.0, 1.0, 0.0]), 0.0)


def test_kldivergence():
    y, ŷ = t([[1], [2], [3]]), t([[4.0], [5.0], [6.0]])                 # Flux's [1 2 3], [4.0 5.0 6.0]
    approx(kldivergence(t([0.1, 0.0, 0.9]), t([0.1, 0.0, 0.9])), kldivergence(t([0.1, 0.9]), t([0.1, 0.9])))
    approx(kldivergence(ŷ, y), -1.7661057888493457)
    approx(kldivergence(y, y), 0)


def test_hinge_losses():
    y, ŷ = t([[1], [2], [3], [4]]), t([[5.0], [6.0], [7.0], [8.0]])
    approx(hinge_loss(ŷ, y), 0)
    approx(hinge_loss(y, 0.5 * y), 0.125)
    approx(squared_hinge_loss(ŷ, y), 0)
    approx(squared_hinge_loss(y, 0.5 * y), 0.0625)


def test_poisson_dice_tversky():
    y, ŷ = t([[0.1], [0.2], [0.3]]), t([[0.4], [0.5], [0.6]])
    approx(poisson_loss(ŷ, y), 0.6278353988097339)
    approx(poisson_loss(y, y), 0.5044459776946685)
    y, ŷ = t([[1.0], [0.5], [0.3], [2.4]]), t([[0], [1.4], [0.5], [1.2]])
    approx(dice_coeff_loss(ŷ, y), 0.2799999999999999)
    approx(dice_coeff_loss(y, y), 0.0)
    approx(tversky_loss(ŷ, y), -0.06772009029345383)
    approx(tversky_loss(ŷ, y, beta=0.8), -0.09490740740740744)
    approx(tversky_loss(y, y), -0.5576923076923075)


ALL_LOSSES = [mse, mae, msle, crossentropy, logitcrossentropy, binarycrossentropy,
              logitbinarycrossentropy, kldivergence, huber_loss, tversky_loss, dice_coeff_loss,
              poisson_loss, hinge_loss, squared_hinge_loss, binary_focal_loss, focal_loss,
              siamese_contrastive_loss]


@pytest.mark.parametrize("T", [torch.float32, torch.float64])
@pytest.mark.parametrize("f", ALL_LOSSES, ids=lambda f: f.__name__)
def test_no_spurious_promotions(f, T):
    y, ŷ = torch.rand(2, dtype=T), torch.rand(2, dtype=T)
    fwd, back = Flux.pullback(f, ŷ, y)
    assert fwd.dtype == T
    assert back(torch.ones((), dtype=T))[0].dtype == T


def test_binary_focal_loss():
    y = t([[0, 1], [1, 0], [0, 1]])                                       # Flux's [0 1 0; 1 0 1]
    ŷ = t([[0.268941, 0.731059], [0.5, 0.5], [0.268941, 0.731059]])
    y1, ŷ1 = t([[1, 0], [0, 1]]), t([[0.6, 0.4], [0.3, 0.7]])
    approx(binary_focal_loss(ŷ, y), 0.0728675615927385)
    approx(binary_focal_loss(ŷ1, y1), 0.05691642237852222)
    approx(binary_focal_loss(ŷ, y, gamma=0.0), binarycrossentropy(ŷ, y))


def test_focal_loss():
    y = t([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]])        # Flux's 3×5, transposed
    ŷ = Flux.softmax(torch.arange(-7, 8).reshape(5, 3).float())         # softmax(reshape(-7:7, 3, 5))
    y1, ŷ1 = t([[1, 0, 0], [0, 0, 1]]), t([[0.4, 0.5, 0.1], [0.2, 0.5, 0.3]])
    approx(focal_loss(ŷ, y), 1.1277571935622628, rtol=1e-6, atol=1e-6)
    approx(focal_loss(ŷ1, y1), 0.45990566879720157)
    approx(focal_loss(ŷ, y, gamma=0), crossentropy(ŷ, y))


def test_siamese_contrastive_loss():
    y, ŷ = t([[1, 0, 0], [0, 0, 1]]), t([[0.4, 0.5, 0.1], [0.2, 0.5, 0.3]])
    y1 = t([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]])
    ŷ1 = Flux.softmax(torch.arange(-7, 8).reshape(5, 3).float())
    y2, ŷ2 = t([1, 0, 0, 1, 1]), t([0.6, 0.4, 0.1, 0.2, 0.7])
    approx(siamese_contrastive_loss(ŷ, y), 0.2333333333333333)
    approx(siamese_contrastive_loss(ŷ, y, margin=0.5), 0.10000000000000002)
    approx(siamese_contrastive_loss(ŷ, y, margin=1.5), 0.5333333333333333)
    f32 = dict(rtol=1e-6, atol=1e-6)
    approx(siamese_contrastive_loss(ŷ1, y1), 0.32554644, **f32)
    approx(siamese_contrastive_loss(ŷ1, y1, margin=0.5), 0.16271012, **f32)
    approx(siamese_contrastive_loss(ŷ1, y1, margin=1.5), 0.6532292, **f32)
    approx(siamese_contrastive_loss(ŷ, y, margin=1), siamese_contrastive_loss(ŷ, y))
    approx(siamese_contrastive_loss(y, y), 0.0)
    approx(siamese_contrastive_loss(y1, y1), 0.0)
    approx(siamese_contrastive_loss(ŷ, y, margin=0), 0.09166666666666667)
    approx(siamese_contrastive_loss(ŷ1, y1, margin=0), 0.13161165, **f32)
    approx(siamese_contrastive_loss(ŷ2, y2), 0.21200000000000005)
    approx(siamese_contrastive_loss(ŷ2, ŷ2), 0.18800000000000003)
    with pytest.raises(ValueError, match=r"non-negative margin.*-0\.5"):     # DomainError(-0.5, …)
        siamese_contrastive_loss(ŷ1, y1, margin=-0.5)
    with pytest.raises(ValueError, match=r"non-negative margin.*-1"):
        siamese_contrastive_loss(ŷ, y, margin=-1)
