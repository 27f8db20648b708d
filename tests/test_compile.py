"""compile_step and train_(compile=True) against eager training (the oracle), and memory over long runs."""
import gc

import pytest
import torch

import flux_torch as Flux
from flux_torch import BatchNorm, Chain, Dense, relu


def mse(m, x, y):
    return ((m(x) - y) ** 2).mean()


def twin_models(make):
    torch.manual_seed(0)
    a = make()
    torch.manual_seed(0)
    b = make()
    return a, b


def close(a, b, tol=1e-5):
    return all(torch.allclose(p, q, atol=tol, rtol=tol) for p, q in zip(Flux.params(a), Flux.params(b)))


@pytest.mark.parametrize("rule", [lambda: Flux.Descent(0.1), lambda: Flux.Momentum(0.05),
                                  lambda: Flux.Adam(0.01)])
def test_compiled_steps_equal_eager_steps(rule):
    a, b = twin_models(lambda: Chain(Dense(3, 8, relu), Dense(8, 2)))
    sa, sb = Flux.setup(rule(), a), Flux.setup(rule(), b)
    step = Flux.compile_step(mse, a, sa)
    x, y = torch.rand(16, 3), torch.rand(16, 2)
    for _ in range(25):
        la = step(x, y)
        lb, gb = Flux.withgradient(lambda m: mse(m, x, y), b)
        Flux.update_(sb, b, gb[0])
        assert la.grad_fn is None
        assert float(la) == pytest.approx(float(lb), rel=1e-5, abs=1e-7)
    assert close(a, b)
    assert step.compile_time is not None and step.choice in ("compiled", "eager")
    assert all(not p.requires_grad for p in Flux.params(a))


def test_batchnorm_statistics_follow_eager_training():
    make = lambda: Chain(Dense(4, 6), BatchNorm(6, relu), Dense(6, 1))  # noqa: E731
    a, b = twin_models(make)
    sa, sb = Flux.setup(Flux.Descent(0.05), a), Flux.setup(Flux.Descent(0.05), b)
    step = Flux.compile_step(mse, a, sa)
    x, y = torch.rand(32, 4), torch.rand(32, 1)
    for _ in range(5):
        step(x, y)
        Flux.update_(sb, b, Flux.gradient(lambda m: mse(m, x, y), b)[0])
    assert close(a, b)
    assert torch.allclose(a[1].μ, b[1].μ, atol=1e-6) and torch.allclose(a[1].σ2, b[1].σ2, atol=1e-6)


def test_odd_last_batch_and_frozen_layers():
    a, b = twin_models(lambda: Chain(Dense(3, 4, relu), Dense(4, 1)))
    sa, sb = Flux.setup(Flux.Adam(0.01), a), Flux.setup(Flux.Adam(0.01), b)
    Flux.freeze_(sa.layers[0])
    Flux.freeze_(sb.layers[0])
    before = a[0].weight.clone()
    data = Flux.DataLoader((torch.rand(10, 3), torch.rand(10, 1)), batchsize=4)   # 4, 4, 2
    for _ in range(3):
        Flux.train_(mse, a, data, sa, compile=True)
        Flux.train_(mse, b, data, sb)
    assert close(a, b)
    assert torch.equal(a[0].weight, before)


def test_nan_loss_stops_before_the_update_and_names_the_item():
    model = Chain(Dense(2, 1))
    state = Flux.setup(Flux.Descent(0.1), model)
    good = (torch.rand(4, 2), torch.rand(4, 1))
    bad = (torch.full((4, 2), float("nan")), torch.rand(4, 1))
    before = [p.clone() for p in Flux.params(model)]
    with pytest.raises(FloatingPointError, match="data item 1"):
        Flux.train_(mse, model, [good, bad], state, compile=True)
    after_first = [p.clone() for p in Flux.params(model)]
    assert not all(torch.equal(p, q) for p, q in zip(before, after_first))   # item 0 was applied
    with pytest.raises(FloatingPointError):
        Flux.compile_step(mse, model, state)(*bad)
    assert all(torch.equal(p, q) for p, q in zip(after_first, Flux.params(model)))


def test_compile_needs_the_explicit_style():
    model = Chain(Dense(2, 1))
    with pytest.raises(TypeError, match="explicit style"):
        Flux.train_(lambda x: model(x).sum(), Flux.params(model), [torch.rand(1, 2)],
                    Flux.Descent(), compile=True)


def _live_tensors():
    gc.collect()
    return sum(1 for o in gc.get_objects() if issubclass(type(o), torch.Tensor))


@pytest.mark.parametrize("style", ["explicit", "implicit", "compiled"])
def test_long_training_does_not_grow_memory(style):
    torch.manual_seed(0)
    model = Chain(Dense(8, 16, relu), Dense(16, 1))
    data = [(torch.rand(4, 8), torch.rand(4, 1)) for _ in range(20)]
    if style == "implicit":
        ps, opt = Flux.params(model), Flux.Adam(0.01)

        def epoch():
            Flux.train_(lambda x, y: ((model(x) - y) ** 2).mean(), ps, data, opt)
    else:
        state = Flux.setup(Flux.Adam(0.01), model)

        def epoch():
            Flux.train_(mse, model, data, state, compile=style == "compiled")
    epoch()
    epoch()
    start = _live_tensors()
    for _ in range(10):
        epoch()
    assert _live_tensors() <= start      # nothing (graphs, states, copies) kept across steps
    assert all(p.grad_fn is None and not p.requires_grad for p in Flux.params(model))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_peak_memory_of_a_step_on_cuda():
    dev = torch.device("cuda")
    torch.manual_seed(0)
    model = Flux.gpu(Chain(Dense(784, 512, relu), Dense(512, 10)))
    x, y = torch.rand(256, 784, device=dev), torch.rand(256, 10, device=dev)
    state = Flux.setup(Flux.Descent(0.01), model)
    ps = list(Flux.params(model))

    def ours():
        Flux.update_(state, model, Flux.gradient(lambda m: mse(m, x, y), model)[0])

    def hand():
        for p in ps:
            p.requires_grad_(True)
        loss = ((model(x) - y) ** 2).mean()
        gs = torch.autograd.grad(loss, ps)
        for p in ps:
            p.requires_grad_(False)
        torch._foreach_add_(ps, gs, alpha=-0.01)

    peaks = {}
    for name, f in [("hand", hand), ("ours", ours)]:
        f()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        f()
        torch.cuda.synchronize()
        peaks[name] = torch.cuda.max_memory_allocated() - base
    assert peaks["ours"] <= 1.1 * peaks["hand"] + 4 * sum(p.numel() for p in ps) + 2 ** 20


def test_a_new_loss_lambda_each_epoch_does_not_recompile():
    from flux_torch.compile import CompiledTrainStep
    from flux_torch.trainstep import step_for
    model = Chain(Dense(3, 4, relu), Dense(4, 1))
    state = Flux.setup(Flux.Descent(0.1), model)
    data = [(torch.rand(8, 3), torch.rand(8, 1))] * 3
    built, frames = [], []
    counters = torch._dynamo.utils.counters
    for _ in range(3):
        Flux.train_(lambda m, x, y: ((m(x) - y) ** 2).mean(), model, data, state, compile=True)
        step = step_for(model, state, CompiledTrainStep)
        built.append([entry.fn for entry in step._fns.values()])
        frames.append(counters["stats"]["unique_graphs"])
    assert len(built[0]) == 1 and built[0][0] is built[1][0] is built[2][0]
    assert frames[0] == frames[1] == frames[2]          # dynamo traced nothing after the first epoch


def test_a_step_that_cannot_compile_warns_and_trains_eagerly(monkeypatch):
    """A compiler failure on the first call (simulated: torch.compile gives a function that
    raises) leaves the model untouched; the step warns once and trains as eager does."""
    def broken_compile(fn, **kw):
        def call(*args):
            raise RuntimeError("backend exploded\nmore lines")
        return call
    monkeypatch.setattr(torch, "compile", broken_compile)
    a, b = twin_models(lambda: Chain(Dense(3, 4, relu), Dense(4, 1)))
    sa, sb = Flux.setup(Flux.Momentum(0.1), a), Flux.setup(Flux.Momentum(0.1), b)
    x, y = torch.rand(8, 3), torch.rand(8, 1)
    step = Flux.compile_step(mse, a, sa)
    step(x, y)          # on the CPU the first failure is put down to the C++ wrapper, and
    with pytest.warns(RuntimeWarning, match="could not compile this step .RuntimeError: backend exploded"):
        step(x, y)      # the second, without it, to the compiler
    for _ in range(2):
        step(x, y)                      # no second warning (warnings are errors here)
    for _ in range(4):
        Flux.update_(sb, b, Flux.gradient(lambda m: mse(m, x, y), b)[0])
    assert step.choice == "eager" and close(a, b, tol=0)


def test_a_step_the_cpp_wrapper_cannot_compile_is_compiled_without_it(monkeypatch):
    """Inductor's C++ wrapper (for a step on the CPU) failing on the first call (simulated)
    costs one eager step: the step is compiled again without it, with no warning, and trains
    as eager does."""
    real = torch.compile
    tried = []

    def picky_compile(fn, **kw):
        tried.append(kw.get("options", {}).get("cpp_wrapper", False))
        if tried[-1]:
            def call(*args):
                raise RuntimeError("no C++ wrapper for this op")
            return call
        return real(fn, **kw)
    monkeypatch.setattr(torch, "compile", picky_compile)
    a, b = twin_models(lambda: Chain(Dense(3, 4, relu), Dense(4, 1)))
    sa, sb = Flux.setup(Flux.Adam(0.1), a), Flux.setup(Flux.Adam(0.1), b)
    x, y = torch.rand(8, 3), torch.rand(8, 1)
    step = Flux.compile_step(mse, a, sa)
    for _ in range(6):
        step(x, y)
        Flux.update_(sb, b, Flux.gradient(lambda m: mse(m, x, y), b)[0])
    assert tried == [True, False] and step.choice != "eager"
    assert step._inner._last.ran and close(a, b)


def test_an_error_in_the_loss_is_raised_not_hidden():
    model = Chain(Dense(3, 4, relu), Dense(4, 1))
    step = Flux.compile_step(mse, model, Flux.setup(Flux.Descent(0.1), model))
    with pytest.raises(ValueError, match=r"Dense\(3, 4, relu\) expects x.shape\[-1\] == 3"):
        step(torch.rand(8, 5), torch.rand(8, 1))        # no warning about compiling either
    step(torch.rand(8, 3), torch.rand(8, 1))            # a good batch then compiles
    assert step.compile_time is not None


def test_import_flux_torch_does_not_load_the_compiler():
    """torch._dynamo costs most of a second to import: it loads with the first compiled step,
    not with ``import flux_torch``."""
    import subprocess
    import sys
    code = "import sys, flux_torch; print('torch._dynamo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


SCALE, PENALTY = 1.0, torch.abs


def scaled_mse(m, x, y):
    return SCALE * mse(m, x, y) + 0.01 * PENALTY(m[0].weight).sum()


def test_the_users_globals_are_read_afresh_each_step():
    """The compiled step drops dynamo's checks on flux_torch's and torch's own functions, not on
    the user's: a global number or function the loss reads, changed between steps, is seen."""
    global SCALE, PENALTY
    a, b = twin_models(lambda: Chain(Dense(3, 4, relu), Dense(4, 1)))
    sa, sb = Flux.setup(Flux.Descent(0.1), a), Flux.setup(Flux.Descent(0.1), b)
    step = Flux.compile_step(scaled_mse, a, sa)
    x, y = torch.rand(8, 3), torch.rand(8, 1)
    try:
        for k in range(8):
            SCALE, PENALTY = 1.0 + k, (torch.abs, torch.square)[k % 2]
            la = step(x, y)
            lb, gb = Flux.withgradient(lambda m: scaled_mse(m, x, y), b)
            Flux.update_(sb, b, gb[0])
            assert float(la) == pytest.approx(float(lb), rel=1e-5)
    finally:
        SCALE, PENALTY = 1.0, torch.abs
    assert close(a, b)


@pytest.mark.parametrize("rule", [lambda: Flux.Descent(0.1), lambda: Flux.Adam(0.01)])
def test_a_tensor_replaced_between_steps_is_the_one_trained(rule):
    """The compiled step does not re-check on each call that its tensors are the model's own
    (the plan does): a weight replaced between steps is trained from then on, as eagerly."""
    a, b = twin_models(lambda: Chain(Dense(3, 4, relu), Dense(4, 1)))
    sa, sb = Flux.setup(rule(), a), Flux.setup(rule(), b)
    step = Flux.compile_step(mse, a, sa)
    x, y = torch.rand(8, 3), torch.rand(8, 1)
    for k in range(8):
        if k == 4:
            new = torch.rand(4, 3)
            a[0].weight, b[0].weight = new.clone(), new.clone()
            sa, sb = Flux.setup(rule(), a), Flux.setup(rule(), b)
            step = Flux.compile_step(mse, a, sa)
        if k == 6:
            a[1].bias, b[1].bias = torch.ones(1), torch.ones(1)    # the same state tree goes on
        la = step(x, y)
        lb, gb = Flux.withgradient(lambda m: mse(m, x, y), b)
        Flux.update_(sb, b, gb[0])
        assert float(la) == pytest.approx(float(lb), rel=1e-5)
    assert close(a, b)


def test_compile_options_keep_the_mode_and_add_the_guard_filter():
    """torch.compile takes a mode or options, not both: the mode's options (as inductor lists
    them) travel with the guard filter and without inductor's size asserts (dynamo's guards
    check the same sizes); a step on the CPU gets the C++ wrapper; a mode inductor does not
    list is passed on as a mode."""
    from flux_torch._compiled_fn import compile_options, keep_guard
    lean = {"guard_filter_fn": keep_guard, "size_asserts": False}
    assert compile_options(None) == lean
    assert compile_options(None, cpu=True) == {**lean, "cpp_wrapper": True}
    assert compile_options("reduce-overhead") == {"triton.cudagraphs": True, **lean}
    assert compile_options("max-autotune-no-cudagraphs")["max_autotune"] is True
    assert compile_options("no-such-mode") is None
    assert compile_options(None) is not compile_options(None)      # torch.compile pops from it


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("rule", [lambda: Flux.Descent(0.1), lambda: Flux.Adam(0.01)])
def test_cuda_graph_steps_equal_eager_steps(rule):
    """On CUDA the compiled step replays a CUDA graph and copies the new values in after the
    finite check: the same training as eager, a refused NaN step that changes nothing, and an
    odd-sized batch that takes the eager step."""
    dev = torch.device("cuda")
    a, b = twin_models(lambda: Chain(Dense(3, 8, relu), Dense(8, 2)))
    a, b = Flux.gpu(a), Flux.gpu(b)
    sa, sb = Flux.setup(rule(), a), Flux.setup(rule(), b)
    step = Flux.compile_step(mse, a, sa)
    assert step._inner._cudagraphs
    x, y = torch.rand(16, 3, device=dev), torch.rand(16, 2, device=dev)
    for k in range(24):
        xb, yb = (x, y) if k != 20 else (x[:5], y[:5])
        la = step(xb, yb)
        lb, gb = Flux.withgradient(lambda m: mse(m, xb, yb), b)
        Flux.update_(sb, b, gb[0])
        assert float(la) == pytest.approx(float(lb), rel=1e-4, abs=1e-6)
    assert close(a, b, tol=1e-4)
    before = [p.clone() for p in Flux.params(a)]
    with pytest.raises(FloatingPointError):
        step(torch.full_like(x, float("nan")), y)
    assert all(torch.equal(p, q) for p, q in zip(before, Flux.params(a)))


def test_compiled_steps_from_several_threads_train_as_one_after_another():
    """Two threads stepping one model through one compiled step take turns (the model's lock):
    with the same batch the result is that of as many eager steps; a third thread training its
    own model meanwhile gets what it gets alone."""
    import threading
    a, b = twin_models(lambda: Chain(Dense(3, 8, relu), Dense(8, 2)))
    c, d = twin_models(lambda: Chain(Dense(3, 8, relu), Dense(8, 2)))
    sa, sb, sc, sd = (Flux.setup(Flux.Adam(0.01), m) for m in (a, b, c, d))
    x, y = torch.rand(16, 3), torch.rand(16, 2)
    shared, own = Flux.compile_step(mse, a, sa), Flux.compile_step(mse, c, sc)
    errors = []

    def run(step, n):
        try:
            for _ in range(n):
                step(x, y)
        except BaseException as err:     # noqa: BLE001 (reported by the assertion below)
            errors.append(err)
    threads = [threading.Thread(target=run, args=(shared, 15)), threading.Thread(target=run, args=(shared, 15)),
               threading.Thread(target=run, args=(own, 30))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for _ in range(30):
        for m, s in ((b, sb), (d, sd)):
            Flux.update_(s, m, Flux.gradient(lambda m: mse(m, x, y), m)[0])
    assert close(a, b, tol=1e-5) and close(c, d, tol=1e-5)
    assert all(not p.requires_grad for p in [*Flux.params(a), *Flux.params(c)])
