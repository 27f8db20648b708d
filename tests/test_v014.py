"""The two namespaces: ``import flux_torch as Flux`` (Flux v0.16.11) and
``import flux_torch.v014 as Flux`` (Flux v0.14.25).

Oracles: Flux's versions (which names differ, from Flux's NEWS.md and source), object identity,
and the seed's Basics page and example, which must run unchanged, with no warning, and print
the same in both namespaces.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import flux_torch
import flux_torch.v014 as v014
from flux_torch.layers import cells, recur, recurrence, recurrent_cells

ROOT = Path(__file__).resolve().parents[1]

# The version table's recurrence rows (docs/porting.md), with the module each namespace takes them from.
ROWS = {"RNN": (recurrence, recur), "LSTM": (recurrence, recur), "GRU": (recurrence, recur),
        "GRUv3": (recurrence, recur), "RNNCell": (recurrent_cells, cells),
        "LSTMCell": (recurrent_cells, cells), "GRUCell": (recurrent_cells, cells),
        "GRUv3Cell": (recurrent_cells, cells), "reset_": (recurrence, recur)}


def test_flux_versions():
    assert flux_torch.__flux_version__ == "0.16.11"
    assert v014.__flux_version__ == "0.14.25"
    assert flux_torch.v014 is v014


def test_every_name_that_means_the_same_is_the_same_object():
    differ = set(v014._V014) | set(v014._V016_ONLY)
    same = [n for n in flux_torch.__all__ if n not in differ]
    assert len(same) > 200
    for name in same:
        assert getattr(v014, name) is getattr(flux_torch, name), name


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_recurrence_rows_differ(name):
    new, old = ROWS[name]
    assert getattr(flux_torch, name) is getattr(new, name)
    assert getattr(v014, name) is getattr(old, name)
    assert getattr(flux_torch, name) is not getattr(v014, name)


def test_all_is_complete_and_resolves():
    public = {n for n in vars(v014) if n.isidentifier() and not n.startswith("_")}   # not pytest's @py_*
    assert public == set(v014.__all__)
    assert len(v014.__all__) == len(set(v014.__all__))
    for name in v014.__all__:
        getattr(v014, name)
    assert "Recur" in v014.__all__ and "Recur" not in flux_torch.__all__
    assert "Recurrence" in flux_torch.__all__ and "Recurrence" not in v014.__all__


def test_names_of_the_other_version_say_where_they_are():
    with pytest.raises(AttributeError, match="Recur is Flux v0.14's.*import flux_torch.v014 as Flux"):
        flux_torch.Recur
    with pytest.raises(AttributeError, match="Recurrence is Flux v0.16's.*import flux_torch as Flux"):
        v014.Recurrence
    with pytest.raises(AttributeError, match="initialstates is Flux v0.16's"):
        v014.initialstates
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        flux_torch.nothing_here
    assert not hasattr(flux_torch, "Recur") and not hasattr(v014, "Recurrence")
    with pytest.raises(ImportError):
        exec("from flux_torch import Recur", {})


@pytest.mark.parametrize("Flux", [flux_torch, v014], ids=["v016", "v014"])
def test_submodule_style_names_resolve(Flux):
    assert Flux.Losses.mse is flux_torch.losses.mse
    assert Flux.Optimise.update_ is flux_torch.update_
    assert Flux.Optimisers.Adam is flux_torch.Adam
    assert Flux.Data.DataLoader is flux_torch.DataLoader
    assert Flux.Functors.fmap is flux_torch.fmap
    assert Flux.Zygote.gradient is flux_torch.gradient
    assert Flux.DistributedUtils is flux_torch.DistributedUtils


def _in_v014(text):
    """A page or script written for flux_torch, rewritten to import flux_torch.v014 instead."""
    text, n = re.subn(r"import flux_torch as Flux", "import flux_torch.v014 as Flux", text)
    text, m = re.subn(r"from flux_torch import", "from flux_torch.v014 import", text)
    assert n and m
    return text


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="error")


def test_basics_page_runs_unchanged_in_v014(tmp_path):
    page = tmp_path / "basics_v014.md"
    page.write_text(_in_v014((ROOT / "docs" / "basics.md").read_text()))
    proc = subprocess.run([sys.executable, "-m", "pytest", str(page), "-q", "-c", str(ROOT / "setup.cfg"),
                           "--rootdir", str(tmp_path), "-p", "no:cacheprovider"],
                          capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout


def test_basics_example_prints_the_same_in_both(tmp_path):
    source = (ROOT / "examples" / "basics.py").read_text()
    script = tmp_path / "basics_v014.py"
    script.write_text(_in_v014(source))
    outs = []
    for path in (ROOT / "examples" / "basics.py", script):
        proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=ROOT,
                              env=_env(), timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert proc.stderr == ""
        outs.append(proc.stdout)
    assert "df(2)  = 14.0" in outs[0]
    assert outs[0] == outs[1]
