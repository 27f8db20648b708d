"""The API reference (docs/api/*.md, built by mkdocs.yml): every public name has an entry, every
entry names a public object, every docs page is in the site's navigation, and the build's two
extensions do what their examples say."""
import doctest
import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

import flux_torch
import flux_torch.v014

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api"
# the namespaces whose __all__ the reference covers: flux_torch's names, the names of
# Flux.Functors and Flux.DistributedUtils not re-exported at the top, and v0.14's own
NAMESPACES = [flux_torch, flux_torch.functors, flux_torch.distributed, flux_torch.v014]


def _entries():
    """{path: page} for each ``::: path`` line of the reference pages."""
    found = {}
    for page in sorted(API.glob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            m = re.match(r"::: (\S+)\s*$", line)
            if m:
                assert m.group(1) not in found, f"{m.group(1)} has two entries ({found.get(m.group(1))}, {page.name})"
                found[m.group(1)] = page.name
    return found


def _resolve(path):
    """The object a dotted path names, as griffe finds it: the longest importable module, then
    attributes."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        if _is_module(name):
            obj = importlib.import_module(name)
            for attr in parts[i:]:
                obj = getattr(obj, attr)
            return obj
    raise LookupError(path)


def _is_module(name):
    try:
        return inspect.ismodule(importlib.import_module(name))
    except ImportError:
        return False


def _public():
    """(label, name, object) for every public name the reference must cover."""
    seen_top = {id(getattr(flux_torch, n)) for n in flux_torch.__all__}
    out = [("flux_torch", n, getattr(flux_torch, n)) for n in flux_torch.__all__]
    for ns in NAMESPACES[1:]:
        out += [(ns.__name__, n, getattr(ns, n)) for n in ns.__all__ if id(getattr(ns, n)) not in seen_top]
    return out


def _covers(path, name, obj):
    """An entry covers a public name when it names that very object under that name (a module
    may be named by its own module name: flux_torch.losses is Flux.Losses)."""
    try:
        target = _resolve(path)
    except (LookupError, AttributeError):
        return False
    return target is obj and (inspect.ismodule(obj) or path.rsplit(".", 1)[-1] == name)


def test_every_public_name_has_a_reference_entry():
    entries = _entries()
    missing = []
    for label, name, obj in _public():
        if not any(_covers(p, name, obj) for p in entries):
            path = obj.__name__ if inspect.ismodule(obj) else f"{getattr(obj, '__module__', None) or '?'}.{name}"
            missing.append(f"{label}.{name} (add `::: {path}` to the matching docs/api/*.md page)")
    assert not missing, "public names without an API reference entry:\n" + "\n".join(missing)


def test_every_entry_names_a_public_object():
    public = _public()
    stale = [f"{p} (in docs/api/{page})" for p, page in _entries().items()
             if not any(_covers(p, name, obj) for _, name, obj in public)]
    assert not stale, "API reference entries that name no public object:\n" + "\n".join(stale)


def _nav_pages(item):
    if isinstance(item, str):
        return [item]
    if isinstance(item, dict):
        return [p for v in item.values() for p in _nav_pages(v)]
    return [p for v in item for p in _nav_pages(v)]


def test_every_docs_page_is_in_the_navigation():
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:"):]
    listed = set(re.findall(r"(?:^|\s)([\w/]+\.md)\s*$", nav, flags=re.M))
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert pages - listed == set(), f"docs pages missing from mkdocs.yml's nav: {sorted(pages - listed)}"
    assert listed - pages == set(), f"mkdocs.yml's nav names missing pages: {sorted(listed - pages)}"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_docs_api_{name}", API / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_repo_links_examples():
    result = doctest.testmod(_load("repo_links"))
    assert result.attempted >= 2 and result.failed == 0


def test_doctest_blocks_examples():
    pytest.importorskip("griffe", reason="the docs extra (mkdocs, mkdocstrings) is not installed")
    module = _load("doctest_blocks")
    result = doctest.testmod(module)
    assert result.attempted >= 1 and result.failed == 0
    text = module.doctest_to_markdown("Text.\n\n```python\n>>> kept\n```\n>>> x = 1\n>>> x\n1")
    assert text.split("\n") == ["Text.", "", "```python", ">>> kept", "```",
                                "```pycon", ">>> x = 1", ">>> x", "1", "```"]
