"""flux_torch.losses against oracles: the values in Flux's docstrings and
test/losses.jl (v0.14; Julia matrices transposed to batch-first), their
torch.nn.functional twins, and finite-difference gradients in float64."""
import builtins
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from flux_torch import losses as L

f64 = torch.float64


def t(x):
    return torch.tensor(x, dtype=f64)


# ---------------------------------------------------------------- Flux values

def test_flux_regression_values():
    y, ŷ = [1, 1, 0, 0], t([0.9, 0.1, 0.1, 0.9])
    assert L.mse(ŷ, y).item() == pytest.approx((0.1 ** 2 + 0.9 ** 2) / 2)
    assert L.mae(ŷ, y).item() == pytest.approx(0.5)
    assert L.huber_loss(ŷ, y).item() == pytest.approx(0.20500000000000002)
    assert L.msle(t([345.0, 332.0, 789.0]), t([123.0, 456.0, 789.0])).item() == \
        pytest.approx(0.38813985859136585)
    assert L.mse(complex(0, 0), complex(1, 1)).item() == 2
    # docstring examples
    assert L.mae(t([1.1, 1.9, 3.1]), [1, 2, 3]).item() == pytest.approx(0.10000000000000009)
    assert L.mse(t([1.1, 1.9, 3.1]), [1, 2, 3]).item() == pytest.approx(0.010000000000000018)
    assert L.msle(torch.tensor([1.1, 2.2, 3.3]), [1, 2, 3]).item() == pytest.approx(0.009084041, rel=1e-5)
    assert L.msle(torch.tensor([0.9, 1.8, 2.7]), [1, 2, 3]).item() == pytest.approx(0.011100831, rel=1e-5)
    assert L.huber_loss(t([1.1, 2.1, 3.1]), [1, 2, 3]).item() == pytest.approx(0.005000000000000009)
    assert L.huber_loss(t([1.1, 2.1, 3.1]), [1, 2, 3], delta=0.05).item() == \
        pytest.approx(0.003750000000000005)
    assert L.poisson_loss(t([1, 3, 3]), [1, 2, 3]).item() == pytest.approx(0.5023128522198171)
    # Julia 1×3 row vectors become (3, 1) columns
    y, ŷ = t([[0.1], [0.2], [0.3]]), t([[0.4], [0.5], [0.6]])
    assert L.poisson_loss(ŷ, y).item() == pytest.approx(0.6278353988097339)
    assert L.poisson_loss(y, y).item() == pytest.approx(0.5044459776946685)


def _flux_onehot_case():
    # y = onehotbatch([1, 1, 0, 0], 0:1) is 2×4 in Julia: (4, 2) here
    y = t([[0, 1], [0, 1], [1, 0], [1, 0]])
    ŷ = t([[0.1, 0.9], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9]])
    v = math.log(0.1 / 0.9)
    logŷ = t([[v, 0.0], [0.0, v], [0.0, v], [v, 0.0]])
    return y, ŷ, logŷ


def test_flux_crossentropy_values():
    y, ŷ, logŷ = _flux_onehot_case()
    assert L.crossentropy(ŷ, y).item() == pytest.approx(1.203972804325936)
    assert L.crossentropy(ŷ, L.label_smoothing(y, 0.1)).item() == pytest.approx(1.2039728043259348)
    assert L.logitcrossentropy(logŷ, y).item() == pytest.approx(1.203972804325936)
    assert L.crossentropy(t([0.1, 0.0, 0.9]), t([0.1, 0.0, 0.9])).item() == \
        pytest.approx(L.crossentropy(t([0.1, 0.9]), t([0.1, 0.9])).item())
    yl, ylp = t([[1, 0]]), t([[0.9, 0.1]])
    assert L.crossentropy(ylp, yl).item() == pytest.approx(-math.log(0.9))
    assert L.crossentropy(ylp, L.label_smoothing(yl, 0.2)).item() == \
        pytest.approx(-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))
    ya = t([[0, 1], [0, 1], [0, 1], [1, 0], [1, 0]])
    y_sim = ya * 0.8 + 0.1
    y_dis = y_sim.flip(-1)
    assert L.crossentropy(ya, ya, eps=0).item() == 0
    assert L.crossentropy(y_sim, ya) < L.crossentropy(y_sim, L.label_smoothing(ya, 0.2))
    assert L.crossentropy(y_dis, ya) > L.crossentropy(y_dis, L.label_smoothing(ya, 0.2))
    # docstring examples (Float32)
    y_label = torch.eye(3)[[0, 1, 2, 1, 0]]
    y_model = torch.softmax(torch.arange(-7.0, 8.0).reshape(5, 3), dim=-1)
    assert L.crossentropy(y_model, y_label).item() == pytest.approx(1.6076053, rel=1e-6)
    assert L.crossentropy(y_model, y_label, agg=sum).item() == pytest.approx(5 * 1.6076053, rel=1e-6)
    assert L.crossentropy(y_model, L.label_smoothing(y_label, 0.15)).item() == pytest.approx(1.5776052, rel=1e-6)
    logits = torch.cat([torch.arange(-9.0, 1), torch.arange(0.0, 10), torch.tensor([7.5])]).reshape(7, 3)
    y_label = torch.eye(3)[[0, 1, 2, 0, 1, 0, 0]]
    assert L.logitcrossentropy(logits, y_label).item() == pytest.approx(1.5791205, rel=1e-6)
    assert L.crossentropy(torch.softmax(logits, -1), y_label).item() == pytest.approx(1.5791197, rel=1e-6)


def test_flux_binary_values():
    y_prob = torch.softmax(torch.tensor([1.0, 2, 3, 3, 4, 5]).reshape(3, 2), dim=-1)
    y_bin = [True, False, True]
    assert L.binarycrossentropy(y_prob[:, 1], y_bin).item() == pytest.approx(0.43989, rel=1e-5)
    assert L.crossentropy(y_prob, F.one_hot(torch.tensor([1, 0, 1]), 2)).item() == pytest.approx(0.43989, rel=1e-5)
    assert L.logitbinarycrossentropy(torch.tensor([2.0, -1.0, math.pi]), y_bin).item() == \
        pytest.approx(0.160832, rel=1e-5)
    p = t([0.1, 0.2, 0.9])
    assert L.binarycrossentropy(p, 1).item() == pytest.approx(-np.mean(np.log([0.1, 0.2, 0.9])))
    hy, hp = [1, -1, 1, 1], [0.1, 0.3, 1, 1.5]
    assert L.hinge_loss(hp, hy).item() == pytest.approx(0.55)
    assert L.squared_hinge_loss(hp, hy).item() == pytest.approx(0.625)
    assert L.hinge_loss(0.1, 1).item() != 0 and L.hinge_loss(1.5, 1).item() == 0
    y, ŷ = t([[1], [2], [3], [4]]), t([[5.0], [6.0], [7.0], [8.0]])
    assert L.hinge_loss(ŷ, y).item() == 0 and L.squared_hinge_loss(ŷ, y).item() == 0
    assert L.hinge_loss(y, 0.5 * y).item() == pytest.approx(0.125)
    assert L.squared_hinge_loss(y, 0.5 * y).item() == pytest.approx(0.0625)


def test_flux_focal_values():
    y = t([[0, 1], [1, 0], [0, 1]])
    ŷ = t([[0.268941, 0.731059], [0.5, 0.5], [0.268941, 0.731059]])
    assert L.binary_focal_loss(ŷ, y).item() == pytest.approx(0.0728675615927385)
    assert L.binary_focal_loss(t([[0.6, 0.4], [0.3, 0.7]]), t([[1, 0], [0, 1]])).item() == \
        pytest.approx(0.05691642237852222)
    assert L.binary_focal_loss(ŷ, y, gamma=0.0).item() == pytest.approx(L.binarycrossentropy(ŷ, y).item())
    y = torch.eye(3)[[0, 1, 2, 1, 0]]
    ŷ = torch.softmax(torch.arange(-7.0, 8.0).reshape(5, 3), dim=-1)
    # Flux's test compares this Float32 result with ≈ (rtol = sqrt(eps(Float32)))
    assert L.focal_loss(ŷ, y).item() == pytest.approx(1.1277571935622628, rel=1e-5)
    assert L.focal_loss(ŷ, y, γ=0).item() == pytest.approx(L.crossentropy(ŷ, y).item())
    assert L.focal_loss(t([[0.4, 0.5, 0.1], [0.2, 0.5, 0.3]]), t([[1, 0, 0], [0, 0, 1]])).item() == \
        pytest.approx(0.45990566879720157)


def test_flux_kldivergence_values():
    assert L.kldivergence(t([[4.0], [5.0], [6.0]]), t([[1], [2], [3]])).item() == \
        pytest.approx(-1.7661057888493457)
    assert L.kldivergence(t([[1], [2], [3]]), t([[1], [2], [3]])).item() == pytest.approx(0, abs=1e-12)
    assert L.kldivergence(t([0.1, 0.0, 0.9]), t([0.1, 0.0, 0.9])).item() == \
        pytest.approx(L.kldivergence(t([0.1, 0.9]), t([0.1, 0.9])).item())
    p1, p2 = t([[1, 0], [0, 1]]), torch.full((2, 2), 0.5, dtype=f64)
    assert L.kldivergence(p2, p1).item() == pytest.approx(math.log(2))
    assert L.kldivergence(p2, p1, agg=sum).item() == pytest.approx(2 * math.log(2))
    assert L.kldivergence(p2, p2, eps=0).item() == 0
    assert L.kldivergence(p1, p2, eps=0).item() == math.inf


def test_flux_segmentation_and_contrastive_values():
    y, ŷ = t([[1.0], [0.5], [0.3], [2.4]]), t([[0], [1.4], [0.5], [1.2]])
    assert L.dice_coeff_loss(ŷ, y).item() == pytest.approx(0.2799999999999999)
    assert L.dice_coeff_loss(y, y).item() == pytest.approx(0.0, abs=1e-15)
    assert L.dice_coeff_loss(t([1.1, 2.1, 3.1]), [1, 2, 3]).item() == pytest.approx(0.000992391663909964)
    assert L.tversky_loss(ŷ, y).item() == pytest.approx(-0.06772009029345383)
    assert L.tversky_loss(ŷ, y, beta=0.8).item() == pytest.approx(-0.09490740740740744)
    assert L.tversky_loss(ŷ, y, β=0.8).item() == pytest.approx(-0.09490740740740744)
    assert L.tversky_loss(y, y).item() == pytest.approx(-0.5576923076923075)

    S = L.siamese_contrastive_loss
    y, ŷ = t([[1, 0, 0], [0, 0, 1]]), t([[0.4, 0.5, 0.1], [0.2, 0.5, 0.3]])
    y1 = torch.eye(3)[[0, 1, 2, 1, 0]]
    ŷ1 = torch.softmax(torch.arange(-7.0, 8.0).reshape(5, 3), dim=-1)
    y2, ŷ2 = t([1, 0, 0, 1, 1]), t([0.6, 0.4, 0.1, 0.2, 0.7])
    assert S(ŷ, y).item() == pytest.approx(0.2333333333333333)
    assert S(ŷ, y, margin=0.5).item() == pytest.approx(0.10000000000000002)
    assert S(ŷ, y, margin=1.5).item() == pytest.approx(0.5333333333333333)
    assert S(ŷ, y, margin=0).item() == pytest.approx(0.09166666666666667)
    assert S(ŷ1, y1).item() == pytest.approx(0.32554644, rel=1e-6)
    assert S(ŷ1, y1, margin=0.5).item() == pytest.approx(0.16271012, rel=1e-6)
    assert S(ŷ1, y1, margin=1.5).item() == pytest.approx(0.6532292, rel=1e-6)
    assert S(ŷ1, y1, margin=0).item() == pytest.approx(0.13161165, rel=1e-6)
    assert S(ŷ2, y2).item() == pytest.approx(0.21200000000000005)
    assert S(ŷ2, ŷ2).item() == pytest.approx(0.18800000000000003)
    assert S(y, y).item() == 0 and S(y1, y1).item() == 0
    assert S(t([0.5, 1.5, 2.5]), [1, 2, 3]).item() == pytest.approx(-4.833333333333333)
    assert S(t([0.5, 1.5, 2.5]), [1, 2, 3], margin=2).item() == pytest.approx(-4.0)
    with pytest.raises(ValueError, match="siamese_contrastive_loss.*non-negative.*-0.5"):
        S(ŷ1, y1, margin=-0.5)


def test_flux_label_smoothing():
    y = t([[0, 1]])
    assert torch.equal(L.label_smoothing(y, 0.2), t([[0.1, 0.9]]))
    assert torch.equal(L.label_smoothing(y, 0.2, dim=None), y * 0.8 + 0.1)
    assert torch.equal(L.label_smoothing(y, alpha=0.2), L.label_smoothing(y, α=0.2))
    assert L.label_smoothing(torch.tensor([[True, False]]), 0.2).dtype == torch.get_default_dtype()
    for bad in (1.2, 0.0):
        with pytest.raises(ValueError, match="label_smoothing.*0 < α < 1"):
            L.label_smoothing([0.0, 0.0, 1.0, 0.0], bad)
    with pytest.raises(TypeError, match=r"dims=0 .*is dim=None"):
        L.label_smoothing(y, 0.2, dims=0)


# ----------------------------------------------------- torch.nn.functional twins

def _data(n=6, c=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, generator=g, dtype=f64)
    target = torch.softmax(torch.randn(n, c, generator=g, dtype=f64), -1)
    return logits, target


def test_regression_twins():
    a, b = _data()
    assert torch.allclose(L.mse(a, b), F.mse_loss(a, b))
    assert torch.allclose(L.mse(a, b, agg=torch.sum), F.mse_loss(a, b, reduction="sum"))
    assert torch.allclose(L.mae(a, b), F.l1_loss(a, b))
    for d in (1.0, 0.3):
        assert torch.allclose(L.huber_loss(a, b, δ=d), F.huber_loss(a, b, delta=d))
        assert torch.allclose(L.huber_loss(a, b, delta=d, agg=lambda x: x),
                              F.huber_loss(a, b, delta=d, reduction="none"))
    rate, counts = a.exp(), torch.poisson(b * 5)
    assert torch.allclose(L.poisson_loss(rate, counts),
                          F.poisson_nll_loss(rate, counts, log_input=False, full=False, eps=0.0))


def test_classification_twins():
    logits, target = _data()
    ref = F.cross_entropy(logits, target)
    assert torch.allclose(L.logitcrossentropy(logits, target), ref)
    assert torch.allclose(L.crossentropy(torch.softmax(logits, -1), target, eps=0), ref)
    per = L.logitcrossentropy(logits, target, agg=lambda x: x)
    assert per.shape == (6, 1)  # Flux keeps the class dim: 1×N there, (N, 1) here
    assert torch.allclose(per[:, 0], F.cross_entropy(logits, target, reduction="none"))
    # class dim elsewhere (NCHW-style): dim=1
    x4, y4 = logits.reshape(2, 3, 4).transpose(1, 2), target.reshape(2, 3, 4).transpose(1, 2)
    assert torch.allclose(L.logitcrossentropy(x4, y4, dim=1, agg=lambda x: x).squeeze(1),
                          F.cross_entropy(x4, y4, reduction="none"))
    q = torch.softmax(logits, -1)
    assert torch.allclose(L.kldivergence(q, target, eps=0),
                          F.kl_div(q.log(), target, reduction="batchmean"))


def test_binary_twins():
    logits, target = _data()
    p = torch.sigmoid(logits)
    assert torch.allclose(L.binarycrossentropy(p, target, ϵ=0), F.binary_cross_entropy(p, target))
    assert torch.allclose(L.logitbinarycrossentropy(logits, target),
                          F.binary_cross_entropy_with_logits(logits, target))
    assert torch.allclose(L.logitbinarycrossentropy(logits, target, agg=sum),
                          F.binary_cross_entropy_with_logits(logits, target, reduction="sum"))


def test_epsilon_default_is_machine_epsilon():
    ŷ, y = torch.tensor([0.2, 0.7]), torch.tensor([1.0, 0.0])
    e = torch.finfo(torch.float32).eps
    ref = (-(y * torch.log(ŷ + e)) - (1 - y) * torch.log(1 - ŷ + e)).mean()
    assert L.binarycrossentropy(ŷ, y) == ref
    assert L.binarycrossentropy(ŷ, y, epsilon=e) == ref
    with pytest.raises(TypeError, match="both eps= and (ε|ϵ)="):
        L.binarycrossentropy(ŷ, y, eps=0.1, ϵ=0.1)


# ------------------------------------------------------- gradients, dtypes, I/O

GRAD_CASES = {
    "mae": lambda a, b: L.mae(a, b),
    "mse": lambda a, b: L.mse(a, b),
    "msle": lambda a, b: L.msle(a.exp(), b),
    "huber_loss": lambda a, b: L.huber_loss(a, b, delta=0.5),
    "poisson_loss": lambda a, b: L.poisson_loss(a.exp(), b),
    "crossentropy": lambda a, b: L.crossentropy(torch.softmax(a, -1), b),
    "logitcrossentropy": lambda a, b: L.logitcrossentropy(a, b, agg=torch.sum),
    "kldivergence": lambda a, b: L.kldivergence(torch.softmax(a, -1), b),
    "focal_loss": lambda a, b: L.focal_loss(torch.softmax(a, -1), b, gamma=1.5),
    "binarycrossentropy": lambda a, b: L.binarycrossentropy(torch.sigmoid(a), b),
    "logitbinarycrossentropy": lambda a, b: L.logitbinarycrossentropy(a, b),
    "binary_focal_loss": lambda a, b: L.binary_focal_loss(torch.sigmoid(a), b),
    "hinge_loss": lambda a, b: L.hinge_loss(a, 2 * b - 0.5),
    "squared_hinge_loss": lambda a, b: L.squared_hinge_loss(a, 2 * b - 0.5),
    "dice_coeff_loss": lambda a, b: L.dice_coeff_loss(a, b),
    "tversky_loss": lambda a, b: L.tversky_loss(torch.sigmoid(a), b),
    "siamese_contrastive_loss": lambda a, b: L.siamese_contrastive_loss(a.abs(), b.round()),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_finite_differences(name):
    a, b = _data(seed=1)
    a.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: GRAD_CASES[name](x, b), (a,))
    b = b.clone().requires_grad_(True)  # gradient w.r.t. the labels too
    if name not in ("hinge_loss", "squared_hinge_loss", "siamese_contrastive_loss"):
        assert torch.autograd.gradcheck(lambda z: GRAD_CASES[name](a.detach(), z), (b,))


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
@pytest.mark.parametrize("dtype", [torch.float32, f64])
def test_no_spurious_promotion(name, dtype):
    a, b = (x.to(dtype) for x in _data(seed=2))
    a.requires_grad_(True)
    out = GRAD_CASES[name](a, b)
    assert out.dim() == 0 and out.dtype == dtype and out.requires_grad
    (g,) = torch.autograd.grad(out, a)
    assert g.dtype == dtype


def test_inputs_lists_numpy_and_ints():
    ref = L.mse(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0]))
    assert L.mse([1, 2], [0, 0]) == ref
    assert L.mse(np.array([1.0, 2.0], dtype=np.float32), np.zeros(2, dtype=np.float32)) == ref
    assert L.mse([1, 2], [0, 0]).dtype == torch.get_default_dtype()
    assert L.mse(np.array([1.0, 2.0]), [0, 0]).dtype == f64
    assert L.mse([1, 2], np.zeros(2)).dtype == f64  # integer ŷ follows a float y


def test_agg_variants():
    logits, target = _data()
    s = L.logitcrossentropy(logits, target, agg=torch.sum)
    assert torch.equal(L.logitcrossentropy(logits, target, agg=builtins.sum), s)
    assert torch.equal(L.logitcrossentropy(logits, target, agg=np.sum), s)
    assert torch.allclose(L.logitcrossentropy(logits, target, agg=np.mean), s / 6)
    assert L.mse(logits, target, agg=lambda x: x).shape == (6, 4)
    with pytest.raises(TypeError, match="mse expects agg to be a function"):
        L.mse(logits, target, agg="mean")


# ------------------------------------------------------------------- errors

def test_size_check_follows_flux():
    # Julia (3,) vs (3, 1) passes: leading 1s here
    assert torch.allclose(L.mse(torch.ones(3), torch.zeros(1, 3)), torch.tensor(1.0))
    with pytest.raises(ValueError, match=r"mse\(ŷ, y\).*\(2, 3\).*\(3, 2\).*y\.T"):
        L.mse(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"crossentropy.*\(4, 3\).*\(4,\).*class indices.*one_hot"):
        L.crossentropy(torch.full((4, 3), 1 / 3), torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"binarycrossentropy.*\(3, 1\).*\(3,\)"):
        L.binarycrossentropy(torch.rand(3, 1), torch.rand(3))
    with pytest.raises(ValueError, match="dice_coeff_loss"):
        L.dice_coeff_loss(torch.rand(2), torch.rand(3))


@pytest.mark.parametrize("fn", [L.crossentropy, L.logitcrossentropy, L.kldivergence, L.focal_loss])
def test_dims_keyword_is_explained(fn):
    with pytest.raises(TypeError, match=r"dims=1.*dim=-1"):
        fn(torch.full((2, 2), 0.5), torch.eye(2), dims=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
        fn(torch.full((2, 2), 0.5), torch.eye(2), axis=1)


def test_xlogx_xlogy_follow_flux():
    assert L.xlogx(0.0).item() == 0 and math.isnan(L.xlogx(math.nan).item())
    assert L.xlogx(2.0).item() == pytest.approx(2 * math.log(2))
    assert L.xlogy(0, 1).item() == 0 and L.xlogy(0.0, math.nan).item() == 0
    assert math.isnan(L.xlogy(math.nan, 1).item()) and math.isnan(L.xlogy(1, math.nan).item())
    assert L.xlogy(2, 3).item() == pytest.approx(2 * math.log(3))
    x = t([0.0, 0.5, 2.0]).requires_grad_(True)
    (g,) = torch.autograd.grad(L.xlogx(x).sum(), x)
    assert torch.allclose(g[1:], torch.log(x[1:].detach()) + 1) and g[0] == 0


def test_label_on_another_device_is_refused():
    with pytest.raises(RuntimeError, match=r"mse got ŷ on cpu but y on meta"):
        L.mse(torch.zeros(2), torch.zeros(2, device="meta"))


def test_ctc_loss_nnlib_hand_values():
    # NNlib test/ctc.jl: x is classes × time, y = [1, 2] (1-based, blank = last class).
    # Batch-first translation: ŷ = x' (time, classes), y = [0, 1].
    from flux_torch.losses import ctc_loss
    import flux_torch as Flux
    x = torch.tensor([[1.0, 2, 3], [2, 1, 1], [3, 3, 2]], dtype=torch.float64).T
    assert float(ctc_loss(x, [0, 1])) == pytest.approx(3.6990738275138035, rel=1e-10)
    g = torch.tensor([[-0.317671, -0.427729, 0.665241], [0.244728, -0.0196172, -0.829811],
                      [0.0729422, 0.447346, 0.16457]], dtype=torch.float64).T
    xr = x.clone().requires_grad_()
    (gx,) = torch.autograd.grad(ctc_loss(xr, [0, 1]), xr)
    torch.testing.assert_close(gx, g, rtol=1e-5, atol=1e-5)
    x2 = torch.tensor([[-3.0, 12, 8, 15], [4, 20, -2, 20], [8, -33, 6, 5]], dtype=torch.float64).T
    assert float(ctc_loss(x2, torch.tensor([0, 1]))) == pytest.approx(8.02519869363453, rel=1e-8)
    assert Flux.Losses.ctc_loss is ctc_loss
    with pytest.raises(ValueError, match="blank"):
        ctc_loss(x, [0, 2])


def test_a_range_is_data_too():
    # Flux: mae([1.1, 1.9, 3.1], 1:3) ≈ 0.1
    assert float(L.mae([1.1, 1.9, 3.1], range(1, 4))) == pytest.approx(0.1, rel=1e-6)
