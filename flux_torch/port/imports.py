"""``using``/``import``: what each package brings into scope.

``using Flux`` is ``from flux_torch import *`` (the header already has ``import
flux_torch as Flux``); ``using Flux: a, b`` imports the names flux_torch has and
marks the others. Base libraries (Statistics, Random, LinearAlgebra, ...) resolve
name by name through the runtime, so their ``using`` becomes a comment.

>>> from flux_torch.port.translation import translate
>>> print(translate("using Flux, Statistics").body)
from flux_torch import *  # using Flux
# using Statistics: its names come from flux_torch.port.runtime (jl)
"""
from __future__ import annotations

from .context import Untranslatable
from .parse import named, text
from .tables import FLUX_PACKAGES, IGNORED_PACKAGES, NO_COUNTERPART, PACKAGES, ZYGOTE_EXTRAS

__all__ = ["using"]


def _pkg(node):
    if node.type in ("scoped_identifier", "field_expression"):
        parts = [text(c) for c in named(node)]
        if parts and (parts[0] in ("Base", "Core", "Pkg") or parts[-1] in PACKAGES) and len(parts) > 1:
            return parts[-1]
        return ".".join(parts)
    if node.type == "identifier":
        return text(node)
    if node.type == "import_path" or text(node).startswith("."):
        raise Untranslatable("using a local module (using .Name): translate its file and include it")
    raise Untranslatable(f"an import of {text(node)}")


def using(n, cx) -> list:
    is_using = n.type == "using_statement"
    lines, failed = [], []
    parts = [c for c in named(n) if c.type not in ("line_comment", "block_comment")]
    for c in parts:
        try:
            lines += _one(c, cx, is_using)
        except Untranslatable as err:
            if len(parts) == 1:
                raise
            failed.append(str(err))
    for reason in failed:                    # the other packages of the line still import
        cx.todos += 1
        lines.append(f"# TODO(port): {reason}")
    return lines


def _one(c, cx, is_using):
    parts = text(c).split(".")
    if parts[0] in ("Base", "Core") and len(parts) == 2 and parts[1] not in PACKAGES \
            and parts[1] != "Iterators" and c.type != "selected_import":
        # import Base.sign: the script extends a Base function; its methods are plain defs here
        return [f"# import {text(c)}: the methods defined below extend it"]
    if c.type == "selected_import":
        kids = named(c)
        return _selected(_pkg(kids[0]), [text(k) for k in kids[1:]], cx)
    if c.type == "import_alias":
        raise Untranslatable("import ... as ...")
    return _whole(_pkg(c), cx, is_using)


def _flux_star(cx):
    return f"from {cx.flux_module} import *"


def _whole(pkg, cx, is_using):
    root = pkg.split(".")[0]
    if root == "Flux" and pkg != "Flux":
        sub = pkg.split(".", 1)[1]
        if "." in sub or not cx.has_flux(sub):
            from .tables import FLUX_VERSIONS
            had = FLUX_VERSIONS.get(sub.split(".")[-1], "")
            raise Untranslatable(f"{pkg} is not in {cx.flux_module}" + (f" ({had} had it)" if had else ""))
        if is_using:
            cx.imported.setdefault("Flux", None)
        return [f"{_flux_star(cx)}  # using {pkg}: flux_torch exports its names at the top"]
    if pkg in FLUX_PACKAGES:
        if is_using:
            cx.imported[pkg] = None
            if pkg == "Flux" or FLUX_PACKAGES.get(pkg) == "":
                return [f"{_flux_star(cx)}  # using {pkg}"]
            return [f"# using {pkg}: its names resolve as Flux.{FLUX_PACKAGES[pkg]}.<name>"]
        cx.modules.setdefault(pkg, "Flux")
        return [f"# import {pkg}: its names are reached as Flux.<name>"]
    if pkg in PACKAGES:
        if is_using:
            cx.imported[pkg] = None
        if pkg in NO_COUNTERPART and not PACKAGES[pkg]:
            raise Untranslatable(f"{pkg}: {NO_COUNTERPART[pkg]}")
        if not PACKAGES[pkg] and pkg not in IGNORED_PACKAGES:
            raise Untranslatable(f"{pkg} has no counterpart in flux_torch.port's tables")
        return [f"# {'using' if is_using else 'import'} {pkg}: its names come from "
                "flux_torch.port.runtime (jl)"]
    if pkg == "Iterators":
        cx.imported["Iterators"] = None
        return ["# using Base.Iterators: its names come from flux_torch.port.runtime (jl)"]
    raise Untranslatable(f"{pkg} has no counterpart in flux_torch.port's tables")


def _selected(pkg, names, cx):
    if pkg.startswith("Flux.") and cx.has_flux(pkg.split(".")[1]) and all(
            cx.has_flux(cx.pyname(nm)) for nm in names if not nm.startswith("@")):
        pkg = "Flux"                         # flux_torch exports these names at the top
    if pkg in FLUX_PACKAGES or pkg.split(".")[0] == "Flux":
        sub = FLUX_PACKAGES.get(pkg, "")
        if pkg.startswith("Flux."):
            sub = pkg.split(".", 1)[1]
            sub = FLUX_PACKAGES.get(sub, sub)
        have, missing = [], []
        for nm in names:
            if nm.startswith("@"):
                continue
            py = cx.pyname(nm)
            extra = pkg == "Zygote" and nm in ZYGOTE_EXTRAS
            (have if cx.has_flux(py, sub or None) or extra else missing).append((nm, py))
        prev = cx.imported.get(pkg, set())
        if prev is not None:
            cx.imported[pkg] = set(prev) | {nm for nm, _ in have}
        lines = []
        if have:
            if sub:
                lines.append(f"from {cx.flux_module} import {sub}  # using {pkg}: "
                             + ", ".join(nm for nm, _ in have))
            else:
                lines.append(f"from {cx.flux_module} import {', '.join(py for _, py in have)}")
        if missing:
            from .names import flux_name
            try:
                flux_name(missing[0][0], cx, sub)
            except Untranslatable as err:
                if not have:
                    raise
                cx.todos += 1
                lines.append(f"# TODO(port): {err} (using {pkg}: {', '.join(nm for nm, _ in missing)})")
        return lines
    if pkg in PACKAGES or pkg == "Iterators":
        table = PACKAGES.get(pkg, {})
        prev = cx.imported.get(pkg, set())
        if prev is not None:
            cx.imported[pkg] = set(prev) | set(names)
        bad = [nm for nm in names if nm in table and table[nm] is None or (
            nm not in table and not _runtime_has(cx.pyname(nm)))]
        if bad:
            raise Untranslatable(f"{pkg}: {', '.join(bad)} " + (
                NO_COUNTERPART.get(pkg, "have no counterpart in flux_torch.port's tables")))
        return [f"# using {pkg}: {', '.join(names)} (from flux_torch.port.runtime, jl)"]
    raise Untranslatable(f"{pkg} has no counterpart in flux_torch.port's tables")


def _runtime_has(py):
    from . import runtime
    return py in runtime.__all__
