"""trainstep_ / trainstep_withgradient_ (Flux v0.16's trainstep!), auxiliary loss outputs and AD
backends, against withgradient + update_ (the oracle: the same step taken by hand)."""
import copy

import torch

import flux_torch as Flux
from flux_torch import BatchNorm, Chain, Dense, relu


def _problem(seed=0):
    torch.manual_seed(seed)
    model = Chain(Dense(3, 5, relu), BatchNorm(5), Dense(5, 2))
    return model, torch.randn(8, 3), torch.randn(8, 2)


def loss(m, x, y):
    return Flux.mse(m(x), y)


def _same(a, b):
    return all(torch.equal(p, q) for p, q in zip(Flux.params(a), Flux.params(b))) and \
        torch.equal(a[1].μ, b[1].μ)


def test_trainstep_is_withgradient_then_update():
    m, x, y = _problem()
    ref = copy.deepcopy(m)
    s, sref = Flux.setup(Flux.Adam(0.01), m), Flux.setup(Flux.Adam(0.01), ref)
    for _ in range(3):
        val = Flux.trainstep_(loss, m, (x, y), s)
        r = Flux.withgradient(lambda mm: loss(mm, x, y), ref)
        Flux.update_(sref, ref, r.grad[0])
        assert torch.equal(val, r.val)
    assert _same(m, ref)


def test_train_on_parameters_of_two_dtypes_is_withgradient_then_update():
    # the step gives the rule autograd's gradients unconverted: they have each parameter's dtype
    torch.manual_seed(1)
    m = Chain(Dense(3, 4, relu), Dense(torch.randn(2, 4, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)))
    ref = copy.deepcopy(m)
    x, y = torch.randn(5, 3), torch.randn(5, 2, dtype=torch.float64)
    s, sref = Flux.setup(Flux.Adam(0.01), m), Flux.setup(Flux.Adam(0.01), ref)
    f = lambda mm, x, y: Flux.mse(mm[1](mm[0](x).double()), y)     # noqa: E731
    for _ in range(3):
        Flux.train_(f, m, [(x, y)], s)
        Flux.update_(sref, ref, Flux.gradient(lambda mm: f(mm, x, y), ref)[0])
    assert [p.dtype for p in Flux.params(m)] == [torch.float32] * 2 + [torch.float64] * 2
    assert all(torch.equal(p, q) for p, q in zip(Flux.params(m), Flux.params(ref)))


def test_trainstep_withgradient_returns_the_model_gradient_and_aux():
    m, x, y = _problem()
    ref = copy.deepcopy(m)
    s, sref = Flux.setup(Flux.Descent(0.1), m), Flux.setup(Flux.Descent(0.1), ref)

    def aux_loss(mm, x, y):
        ŷ = mm(x)
        return Flux.mse(ŷ, y), {"mean": ŷ.mean()}
    val, grad = Flux.trainstep_withgradient_(aux_loss, Flux.AutoZygote(), m, (x, y), s)
    r = Flux.withgradient(lambda mm: aux_loss(mm, x, y), ref)
    assert isinstance(val, tuple) and torch.equal(val[0], r.val[0]) and torch.equal(val[1]["mean"], r.val[1]["mean"])
    for a, b in zip(Flux.fleaves(grad), Flux.fleaves(r.grad[0])):
        assert (a is None and b is None) or torch.equal(a, b)
    Flux.update_(sref, ref, r.grad[0])
    assert _same(m, ref)


def test_a_non_finite_loss_skips_the_update_and_keeps_the_statistics():
    m, x, y = _problem()
    ref = copy.deepcopy(m)
    s = Flux.setup(Flux.Adam(0.01), m)
    val = Flux.trainstep_(loss, m, (torch.full_like(x, float("nan")), y), s)
    assert torch.isnan(val)
    assert _same(m, ref) and torch.equal(m[1].σ2, ref[1].σ2)


def test_train_with_a_backend_and_aux_outputs():
    m, x, y = _problem()
    ref = copy.deepcopy(m)
    s, sref = Flux.setup(Flux.Adam(0.01), m), Flux.setup(Flux.Adam(0.01), ref)
    Flux.train_(lambda mm, x, y: (loss(mm, x, y), "aux"), Flux.AutoEnzyme(), m, [(x, y)] * 3, s)
    Flux.train_(loss, ref, [(x, y)] * 3, sref)
    assert _same(m, ref)


def test_gradient_and_withgradient_accept_a_backend():
    assert Flux.gradient(lambda x: x ** 3, Flux.AutoMooncake(), 2.0) == (12.0,)
    assert Flux.withgradient(lambda x: x ** 3, Flux.AutoFiniteDifferences(), 2.0).grad == (12.0,)


def test_a_refused_train_step_leaves_batchnorm_statistics():
    """Issue 13 item 1: the NaN batch's forward pass must not leave NaN running statistics."""
    m = Chain(Dense(4, 8), BatchNorm(8), Dense(8, 1))
    st = Flux.setup(Flux.Adam(0.01), m)
    μ, σ2 = m[1].μ.clone(), m[1].σ2.clone()
    try:
        Flux.train_(lambda mm, x, y: Flux.mse(mm(x), y), m,
                    [(torch.full((16, 4), float("nan")), torch.randn(16, 1))], st)
    except FloatingPointError:
        pass
    assert torch.equal(m[1].μ, μ) and torch.equal(m[1].σ2, σ2)
    assert not torch.isnan(m(torch.randn(3, 4))).any()


def test_testmode_calls_a_layers_own_method():
    calls = []

    @Flux.layer
    class Own:
        def __init__(self):
            self.inner = Flux.Dropout(0.5)

        def __call__(self, x):
            return self.inner(x)

        def testmode_(self, mode=True):
            calls.append(("test", mode))

        def trainmode_(self, mode=True):
            calls.append(("train", mode))

    m = Chain(Dense(2, 2), Own())
    Flux.testmode_(m)
    Flux.trainmode_(m, "auto")
    assert calls == [("test", True), ("train", "auto")]
    assert m[1].inner.active is None        # the layer's own method decided: it left it alone
