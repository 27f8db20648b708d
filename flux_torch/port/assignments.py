"""Julia assignments to Python lines: ``x = v``, ``a, b = t``, ``x[i] = v``, ``x += v``, ``x .= v``.

A target Python cannot assign (an index the runtime must set, a field destructuring)
goes through ``jl.setindex_`` or is left as a TODO by the caller.

>>> from flux_torch.port.translation import translate
>>> print(translate("a, b = 1, 2\\nb ÷= 2").body)
a, b = 1, 2
b = jl.div(b, 2)
"""
from __future__ import annotations

from .context import Untranslatable
from .expressions import ADD, MUL, POW, ex, operand
from .parse import named, text

__all__ = ["assignment", "compound", "assign", "target_code"]

_COMMENTS = ("line_comment", "block_comment")
_COMPOUND_OPS = {"+": ("+", ADD), "-": ("-", ADD), "/": ("/", MUL), "^": ("**", POW),
                 "*": ("*", MUL), "|": ("|", 7), "&": ("&", 9), "÷": (None, 0), "%": (None, 0)}
_RUNTIME_OPS = {"*": "mul", "÷": "div", "%": "rem"}


def assignment(n, cx, returns):
    kids = [c for c in n.children if c.type not in _COMMENTS]
    target, op, value = kids[0], text(kids[1]), kids[-1]
    if target.type in ("call_expression", "where_expression") or (
            target.type == "typed_expression" and named(target)[0].type == "call_expression"):
        from .functions import return_defined, short_definition
        lines = short_definition(n, cx)
        return lines + (return_defined(lines) if returns else [])
    if op != "=":
        return compound(n, cx, returns)
    if value.type == "assignment":                      # a = b = 0
        inner = assignment(value, cx, False)
        last = inner[-1]
        code = f"{target_code(target, cx)} = {last}" if target.type != "index_expression" else None
        if code is None:
            raise Untranslatable("a chained assignment into an index")
        return inner[:-1] + [code]
    if value.type == "macrocall_expression" and target.type == "identifier":
        from .macros import _args, animate, macro_name
        if macro_name(value) == "@animate" and [a.type for a in _args(value)] == ["for_statement"]:
            return animate(value, target_code(target, cx), cx)
    value_code = ex(value, cx)
    if value.type == "open_tuple":                      # x, y = a, b
        value_code = value_code[1:-1].rstrip(",")
    lines = assign(target, value_code, cx)
    _note_ints(target, value, cx)
    if returns:
        lines.append(f"return {target_code(target, cx)}")
    return lines


def _note_ints(target, value, cx):
    from .expressions import _known_int
    if target.type == "identifier":
        py = cx.pyname(text(target))
        if _known_int(value, cx) or (value.type == "call_expression" and text(named(value)[0]) in (
                "length", "size", "div", "floor", "ceil", "round", "Int", "ndims", "sum") and
                text(named(value)[0]) in ("length", "size", "ndims", "div")):
            cx.scope.ints.add(py)
        else:
            cx.scope.ints.discard(py)


def target_code(node, cx):
    if node.type == "identifier":
        py = cx.pyname(text(node))
        cx.scope.locals.add(py) if cx.scope.kind == "function" else None
        return py
    if node.type == "typed_expression":
        return target_code(named(node)[0], cx)
    if node.type in ("open_tuple", "tuple_expression", "parenthesized_expression"):
        items = [c for c in named(node) if c.type not in _COMMENTS]
        if node.type == "tuple_expression" and text(node).lstrip("( ").startswith(";"):
            raise Untranslatable("destructuring by field names (; a, b) = x")
        inner = ", ".join(target_code(c, cx) for c in items)
        return inner if node.type == "open_tuple" else f"({inner}{',' if len(items) == 1 else ''})"
    if node.type == "splat_expression":
        return "*" + target_code(named(node)[0], cx)
    if node.type == "field_expression":
        raw, cx.raw_fields = cx.raw_fields, True       # m.weight = w rebinds the field itself
        try:
            return ex(node, cx)
        finally:
            cx.raw_fields = raw
    if node.type == "index_expression":
        code = ex(node, cx)
        if not code.startswith("jl."):
            return code
    raise Untranslatable(f"an assignment to a {node.type.replace('_', ' ')}")


def assign(target, value_code, cx):
    if target.type == "index_expression":
        from .indexing import setindex
        return setindex(target, value_code, cx)
    return [f"{target_code(target, cx)} = {value_code}"]


def compound(n, cx, returns):
    kids = [c for c in n.children if c.type not in _COMMENTS]
    target, op, value = kids[0], text(kids[1]), kids[-1]
    val = ex(value, cx)
    if op == ".=":
        if target.type == "index_expression":
            from .indexing import setindex
            return setindex(target, val, cx)
        return [f"{ex(target, cx)}[...] = {val}"]
    dotted = op.startswith(".")
    base = op.lstrip(".")[:-1]
    if base not in _COMPOUND_OPS:
        raise Untranslatable(f"the assignment operator {op}")
    pyop, prec = _COMPOUND_OPS[base]
    if target.type == "index_expression":
        if pyop is None:
            raise Untranslatable(f"{op} into an index")
        from .indexing import setindex
        return setindex(target, val, cx, op=f"{pyop}=")
    if dotted and pyop:
        return [f"{ex(target, cx)} {pyop}= {val}"]       # in place, as Julia's .+= is
    if base in _RUNTIME_OPS:
        new = f"jl.{_RUNTIME_OPS[base]}({ex(target, cx)}, {val})"
    else:
        new = f"{operand(target, cx, prec)} {pyop} {operand(value, cx, prec, right=True)}"
    lines = assign(target, new, cx)
    if returns and target.type in ("identifier", "field_expression"):
        lines.append(f"return {ex(target, cx)}")
    return lines

