"""FluxML/model-zoo: all 46 scripts translate and compile, >= 95 % of their code lines are
translated, their translations match the reviewed golden files, and 12 of them run on
stand-in data with an epoch override, their training loss falling.

The model-zoo's code is not kept in this repository. The tests read a checkout named by
FLUX_TORCH_MODEL_ZOO (``git clone https://github.com/FluxML/model-zoo``), or one placed
at tests/port/zoo/ (with the zoo's MIT licence) or at shared/model-zoo beside the
repository (where CI finds it); golden translations are read from
tests/port/zoo_golden/ when present (FLUX_TORCH_PORT_UPDATE_GOLDEN=1 writes them).
Without a checkout these tests are skipped with that reason.
"""
import glob
import os

import pytest

pytest.importorskip("tree_sitter_julia")

from flux_torch.port import translate  # noqa: E402

from .runner import run, standin_files, translate_folder  # noqa: E402

HERE = os.path.dirname(__file__)
ZOO = os.environ.get("FLUX_TORCH_MODEL_ZOO") or next(
    (d for d in (os.path.join(HERE, "zoo"), os.path.join(HERE, "..", "..", "..", "shared", "model-zoo"))
     if os.path.isdir(d)), "")
GOLDEN = os.path.join(HERE, "zoo_golden")
SCRIPTS = sorted(p for p in glob.glob(os.path.join(ZOO, "**", "*.jl"), recursive=True)
                 if os.sep + ".github" + os.sep not in p)

pytestmark = pytest.mark.skipif(
    len(SCRIPTS) < 46, reason="no FluxML/model-zoo checkout: set FLUX_TORCH_MODEL_ZOO to one")

# (script, epochs, stand-in training size, trains): the scripts that run end to end
RUNS = [
    ("vision/mlp_mnist/mlp_mnist.jl", 3, None, True),
    ("vision/conv_mnist/conv_mnist.jl", 5, None, True),
    ("vision/vgg_cifar10/vgg_cifar10.jl", 2, 256, True),
    ("vision/convmixer_cifar10/convmixer.jl", 2, 128, True),
    ("vision/vae_mnist/vae_mnist.jl", 1, None, True),
    ("vision/diffusion_mnist/diffusion_test.jl", 1, 64, True),
    ("other/housing/housing.jl", 1, None, True),
    ("other/iris/iris.jl", 20, None, True),
    ("other/fizzbuzz/fizzbuzz.jl", 3, None, True),
    ("other/autoregressive-process/model.jl", 3, None, True),
    ("text/lang-detection/model.jl", 2, None, True),
    ("tutorials/dataloader/dataloader-image-data.jl", 1, None, False),
]


def _rel(path):
    return os.path.relpath(path, ZOO)


def _translate(path):
    with open(path, encoding="utf-8") as f:
        return translate(f.read(), os.path.basename(path), path=path)


def test_all_translate_and_compile_with_95_percent_of_lines():
    lines = translated = 0
    failures = []
    for path in SCRIPTS:
        result = _translate(path)
        lines += result.lines
        translated += result.translated
        if not result.compiles:
            failures.append(f"{_rel(path)}: {result.compile_error}")
        assert result.seconds < 1.0, _rel(path)
    assert not failures, failures
    assert len(SCRIPTS) == 46
    assert translated / lines >= 0.95, f"{translated} of {lines} code lines translated"


@pytest.mark.skipif(not os.path.isdir(GOLDEN) and not os.environ.get("FLUX_TORCH_PORT_UPDATE_GOLDEN"),
                    reason="no golden translations at tests/port/zoo_golden")
@pytest.mark.parametrize("path", SCRIPTS, ids=_rel)
def test_golden(path):
    result = _translate(path)
    golden = os.path.join(GOLDEN, _rel(path)[:-3] + ".py")
    if os.environ.get("FLUX_TORCH_PORT_UPDATE_GOLDEN"):
        os.makedirs(os.path.dirname(golden), exist_ok=True)
        with open(golden, "w", encoding="utf-8") as f:
            f.write(result.python)
    with open(golden, encoding="utf-8") as f:
        assert result.python == f.read()


@pytest.mark.parametrize("rel, epochs, size, trains", RUNS, ids=[r[0] for r in RUNS])
def test_runs_on_stand_in_data(rel, epochs, size, trains, tmp_path, monkeypatch):
    path = os.path.join(ZOO, rel)
    standin_files(str(tmp_path))
    translate_folder(os.path.dirname(path), str(tmp_path), epochs=epochs)
    if size:
        monkeypatch.setenv("FLUX_TORCH_PORT_STANDIN_N", str(size))
    rec, out = run(str(tmp_path / (os.path.basename(rel)[:-3] + ".py")), str(tmp_path))
    if trains:
        assert len(rec.losses) >= 2, out[-2000:]
        assert rec.fell(), f"losses did not fall: {rec.losses[:3]} ... {rec.losses[-3:]}"
