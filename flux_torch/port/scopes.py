"""The scope pass: which names a Python ``def`` must declare ``global`` or ``nonlocal``.

Julia's closures assign to their enclosing function's locals; Python needs
``nonlocal`` for that. Julia's ``global x`` may come anywhere in a function (in a
loop, after a read); Python wants the declaration first, so every declaration is
hoisted to the top of the ``def``. A top-level ``global`` (in a top-level loop) is
dropped: Python's loops do not open a scope.

>>> from flux_torch.port.parse import parse                   # doctest: +SKIP
>>> sorted(assigned(parse("a = 1; b, c = 2, 3; f(x) = x").children))   # doctest: +SKIP
['a', 'b', 'c', 'f']
"""
from __future__ import annotations

from .parse import named, text

__all__ = ["assigned", "declared", "binding_names", "declarations"]

_NEW_SCOPE = {"function_definition", "arrow_function_expression", "do_clause",
              "struct_definition", "macro_definition", "module_definition"}


def binding_names(node) -> list:
    """The Julia names bound by an assignment target or a parameter."""
    t = node.type
    if t == "identifier":
        return [text(node)]
    if t in ("typed_expression", "splat_expression", "named_argument", "named_field"):
        kids = named(node)
        return binding_names(kids[0]) if kids else []
    if t in ("tuple_expression", "open_tuple", "parenthesized_expression", "argument_list",
             "let_binding"):
        out = []
        for c in named(node):
            out += binding_names(c)
        return out
    return []


def _target(node):
    """The target of an assignment-like node."""
    kids = [c for c in node.children if c.is_named]
    return kids[0] if kids else None


def assigned(nodes) -> set:
    """Julia names assigned in ``nodes``, not looking into nested functions."""
    out, stack = set(), list(nodes)
    while stack:
        n = stack.pop()
        t = n.type
        if t in _NEW_SCOPE:
            if t == "function_definition":
                out.update(_function_name(n))
            continue
        if t in ("assignment", "compound_assignment_expression", "let_binding"):
            tgt = _target(n)
            if tgt is not None and tgt.type == "call_expression":   # f(x) = ... defines f
                out.update(_function_name(n))
                continue
            if tgt is not None:
                out.update(binding_names(tgt))
        elif t == "for_binding":
            out.update(binding_names(named(n)[0]))
        elif t == "catch_clause":
            kids = named(n)
            if kids and kids[0].type == "identifier" and kids[0].start_point[0] == n.start_point[0]:
                out.add(text(kids[0]))
        if t in ("comprehension_expression", "generator"):
            continue
        stack.extend(c for c in n.children if c.is_named)
    return out


def _function_name(n):
    sig = n
    for c in named(n):
        if c.type in ("signature", "call_expression", "where_expression", "typed_expression"):
            sig = c
            break
    while sig.type in ("signature", "where_expression", "typed_expression", "assignment"):
        kids = named(sig)
        if not kids:
            return []
        sig = kids[0]
    if sig.type == "call_expression":
        callee = named(sig)[0]
        if callee.type == "identifier":
            return [text(callee)]
    return []


def declared(nodes, kind="global") -> set:
    """Names declared ``global`` (or ``local``) anywhere in ``nodes`` outside nested functions."""
    out, stack = set(), list(nodes)
    want = f"{kind}_statement"
    while stack:
        n = stack.pop()
        if n.type in _NEW_SCOPE:
            continue
        if n.type == want:
            for c in named(n):
                if c.type in ("assignment", "compound_assignment_expression"):
                    out.update(binding_names(_target(c)))
                else:
                    out.update(binding_names(c))
            continue
        stack.extend(c for c in n.children if c.is_named)
    return out


def declarations(scope, cx) -> list:
    """The ``global``/``nonlocal`` lines that open a function whose scope is ``scope``."""
    lines = []
    if scope.globals:
        lines.append("global " + ", ".join(sorted(scope.globals)))
    nonlocal_ = set()
    for name in scope.locals - scope.params - scope.globals - scope.declared_local:
        s = scope.parent
        while s is not None and s.kind == "function":
            if name in s.locals and name not in s.globals:
                nonlocal_.add(name)
                break
            s = s.parent
    if nonlocal_:
        scope.locals -= nonlocal_
        lines.append("nonlocal " + ", ".join(sorted(nonlocal_)))
    return lines
