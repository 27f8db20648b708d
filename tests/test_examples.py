"""Every example runs in a smoke mode (few steps, seconds each) and prints what it promises;
the figures go where --plot says, and an example without matplotlib still runs."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py") if p.name != "figures.py")
DISTRIBUTED_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                   "LOCAL_WORLD_SIZE", "GROUP_RANK", "TORCHELASTIC_RUN_ID")


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def run_example(name, *args, env=None, cwd=ROOT, launcher=(), timeout=300):
    base = {k: v for k, v in os.environ.items() if k not in DISTRIBUTED_ENV}
    base.update(PYTHONWARNINGS="error::DeprecationWarning", MPLBACKEND="Agg",
                PYTHONPATH=str(ROOT))     # this checkout's flux_torch, not another editable install
    base.update(env or {})
    proc = subprocess.run([sys.executable, *launcher, str(ROOT / "examples" / name), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd, env=base)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def figures_in(folder):
    return sorted(p.name for p in Path(folder).glob("*.png") if p.stat().st_size > 0)


def test_every_example_is_tested_here():
    tested = set(re.findall(r'"(\w+\.py)"', Path(__file__).read_text()))
    assert set(EXAMPLES) <= tested, set(EXAMPLES) - tested


def test_every_example_says_how_to_run_it_and_how_long_it_takes():
    for name in EXAMPLES:
        doc = (ROOT / "examples" / name).read_text().split('"""')[1]
        run = [line for line in doc.splitlines() if line.startswith("Run:")]
        assert run and f"examples/{name}" in run[0], name
        assert re.search(r"about \d+ s", doc), f"{name} does not say how long it runs"


def test_basics_example_prints_the_pages_values():
    out = run_example("basics.py").stdout
    # The Basics page's documented values: df(2) = 14, d2f(2) = 6, ([0, 2], [0, -2]).
    assert "df(2)  = 14.0" in out
    assert "d2f(2) = 6.0" in out
    assert "(tensor([0., 2.]), tensor([-0., -2.]))" in out
    assert "Chain(x -> x^2, x -> x+1)(5) = 26" in out
    assert "# Total: 4 arrays, 67 parameters, 268 bytes." in out
    before = float(out.split("loss before:")[1].split()[0])
    after = float(out.split("W̄:")[1].split()[0])
    assert after < before


def test_linear_regression_example_fits_the_line_and_draws_it(tmp_path):
    out = run_example("linear_regression.py", "--steps", "30", "--plot", str(tmp_path)).stdout
    before = float(out.split("loss before training:")[1].split()[0])
    after = float(out.split("loss after 30 more epochs:")[1].split()[0])
    assert after < before / 2
    assert "opt = Descent(0.1)" in out
    assert "custom_loss == Flux.Losses.mse: True" in out
    first = float(out.split("loss before:")[1].split()[0])
    last = float(out.split("loss = ")[1].split()[0])
    assert last < first
    if has_matplotlib():
        assert figures_in(tmp_path) == ["linear_regression.png"]
        assert f"figure saved: {tmp_path / 'linear_regression.png'}" in out


def test_without_matplotlib_an_example_runs_and_says_the_plots_were_skipped(tmp_path):
    hide = tmp_path / "hide"
    (hide / "matplotlib").mkdir(parents=True)
    (hide / "matplotlib" / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), str(hide)])}
    out = run_example("linear_regression.py", "--steps", "2", "--plot", str(tmp_path / "figs"),
                      env=env).stdout
    assert "plots skipped: matplotlib is not installed" in out
    assert "custom_loss == Flux.Losses.mse: True" in out     # the example itself ran
    assert not (tmp_path / "figs").exists()


@pytest.mark.skipif(not has_matplotlib(), reason="needs matplotlib (the examples extra)")
def test_by_default_figures_go_to_a_named_folder_not_the_current_one(tmp_path):
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    out = run_example("linear_regression.py", "--steps", "2", cwd=cwd,
                      env={"TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}).stdout
    folder = tmp / "flux_torch_examples" / "linear_regression"
    assert figures_in(folder) == ["linear_regression.png"]
    assert f"figure saved: {folder / 'linear_regression.png'}" in out
    assert list(cwd.iterdir()) == []


def test_mlp_classifier_beats_90_percent(tmp_path):
    pytest.importorskip("sklearn")
    proc = run_example("mlp_classifier.py", "--epochs", "5", "--plot", str(tmp_path))
    out = proc.stdout
    acc = float(out.split("test accuracy:")[1].split()[0])
    assert acc > 0.90, out[-2000:]
    assert "# Total: 4 arrays, 2_410 parameters" in out      # Dense(64, 32) + Dense(32, 10)
    assert out.count("epoch ") == 5
    assert "epochs: 100%" in proc.stderr and "5/5" in proc.stderr   # the progress bar
    if has_matplotlib():
        assert figures_in(tmp_path) == ["mlp_classifier.png"]


def test_cnn_classifier_beats_95_percent_and_draws_its_curves(tmp_path):
    pytest.importorskip("sklearn")
    proc = run_example("cnn_classifier.py", "--epochs", "4", "--plot", str(tmp_path))
    out = proc.stdout
    acc = float(out.split("test accuracy:")[1].split()[0])
    assert acc >= 0.95, out[-2000:]
    assert out.count("epoch ") == 4
    assert "BatchNorm(16, relu)" in out and "Dropout(0.3)" in out
    assert "Dense(128, 64, relu)" in out          # outputsize found the flattened 32×2×2
    assert "4/4" in proc.stderr                   # the epochs' bar
    assert re.search(r"train_: +\d+%.*\| \d+/45", proc.stderr)    # train_'s line: 1437 / 32 batches
    if has_matplotlib():
        assert figures_in(tmp_path) == ["cnn_classifier.png"]


def test_char_rnn_loss_goes_down():
    out = run_example("char_rnn.py", "--steps", "40").stdout
    before = float(out.split("loss before:")[1].split()[0])
    after = float(out.split("loss after:")[1].split()[0])
    assert after < before
    steps = [float(line.split("loss")[1]) for line in out.splitlines() if line.startswith("step")]
    assert steps[-1] < steps[0]
    assert "sample: '" in out
    assert "Recur(" in out                     # v0.14's stateful layers (flux_torch.v014)


def test_char_rnn_v016_loss_goes_down():
    out = run_example("char_rnn_v016.py", "--steps", "40").stdout
    before = float(out.split("loss before:")[1].split()[0])
    after = float(out.split("loss after:")[1].split()[0])
    assert after < before
    steps = [float(line.split("loss")[1]) for line in out.splitlines() if line.startswith("step")]
    assert steps[-1] < steps[0]
    assert "LSTM(64, 64)," in out and "Recur(" not in out
    sample = out.split("sample: '")[1]
    assert len(sample) >= 121


def test_quickstart_learns_xor_shows_a_bar_and_draws_the_four_plots(tmp_path):
    # Flux's quickstart page: Chain(Dense(2 => 3, tanh), BatchNorm(3), Dense(3 => 2)) trained
    # with logitcrossentropy and Adam(0.01) on batches of 64 reaches "accuracy 94% so far".
    proc = run_example("quickstart.py", "--epochs", "30", "--plot", str(tmp_path))
    out = proc.stdout
    acc = float(out.split("accuracy:")[1].split()[0])
    assert acc > 0.9, out[-2000:]
    assert "16-element DataLoader" in out                     # 1000 samples / 64
    assert "BatchNorm(3),                         # 6 parameters, plus 6" in out
    assert "# Total: 6 trainable arrays, 23 parameters," in out
    assert "# plus 2 non-trainable, 6 parameters" in out
    first = float(out.split("loss first batch:")[1].split()[0])
    last = float(out.split("last batch:")[1].split()[0])
    assert last < first
    assert out.startswith("device: CPUDevice()") or out.startswith("device: CUDADevice(")   # said once, first...
    assert "Warning" not in proc.stderr                       # ...and no warning about the GPU
    assert re.search(r"100%\|.*\| 30/30 \[", proc.stderr)     # @showprogress's bar
    if has_matplotlib():
        assert figures_in(tmp_path) == ["quickstart_loss.png", "quickstart_oneminute.png"]
    # The page's train! form of the loop takes the same steps, so it gives the same model.
    proc = run_example("quickstart.py", "--epochs", "30", "--train", "--plot", "")
    assert float(proc.stdout.split("accuracy:")[1].split()[0]) == acc
    assert re.search(r"train_: +\d+%.*\| \d+/16", proc.stderr)   # train_'s line under the bar


def test_distributed_example_prints_one_global_summary():
    proc = run_example("distributed_train.py", "--epochs", "3", timeout=120,
                       launcher=("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"),
                       env={"PYTHONWARNINGS": "error"})
    out = proc.stdout
    lines = out.splitlines()
    assert lines[0] == "2 workers (GlooBackend()): 8 observations and 2 batches each, 3 epochs"
    assert len(lines) == 4 and "rank" not in out, out          # worker 0 alone speaks
    first, last = map(float, re.fullmatch(r"global loss: epoch 1 (\S+), epoch 3 (\S+)", lines[1]).groups())
    assert last < first
    assert re.fullmatch(r"final model's mse on all 16 observations: \d\.\d+", lines[2])
    assert re.fullmatch(r"parameter checksums agree on all 2 workers: -?\d+\.\d+(e[-+]?\d+)?", lines[3])
    assert proc.stderr.count("3/3") >= 1 and "epochs: 100%" in proc.stderr   # one bar, worker 0's


def test_the_docs_show_the_examples_figures_and_each_one_exists():
    docs = ROOT / "docs"
    shown = {m for page in docs.glob("*.md") for m in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text())}
    assert shown, "no figure shown in docs/"
    for link in shown:
        assert (docs / link).is_file(), link
    kept = {f"figures/{p.name}" for p in (docs / "figures").glob("*.png")}
    assert kept == shown          # every committed figure is on a page, every figure shown is committed
