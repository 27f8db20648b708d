"""Whole scripts: golden translations compared as text, and runs whose loss must fall.

``scripts/*.jl`` are small Flux programs written for these tests in the idioms of
Flux's tutorials and model-zoo (MLDatasets, DataLoader, Flux.train!, implicit
params, custom layers, recurrence, BatchNorm, ...). ``golden/*.py`` are their
reviewed translations: a change in the translator shows here as a readable diff
(set FLUX_TORCH_PORT_UPDATE_GOLDEN=1 to rewrite them after reviewing the diff).
Each script then runs on stand-in data; the losses flux_torch differentiates are
recorded and must fall.
"""
import difflib
import os

import pytest

pytest.importorskip("tree_sitter_julia")

from flux_torch.port import translate  # noqa: E402

from .runner import run, standin_files  # noqa: E402

HERE = os.path.dirname(__file__)
SCRIPTS = os.path.join(HERE, "scripts")
GOLDEN = os.path.join(HERE, "golden")
NAMES = sorted(f[:-3] for f in os.listdir(SCRIPTS) if f.endswith(".jl"))


def _namespace_free(python):
    """The translation with the v0.14 namespace written one way: whether flux_torch.v014 is
    installed is the environment's (scripts in v0.14 idioms import it once it is)."""
    lines = [ln for ln in python.splitlines(True) if not ln.startswith("# flux_torch.v014 is not installed")]
    return "".join(lines).replace("flux_torch.v014", "flux_torch")


def _translation(name):
    path = os.path.join(SCRIPTS, name + ".jl")
    with open(path, encoding="utf-8") as f:
        return translate(f.read(), name + ".jl", path=path)


@pytest.mark.parametrize("name", NAMES)
def test_golden(name):
    result = _translation(name)
    assert result.compiles, result.compile_error
    golden = os.path.join(GOLDEN, name + ".py")
    if os.environ.get("FLUX_TORCH_PORT_UPDATE_GOLDEN"):
        with open(golden, "w", encoding="utf-8") as f:
            f.write(result.python)
    with open(golden, encoding="utf-8") as f:
        expected = f.read()
    if _namespace_free(result.python) != _namespace_free(expected):
        diff = "".join(difflib.unified_diff(expected.splitlines(True), result.python.splitlines(True),
                                            "golden/" + name + ".py", "translation"))
        pytest.fail("the translation changed:\n" + diff)


@pytest.mark.parametrize("name", NAMES)
def test_runs_and_loss_falls(name, tmp_path):
    result = _translation(name)
    assert result.todos == 0, "a test script should translate whole"
    standin_files(str(tmp_path))
    py = tmp_path / (name + ".py")
    py.write_text(result.python, encoding="utf-8")
    rec, out = run(str(py), str(tmp_path))
    assert len(rec.losses) >= 2, out
    assert rec.fell(), f"losses did not fall: {rec.losses[:3]} ... {rec.losses[-3:]}"


def test_the_recorder_sees_a_loss_that_does_not_fall(tmp_path):
    """The loss check can fail: a learning rate of zero leaves the loss where it was."""
    path = os.path.join(SCRIPTS, "linear_regression.jl")
    with open(path, encoding="utf-8") as f:
        source = f.read().replace("Descent(0.05)", "Descent(0.0)").replace("@assert isapprox", "# ")
    py = tmp_path / "frozen.py"
    py.write_text(translate(source).python, encoding="utf-8")
    rec, _ = run(str(py), str(tmp_path))
    assert len(rec.losses) == 200 and not rec.fell()
