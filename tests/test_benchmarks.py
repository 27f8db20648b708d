"""The benchmark script runs end to end (``--smoke``: 1 round, 2 steps, no compiling).

Timings are never checked: the script's own guard checks that every variant of a
case computes the same result, and a failing guard makes it exit non-zero.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_benchmark_smoke_run(tmp_path):
    out = tmp_path / "results.md"
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "run.py"), "--smoke", "--device", "cpu",
         "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    header = "| benchmark"
    assert header in proc.stdout and "flux_torch" in proc.stdout and "ft ÷ (b)" in proc.stdout
    assert proc.stdout.count("guard ok") == 12 + 16       # the eager cases, then the layers
    assert "| layer" in proc.stdout and "fwd+bwd ft ÷ hand" in proc.stdout
    written = out.read_text(encoding="utf-8")
    assert header in written and "torch" in written
    assert "10 batches a train_ call: train_" in written     # the epoch note


def _instructions(*args):
    script = os.path.join(ROOT, "benchmarks", "instructions.py")
    return subprocess.run([sys.executable, script, *args], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=300)


def test_instruction_count_inner_run_takes_steps():
    # the run valgrind counts: building each variant and stepping it must work without valgrind
    for key in ("ft_train", "b_onehot"):
        proc = _instructions("--steps", key, "2")
        assert proc.returncode == 0, proc.stderr[-3000:]


def test_instruction_count_names_the_variants_it_knows():
    proc = _instructions("ft_typo")
    assert proc.returncode == 2 and "unknown variants ['ft_typo']" in proc.stderr
    assert "ft_train" in proc.stderr
