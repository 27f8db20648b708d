"""Array literals, comprehensions and ranges.

``[1, 2, 3]`` is ``jl.vect(1, 2, 3)`` (a tensor for numbers, a list otherwise);
``[1 2; 3 4]`` is ``jl.hvcat(...)`` with Julia's rows (stored reversed);
comprehensions are collected the same way, the first loop varying fastest;
a range used as a value is ``jl.colon(a, b)``, Julia's inclusive ``a:b``.

>>> from flux_torch.port.translation import expression
>>> expression("[x^2 for x in 1:3 if x > 1]")
'jl.collect([x ** 2 for x in range(1, 4) if x > 1])'
"""
from __future__ import annotations

from .context import Untranslatable
from .expressions import ex, operand, CALL
from .parse import named, text

__all__ = ["vector", "matrix", "comprehension", "generator", "range_value"]

_COMMENTS = ("line_comment", "block_comment")


def _items(node):
    return [c for c in named(node) if c.type not in _COMMENTS]


def _elem(c, cx):
    if c.type == "splat_expression":
        return "*" + operand(named(c)[0], cx, CALL)
    return ex(c, cx)


def vector(node, cx) -> str:
    items = _items(node)
    if not items:
        return "[]"
    return f"jl.vect({', '.join(_elem(c, cx) for c in items)})"


def matrix(node, cx) -> str:
    rows = [r for r in named(node) if r.type == "matrix_row"]
    if not rows:
        raise Untranslatable("a matrix literal without rows")
    row_items = [[c for c in named(r) if c.type not in _COMMENTS] for r in rows]
    if len(rows) == 1:
        return f"jl.hcat({', '.join(_elem(c, cx) for c in row_items[0])})"
    if all(len(r) == 1 for r in row_items):
        return f"jl.vcat({', '.join(_elem(r[0], cx) for r in row_items)})"
    body = ", ".join("(" + ", ".join(_elem(c, cx) for c in r) + ("," if len(r) == 1 else "") + ")"
                     for r in row_items)
    return f"jl.hvcat({body})"


def _clauses(node, cx):
    """(for-clauses, each a list of bindings, in source order; if-conditions)."""
    groups, conds = [], []
    for c in named(node):
        if c.type == "for_clause":
            groups.append([b for b in named(c) if b.type == "for_binding"])
        elif c.type == "if_clause":
            conds.append(ex(named(c)[0], cx))
    return groups, conds


def _binding(b, cx):
    from .loops import iterable
    from .assignments import target_code
    parts = [c for c in named(b) if c.type != "operator"]
    target, it = parts[0], parts[-1]
    code = iterable(it, cx)
    tgt = cx.pyname(text(target)) if target.type == "identifier" else target_code(target, cx)
    return f"for {tgt} in {code}"


def _flat_heads(groups, cx):
    """Python's for-clauses: `for a in x, b in y` varies `a` fastest (Julia's column order),
    separate `for` clauses nest in source order."""
    heads = []
    for g in groups:
        heads += [_binding(b, cx) for b in reversed(g)]
    return heads


def comprehension(node, cx) -> str:
    kids = [c for c in named(node) if c.type not in _COMMENTS]
    body = kids[0]
    groups, conds = _clauses(node, cx)
    value = ex(body, cx)
    cond = "".join(f" if {c}" for c in conds)
    if len(groups) == 1 and len(groups[0]) > 1 and not conds:
        # [f(i, j) for i in a, j in b]: a matrix with i down the first (Julia) dim
        heads = [_binding(b, cx) for b in groups[0]]
        inner = f"[{value} {heads[0]}]"
        for h in heads[1:]:
            inner = f"[{inner} {h}]"
        return f"jl.collect({inner})"
    return f"jl.collect([{value} {' '.join(_flat_heads(groups, cx))}{cond}])"


def generator(arglist, cx) -> str:
    kids = [c for c in named(arglist) if c.type not in _COMMENTS]
    body = kids[0]
    groups, conds = _clauses(arglist, cx)
    cond = "".join(f" if {c}" for c in conds)
    return f"{ex(body, cx)} {' '.join(_flat_heads(groups, cx))}{cond}"


def range_value(node, cx) -> str:
    """A range used as a value: ``jl.colon(a, b)`` or ``jl.colon(a, step, b)``."""
    kids = named(node)
    if kids[0].type == "range_expression" and len(named(kids[0])) == 2:
        a, s = named(kids[0])
        return f"jl.colon({ex(a, cx)}, {ex(s, cx)}, {ex(kids[-1], cx)})"
    if len(kids) != 2:
        raise Untranslatable("a range that is not a:b or a:s:b")
    return f"jl.colon({ex(kids[0], cx)}, {ex(kids[-1], cx)})"
