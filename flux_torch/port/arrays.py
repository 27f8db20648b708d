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
    """(python for-clauses in nesting order, number of dims) of a comprehension."""
    fors, conds = [], []
    for c in named(node):
        if c.type == "for_clause":
            fors += [b for b in named(c) if b.type == "for_binding"]
        elif c.type == "if_clause":
            conds.append(ex(named(c)[0], cx))
    return fors, conds


def _binding(b, cx):
    from .loops import iterable
    parts = [c for c in named(b) if c.type != "operator"]
    target, it = parts[0], parts[-1]
    from .statements import _target
    saved = cx.scope.kind
    code = iterable(it, cx)
    tgt = _target(target, cx) if saved != "function" else _comp_target(target, cx)
    return f"for {tgt} in {code}"


def _comp_target(target, cx):
    if target.type == "identifier":
        return cx.pyname(text(target))
    from .statements import _target
    return _target(target, cx)


def comprehension(node, cx) -> str:
    kids = [c for c in named(node) if c.type not in _COMMENTS]
    body = kids[0]
    fors, conds = _clauses(node, cx)
    heads = [_binding(b, cx) for b in fors]
    value = ex(body, cx)
    cond = "".join(f" if {c}" for c in conds)
    if len(heads) == 1 or conds:
        # Julia varies the first loop fastest; filtered multi-loops flatten to a vector
        return f"jl.collect([{value} {' '.join(reversed(heads))}{cond}])"
    inner = f"[{value} {heads[0]}]"
    for h in heads[1:]:
        inner = f"[{inner} {h}]"
    return f"jl.collect({inner})"


def generator(arglist, cx) -> str:
    kids = [c for c in named(arglist) if c.type not in _COMMENTS]
    body = kids[0]
    fors, conds = _clauses(arglist, cx)
    heads = [_binding(b, cx) for b in fors]
    cond = "".join(f" if {c}" for c in conds)
    return f"{ex(body, cx)} {' '.join(reversed(heads))}{cond}"


def range_value(node, cx) -> str:
    """A range used as a value: ``jl.colon(a, b)`` or ``jl.colon(a, step, b)``."""
    kids = named(node)
    if kids[0].type == "range_expression" and len(named(kids[0])) == 2:
        a, s = named(kids[0])
        return f"jl.colon({ex(a, cx)}, {ex(s, cx)}, {ex(kids[-1], cx)})"
    if len(kids) != 2:
        raise Untranslatable("a range that is not a:b or a:s:b")
    return f"jl.colon({ex(kids[0], cx)}, {ex(kids[-1], cx)})"
