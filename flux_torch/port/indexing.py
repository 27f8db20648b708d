"""Indexing: ``x[i, j]`` is ``x[j-1, i-1]``, ranges ``a:b`` are ``a-1:b``, ``end`` is ``-1``.

Indices known at translation time (literals, ``end``, ranges of them, integer loop
counters) are converted in the code; any other index goes through ``jl.ix`` (one
index) or ``jl.getindex`` (a container whose kind decides: a dict or ``Grads`` is
keyed by the value itself, an array is indexed from 1 as in Julia).

>>> from flux_torch.port.translation import expression
>>> expression("x[1, 2:end]"), expression("x[:, end-1]")      # doctest: +SKIP
('x[1:, 0]', 'x[-2, :]')
"""
from __future__ import annotations

from .context import Untranslatable
from .expressions import CALL, ADD, ex, literal_int, operand
from .parse import named, text

__all__ = ["getindex", "setindex", "index_items", "array_operand", "TYPE_NAMES"]

TYPE_NAMES = {"Float16", "Float32", "Float64", "Int", "Int8", "Int16", "Int32", "Int64",
              "UInt8", "UInt16", "UInt32", "UInt64", "Bool", "String", "Char", "Symbol",
              "Any", "Number", "Real", "Integer", "AbstractFloat", "ComplexF32", "ComplexF64"}


def array_operand(node, cx, prec=CALL):
    """An array operand; a field flux_torch keeps in Julia's layout is read reversed."""
    return operand(node, cx, prec)


def index_items(node):
    """The index nodes of an index_expression, and the indexed object."""
    kids = named(node)
    obj, idx = kids[0], kids[-1]
    if idx.type != "vector_expression":
        raise Untranslatable("an index that is not a list [i, j, ...]")
    items = [c for c in named(idx) if c.type not in ("line_comment", "block_comment")]
    return obj, items


def _ends_with(node, n):
    """``end - n`` as ``-1 - n``; None when ``node`` is not ``end`` minus a literal."""
    if node.type == "identifier" and text(node) == "end":
        return -1
    if node.type == "binary_expression":
        kids = named(node)
        op = text(kids[1])
        k = literal_int(kids[-1])
        if kids[0].type == "identifier" and text(kids[0]) == "end" and k is not None and op in "+-":
            return -1 - k if op == "-" else -1 + k
    return None


def _contains_end(node):
    if node.type == "identifier" and text(node) == "end":
        return True
    if node.type in ("index_expression",):
        return _contains_end(named(node)[0])
    return any(_contains_end(c) for c in named(node))


def _bound(node, cx, upper):
    """A slice bound: Julia's 1-based inclusive value as Python's (start-1, or stop)."""
    e = _ends_with(node, 0)
    if e is not None:
        if upper:
            return "" if e == -1 else str(e + 1)
        return str(e)
    k = literal_int(node)
    if k is not None:
        return str(k - 1 if not upper else k)
    if _contains_end(node):
        return None
    if upper:
        return ex(node, cx)
    if node.type == "binary_expression" and text(named(node)[1]) in "+-":
        k = literal_int(named(node)[-1])           # a + 1 as a start is a, a + k is a + (k - 1)
        if k is not None:
            shift = (k - 1) if text(named(node)[1]) == "+" else -(k + 1)
            left = operand(named(node)[0], cx, ADD)
            return left if shift == 0 else f"{left} {'+' if shift > 0 else '-'} {abs(shift)}"
    return f"{operand(node, cx, ADD)} - 1"


def _range_parts(node):
    kids = named(node)
    if kids[0].type == "range_expression" and len(named(kids[0])) == 2:
        a, s = named(kids[0])
        return a, s, kids[-1]
    return kids[0], None, kids[-1]


def _one(item, cx, static_ok):
    """(code, kind) of one index; kind is 'int', 'slice' or 'dynamic'."""
    if item.type == "operator" and text(item) == ":":
        return ":", "slice"
    if item.type == "identifier" and text(item) == "begin":
        return "0", "int"
    e = _ends_with(item, 0)
    if e is not None:
        return str(e), "int"
    k = literal_int(item)
    if k is not None:
        return str(k - 1), "int"
    if item.type == "range_expression":
        a, s, b = _range_parts(item)
        step = literal_int(s) if s is not None else 1
        if step is not None and step > 0:
            lo, hi = _bound(a, cx, False), _bound(b, cx, True)
            if lo is not None and hi is not None:
                lo = "" if lo == "0" else lo
                return f"{lo}:{hi}" + (f":{step}" if step != 1 else ""), "slice"
    if _contains_end(item):
        return None, "end"
    from .expressions import _known_int
    if _known_int(item, cx):
        return f"{operand(item, cx, ADD)} - 1", "int"
    if item.type == "string_literal":
        return ex(item, cx), "key"
    return f"jl.ix({ex(item, cx)})", "dynamic"


def getindex(node, cx) -> str:
    kids = named(node)
    if kids[0].type == "identifier" and text(kids[0]) in TYPE_NAMES and kids[-1].type in (
            "matrix_expression", "comprehension_expression"):
        return f"jl.typed_array(jl.{text(kids[0])}, {ex(kids[-1], cx)})"     # Float32[1 2; 3 4]
    obj, items = index_items(node)
    if obj.type == "identifier" and text(obj) in TYPE_NAMES:
        args = ", ".join(ex(i, cx) for i in items)
        return f"jl.typed_vect(jl.{text(obj)}{', ' + args if args else ''})"
    if not items:
        return f"jl.getindex({ex(obj, cx)})"
    if any(i.type == "splat_expression" for i in items):
        return f"jl.getindex({ex(obj, cx)}, {', '.join(_splat_or(i, cx) for i in items)})"
    target = array_operand(obj, cx)
    codes = [_one(i, cx, True) for i in items]
    if len(items) == 1:
        code, kind = codes[0]
        literal = literal_int(items[0]) is not None or _ends_with(items[0], 0) is not None or (
            items[0].type == "range_expression" and not any(
                c.type == "identifier" and text(c) != "end" for c in named(items[0])))
        if kind in ("slice", "key") and code != ":" or (kind == "int" and literal):
            return f"{target}[{code}]"
        if code == ":":
            return f"jl.vec({ex(obj, cx)})"
        raw, cx.raw_fields = cx.raw_fields, True      # gs[m.weight]: the tensor itself is the key
        try:
            key = _runtime_arg(items[0], cx, obj, 1, 1)
        finally:
            cx.raw_fields = raw
        return f"jl.getindex({ex(obj, cx)}, {key})"
    dynamic = sum(kind in ("dynamic", "end") for _, kind in codes)
    if dynamic <= 1 and all(kind != "end" for _, kind in codes):
        return f"{target}[{', '.join(c for c, _ in reversed(codes))}]"
    args = ", ".join(_runtime_arg(i, cx, obj, d + 1, len(items)) for d, i in enumerate(items))
    return f"jl.getindex({ex(obj, cx)}, {args})"


def _splat_or(item, cx):
    if item.type == "splat_expression":
        return "*" + operand(named(item)[0], cx, CALL)
    return ex(item, cx)


def _runtime_arg(item, cx, obj, dim, ndims):
    """An index passed to jl.getindex with Julia's values (``end`` made explicit)."""
    if item.type == "operator" and text(item) == ":":
        return "jl.Colon"
    if _contains_end(item):
        if obj.type not in ("identifier", "field_expression"):
            raise Untranslatable("`end` inside a computed index of a computed array")
        size = f"jl.lastindex({ex(obj, cx)}, {dim}, {ndims})"
        cx.end_value = size
        try:
            return ex(item, cx)
        finally:
            cx.end_value = None
    return ex(item, cx)


def setindex(target, value_code, cx, op="=") -> list:
    """Lines for ``x[i...] = value`` (or ``.=``, ``+=`` with ``op``)."""
    obj, items = index_items(target)
    codes = [_one(i, cx, True) for i in items]
    dynamic = sum(kind in ("dynamic", "end") for _, kind in codes)
    if items and dynamic == 0 and all(kind != "end" for _, kind in codes):
        if len(items) == 1 and codes[0][0] == ":":
            return [f"{ex(obj, cx)}[...] {op} {value_code}"]
        idx = ", ".join(c for c, _ in reversed(codes))
        return [f"{array_operand(obj, cx)}[{idx}] {op} {value_code}"]
    args = ", ".join(_runtime_arg(i, cx, obj, d + 1, len(items)) for d, i in enumerate(items))
    if op != "=":
        cur = f"jl.getindex({ex(obj, cx)}, {args})"
        value_code = f"{cur} {op[:-1]} {value_code}"
    return [f"jl.setindex_({ex(obj, cx)}, {value_code}, {args})"]
