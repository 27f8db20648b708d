"""The command: header, TODO blocks, counts on stderr, exit codes, one-line errors."""
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("tree_sitter_julia")

from flux_torch.port import translate  # noqa: E402
from flux_torch.port.cli import main  # noqa: E402

SCRIPT = """using Flux, Plots
model = Chain(Dense(2 => 3, relu), Dense(3 => 1))
plot(1:10)
x = rand(Float32, 2, 8)
@show size(model(x))
"""


def run(tmp_path, source, *args, name="script.jl", capfd=None):
    path = tmp_path / name
    if isinstance(source, bytes):
        path.write_bytes(source)
    elif source is not None:
        path.write_text(source, encoding="utf-8")
    code = main([str(path), *args])
    out, err = capfd.readouterr()
    return code, out, err


def test_translates_to_a_file_with_header_and_counts(tmp_path, capfd):
    out_path = tmp_path / "script.py"
    code, out, err = run(tmp_path, SCRIPT, "-o", str(out_path), capfd=capfd)
    assert code == 0 and out == ""
    text = out_path.read_text(encoding="utf-8")
    assert text.startswith("# Translated from script.jl by `python -m flux_torch.port` (flux_torch 0.1.0,")
    assert "import flux_torch as Flux" in text and "from flux_torch.port import runtime as jl" in text
    assert "# TODO(port): plot is not defined" in text and "#   plot(1:10)" in text
    # `using Flux, Plots` still imports Flux: one TODO block of no line, one of the plot call
    assert "5 code lines, 4 translated (80.0 %), 1 in 2 TODO(port) blocks, 1 unknown names: plot" in err
    compile(text, "script.py", "exec")


def test_the_translation_runs(tmp_path, capfd):
    source = SCRIPT.replace(", Plots", "").replace("plot(1:10)\n", "")
    code, out, err = run(tmp_path, source, capfd=capfd)
    assert code == 0
    namespace = {}
    exec(compile(out, "script.py", "exec"), namespace)
    assert tuple(namespace["model"](namespace["x"]).shape) == (8, 1)
    assert "size(model(x)) = (1, 8)" in capfd.readouterr().out


def test_flux_version_flag(tmp_path, capfd):
    code, out, err = run(tmp_path, "using Flux\nm = Dense(2 => 3)\n", "--flux", "0.14", capfd=capfd)
    assert code == 0 and "Flux v0.14 semantics" in out and "Flux v0.14 semantics" in err


@pytest.mark.parametrize("source, message", [
    ("", "the file is empty"),
    ("   \n\n", "the file is empty"),
    (b"\x00\x01\x02binary", "binary file"),
    (b"\xff\xfe caf\xe9", "not UTF-8 text"),
    ("x = (1, 2\ny = 3\n", "does not parse as Julia"),
    ("def f(x):\n    return x + 1\n", "does not parse as Julia"),
])
def test_bad_files_give_one_line_errors(tmp_path, capfd, source, message):
    code, out, err = run(tmp_path, source, capfd=capfd)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_parse_error_names_the_line(tmp_path, capfd):
    code, out, err = run(tmp_path, "x = 1\ny = 2\nz = (3,\n", capfd=capfd)
    assert code == 2 and "script.jl:3:" in err


def test_missing_file_and_wrong_suffix(tmp_path, capfd):
    code, _, err = run(tmp_path, None, name="nothere.jl", capfd=capfd)
    assert code == 2 and "cannot read it" in err
    code, _, err = run(tmp_path, "x = 1", name="script.py", capfd=capfd)
    assert code == 2 and "expected a Julia file ending in .jl" in err


def test_output_that_would_not_compile_exits_1(tmp_path, capfd, monkeypatch):
    import flux_torch.port.translation as t
    real = t.header
    monkeypatch.setattr(t, "header", lambda cx, name: real(cx, name) + ["def broken(:"])
    code, out, err = run(tmp_path, "x = 1\n", capfd=capfd)
    assert code == 1 and "does not compile" in err


def test_python_dash_m_runs_the_command(tmp_path):
    path = tmp_path / "s.jl"
    path.write_text("x = [1, 2, 3]\nprintln(sum(x))\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-m", "flux_torch.port", str(path)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "jl.println(jl.sum(x))" in proc.stdout and "2 code lines" in proc.stderr


def test_a_150_line_script_takes_under_a_second():
    block = "\n".join(f"w{i} = rand(Float32, 3, 4)\nloss{i}(x) = sum(abs2, w{i} * x; dims=1)"
                      for i in range(75))
    assert block.count("\n") + 1 == 150
    t0 = time.perf_counter()
    result = translate("using Flux\n" + block)
    assert result.todos == 0 and result.compiles
    assert time.perf_counter() - t0 < 1.0


def test_translated_scripts_and_flux_torch_do_not_need_the_parser(tmp_path):
    """The runtime a translated script imports, and flux_torch itself, work without tree-sitter."""
    script = translate("x = [1 2; 3 4]\n@assert x[2, 1] == 3\nprintln(size(x'))").python
    (tmp_path / "s.py").write_text(script, encoding="utf-8")
    code = ("import sys; sys.modules['tree_sitter'] = None; sys.modules['tree_sitter_julia'] = None\n"
            "import flux_torch, runpy; runpy.run_path(sys.argv[1])\n"
            "assert 'tree_sitter' not in {m for m in sys.modules if sys.modules[m] is not None}")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.py")], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(2, 2)"


def test_without_the_parser_the_command_says_how_to_install_it(tmp_path):
    path = tmp_path / "s.jl"
    path.write_text("x = 1\n", encoding="utf-8")
    code = ("import sys; sys.modules['tree_sitter'] = None\n"
            "from flux_torch.port.cli import main; sys.exit(main([sys.argv[1]]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2 and 'pip install "flux_torch[port]"' in proc.stderr
    assert "Traceback" not in proc.stderr
