"""Functions: ``function``, ``f(x) = e``, ``x -> e``, ``do`` blocks, methods and dispatch.

A function's last expression is its value, as in Julia. Several methods of one
name (or a struct's outer constructors) become ``@jl.method(types...)`` defs that
the runtime dispatches on arity and argument types; ``(m::T)(x) = ...`` and
``Flux.trainable(m::T)`` become methods of ``T`` through ``@jl.extend``.

>>> from flux_torch.port.translation import translate
>>> print(translate("f(x; k=2) = x .* k").body)
def f(x, *, k=2):
    return x * k
"""
from __future__ import annotations

import re

from .context import Scope, Untranslatable
from .expressions import ex
from .parse import named, text
from .scopes import assigned, declarations, declared
from .statements import block, indent

__all__ = ["definition", "short_definition", "arrow", "do_function", "Param", "params_of"]

_COMMENTS = ("line_comment", "block_comment")
_EXTEND_ATTRS = {"show": "show", "length": "__len__", "getindex": "getindex", "size": "size",
                 "trainable": "trainable", "iterate": None, "+": "__add__", "*": "__mul__",
                 "-": "__sub__", "==": "__eq__", "setindex!": "setindex_"}


class Param:
    def __init__(self, name, kind="pos", default=None, type_=None, destructure=None):
        self.name, self.kind, self.default, self.type = name, kind, default, type_
        self.destructure = destructure          # a Julia tuple node to unpack in the body


def _unwrap_signature(sig):
    """The call_expression inside a signature (through where and return types)."""
    node = sig
    while node.type in ("signature", "where_expression", "typed_expression"):
        kids = [c for c in named(node) if c.type not in _COMMENTS]
        if not kids:
            raise Untranslatable("an empty function signature")
        node = kids[0]
    if node.type != "call_expression":
        if node.type == "identifier":          # `function f end`
            return None
        raise Untranslatable("a function signature that is not a call")
    return node


def _type_name(node):
    while node.type in ("parametrized_type_expression", "unary_typed_expression"):
        node = named(node)[0]
    if node.type == "curly_expression":
        return None
    if node.type == "field_expression":
        return text(named(node)[-1])
    return text(node) if node.type == "identifier" else None


def params_of(arglist, cx) -> list:
    """Parameters of a signature's or lambda's argument list."""
    out, after_semi = [], False
    for c in arglist.children:
        if not c.is_named:
            if text(c) == ";":
                after_semi = True
            continue
        if c.type in _COMMENTS:
            continue
        kind = "kw" if after_semi else "pos"
        if c.type == "identifier":
            out.append(Param(cx.pyname(text(c)), kind))
        elif c.type == "typed_expression":
            kids = named(c)
            name = kids[0]
            if name.type != "identifier":
                raise Untranslatable("a typed parameter that is not a name")
            out.append(Param(cx.pyname(text(name)), kind, type_=_type_name(kids[-1])))
        elif c.type == "unary_typed_expression":
            out.append(Param(cx.fresh("arg"), kind, type_=_type_name(named(c)[-1])))
        elif c.type == "named_argument":
            kids = [k for k in c.children if k.is_named and k.type != "operator"]
            target, value = kids[0], kids[-1]
            type_ = None
            if target.type == "typed_expression":
                type_ = _type_name(named(target)[-1])
                target = named(target)[0]
            out.append(Param(cx.pyname(text(target)), kind, default=ex(value, cx), type_=type_))
        elif c.type == "splat_expression":
            inner = named(c)[0]
            if inner.type == "typed_expression":
                inner = named(inner)[0]
            out.append(Param(cx.pyname(text(inner)), "kwsplat" if after_semi else "splat"))
        elif c.type in ("tuple_expression", "parenthesized_expression"):
            out.append(Param(cx.fresh("arg"), kind, destructure=c))
        else:
            raise Untranslatable(f"a parameter written as {c.type.replace('_', ' ')}")
    return out


def _param_list(params) -> str:
    parts, star = [], False
    for p in params:
        if p.kind == "splat":
            parts.append("*" + p.name)
            star = True
        elif p.kind == "kwsplat":
            parts.append("**" + p.name)
        elif p.kind == "kw":
            if not star:
                parts.append("*")
                star = True
            parts.append(p.name if p.default is None else f"{p.name}={p.default}")
        else:
            parts.append(p.name if p.default is None else f"{p.name}={p.default}")
    return ", ".join(parts)


_LITERAL_DEFAULT = re.compile(r'^(-?[\d.e_+-]+|None|True|False|"[^"]*"|\(\)|[A-Za-z_]\w*(\.\w+)*)$')


def _late_defaults(params):
    """Julia evaluates defaults at each call: a computed default becomes None plus a line."""
    lines = []
    for p in params:
        if p.default is not None and not _LITERAL_DEFAULT.match(p.default):
            lines.append(f"{p.name} = {p.default} if {p.name} is None else {p.name}")
            p.default = "None"
    return lines


def body_function(name, params, body_nodes, cx, decorators=(), expr_body=None) -> list:
    """A ``def`` with its scope pass applied; ``expr_body`` is a single value node."""
    nodes = [expr_body] if expr_body is not None else body_nodes
    scope = Scope("function", assigned={cx.pyname(n) for n in assigned(nodes)},
                  params={p.name for p in params})
    scope.globals = {cx.pyname(n) for n in declared(nodes, "global")}
    scope.declared_local = {cx.pyname(n) for n in declared(nodes, "local")}
    for p in params:
        if p.type in ("Int", "Integer", "Int64", "Int32"):
            scope.ints.add(p.name)
        if p.destructure is not None:
            from .scopes import binding_names
            scope.locals |= {cx.pyname(b) for b in binding_names(p.destructure)}
    cx.push(scope)
    try:
        head = declarations(scope, cx) + _late_defaults(params)
        for p in params:
            if p.destructure is not None:
                from .assignments import target_code
                head.append(f"{target_code(p.destructure, cx)} = {p.name}")
        if expr_body is not None:
            from .statements import one
            lines = one(expr_body, cx, returns=True)
        else:
            lines = block(body_nodes, cx, returns=True)
    finally:
        cx.pop()
    return list(decorators) + [f"def {name}({_param_list(params)}):"] + indent(head + lines)


def _kind(callee, params, cx):
    """(python name, decorators, trailing lines) for a method's callee."""
    if callee.type == "identifier":
        jname = text(callee)
        py = cx.pyname(jname)
        if jname in cx.structs or cx.methods.get(jname, 0) > 1:
            types = ", ".join(_type_code(p, cx) for p in params if p.kind == "pos")
            return py, [f"@jl.method({types})"]
        return py, []
    if callee.type == "parenthesized_expression":
        inner = named(callee)[0]
        if inner.type in ("typed_expression", "unary_typed_expression"):
            tname = _type_name(named(inner)[-1])
            if tname in cx.structs:
                this = named(inner)[0] if inner.type == "typed_expression" else None
                params.insert(0, Param(cx.pyname(text(this)) if this is not None else "self"))
                types = ", ".join(_type_code(p, cx) for p in params[1:] if p.kind == "pos")
                return f"{cx.pyname(tname)}__call", [
                    f'@jl.extend({cx.pyname(tname)}, "__call__"{", None, " + types if types.strip("None, ") else ""})']
            raise Untranslatable(f"a call method for {tname}, which this script does not define")
    if callee.type == "field_expression":
        fname = text(named(callee)[-1])
        owner = [p for p in params if p.type in cx.structs]
        attr = _EXTEND_ATTRS.get(fname, cx.pyname(fname))
        if owner and attr:
            cls = cx.pyname(owner[0].type)
            return f"{cls}_{cx.pyname(fname)}", [f'@jl.extend({cls}, "{attr}")']
        raise Untranslatable(f"extending {text(callee)} for types this script does not define")
    raise Untranslatable("a method whose name is not a plain name")


def _type_code(p, cx):
    if p.type is None:
        return "None"
    if p.type in cx.structs or p.type in cx.defined:
        return cx.pyname(p.type)
    from . import runtime
    return f"jl.{p.type}" if hasattr(runtime, p.type) else "None"


def definition(n, cx) -> list:
    kids = [c for c in named(n) if c.type not in _COMMENTS]
    sig = kids[0]
    call = _unwrap_signature(sig)
    if call is None:
        return [f"# function {text(sig)} (declared without methods)"]
    body = [c for c in named(n) if c.id != sig.id]
    return _define(call, body, None, cx)


def short_definition(n, cx) -> list:
    kids = [c for c in n.children if c.type not in _COMMENTS]
    target, value = kids[0], kids[-1]
    call = _unwrap_signature(target)
    if value.type == "compound_statement":
        return _define(call, named(value), None, cx)
    return _define(call, None, value, cx)


def _define(call, body, value, cx):
    callee, arglist = named(call)[0], named(call)[-1]
    params = params_of(arglist, cx)
    name, decorators = _kind(callee, params, cx)
    if cx.scope.kind == "function":
        cx.scope.locals.add(name)
    return body_function(name, params, body or [], cx, decorators, expr_body=value)


def _is_expression(node):
    return node.type not in ("assignment", "compound_assignment_expression", "for_statement",
                             "while_statement", "if_statement", "try_statement", "return_statement",
                             "function_definition", "let_statement", "compound_statement",
                             "macrocall_expression", "const_statement", "global_statement",
                             "local_statement", "break_statement", "continue_statement")


def _hoist(kind, params, body_nodes, cx, expr_body=None) -> str:
    name = cx.fresh(kind)
    cx.hoisted += body_function(name, params, body_nodes, cx, expr_body=expr_body)
    return name


def arrow(node, cx) -> str:
    """``x -> e``: a lambda, or a hoisted ``def`` when the body is statements."""
    kids = [c for c in named(node) if c.type not in _COMMENTS]
    head, body = kids[0], kids[-1]
    if head.type == "identifier":
        params = [Param(cx.pyname(text(head)))]
    elif head.type in ("argument_list", "tuple_expression", "parenthesized_expression"):
        params = params_of(head, cx)
    elif head.type == "typed_expression":
        params = [Param(cx.pyname(text(named(head)[0])))]
    else:
        raise Untranslatable("a lambda whose parameters are not names")
    return _function_value("lambda", params, body, cx)


def _function_value(kind, params, body, cx, body_nodes=None):
    simple = all(p.kind == "pos" and p.destructure is None for p in params)
    if body_nodes is None and body.type == "compound_statement":
        body_nodes = [c for c in named(body) if c.type not in _COMMENTS]
        if len(body_nodes) == 1 and _is_expression(body_nodes[0]):
            body, body_nodes = body_nodes[0], None
    if body_nodes is None and simple and _is_expression(body):
        scope = Scope("lambda", params={p.name for p in params})
        cx.push(scope)
        try:
            code = ex(body, cx)
        finally:
            cx.pop()
        return f"lambda {_param_list(params)}: {code}" if params else f"lambda: {code}"
    if body_nodes is None:
        return _hoist(kind, params, [], cx, expr_body=body)
    return _hoist(kind, params, body_nodes, cx)


def do_function(do_clause, cx) -> str:
    """The function a ``do`` block passes as the call's first argument."""
    kids = [c for c in named(do_clause)]
    params = []
    body = kids
    if kids and kids[0].type == "argument_list":
        params = params_of(kids[0], cx)
        body = kids[1:]
    body = [c for c in body if c.type not in _COMMENTS]
    if len(body) == 1 and _is_expression(body[0]):
        return _function_value("do", params, body[0], cx)
    return _hoist("do", params, body, cx)


def return_defined(lines):
    """A function whose last statement defines a function returns it, as in Julia."""
    for ln in lines:
        if ln.startswith("def "):
            return [f"return {ln[4:].split('(')[0]}"]
    return []
