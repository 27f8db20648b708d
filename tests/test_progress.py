"""Flux.progress (ProgressMeter's @showprogress) and train_'s line under it.

Bars are checked through what they write to a StringIO, never through timing.
"""
import copy
import io
import re
import threading

import torch

import flux_torch
import flux_torch as Flux
from flux_torch.progress import Progress, within_progress


def frames(out):
    """What a bar showed, one entry per redraw (tqdm redraws a line after a carriage return)."""
    text = re.sub(r"\x1b\[A", "", out.getvalue())           # the cursor moving up to the bar above
    return [f.strip() for f in re.split(r"[\r\n]", text) if f.strip()]


def problem(nbatches=4):
    torch.manual_seed(0)
    model = Flux.Dense(2, 1)
    data = [(torch.randn(3, 2), torch.randn(3, 1)) for _ in range(nbatches)]
    return model, data


def loss(m, x, y):
    return Flux.mse(m(x), y)


def test_flux_progress_is_the_function_in_both_namespaces():
    # `flux_torch.progress` is also a module's name; the package attribute must stay the function
    assert callable(flux_torch.progress) and flux_torch.progress.__name__ == "progress"
    import flux_torch.v014 as V014
    assert V014.progress is flux_torch.progress
    assert "progress" in flux_torch.__all__


def test_the_loop_sees_every_item_and_the_bar_ends_full():
    out = io.StringIO()
    seen = [epoch for epoch in Flux.progress(range(5), "epochs", file=out)]
    assert seen == [0, 1, 2, 3, 4]
    assert re.fullmatch(r"epochs: 100%\|#+\| 5/5 \[.*\]", frames(out)[-1])
    assert out.getvalue().endswith("\n")            # leave=True keeps the finished bar


def test_total_counts_an_iterable_without_len_and_postfix_shows_values():
    out = io.StringIO()
    bar = Flux.progress((i for i in range(3)), total=3, file=out, mininterval=0)
    for i in bar:
        bar.set_postfix(loss=0.25)
    assert re.fullmatch(r"100%\|#+\| 3/3 \[.*, loss=0\.25\]", frames(out)[-1])


def test_a_hidden_bar_writes_nothing_and_hides_train_s_line_too():
    model, data = problem()
    opt = Flux.setup(Flux.Descent(0.1), model)
    out = io.StringIO()
    bar = Flux.progress(range(2), file=out, enabled=False)
    assert isinstance(bar, Progress)
    for _ in bar:
        assert within_progress(data, "train_") is data
        Flux.train_(loss, model, data, opt)
    assert out.getvalue() == ""


def test_train_inside_the_loop_counts_its_batches_under_the_bar():
    model, data = problem(nbatches=4)
    twin = copy.deepcopy(model)
    out = io.StringIO()
    opt = Flux.setup(Flux.Adam(0.01), model)
    for _ in Flux.progress(range(3), "epochs", file=out, mininterval=0):
        Flux.train_(loss, model, data, opt)         # milliseconds: far below train_'s own 1 s delay
    lines = [f for f in frames(out) if f.startswith("train_:")]
    assert [f.split("| ")[-1] for f in lines if f.endswith("/4")][:5] == ["0/4", "1/4", "2/4", "3/4", "4/4"]
    assert sum(f.endswith("| 4/4") for f in lines) == 3       # each epoch's call reaches its end
    assert re.fullmatch(r"epochs: 100%\|#+\| 3/3 \[.*\]", [f for f in frames(out) if f.startswith("epochs")][-1])
    # the bar changes nothing: the same steps as a loop of train_ calls without one
    opt2 = Flux.setup(Flux.Adam(0.01), twin)
    for _ in range(3):
        Flux.train_(loss, twin, data, opt2, progress=False)
    torch.testing.assert_close(model.weight, twin.weight, rtol=0, atol=0)
    torch.testing.assert_close(model.bias, twin.bias, rtol=0, atol=0)


def test_train_s_line_counts_data_without_len_and_obeys_progress_false():
    model, data = problem(nbatches=3)
    opt = Flux.setup(Flux.Descent(0.1), model)
    out = io.StringIO()
    for _ in Flux.progress(range(1), file=out, mininterval=0):
        Flux.train_(loss, model, (d for d in data), opt)
    assert "train_: 3 done" in frames(out)
    quiet = io.StringIO()
    for _ in Flux.progress(range(2), file=quiet, mininterval=0):
        Flux.train_(loss, model, data, opt, progress=False)
    assert not any(f.startswith("train_") for f in frames(quiet))


def test_leaving_the_loop_early_ends_its_claim_on_train_():
    out = io.StringIO()
    for epoch in Flux.progress(range(10), file=out):
        assert within_progress([1], "train_") is not None
        if epoch == 1:
            break
    assert within_progress([1], "train_") is None


def test_nested_loops_lend_the_innermost_bar():
    out = io.StringIO()
    outer = Flux.progress(range(2), "outer", file=out)
    for epoch in outer:
        before = outer._child
        inner = Flux.progress(range(2), "inner", file=out, leave=False)
        for _ in inner:
            list(within_progress([1, 2], "train_"))
            assert inner._child is not None and outer._child is before
        assert inner._child is None                     # closed with its loop
        list(within_progress([1, 2], "train_"))
        assert outer._child is not None
    assert outer._child is None


def test_another_thread_does_not_see_this_thread_s_bar():
    inside, done = threading.Event(), threading.Event()
    seen = []

    def other():
        inside.wait(timeout=10)
        seen.append(within_progress([1], "train_"))
        done.set()

    t = threading.Thread(target=other)
    t.start()
    for _ in Flux.progress(range(1), file=io.StringIO()):
        inside.set()
        done.wait(timeout=10)
    t.join(timeout=10)
    assert seen == [None]


def test_train_with_progress_true_under_a_hidden_bar_draws_its_own(capsys):
    model, data = problem()
    opt = Flux.setup(Flux.Descent(0.1), model)
    for _ in Flux.progress(range(1), file=io.StringIO(), enabled=False):
        Flux.train_(loss, model, data, opt, progress=True)
    assert re.search(r"train_: +0%.*\| 0/4", capsys.readouterr().err)   # drawn at once when forced
