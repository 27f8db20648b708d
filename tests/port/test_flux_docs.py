"""Flux's v0.16 docs: the jldoctest blocks, translated and run, their printed values compared.

The docs are not kept in this repository: the test reads Flux.jl's docs/src from a
checkout named by FLUX_TORCH_FLUX_DOCS (``git clone https://github.com/FluxML/Flux.jl``
at tag v0.16.11, then its docs/src), or tests/port/flux_docs/. It reports how many
blocks translate and how many reproduce Flux's values; blocks that draw random numbers
(Julia's generator is not torch's) are counted apart, and >= 80 % of the others must match.
The comparison itself is tested below on a block written here.
"""
import glob
import os

import pytest

pytest.importorskip("tree_sitter_julia")

from flux_torch.port import translate  # noqa: E402

from . import jldoctest  # noqa: E402
from .runner import run, standin_files  # noqa: E402

HERE = os.path.dirname(__file__)
# shared/flux-docs (beside the repository, in CI too) holds Flux's Basics page
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "flux-docs")
DOCS = os.environ.get("FLUX_TORCH_FLUX_DOCS") or os.path.join(HERE, "flux_docs")
if not os.path.isdir(DOCS):
    DOCS = SHARED
PAGES = sorted(glob.glob(os.path.join(DOCS, "**", "*.md"), recursive=True))

PAGE = '''
```jldoctest demo
julia> x = [1 2 3; 4 5 6]
2×3 Matrix{Int64}:
 1  2  3
 4  5  6

julia> sum(x; dims=1)
1×3 Matrix{Int64}:
 5  7  9

julia> size(x')
(3, 2)
```

```jldoctest demo
julia> x[2, :]
3-element Vector{Int64}:
 4
 5
 6
```

```jldoctest
julia> onecold([0.1, 0.7, 0.2])
3
```

```jldoctest
julia> 1 + 1
3
```
'''


@pytest.mark.skipif(not os.path.isfile(os.path.join(SHARED, "basics.md")), reason="no shared/flux-docs")
def test_the_basics_page(monkeypatch, tmp_path):
    """Flux's Basics page: gradients of `3x^2 + 2x + 1` and of a sum reproduce Flux's values.
    Its third block differentiates `params` of integer vectors, which flux_torch refuses."""
    monkeypatch.chdir(tmp_path)                  # what the examples save stays out of the checkout
    with open(os.path.join(SHARED, "basics.md"), encoding="utf-8") as f:
        report = jldoctest.evaluate(f.read())
    assert [r[3] for r in report[:2]] == [True, True]


def test_the_comparison_reads_julia_order_and_can_fail(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    report = jldoctest.evaluate(PAGE)
    assert [(t, d, m) for _, t, d, m in report] == [
        (True, True, True), (True, True, True), (True, True, False), (True, True, False)]


def test_onecold_block_fails_only_for_the_wrong_reason():
    """Flux's onecold gives 2 here: the third block above says 3 and must not match."""
    assert jldoctest.numbers("2\n") == [2.0]


@pytest.mark.skipif(not PAGES, reason="no Flux docs: set FLUX_TORCH_FLUX_DOCS to Flux.jl's docs/src")
def test_flux_docs_jldoctests(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)                  # the saving page writes checkpoints
    rows = []
    for page in PAGES:
        with open(page, encoding="utf-8") as f:
            text = f.read()
        if "```jldoctest" in text:
            rows += jldoctest.evaluate(text)
    translatable = [r for r in rows if r[1]]
    matches = [r for r in translatable if r[3]]
    reproducible = [r for r in translatable if r[2] or r[3]]
    with capsys.disabled():
        print(f"\njldoctest blocks: {len(rows)}, translatable {len(translatable)}, "
              f"reproduce Flux's values {len(matches)}; "
              f"{len(translatable) - len(reproducible)} others draw random numbers")
    assert len(matches) >= 0.8 * len(reproducible)


# the tutorials that run end to end, and whether they train
TUTORIALS = [("tutorials/linear_regression.md", True), ("tutorials/logistic_regression.md", True),
             ("tutorials/custom_layers.md", False), ("guide/models/quickstart.md", True)]


@pytest.mark.parametrize("page, trains", TUTORIALS)
def test_tutorial_runs_end_to_end(page, trains, tmp_path):
    if not os.path.isfile(os.path.join(DOCS, page)):
        pytest.skip(f"no Flux docs page {page}: set FLUX_TORCH_FLUX_DOCS to Flux.jl's docs/src")
    with open(os.path.join(DOCS, page), encoding="utf-8") as f:
        source = jldoctest.page_script(f.read())
    result = translate(source, os.path.basename(page)[:-3] + ".jl", epochs=2)
    assert result.compiles, result.compile_error
    standin_files(str(tmp_path))
    py = tmp_path / "tutorial.py"
    py.write_text(result.python, encoding="utf-8")
    rec, out = run(str(py), str(tmp_path))
    if trains:
        assert len(rec.losses) >= 2 and rec.fell(), out[-2000:]
