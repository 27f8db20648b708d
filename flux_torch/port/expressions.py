"""Julia expressions to Python expressions.

Every translator returns ``(code, precedence)`` so that parentheses appear only
where Python needs them. Arrays keep Julia's values and reversed shapes (see
``docs/port.md``); operators that depend on run-time types call ``jl.*``.

>>> from flux_torch.port.translation import expression
>>> expression("x .+ 2y .^ 2")                           # doctest: +SKIP
'x + 2 * y ** 2'
"""
from __future__ import annotations

from .context import Untranslatable
from .parse import named, text
from .strings import _char, _prefixed_string, _pystr, _string  # noqa: F401  (_pystr for the rules)

__all__ = ["ex", "exp", "operand", "ATOM", "literal_int", "is_literal"]

ATOM, CALL, POW, UNARY, MUL, ADD, BITAND, BITXOR, BITOR, CMP, NOT, AND, OR, TERNARY, LAMBDA = (
    16, 15, 14, 13, 12, 11, 9, 8, 7, 6, 5, 4, 3, 2, 1)

# Julia operator -> (Python operator, precedence); dotted forms are elementwise on tensors
_BINARY = {
    "+": ("+", ADD), "-": ("-", ADD), "/": ("/", MUL), "^": ("**", POW),
    ".+": ("+", ADD), ".-": ("-", ADD), ".*": ("*", MUL), "./": ("/", MUL), ".^": ("**", POW),
    "<": ("<", CMP), ">": (">", CMP), "<=": ("<=", CMP), ">=": (">=", CMP),
    "≤": ("<=", CMP), "≥": (">=", CMP), ".<": ("<", CMP), ".>": (">", CMP),
    ".<=": ("<=", CMP), ".>=": (">=", CMP), ".≤": ("<=", CMP), ".≥": (">=", CMP),
    "===": ("is", CMP), "!==": ("is not", CMP), "≡": ("is", CMP),
    "&&": ("and", AND), "||": ("or", OR), "&": ("&", BITAND), "|": ("|", BITOR),
    ".&": ("&", BITAND), ".|": ("|", BITOR), "⊻": ("^", BITXOR), ".⊻": ("^", BITXOR),
    "in": ("in", CMP), "∈": ("in", CMP), "∉": ("not in", CMP),
}
# Julia operator -> runtime function (types decide at run time)
_RUNTIME_BINARY = {
    "*": "mul", "÷": "div", ".÷": "div", "%": "rem", ".%": "rem", "==": "eq", "!=": "ne",
    "≠": "ne", "≈": "isapprox", "≉": "not_isapprox", "\\": "ldiv", "//": "rational",
    "⊗": "kron", "<:": "issubtype", "isa": "isa", "∘": "compose", "=>": None, ".=>": "pairs_",
    "<<": "lshift", ">>": "rshift", "⋅": "dot", "×": "cross", "∪": "union", "∩": "intersect",
    "⊆": "issubset", ".==": "dot_eq", ".!=": "dot_ne", ".≠": "dot_ne",
}
_SCALAR_KINDS = {"integer_literal", "float_literal", "string_literal", "quote_expression",
                 "character_literal", "boolean_literal"}
_CONSTANTS = {"true": "True", "false": "False", "nothing": "None", "missing": "None",
              "Inf": "jl.Inf", "Inf32": "jl.Inf", "Inf64": "jl.Inf", "NaN": "jl.NaN",
              "NaN32": "jl.NaN", "π": "jl.pi", "pi": "jl.pi", "ℯ": "jl.e", "im": "1j",
              "stdout": "jl.stdout", "stderr": "jl.stderr", "ARGS": "jl.ARGS",
              "ENV": "jl.ENV", "PROGRAM_FILE": "jl.PROGRAM_FILE()", "Colon": "jl.Colon"}


def ex(node, cx) -> str:
    """The Python code of a Julia expression."""
    return exp(node, cx)[0]


def exp(node, cx):
    fn = _RULES.get(node.type)
    if fn is None:
        raise Untranslatable(f"no rule for Julia's {node.type.replace('_', ' ')}")
    return fn(node, cx)


def operand(node, cx, prec, right=False):
    """Code for ``node`` as an operand of an operator of precedence ``prec``."""
    code, p = exp(node, cx)
    if p < prec or (p == prec and right and prec != POW) or (p == prec == POW and not right):
        return f"({code})"
    return code


def is_literal(node) -> bool:
    return node.type in _SCALAR_KINDS or (
        node.type == "unary_expression" and text(node)[0] == "-" and is_literal(named(node)[-1]))


def literal_int(node):
    """The value of an integer literal (or a negated one), else ``None``."""
    t = text(node).replace("_", "")
    if node.type == "integer_literal":
        try:
            return int(t, 0)
        except ValueError:
            return None
    if node.type == "unary_expression" and t.startswith("-"):
        v = literal_int(named(node)[-1])
        return None if v is None else -v
    if node.type == "parenthesized_expression" and len(named(node)) == 1:
        return literal_int(named(node)[0])
    return None


def _identifier(node, cx):
    from .names import resolve
    return resolve(text(node), cx), ATOM


def _integer(node, cx):
    t = text(node)
    if t.startswith("0b") or t.startswith("0o") or t.startswith("0x"):
        return t, ATOM
    return t, ATOM


def _float(node, cx):
    t = text(node).replace("_", "")
    if "f" in t and not t.startswith("0x"):
        mant, _, expo = t.partition("f")
        t = mant + ("" if expo in ("0", "+0", "-0") else "e" + expo)
    if t.startswith("."):
        t = "0" + t
    if t.endswith("."):
        t += "0"
    if "." not in t and "e" not in t.lower():
        t += ".0"
    return t, ATOM


def _bool(node, cx):
    return ("True" if text(node) == "true" else "False"), ATOM


def _quote(node, cx):
    inner = named(node)
    if len(inner) == 1 and inner[0].type in ("identifier", "operator"):
        return _pystr(text(inner[0])), ATOM
    raise Untranslatable("quoted Julia code (:(...)) is metaprogramming")


def _paren(node, cx):
    inner = [c for c in named(node) if c.type not in ("line_comment", "block_comment")]
    if any(c.type == "for_clause" for c in inner):            # (f(x) for x in xs): a generator
        from .arrays import generator
        return f"({generator(node, cx)})", ATOM
    if len(inner) == 1:
        return exp(inner[0], cx)              # operators add the parentheses they need
    if not inner:
        return "()", ATOM
    # (a; b): evaluate in order, value of the last; assignments become :=
    codes = []
    for c in inner:
        kids = [k for k in c.children if k.is_named]
        if c.type == "assignment" and kids[0].type == "identifier" and text(kids[1]) == "=":
            codes.append(f"({cx.pyname(text(kids[0]))} := {ex(kids[-1], cx)})")
        else:
            codes.append(ex(c, cx))
    return f"jl.last_of({', '.join(codes)})", CALL


def _tuple(node, cx):
    items = [c for c in named(node) if c.type not in ("line_comment", "block_comment")]
    if items and all(c.type == "named_field" for c in items) or any(
            c.type == "named_field" for c in items) or (
            items and text(node).lstrip("(").lstrip().startswith(";")):
        parts = []
        for c in items:
            if c.type == "named_field":
                k, v = named(c)[0], named(c)[-1]
                parts.append(f"{cx.pyname(text(k))}={ex(v, cx)}")
            elif c.type == "identifier":
                parts.append(f"{cx.pyname(text(c))}={ex(c, cx)}")
            elif c.type == "field_expression":
                parts.append(f"{cx.pyname(text(named(c)[-1]))}={ex(c, cx)}")
            else:
                raise Untranslatable("a NamedTuple entry that is not name = value")
        return f"jl.NamedTuple({', '.join(parts)})", CALL
    codes = [_element(c, cx) for c in items]
    if len(codes) == 1:
        return f"({codes[0]},)", ATOM
    return f"({', '.join(codes)})", ATOM


def _element(c, cx):
    if c.type == "splat_expression":
        return "*" + operand(named(c)[0], cx, UNARY)
    return ex(c, cx)


def _open_tuple(node, cx):
    items = [_element(c, cx) for c in named(node)]
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})", ATOM


def _ternary(node, cx):
    c, a, b = [n for n in named(node) if n.type not in ("line_comment",)]
    return (f"{operand(a, cx, TERNARY + 1)} if {operand(c, cx, TERNARY + 1)} "
            f"else {operand(b, cx, TERNARY)}"), TERNARY


def _juxta(node, cx):
    a, b = named(node)[0], named(node)[-1]
    if is_literal(a) or is_literal(b):
        return f"{operand(a, cx, MUL)} * {operand(b, cx, MUL, right=True)}", MUL
    return f"jl.mul({ex(a, cx)}, {ex(b, cx)})", CALL


def _unary(node, cx):
    op = text(node.children[0])
    arg = named(node)[-1]
    if op in ("-", "+", ".-", ".+"):
        return f"{op[-1]}{operand(arg, cx, UNARY)}", UNARY
    if op == "!":
        if arg.type == "identifier":
            code = ex(arg, cx)
            if code.startswith("jl.") or "." in code:       # !isempty: the negated function
                return f"jl.not_({code})", CALL
        return f"not {operand(arg, cx, NOT)}", NOT
    if op in (".!", "~"):
        return f"jl.bnot({ex(arg, cx)})", CALL
    if op in ("√", ".√"):
        return f"jl.sqrt({ex(arg, cx)})", CALL
    if op == "::":
        raise Untranslatable("a type annotation without a value")
    raise Untranslatable(f"the unary operator {op}")


def _binary(node, cx):
    kids = [c for c in node.children if c.type not in ("line_comment", "block_comment")]
    left, opn, right = kids[0], kids[1], kids[-1]
    op = text(opn)
    if op == "|>":
        from .calls import apply_value
        return apply_value(right, [ex(left, cx)], cx), CALL
    if op == ".|>":
        from .calls import apply_value
        return apply_value(right, [ex(left, cx)], cx, broadcast=True), CALL
    if op == "=>":
        return f"({ex(left, cx)}, {ex(right, cx)})", ATOM
    if op == "::":
        return exp(left, cx)
    if op in ("==", "!=", "≠", "≈") and left.type == "binary_expression" and \
            text(named(left)[1]) in ("==", "!=", "≠", "≈", "<", ">", "<=", ">=", "≤", "≥"):
        # a == b == c is a chain in Julia: (a == b) and (b == c)
        mid = named(left)[-1]
        py = {"==": "eq", "!=": "ne", "≠": "ne", "≈": "isapprox"}[op]
        return f"{operand(left, cx, AND + 1)} and jl.{py}({ex(mid, cx)}, {ex(right, cx)})", AND
    if op in ("*", "==", "!=", "≠") and (is_literal(left) or is_literal(right) or (
            _known_int(left, cx) and _known_int(right, cx))):
        py = {"*": "*", "==": "==", "!=": "!=", "≠": "!="}[op]
        prec = MUL if py == "*" else CMP
        return f"{operand(left, cx, prec)} {py} {operand(right, cx, prec, right=True)}", prec
    if op in ("*", ".*") and _is_string_side(left, right):
        return f"jl.string({ex(left, cx)}, {ex(right, cx)})", CALL
    if op in ("===", "!==", "≡") and not (text(right) == "nothing" or text(left) == "nothing"):
        return f"{'not ' if op == '!==' else ''}jl.egal({ex(left, cx)}, {ex(right, cx)})", NOT
    if op in ("-", "+") and (text(left) == "end" or text(right) == "end"):
        pass
    if op in ("^", ".^") and left.type == "juxtaposition_expression" and is_literal(named(left)[0]):
        # the grammar reads 3x^2 as (3x)^2; Julia means 3 * x^2
        coef, base = named(left)[0], named(left)[-1]
        return (f"{operand(coef, cx, MUL)} * {operand(base, cx, POW + 1)} ** "
                f"{operand(right, cx, UNARY)}"), MUL
    if op in _DOTTED_CMP and left.type == "binary_expression" and text(named(left)[1]) in _DOTTED_CMP:
        # 0 .<= x .<= 1 holds elementwise: (0 <= x) & (x <= 1)
        mid = named(left)[-1]
        py = _BINARY.get(op, ("==",))[0]
        return f"({ex(left, cx)}) & ({operand(mid, cx, CMP)} {py} {operand(right, cx, CMP, right=True)})", BITAND
    if op in (".==", ".!=", ".≠") and (is_literal(left) or is_literal(right)):
        return f"{operand(left, cx, CMP)} {'==' if op == '.==' else '!='} {operand(right, cx, CMP, right=True)}", CMP
    if op in _BINARY:
        py, prec = _BINARY[op]
        if op in ("^", ".^"):
            return f"{operand(left, cx, POW + 1)} ** {operand(right, cx, UNARY)}", POW
        return f"{operand(left, cx, prec)} {py} {operand(right, cx, prec, right=True)}", prec
    if op in _RUNTIME_BINARY and _RUNTIME_BINARY[op]:
        return f"jl.{_RUNTIME_BINARY[op]}({ex(left, cx)}, {ex(right, cx)})", CALL
    raise Untranslatable(f"the operator {op}")


_DOTTED_CMP = {".<", ".>", ".<=", ".>=", ".≤", ".≥"}


def _is_string_side(a, b):
    return a.type == "string_literal" or b.type == "string_literal"


def _known_int(node, cx):
    if node.type == "integer_literal":
        return True
    if node.type == "identifier":
        return cx.is_int(text(node))
    if node.type == "binary_expression":
        kids = named(node)
        return text(kids[1]) in ("+", "-", "*", "÷") and all(_known_int(k, cx) for k in (kids[0], kids[-1]))
    return False


def _adjoint(node, cx):
    return f"jl.adjoint({ex(named(node)[0], cx)})", CALL


def _field(node, cx):
    from .names import field
    return field(node, cx), CALL


def _call(node, cx):
    from .calls import call
    return call(node, cx), CALL


def _index(node, cx):
    from .indexing import getindex
    return getindex(node, cx), CALL


def _arrow(node, cx):
    from .functions import arrow
    return arrow(node, cx), LAMBDA


def _vector(node, cx):
    from .arrays import vector
    return vector(node, cx), CALL


def _matrix(node, cx):
    from .arrays import matrix
    return matrix(node, cx), CALL


def _comprehension(node, cx):
    from .arrays import comprehension
    return comprehension(node, cx), CALL


def _range(node, cx):
    from .arrays import range_value
    return range_value(node, cx), CALL


def _macrocall(node, cx):
    from .macros import _TRANSPARENT, _args, macro_expression, macro_name
    args = _args(node)
    if macro_name(node) in _TRANSPARENT and len(args) == 1:
        return exp(args[0], cx)
    return macro_expression(node, cx), CALL


def _typed(node, cx):
    return exp(named(node)[0], cx)


def _splat(node, cx):
    raise Untranslatable("a splat (xs...) outside a call")


def _type_expr(node, cx):
    from .names import type_value
    return type_value(node, cx), CALL


def _operator(node, cx):
    from .names import operator_value
    return operator_value(text(node), cx), ATOM


def _compound(node, cx):
    """``begin ... end`` or ``let ... end`` as a value: a hoisted def, called at once."""
    from .functions import _hoist
    body = [c for c in named(node) if c.type not in ("line_comment", "block_comment")]
    return f"{_hoist('block', [], body if node.type == 'compound_statement' else [node], cx)}()", CALL


def _identifier_const(node, cx):
    return _identifier(node, cx)


_RULES = {
    "identifier": _identifier, "integer_literal": _integer, "float_literal": _float,
    "boolean_literal": _bool, "character_literal": _char, "string_literal": _string,
    "prefixed_string_literal": _prefixed_string, "quote_expression": _quote,
    "parenthesized_expression": _paren, "tuple_expression": _tuple, "open_tuple": _open_tuple,
    "ternary_expression": _ternary, "juxtaposition_expression": _juxta,
    "unary_expression": _unary, "binary_expression": _binary, "adjoint_expression": _adjoint,
    "field_expression": _field, "call_expression": _call, "broadcast_call_expression": _call,
    "index_expression": _index, "arrow_function_expression": _arrow,
    "vector_expression": _vector, "matrix_expression": _matrix,
    "comprehension_expression": _comprehension, "range_expression": _range,
    "macrocall_expression": _macrocall, "typed_expression": _typed, "splat_expression": _splat,
    "parametrized_type_expression": _type_expr, "curly_expression": _type_expr,
    "operator": _operator, "compound_statement": _compound, "let_statement": _compound,
    "scoped_identifier": _field,
}
CONSTANTS = _CONSTANTS
