"""Julia statements to Python lines: blocks, assignments, loops, branches, imports.

A statement no rule translates is kept, as Julia, under ``# TODO(port): reason``;
the block stays valid Python (``pass`` where nothing else is left).

>>> from flux_torch.port.translation import translate                # doctest: +SKIP
>>> print(translate("for i in 1:3\\n  s += i\\nend").body)           # doctest: +SKIP
for i in range(1, 4):
    s = s + i
"""
from __future__ import annotations

from .context import Untranslatable
from .expressions import ADD, MUL, POW, ex, operand
from .parse import named, text

__all__ = ["block", "statement", "todo_lines", "INDENT"]

INDENT = "    "
_COMMENTS = ("line_comment", "block_comment")
_COMPOUND_OPS = {"+": ("+", ADD), "-": ("-", ADD), "/": ("/", MUL), "^": ("**", POW),
                 "*": ("*", MUL), "|": ("|", 7), "&": ("&", 9), "÷": (None, 0), "%": (None, 0)}
_RUNTIME_OPS = {"*": "mul", "÷": "div", "%": "rem"}


def todo_lines(node, reason, cx) -> list:
    src = text(node)
    lines = src.splitlines() or [""]
    cx.todos += 1
    cx.todo_lines += sum(1 for ln in lines if ln.strip() and not ln.strip().startswith("#"))
    out = [f"# TODO(port): {reason}"]
    col = node.start_point[1]
    for i, ln in enumerate(lines):
        ln = ln if i == 0 else (ln[col:] if ln[:col].strip() == "" else ln.lstrip())
        out.append("#   " + ln if ln.strip() else "#")
    return out


def block(nodes, cx, returns=False) -> list:
    """Lines for a list of Julia statements (comments kept, blank lines kept once)."""
    out = []
    body = [n for n in nodes if n.is_named]
    last_code = max((i for i, n in enumerate(body) if n.type not in _COMMENTS), default=-1)
    prev_end = None
    for i, n in enumerate(body):
        if prev_end is not None and n.start_point[0] > prev_end + 1 and out and out[-1] != "":
            out.append("")
        if n.type == "line_comment" and prev_end is not None and n.start_point[0] == prev_end \
                and out and out[-1] and not out[-1].lstrip().startswith("#"):
            out[-1] += "  " + _comment(text(n))[0]
            prev_end = n.end_point[0]
            continue
        prev_end = n.end_point[0]
        out += one(n, cx, returns=returns and i == last_code)
    while out and out[-1] == "":
        out.pop()
    return out


def one(n, cx, returns=False) -> list:
    """One statement, or its TODO block."""
    saved = list(cx.hoisted)
    cx.hoisted = []
    try:
        lines = statement(n, cx, returns)
        lines = cx.hoisted + lines
    except Untranslatable as err:
        lines = todo_lines(n, str(err), cx)
    except RecursionError:
        lines = todo_lines(n, "nested too deeply to translate", cx)
    except Exception as err:              # a rule's own failure: keep the Julia, say so
        lines = todo_lines(n, f"the translator failed here ({type(err).__name__}: {err}); "
                              "please report it", cx)
    finally:
        cx.hoisted = saved
    return lines


def indent(lines) -> list:
    body = [INDENT + ln.replace("\n", "\n" + INDENT) if ln else "" for ln in lines]
    if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in body):
        body.append(INDENT + "pass")
    return body


def _comment(src):
    if src.startswith("#="):
        inner = src[2:-2] if src.endswith("=#") else src[2:]
        return ["# " + ln.strip() if ln.strip() else "#" for ln in inner.strip("\n").splitlines()] or ["#"]
    return ["#" + src[1:]]


def statement(n, cx, returns=False) -> list:
    while n.type == "parenthesized_expression" and len(
            [c for c in named(n) if c.type not in _COMMENTS]) == 1:
        inner = [c for c in named(n) if c.type not in _COMMENTS][0]
        if inner.type not in ("assignment", "compound_assignment_expression", "return_statement",
                              "break_statement", "continue_statement", "for_statement", "if_statement"):
            break
        n = inner
    t = n.type
    if t in _COMMENTS:
        return _comment(text(n))
    fn = _STATEMENTS.get(t)
    if fn is not None:
        return fn(n, cx, returns)
    return _expression_statement(n, cx, returns)


def _expression_statement(n, cx, returns):
    if n.type == "ternary_expression":
        c, a, b = [k for k in named(n) if k.type not in _COMMENTS]
        if any(k.type in ("assignment", "compound_assignment_expression", "return_statement")
               for k in (a, b)):
            lines = [f"if {ex(c, cx)}:"] + indent(statement(a, cx, returns))
            return lines + ["else:"] + indent(statement(b, cx, returns))
    if n.type == "binary_expression" and text(named(n)[1]) in ("&&", "||"):
        left, right = named(n)[0], named(n)[-1]
        while right.type == "parenthesized_expression" and len(named(right)) == 1:
            right = named(right)[0]
        if right.type in ("assignment", "compound_assignment_expression") or right.type in (
                "return_statement", "break_statement", "continue_statement") or (
                right.type == "call_expression" and text(named(right)[0]) in ("error", "throw")):
            cond = ex(left, cx)
            test = cond if text(named(n)[1]) == "&&" else f"not ({cond})"
            return [f"if {test}:"] + indent(statement(right, cx))
    code = ex(n, cx)
    if returns:
        return [f"return {code}"]
    return [code]


def _assignment(n, cx, returns):
    kids = [c for c in n.children if c.type not in _COMMENTS]
    target, op, value = kids[0], text(kids[1]), kids[-1]
    if target.type in ("call_expression", "where_expression") or (
            target.type == "typed_expression" and named(target)[0].type == "call_expression"):
        from .functions import short_definition
        lines = short_definition(n, cx)
        return lines + (_return_defined(lines) if returns else [])
    if op != "=":
        return _compound(n, cx, returns)
    if value.type == "assignment":                      # a = b = 0
        inner = _assignment(value, cx, False)
        last = inner[-1]
        code = f"{_target(target, cx)} = {last}" if target.type != "index_expression" else None
        if code is None:
            raise Untranslatable("a chained assignment into an index")
        return inner[:-1] + [code]
    if value.type == "macrocall_expression" and target.type == "identifier":
        from .macros import _args, animate, macro_name
        if macro_name(value) == "@animate" and [a.type for a in _args(value)] == ["for_statement"]:
            return animate(value, _target(target, cx), cx)
    value_code = ex(value, cx)
    if value.type == "open_tuple":                      # x, y = a, b
        value_code = value_code[1:-1].rstrip(",")
    lines = _assign(target, value_code, cx)
    _note_ints(target, value, cx)
    if returns:
        lines.append(f"return {_target(target, cx)}")
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


def _target(node, cx):
    if node.type == "identifier":
        py = cx.pyname(text(node))
        cx.scope.locals.add(py) if cx.scope.kind == "function" else None
        return py
    if node.type == "typed_expression":
        return _target(named(node)[0], cx)
    if node.type in ("open_tuple", "tuple_expression", "parenthesized_expression"):
        items = [c for c in named(node) if c.type not in _COMMENTS]
        if node.type == "tuple_expression" and text(node).lstrip("( ").startswith(";"):
            raise Untranslatable("destructuring by field names (; a, b) = x")
        inner = ", ".join(_target(c, cx) for c in items)
        return inner if node.type == "open_tuple" else f"({inner}{',' if len(items) == 1 else ''})"
    if node.type == "splat_expression":
        return "*" + _target(named(node)[0], cx)
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


def _assign(target, value_code, cx):
    if target.type == "index_expression":
        from .indexing import setindex
        return setindex(target, value_code, cx)
    return [f"{_target(target, cx)} = {value_code}"]


def _compound(n, cx, returns):
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
    lines = _assign(target, new, cx)
    if returns and target.type in ("identifier", "field_expression"):
        lines.append(f"return {ex(target, cx)}")
    return lines


def _for(n, cx, returns):
    from .loops import for_statement
    return for_statement(n, cx)


def header(n, code_fn, cx):
    """A compound statement's header; an untranslatable one is kept as Julia (a TODO) and
    replaced by ``jl.untranslated(...)``, which raises when run, so the body still translates."""
    try:
        return [], code_fn()
    except Untranslatable as err:
        first = text(n).splitlines()[0]
        cx.todos += 1
        cx.todo_lines += 1
        from .expressions import _pystr
        return [f"# TODO(port): {err}", f"#   {first}"], f"jl.untranslated({_pystr(first.strip())})"


def _while(n, cx, returns):
    kids = named(n)
    cond = n.child_by_field_name("condition") or kids[0]
    body = [c for c in kids if c.id != cond.id]
    todo, code = header(n, lambda: ex(cond, cx), cx)
    return todo + [f"while {code}:"] + indent(block(body, cx))


def _if(n, cx, returns):
    cond = n.child_by_field_name("condition")
    clauses = [c for c in named(n) if c.type in ("elseif_clause", "else_clause")]
    body = [c for c in named(n) if c.id != cond.id and c.type not in ("elseif_clause", "else_clause")]
    todo, code = header(n, lambda: ex(cond, cx), cx)
    lines = todo + [f"if {code}:"] + indent(block(body, cx, returns))
    for cl in clauses:
        if cl.type == "elseif_clause":
            c2 = cl.child_by_field_name("condition")
            rest = [c for c in named(cl) if c.id != c2.id]
            lines += [f"elif {ex(c2, cx)}:"] + indent(block(rest, cx, returns))
        else:
            lines += ["else:"] + indent(block(named(cl), cx, returns))
    return lines


def _try(n, cx, returns):
    body, lines, tail = [], [], []
    for c in named(n):
        if c.type == "catch_clause":
            kids = named(c)
            var = None
            if kids and kids[0].type == "identifier" and kids[0].start_point[0] == c.start_point[0]:
                var = cx.pyname(text(kids[0]))
                kids = kids[1:]
            tail += [f"except Exception{' as ' + var if var else ''}:"] + indent(block(kids, cx, returns))
        elif c.type == "finally_clause":
            tail += ["finally:"] + indent(block(named(c), cx))
        elif c.type == "else_clause":
            tail += ["else:"] + indent(block(named(c), cx, returns))
        else:
            body.append(c)
    lines = ["try:"] + indent(block(body, cx, returns))
    if not tail:
        tail = ["except Exception:", INDENT + "pass"]
    return lines + tail


def _let(n, cx, returns):
    lines, body = [], []
    for c in named(n):
        if c.type == "let_binding":
            kids = [k for k in c.children if k.is_named]
            if len(kids) >= 3 or (len(kids) == 2 and kids[1].type != "operator"):
                lines += _assign(kids[0], ex(kids[-1], cx), cx)
        elif c.type == "identifier" and not body and c.start_point[0] == n.start_point[0]:
            continue
        else:
            body.append(c)
    return lines + block(body, cx, returns)


def _begin(n, cx, returns):
    return block(named(n), cx, returns)


def _const(n, cx, returns):
    return block(named(n), cx, returns)


def _return(n, cx, returns):
    kids = [c for c in named(n) if c.type not in _COMMENTS]
    if not kids:
        return ["return None"]
    code = ex(kids[0], cx)
    if kids[0].type == "open_tuple":
        code = code[1:-1].rstrip(",")
    return [f"return {code}"]


def _global(n, cx, returns):
    lines = []
    kids = [c for c in named(n) if c.type in ("assignment", "compound_assignment_expression")]
    for i, c in enumerate(kids):
        lines += statement(c, cx, returns and i == len(kids) - 1)
    return lines


def _using(n, cx, returns):
    from .imports import using
    return using(n, cx)


def _function(n, cx, returns):
    from .functions import definition
    lines = definition(n, cx)
    return lines + (_return_defined(lines) if returns else [])


def _return_defined(lines):
    """A function whose last statement defines a function returns it, as in Julia."""
    for ln in lines:
        if ln.startswith("def "):
            return [f"return {ln[4:].split('(')[0]}"]
    return []


def _struct(n, cx, returns):
    from .structs import struct
    return struct(n, cx)


def _abstract(n, cx, returns):
    from .structs import abstract
    return abstract(n, cx)


def _macro(n, cx, returns):
    from .macros import macro_statement
    return macro_statement(n, cx, returns)


def _simple(word):
    return lambda n, cx, returns: [word]


def _unsupported(what):
    def rule(n, cx, returns):
        raise Untranslatable(what)
    return rule


_STATEMENTS = {
    "assignment": _assignment, "compound_assignment_expression": _compound,
    "for_statement": _for, "while_statement": _while, "if_statement": _if,
    "try_statement": _try, "let_statement": _let, "compound_statement": _begin,
    "const_statement": _const, "return_statement": _return, "global_statement": _global,
    "local_statement": _global, "using_statement": _using, "import_statement": _using,
    "function_definition": _function, "struct_definition": _struct,
    "abstract_definition": _abstract, "macrocall_expression": _macro,
    "break_statement": _simple("break"), "continue_statement": _simple("continue"),
    "module_definition": _unsupported("Julia modules: translate the file's contents instead"),
    "macro_definition": _unsupported("macro definitions are Julia metaprogramming"),
    "export_statement": lambda n, cx, r: ["# " + text(n)],
    "primitive_definition": _unsupported("primitive types"),
    "quote_statement": _unsupported("quoted code is Julia metaprogramming"),
}
