"""Structs: ``struct``/``mutable struct``/``@kwdef`` become ``jl.Struct`` classes.

Fields are class annotations in Julia's order (their Julia types kept as strings);
``@kwdef`` defaults are class attributes. The class takes its fields positionally
or by name, as Julia's default and keyword constructors do; outer and inner
constructors are registered on it by ``@jl.method`` (see ``functions``).

>>> from flux_torch.port.translation import translate
>>> print(translate("struct Affine\\n  W\\n  b::Vector{Float32}\\nend").body)
class Affine(jl.Struct):
    W: "Any"
    b: "Vector{Float32}"
"""
from __future__ import annotations

from .context import Untranslatable
from .expressions import ex
from .parse import named, text
from .statements import INDENT

__all__ = ["struct", "abstract", "struct_name"]


def struct_name(head):
    """(name, supertype or None) of a struct's type_head."""
    node = named(head)[0] if head.type == "type_head" else head
    sup = None
    if node.type == "binary_expression":
        kids = named(node)
        node, sup = kids[0], kids[-1]
    while node.type == "parametrized_type_expression":
        node = named(node)[0]
    if node.type != "identifier":
        raise Untranslatable("a struct whose name is not a plain name")
    if sup is not None:
        while sup.type == "parametrized_type_expression":
            sup = named(sup)[0]
        sup = text(sup)
    return text(node), sup


def struct(n, cx, kwdef=False) -> list:
    kids = [c for c in named(n)]
    head = kids[0]
    name, sup = struct_name(head)
    py = cx.pyname(name)
    base = "jl.Struct"
    if sup and sup in cx.structs:
        base = cx.pyname(sup)
    lines = [f"class {py}({base}):"]
    body, after = [], []
    for c in kids[1:]:
        if c.type in ("line_comment", "block_comment"):
            body.append("#" + text(c)[1:] if c.type == "line_comment" else "# " + text(c)[2:-2].strip())
            continue
        if c.type == "identifier":
            body.append(f'{cx.pyname(text(c))}: "Any"')
        elif c.type == "typed_expression":
            f, t = named(c)[0], named(c)[-1]
            body.append(f"{cx.pyname(text(f))}: {_type_str(t)}")
        elif c.type == "assignment" and named(c)[0].type in ("identifier", "typed_expression"):
            target, value = named(c)[0], [k for k in c.children if k.is_named][-1]
            if not kwdef:
                raise Untranslatable("a field default outside @kwdef")
            if target.type == "typed_expression":
                f, t = named(target)[0], named(target)[-1]
                body.append(f"{cx.pyname(text(f))}: {_type_str(t)} = {ex(value, cx)}")
            else:
                body.append(f'{cx.pyname(text(target))}: "Any" = {ex(value, cx)}')
        elif c.type in ("function_definition", "assignment"):
            after.append(c)                      # an inner constructor
        else:
            raise Untranslatable(f"a struct member written as {c.type.replace('_', ' ')}")
    if not any(ln and not ln.startswith("#") for ln in body):
        body.append("pass")
    lines += [INDENT + ln for ln in body]
    if after:
        from .statements import one
        cx.current_struct = py
        try:
            for c in after:
                lines += one(c, cx)
        finally:
            cx.current_struct = None
    return lines


def _type_str(node):
    t = text(node).replace('"', "'")
    return f'"{t}"'


def abstract(n, cx) -> list:
    head = named(n)[0]
    name, sup = struct_name(head)
    base = cx.pyname(sup) if sup and sup in cx.structs else "jl.Struct"
    return [f"class {cx.pyname(name)}({base}):", INDENT + "pass"]
