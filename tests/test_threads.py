"""Threads (issue 10, SPEC §6): per-call state is per thread, and calls on one model take turns.

Oracles: the same calls made one after another in one thread (a gradient, a training run),
and the inference output of a model that no thread is differentiating. Each test bounds its
work by a count, not by time.
"""
import copy
import threading

import torch

import flux_torch as Flux
from flux_torch import BatchNorm, Chain, Dense, Dropout, relu


def _run_threads(fns):
    errors = []

    def guard(fn):
        try:
            fn()
        except BaseException as err:        # noqa: BLE001 (reported below)
            errors.append(err)

    threads = [threading.Thread(target=guard, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_inference_in_another_thread_is_never_in_training_mode():
    """The issue's case: while one thread differentiates, another's plain calls of a model
    with Dropout must give the test-mode output every time (on the old code 252 of 300 ran
    Dropout, as the count of running gradient calls was one for the whole process)."""
    torch.manual_seed(0)
    drop = Chain(Dense(8, 256), Dropout(0.5))
    x = torch.randn(4, 8)
    ref = drop(x)
    started, stop = threading.Event(), threading.Event()

    def trainer():
        while not stop.is_set():
            Flux.gradient(lambda m: m(x).sum(), drop)
            started.set()

    t = threading.Thread(target=trainer)
    t.start()
    try:
        started.wait(30)
        differ = sum(not torch.equal(drop(x).detach(), ref) for _ in range(300))
    finally:
        stop.set()
        t.join()
    assert differ == 0


def test_batchnorm_in_inference_beside_training_uses_the_running_statistics():
    """Inference on other data (shifted by 3) while a thread differentiates: in training mode
    BatchNorm would normalise by the batch (every channel's mean 0); in test mode, with the
    statistics of the training data, no output has all its channel means near 0."""
    torch.manual_seed(0)
    m = Chain(Dense(4, 8), BatchNorm(8))
    x, x2 = torch.randn(16, 4), torch.randn(16, 4) + 3
    stop = threading.Event()
    outputs = []

    def infer():
        for _ in range(200):
            outputs.append(m(x2).detach())
        stop.set()

    def trainer():
        while not stop.is_set():
            Flux.gradient(lambda mm: mm(x).sum(), m)

    _run_threads([infer, trainer])
    assert min(o.mean(0).abs().max().item() for o in outputs) > 0.1


def test_concurrent_gradients_equal_sequential_ones():
    """Gradients of one shared model from four threads equal the same calls in one thread,
    carry no graph, and none is None (on the old code some were None or kept the graph)."""
    torch.manual_seed(1)
    model = Chain(Dense(5, 16, relu), Dropout(0.0), Dense(16, 1))
    xs = [torch.randn(32, 5) for _ in range(4)]
    loss = lambda i: (lambda m: (m(xs[i]) ** 2).mean())      # noqa: E731
    want = [Flux.gradient(loss(i), model)[0] for i in range(4)]
    got = [[None] * 50 for _ in range(4)]

    def work(i):
        def run():
            for k in range(50):
                got[i][k] = Flux.gradient(loss(i), model)[0]
        return run

    _run_threads([work(i) for i in range(4)])
    for i in range(4):
        for g in got[i]:
            for a, b in zip(Flux.params(g), Flux.params(want[i])):
                assert a is not None and a.grad_fn is None and not a.requires_grad
                assert torch.equal(a, b)
    assert all(not p.requires_grad for p in Flux.params(model))


def test_concurrent_implicit_gradients_and_withgradient_and_pullback():
    torch.manual_seed(2)
    W, b = torch.randn(3, 4), torch.randn(3)
    x = torch.randn(4)
    f = lambda: ((W @ x + b) ** 2).sum()      # noqa: E731
    ref = Flux.gradient(f, Flux.params(W, b))
    want_W, want_b = ref[W].clone(), ref[b].clone()
    bad = []

    def implicit():
        ps = Flux.params(W, b)
        for _ in range(100):
            gs = Flux.gradient(f, ps)
            if gs[W] is None or not torch.equal(gs[W], want_W) or not torch.equal(gs[b], want_b):
                bad.append("implicit")

    def explicit():
        for _ in range(100):
            r = Flux.withgradient(lambda W, b: ((W @ x + b) ** 2).sum(), W, b)
            if r.val.requires_grad or not torch.equal(r.grad[0], want_W):
                bad.append("withgradient")
            y, back = Flux.pullback(lambda W: W @ x + b, W)
            if y.requires_grad:
                bad.append("pullback")
            back(torch.ones(3))

    _run_threads([implicit, implicit, explicit, explicit])
    assert bad == [] and not W.requires_grad and not b.requires_grad


def test_concurrent_train_calls_equal_one_after_another():
    """Two threads train one model, each on its own data: the result is that of the two calls
    made one after another, in one of the two orders (oracle: both orders on copies)."""
    torch.manual_seed(3)
    model = Chain(Dense(3, 8, relu), BatchNorm(8), Dense(8, 1))
    state = Flux.setup(Flux.Adam(0.01), model)
    data = [[(torch.randn(16, 3), torch.randn(16, 1)) for _ in range(20)] for _ in range(2)]
    loss = lambda m, x, y: Flux.Losses.mse(m(x), y)      # noqa: E731
    orders = []
    for order in ((0, 1), (1, 0)):
        m, s = copy.deepcopy((model, state))
        for i in order:
            Flux.train_(loss, m, data[i], s)
        orders.append(m)
    _run_threads([lambda i=i: Flux.train_(loss, model, data[i], state) for i in range(2)])
    final = [p for p in Flux.params(model)] + [model[1].μ, model[1].σ2]

    def same(m):
        return all(torch.equal(a, b) for a, b in zip(final, list(Flux.params(m)) + [m[1].μ, m[1].σ2]))
    assert same(orders[0]) or same(orders[1])
