"""Executable semantics: Julia files whose @asserts hold in Julia, translated and run here.

The asserts carry Julia's meaning (1-based indices, column-major reshape, `dims`,
matrix products, adjoints, `onecold`, a Conv's output size, ...), so no Julia is
needed: a wrong rule makes an assert fail.
"""
import os
import warnings

import pytest

pytest.importorskip("tree_sitter_julia")

from flux_torch.port import translate  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "semantics")
FILES = sorted(f for f in os.listdir(HERE) if f.endswith(".jl"))


@pytest.mark.parametrize("name", FILES)
def test_semantics_file(name, tmp_path):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        source = f.read()
    result = translate(source, name)
    assert result.todos == 0, result.python
    assert result.compiles, result.compile_error
    asserts = source.count("@assert")
    assert result.python.count("assert ") >= asserts
    code = compile(result.python, str(tmp_path / (name[:-3] + ".py")), "exec")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # Flux's Float64 → Float32 notice is expected here
        exec(code, {"__name__": "__main__"})


def test_a_wrong_assert_fails():
    """The files' asserts are live: a false Julia statement fails after translation."""
    result = translate("x = [1 2 3; 4 5 6]\n@assert x[2, 1] == 2")
    with pytest.raises(AssertionError):
        exec(compile(result.python, "wrong.py", "exec"), {})
