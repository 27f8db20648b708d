"""``for`` loops: Julia ranges become ``range``; the epoch override caps training loops.

>>> from flux_torch.port.translation import translate
>>> print(translate("n = 2\\nfor i in 1:n, j in 2:3\\n  println(i, j)\\nend").body)
n = 2
for i in range(1, n + 1):
    for j in range(2, 4):
        jl.println(i, j)
"""
from __future__ import annotations

from .context import Untranslatable
from .expressions import ADD, ex, literal_int, operand
from .parse import named, text
from .assignments import target_code
from .statements import block, header, indent

__all__ = ["for_statement", "iterable", "capped", "range_call"]


def _has_float(node):
    if node.type == "float_literal" or (node.type == "binary_expression" and text(named(node)[1]) == "/"):
        return True
    return any(_has_float(c) for c in named(node))


def range_call(node, cx):
    """``range(...)`` for an integer Julia range, or ``None``."""
    if _has_float(node):
        return None
    kids = named(node)
    if kids[0].type == "range_expression" and len(named(kids[0])) == 2:
        a, s = named(kids[0])
        b = kids[-1]
        step = literal_int(s)
        if step is None:
            return None
        stop = _plus(b, 1 if step > 0 else -1, cx)
        return f"range({ex(a, cx)}, {stop}, {step})"
    a, b = kids[0], kids[-1]
    start = ex(a, cx)
    return f"range({start}, {_plus(b, 1, cx)})"


def _plus(node, k, cx):
    v = literal_int(node)
    if v is not None:
        return str(v + k)
    if node.type == "binary_expression" and text(named(node)[1]) in ("-", "+"):
        w = literal_int(named(node)[-1])
        if w is not None:
            total = (w if text(named(node)[1]) == "+" else -w) + k
            left = operand(named(node)[0], cx, ADD)
            return left if total == 0 else f"{left} {'+' if total > 0 else '-'} {abs(total)}"
    return f"{operand(node, cx, ADD)} {'+' if k > 0 else '-'} {abs(k)}"


def iterable(node, cx):
    if node.type == "range_expression":
        code = range_call(node, cx)
        if code:
            return code
    return ex(node, cx)


def capped(code, cx, force=False, name=""):
    """Wrap an epoch loop's iterable when an epoch override was asked for."""
    if cx.epochs is None:
        return code
    if force or "epoch" in name.lower() or "epoch" in code.lower():
        return f"jl.take({code}, {cx.epochs})"
    return code


def for_statement(n, cx) -> list:
    kids = named(n)
    bindings = [c for c in kids if c.type == "for_binding"]
    body = [c for c in kids if c.type != "for_binding"]
    if not bindings:
        raise Untranslatable("a for loop without a binding")
    def heads_of():
        heads = []
        for b in bindings:
            parts = [c for c in named(b) if c.type != "operator"]
            if len(parts) != 2:
                raise Untranslatable("a for binding that is not `x in xs`")
            target, it = parts
            code = iterable(it, cx)
            tcode = target_code(target, cx)
            if it.type == "range_expression" and target.type == "identifier":
                cx.scope.ints.add(tcode)
            heads.append(f"for {tcode} in {capped(code, cx, name=text(target))}:")
        return heads
    todo, heads = header(n, heads_of, cx)
    if isinstance(heads, str):
        from .scopes import binding_names
        names = [cx.pyname(b) for b in binding_names(named(bindings[0])[0])] or ["_"]
        heads = [f"for {', '.join(names)} in {heads}:"]
    lines = block(body, cx)
    for h in reversed(heads):
        lines = [h] + indent(lines)
    return todo + lines
