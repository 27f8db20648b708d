"""Flux's ``jldoctest`` blocks: extract them, translate each input, run it, compare values.

A block is translatable when every input translates with no TODO and compiles. It
reproduces Flux when every printed value matches: the numbers (and true/false)
in Julia's output, in order, against the Python value read in Julia's order (a
tensor reversed back, so a matrix is read row by row as Julia prints it), within
the digits Julia printed. Blocks sharing a name share their variables, as in
Documenter.
"""
from __future__ import annotations

import ast
import contextlib
import io
import math
import re
import warnings

import torch

from flux_torch.port import translate
from flux_torch.port.parse import PortError

_BLOCK = re.compile(r"```jldoctest([^\n]*)\n(.*?)```", re.S)
_NUMBER = re.compile(r"(?<![\w.])(-?(?:\d+\.?\d*|\.\d+)(?:[eEf][-+]?\d+)?|true|false|NaN|-?Inf)(?![\w])")
_SUMMARY = re.compile(r"^\s*(\d+(-element|×\d+)|\(\d+|\w+\{).*:\s*$|^\s*\d+-element .*$")


def blocks(markdown):
    """[(name or None, [(input, expected output)])] of a page's jldoctest blocks."""
    out = []
    for head, body in _BLOCK.findall(markdown):
        name = head.strip().split(";")[0].strip() or None
        if name and "=" in name:
            name = None
        examples = []
        if "julia>" in body:
            cur_in, cur_out, mode = [], [], None
            for line in body.splitlines():
                if line.startswith("julia> "):
                    if cur_in:
                        examples.append(("\n".join(cur_in), "\n".join(cur_out).strip()))
                    cur_in, cur_out, mode = [line[7:]], [], "in"
                elif mode == "in" and line.startswith(" ") and _incomplete("\n".join(cur_in)):
                    cur_in.append(line[7:] if line.startswith("       ") else line.lstrip())
                else:
                    mode = "out" if cur_in else None
                    cur_out.append(line)
            if cur_in:
                examples.append(("\n".join(cur_in), "\n".join(cur_out).strip()))
        else:
            code, _, expected = body.partition("# output")
            examples.append((code, expected.strip()))
        out.append((name, examples))
    return out


def comparable(text):
    """Whether Julia's output can be compared: shown in full, and a value (not a method)."""
    return not any(mark in text for mark in ("⋮", "…", "generic function with", "ERROR:"))


def _incomplete(src):
    """Whether a REPL input still needs its continuation lines (it does not parse yet)."""
    from flux_torch.port.parse import first_error, parse
    return first_error(parse(src)) is not None


def numbers(text):
    """The numbers and Booleans of Julia's printed output, summary lines left out."""
    vals = []
    text = text.replace("⋅", "0")           # zeros of a one-hot or sparse display
    for line in text.splitlines():
        if _SUMMARY.match(line) or line.strip().startswith(("ERROR", "[", "┌", "│", "└", "#")):
            if not line.strip().startswith("["):
                continue
        for tok in _NUMBER.findall(line.replace("f0", "").replace("_", "")):
            if tok in ("true", "false"):
                vals.append(tok == "true")
            elif "f" in tok:
                mant, _, e = tok.partition("f")
                vals.append(float(mant) * 10 ** int(e))
            else:
                vals.append(float(tok.replace("Inf", "inf")))
    return vals


def python_values(value):
    """The numbers of a Python value in the order Julia prints them."""
    if isinstance(value, bool):
        return [value]
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.ndim >= 2:
            t = t.permute(*reversed(range(t.ndim)))      # Julia's dims
            t = t.reshape(-1, t.shape[-1]) if t.ndim > 2 else t
            # Julia prints a matrix row by row, and higher arrays as matrix slices
            t = t.reshape(t.shape[0], -1)
            order = t.reshape(-1) if value.ndim == 2 else _slices(value.detach())
            return [bool(v) if t.dtype == torch.bool else float(v) for v in order.tolist()]
        return [bool(v) if t.dtype == torch.bool else float(v) for v in t.reshape(-1).tolist()]
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out += python_values(v)
        return out
    if hasattr(value, "_asdict"):
        return python_values(tuple(value))
    if value is None:
        return []
    return numbers(repr(value) if not isinstance(value, str) else value)   # a layer, a rule


def _slices(t):
    """A 3-d (or more) array as Julia prints it: each [:, :, k] matrix, row by row."""
    j = t.permute(*reversed(range(t.ndim)))               # Julia's index order
    rows, cols = j.shape[0], j.shape[1]
    rest = j.reshape(rows, cols, -1)
    return torch.cat([rest[:, :, k].reshape(-1) for k in range(rest.shape[2])])


def close(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if math.isnan(a) and math.isnan(b):
        return True
    digits = 1e-3 * max(1.0, abs(b))
    return abs(a - b) <= digits


_RANDOM = re.compile(r"\b(rand|randn|shuffle|randperm|Dense|Chain|Conv|RNN|LSTM|GRU|Embedding|"
                     r"glorot_\w+|sample|Dropout|DataLoader)\b")


def _run_example(src, namespace, defined, imports):
    """Translate one input (after the namespace's `using` lines) and run it; its value is the
    last expression's, or the last assignment's, as the REPL shows."""
    prefix = "using Flux\n" + "".join(line + "\n" for line in imports)
    base = translate(prefix, "block.jl")
    result = translate(prefix + src, "block.jl", defined=defined | {"ans"},
                       structs={n[len("struct:"):] for n in defined if n.startswith("struct:")})
    if result.todos > base.todos or not result.compiles:
        return "untranslatable", None, result
    body = "\n".join(ln for ln in result.python.splitlines() if not ln.startswith("import "))
    tree = ast.parse(body)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        tree.body[-1] = ast.Assign(targets=[ast.Name("__value__", ast.Store())], value=tree.body[-1].value)
    elif tree.body and isinstance(tree.body[-1], ast.Assign):
        target = tree.body[-1].targets[0]
        load = ast.parse(ast.unparse(target), mode="eval").body
        tree.body.append(ast.Assign(targets=[ast.Name("__value__", ast.Store())], value=load))
    ast.fix_missing_locations(tree)
    namespace.pop("__value__", None)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        exec(compile(tree, "block.py", "exec"), namespace)
    return "ran", namespace.get("__value__"), result


def evaluate(markdown):
    """[(page block index, translatable, deterministic, matches)] for every block of a page.

    A block is deterministic when neither it nor an earlier block of its name draws
    random numbers (``rand``, a layer's initial weights, ...): Julia's generator is
    not torch's, so such values cannot be reproduced and are not compared."""
    import flux_torch
    from flux_torch.port import runtime
    spaces = {}
    report = []
    for i, (name, examples) in enumerate(blocks(markdown)):
        if name is None or name not in spaces:
            ns = {"torch": torch, "Flux": flux_torch, "jl": runtime}
            exec("from flux_torch import *", ns)
            spaces[name or f"_{i}"] = (ns, set(), [], [False])
        ns, defined, imports, random = spaces[name or f"_{i}"]
        translatable, ok = True, True
        for src, expected in examples:
            torch.manual_seed(0)
            random[0] = random[0] or bool(_RANDOM.search(src))
            if src.lstrip().startswith(("using ", "import ")):
                imports.append(src.strip())
            try:
                status, value, result = _run_example(src, ns, defined, imports)
            except PortError:
                translatable = False
                break
            except Exception:
                ok = False
                continue
            if status == "untranslatable":
                translatable = False
                break
            defined |= result.defined | {"struct:" + n for n in result.structs}
            ns["ans"] = value
            if not comparable(expected) or src.rstrip().endswith(";"):
                continue
            want = numbers(expected)
            got = python_values(value)
            if want and not (len(want) == len(got) and all(close(g, w) for g, w in zip(got, want))):
                ok = False
        report.append((i, translatable, not random[0], translatable and ok))
    return report


def page_script(markdown):
    """A docs page's code in order (jldoctest and julia blocks, REPL inputs), as one script.
    Documenter runs the pages with Flux loaded, so the script starts with `using Flux`."""
    code = []
    for kind, _, body in re.findall(r"```(jldoctest|julia-repl|julia)([^\n]*)\n(.*?)```", markdown, re.S):
        if "julia>" not in body:
            code.append(body.split("# output")[0])
        else:
            code += [src for src, _ in blocks("```jldoctest\n" + body + "```")[0][1]]
    return "using Flux\n" + "\n".join(code)
