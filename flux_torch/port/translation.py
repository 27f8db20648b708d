"""The driver: Julia source text in, a Python script and its counts out.

>>> print(translate("x = rand(Float32, 3, 4)\\ny = sum(x; dims=2)").body)
x = torch.rand(4, 3)
y = jl.sum(x, dim=-2)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .context import Context
from .parse import PortError, first_error, named, parse, text
from .scopes import binding_names
from .statements import block
from .tables import V014_IDIOMS

__all__ = ["translate", "expression", "Translation", "choose_flux"]


@dataclass
class Translation:
    """A translated script: its text, body and the counts the command reports."""
    python: str
    body: str
    flux: str
    lines: int = 0                 # Julia code lines (not blank, not comments)
    todo_lines: int = 0
    todos: int = 0
    unknown: list = field(default_factory=list)
    compiles: bool = True
    compile_error: str = ""
    seconds: float = 0.0
    defined: set = field(default_factory=set)      # the Julia names the script defines
    structs: set = field(default_factory=set)      # the structs among them

    @property
    def translated(self) -> int:
        return self.lines - self.todo_lines


def choose_flux(source: str) -> str:
    """``"0.14"`` when the script uses Flux ≤ v0.14 idioms, else ``"0.16"``."""
    return "0.14" if any(idiom in source for idiom in V014_IDIOMS) else "0.16"


def _prepass(root, cx):
    stack = [root]
    while stack:
        n = stack.pop()
        t = n.type
        if t in ("assignment", "compound_assignment_expression", "let_binding", "named_field"):
            kids = [c for c in n.children if c.is_named]
            if kids:
                target = kids[0]
                while target.type in ("where_expression", "typed_expression") and named(target):
                    target = named(target)[0]
                if target.type == "call_expression":
                    _function(target, cx)
                elif t != "named_field":
                    cx.defined.update(binding_names(target))
        elif t in ("function_definition",):
            sig = named(n)[0]
            while sig.type in ("signature", "where_expression", "typed_expression") and named(sig):
                sig = named(sig)[0]
            if sig.type == "call_expression":
                _function(sig, cx)
        elif t == "for_binding":
            cx.defined.update(binding_names(named(n)[0]))
        elif t in ("arrow_function_expression",):
            head = named(n)[0]
            cx.defined.update(binding_names(head))
        elif t == "do_clause":
            kids = named(n)
            if kids and kids[0].type == "argument_list":
                cx.defined.update(binding_names(kids[0]))
        elif t in ("struct_definition", "abstract_definition"):
            from .structs import struct_name
            try:
                name, _ = struct_name(named(n)[0])
                cx.structs[name] = True
                cx.defined.add(name)
            except Exception:       # an odd head: the statement itself will say so
                pass
        elif t == "catch_clause":
            kids = named(n)
            if kids and kids[0].type == "identifier" and kids[0].start_point[0] == n.start_point[0]:
                cx.defined.add(text(kids[0]))
        elif t in ("global_statement", "local_statement"):
            for c in named(n):
                cx.defined.update(binding_names(c))
        elif t == "macrocall_expression" and "@unpack" in text(n)[:10]:
            for c in named(n):
                if c.type == "macro_argument_list":
                    for a in named(c):
                        if a.type == "assignment":
                            cx.defined.update(binding_names(named(a)[0]))
        stack.extend(c for c in n.children if c.is_named)


def _function(call, cx):
    callee = named(call)[0]
    if callee.type == "identifier":
        name = text(callee)
        cx.defined.add(name)
        cx.methods[name] = cx.methods.get(name, 0) + 1
    args = named(call)[-1] if len(named(call)) > 1 else None
    if args is not None and args.type == "argument_list":
        cx.defined.update(binding_names(args))


def _code_rows(root) -> set:
    rows, stack = set(), [root]
    while stack:
        n = stack.pop()
        if n.type in ("line_comment", "block_comment"):
            continue
        if n.child_count == 0:
            rows.update(range(n.start_point[0], n.end_point[0] + 1))
        stack.extend(n.children)
    return rows


def _check(source, filename):
    if not source.strip():
        raise PortError(f"{filename}: the file is empty; give a Julia script")
    if "\x00" in source:
        raise PortError(f"{filename}: this is a binary file, not Julia source")
    root = parse(source)
    err = first_error(root)
    if err is not None:
        line = err.start_point[0] + 1
        src_line = source.splitlines()[err.start_point[0]] if source.splitlines() else ""
        raise PortError(f"{filename}:{line}: does not parse as Julia near `{src_line.strip()[:60]}`"
                        " (is this a Julia file?)")
    return root


def header(cx, filename) -> list:
    from .. import __version__
    ns = cx.flux_module
    lines = [
        f"# Translated from {filename} by `python -m flux_torch.port` (flux_torch {__version__},",
        f"# Flux v{cx.flux} semantics). Arrays keep Julia's values with every shape reversed",
        "# (batch first); `jl` holds the Julia semantics that depend on run-time types.",
        "# Lines marked TODO(port) keep Julia code that was not translated.",
    ]
    if cx.flux == "0.14" and not ns.endswith("v014"):
        lines.append("# flux_torch.v014 is not installed: the script uses flux_torch's names.")
    return lines + [
        "import torch",
        f"import {ns} as Flux",
        "from flux_torch.port import runtime as jl",
        "",
    ]


def _includes(root, cx, path, seen):
    """Names defined by the files ``root`` includes (read beside ``path`` when they exist)."""
    import os
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "call_expression" and text(named(n)[0]) == "include":
            args = named(named(n)[-1]) if len(named(n)) > 1 else []
            if args and args[0].type == "string_literal":
                name = text(args[0]).strip('"')
                full = os.path.join(os.path.dirname(path), name) if path else None
                if full is None or not os.path.isfile(full):
                    cx.includes.append(name)      # unread: its names cannot be checked
                elif full not in seen and os.path.getsize(full) < 2**22:
                    seen.add(full)
                    with open(full, encoding="utf-8", errors="replace") as f:
                        sub = parse(f.read())
                    _prepass(sub, cx)
                    _imports_of(sub, cx)            # its `using`s apply here too
                    _includes(sub, cx, full, seen)
        stack.extend(c for c in n.children if c.is_named)


def _includers(cx, path):
    """Names defined by sibling files that include this one (a project split into files)."""
    import glob
    import os
    if not path:
        return
    me = os.path.basename(path)
    for sib in sorted(glob.glob(os.path.join(os.path.dirname(path) or ".", "*.jl")))[:50]:
        if os.path.basename(sib) == me or os.path.getsize(sib) > 2**22:
            continue
        with open(sib, encoding="utf-8", errors="replace") as f:
            src = f.read()
        if f'include("{me}")' in src:
            sub = parse(src)
            _prepass(sub, cx)
            _imports_of(sub, cx)


def _imports_of(root, cx):
    """Register the packages an including file uses: the included file runs in its scope."""
    from .context import Untranslatable
    from .imports import using
    todos = cx.todos
    for n in root.children:
        if n.type in ("using_statement", "import_statement"):
            try:
                using(n, cx)
            except Untranslatable:
                pass
    cx.todos = todos


def translate(source: str, filename: str = "script.jl", flux: str = None,
              epochs: int = None, path: str = None, defined=(), structs=()) -> Translation:
    """Translate Julia source text; raises ``PortError`` for text that is not Julia.

    ``path``, when given, is where the script lives: files it ``include``s are read
    from beside it for the names they define. ``defined`` names are taken as defined
    already, and ``structs`` among them are structs (a REPL session's earlier inputs).
    """
    t0 = time.perf_counter()
    root = _check(source, filename)
    version = flux or choose_flux(source)
    cx = Context(flux=version, epochs=epochs, filename=filename)
    cx.defined.update(defined)
    cx.structs.update(dict.fromkeys(structs, True))
    _prepass(root, cx)
    _includes(root, cx, path, set())
    _includers(cx, path)
    body = block(root.children, cx)
    python = "\n".join(header(cx, filename) + body) + "\n"
    result = Translation(python=python, body="\n".join(body), flux=version,
                         lines=len(_code_rows(root)), todo_lines=cx.todo_lines, todos=cx.todos,
                         unknown=sorted(cx.unknown), defined=set(cx.defined),
                         structs=set(cx.structs))
    try:
        compile(python, filename[:-3] + ".py" if filename.endswith(".jl") else filename, "exec")
    except SyntaxError as err:
        result.compiles = False
        result.compile_error = f"line {err.lineno}: {err.msg}"
    result.seconds = time.perf_counter() - t0
    return result


def expression(source: str, flux: str = "0.16") -> str:
    """The Python code of one Julia expression (used by the rule tests and docs)."""
    root = _check(source, "expression")
    cx = Context(flux=flux)
    cx.imported["Flux"] = None
    cx.includes.append("<free names>")       # a lone expression's names are the caller's
    _prepass(root, cx)
    from .expressions import ex
    nodes = [c for c in root.children if c.is_named]
    return ex(nodes[0], cx)
