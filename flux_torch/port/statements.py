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
from .assignments import assign, assignment, compound
from .expressions import ex
from .parse import named, text

__all__ = ["block", "statement", "todo_lines", "INDENT"]

INDENT = "    "
_COMMENTS = ("line_comment", "block_comment")



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
                lines += assign(kids[0], ex(kids[-1], cx), cx)
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
    from .functions import definition, return_defined
    lines = definition(n, cx)
    return lines + (return_defined(lines) if returns else [])


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
    "assignment": assignment, "compound_assignment_expression": compound,
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
