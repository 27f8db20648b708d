"""Package conventions: the torch floor (declared, documented, checked at import), the declared
dependencies against the imports, the metadata a packaging tool reads, and the README's links."""
import ast
import configparser
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import flux_torch
from flux_torch._torch_floor import TORCH_FLOOR

ROOT = Path(__file__).resolve().parent.parent
CFG = configparser.ConfigParser()
CFG.read(ROOT / "setup.cfg", encoding="utf-8")
FLOOR = ".".join(map(str, TORCH_FLOOR))


def _requirements(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _dist(requirement):
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("-", "_")


def test_the_torch_floor_is_declared_and_documented_as_checked():
    torch_req = [r for r in _requirements(CFG["options"]["install_requires"]) if _dist(r) == "torch"]
    assert torch_req == [f"torch>={FLOOR}"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"torch ≥ {FLOOR}" in readme


def test_an_older_torch_is_refused_at_import_with_the_fix():
    code = "import torch; torch.__version__ = '2.2.2'; import flux_torch"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ImportError: flux_torch needs torch >= {FLOOR}, but torch 2.2.2 is installed")
    assert "--index-url https://download.pytorch.org/whl/cpu" in last


_IMPORT_NAMES = {"sklearn": "scikit_learn"}
# imported only when installed, with a message saying what to install when they are not
_OPTIONAL = {"torchvision", "pil"}      # flux_torch.port's MLDatasets and image stand-ins


def _standard(module):
    """Whether ``module`` comes with Python (an optional extra that is not installed is not)."""
    spec = importlib.util.find_spec(module)
    origin = (spec.origin or "") if spec else "site-packages"
    return not any(part in origin for part in ("site-packages", "dist-packages"))


def test_every_import_is_declared_and_every_runtime_dependency_is_used():
    runtime = {_dist(r) for r in _requirements(CFG["options"]["install_requires"])}
    extras = {_dist(r) for v in CFG["options.extras_require"].values() for r in _requirements(v)}
    imported = {}
    for path in (ROOT / "flux_torch").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                if top != "flux_torch" and not _standard(top):
                    imported.setdefault(_IMPORT_NAMES.get(top, top).lower(), path.name)
    undeclared = {m: f for m, f in imported.items() if m not in runtime | extras | _OPTIONAL}
    assert not undeclared, f"imported but not declared in setup.cfg: {undeclared}"
    assert runtime - set(imported) == set(), f"declared but never imported: {runtime - set(imported)}"


def test_metadata():
    meta = CFG["metadata"]
    assert meta["version"] == "attr: flux_torch.__version__" and re.fullmatch(r"\d+\.\d+\.\d+", flux_torch.__version__)
    assert meta["long_description"] == "file: README.md"
    assert meta["license"] == "MIT" and meta["license_files"] == "LICENSE"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    classifiers = _requirements(meta["classifiers"])
    assert {"License :: OSI Approved :: MIT License", "Typing :: Typed"} <= set(classifiers)
    python_floor = CFG["options"]["python_requires"][len(">="):]
    assert f"Programming Language :: Python :: {python_floor}" in classifiers
    urls = dict(line.split(" = ") for line in _requirements(meta["project_urls"]))
    assert all(u.startswith(meta["url"]) for u in urls.values())
    assert _requirements(CFG["options.package_data"]["flux_torch"]) == ["py.typed"]
    assert (ROOT / "flux_torch" / "py.typed").exists()


def test_readme_links_work_off_site():
    """PyPI shows the README away from the repository: every link is absolute, and each one into
    the repository names a file or folder that exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    repo = CFG["metadata"]["url"]
    links = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert links and all(re.match(r"https?://", u) for u in links), [u for u in links if "://" not in u]
    inside = [u for u in links if u.startswith(repo + "/")]
    assert len(inside) >= 10
    for url in inside:
        m = re.fullmatch(re.escape(repo) + r"/(?:blob|tree)/main/(.+)", url)
        assert m and (ROOT / m.group(1)).exists(), url
