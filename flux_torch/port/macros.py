"""Macros: ``@show``, ``@info``, ``@printf``, ``@assert``, ``@epochs``, ``@functor``, ...

Timing and performance macros (``@time``, ``@inbounds``, ``@views``, ``@.``,
``@showprogress``) keep only their expression; Julia metaprogramming is a TODO.

>>> from flux_torch.port.translation import translate
>>> print(translate('x = 1\\n@assert x == 1 "x is one"').body)
x = 1
assert x == 1, "x is one"
"""
from __future__ import annotations

from .context import Untranslatable
from .expressions import ex
from .parse import named, text
from .statements import indent

__all__ = ["macro_statement", "macro_expression", "macro_name"]

_TRANSPARENT = {"@time", "@timed", "@btime", "@benchmark", "@inbounds", "@views", "@view", "@.",
                "@__dot__", "@showprogress", "@progress", "@simd", "@fastmath", "@allowscalar",
                "@sync", "@static", "@inline", "@noinline", "@timeit", "@withprogress",
                "@threads", "@spawn", "@elapsed_", "@gc_preserve", "@code_native", "@debug",
                "@async", "@profile", "@noinline", "@assume_effects", "@nospecialize", "@testset"}
_LOGS = {"@info": "info", "@warn": "warn", "@error": "error_log", "@debug": "debug"}


def macro_name(n):
    ident = next(c for c in n.children if c.type == "macro_identifier")
    return "@" + text(ident).lstrip("@").split(".")[-1] if text(ident) != "@." else "@."


def _args(n):
    for c in n.children:
        if c.type in ("macro_argument_list", "argument_list"):
            return [k for k in named(c) if k.type not in ("line_comment", "block_comment")]
    return []


def _kwargs(nodes, cx):
    out = []
    for a in nodes:
        if a.type == "assignment":
            k, v = named(a)[0], [c for c in a.children if c.is_named][-1]
            out.append(f"{cx.pyname(text(k))}={ex(v, cx)}")
        elif a.type == "identifier":
            out.append(f"{cx.pyname(text(a))}={ex(a, cx)}")
        else:
            from .expressions import _pystr
            out.append(f"jl.kv({_pystr(text(a))}, {ex(a, cx)})")
    return out


def macro_statement(n, cx, returns=False) -> list:
    name = macro_name(n)
    args = _args(n)
    if name in ("@.", "@__dot__") and len(args) == 1 and args[0].type == "assignment":
        kids = [c for c in args[0].children if c.is_named]
        target, value = kids[0], kids[-1]           # @. x = f(y) assigns in place, as x .= f.(y)
        if target.type == "index_expression":
            from .indexing import setindex
            return setindex(target, ex(value, cx), cx)
        return [f"{ex(target, cx)}[...] = {ex(value, cx)}"]
    if name in _TRANSPARENT:
        if name == "@testset":
            args = [a for a in args if a.type not in ("string_literal",)]
        from .statements import block
        return block(args, cx, returns)
    if name in ("@kwdef", "@with_kw", "@with_kw_noshow") and args and args[0].type == "struct_definition":
        from .structs import struct
        return struct(args[0], cx, kwdef=True)
    if name in ("@animate", "@gif") and len(args) == 1 and args[0].type == "for_statement":
        return animate(n, None, cx)
    if name in ("@assert", "@test"):
        args = _split_message(args)
        cond = ex(args[0], cx)
        msg = f", {ex(args[1], cx)}" if len(args) > 1 else ""
        return [f"assert {cond}{msg}"]
    if name == "@epochs":
        if len(args) == 1 and args[0].type == "juxtaposition_expression":
            args = named(args[0])                # `@epochs 2 f()` parses as 2 * f()
        from .loops import capped
        it = capped(f"range({ex(args[0], cx)})", cx, force=True)
        from .statements import block
        return [f"for _ in {it}:"] + indent(block(args[1:], cx))
    if name in ("@functor", "@layer", "@treelike"):
        return [_functor(name, args, cx)]
    if name == "@load" and len(args) > 1 and all(a.type == "identifier" for a in args[1:]):
        names = [cx.pyname(text(a)) for a in args[1:]]
        if cx.scope.kind == "function":
            cx.scope.locals.update(names)
        keys = ", ".join(repr(nm) for nm in names)
        return [f"{', '.join(names)}{',' if len(names) == 1 else ''} = jl.bson_load({ex(args[0], cx)}, {keys})"]
    if name == "@unpack" and args and args[0].type == "assignment":
        kids = [c for c in args[0].children if c.is_named]
        from .scopes import binding_names
        names = [cx.pyname(b) for b in binding_names(kids[0])]
        obj = ex(kids[-1], cx)
        tmp = cx.fresh("obj")
        for nm in names:
            if cx.scope.kind == "function":
                cx.scope.locals.add(nm)
        return [f"{tmp} = {obj}", f"{', '.join(names)} = " + ", ".join(
            f"jl.getfield({tmp}, {nm!r})" for nm in names)]
    code = macro_expression(n, cx)
    return [f"return {code}" if returns else code]


def _functor(name, args, cx):
    from .names import flux_name
    fn = "layer" if name == "@layer" else "functor"
    py = flux_name(fn, cx)
    if not args:
        raise Untranslatable(f"{name} without a type")
    parts = [ex(args[0], cx)]
    for a in args[1:]:
        if a.type in ("tuple_expression", "parenthesized_expression"):
            parts += [repr(cx.pyname(text(f))) for f in named(a)]
        elif a.type == "assignment" and text(named(a)[0]) == "trainable":
            value = [c for c in a.children if c.is_named][-1]
            names = [repr(cx.pyname(text(f))) for f in named(value)]
            parts.append(f"trainable=({', '.join(names)}{',' if len(names) == 1 else ''})")
        else:
            raise Untranslatable(f"{name} option {text(a)}")
    return f"Flux.{py}({', '.join(parts)})"


def macro_expression(n, cx) -> str:
    name = macro_name(n)
    args = _args(n)
    if name in _TRANSPARENT:
        if len(args) != 1:
            raise Untranslatable(f"{name} of several expressions as a value")
        return ex(args[0], cx)
    if name == "@show":
        from .expressions import _pystr
        return "jl.show_values(" + ", ".join(f"({_pystr(text(a))}, {ex(a, cx)})" for a in args) + ")"
    if name in _LOGS:
        msg = ex(args[0], cx) if args else '""'
        rest = _kwargs(args[1:], cx)
        return f"jl.{_LOGS[name]}({', '.join([msg] + rest)})"
    if name in ("@printf", "@sprintf"):
        parts = [ex(a, cx) for a in args]
        if args and args[0].type == "identifier" and text(args[0]) in ("io", "stdout", "stderr"):
            pass
        return f"jl.{name[1:]}({', '.join(parts)})"
    if name in ("@elapsed", "@belapsed"):
        return f"jl.elapsed(lambda: {ex(args[0], cx)})"
    if name == "@__DIR__":
        return "jl.dirname(__file__)"
    if name == "@__FILE__":
        return "jl.abspath(__file__)"
    if name == "@sprintf":
        return f"jl.sprintf({', '.join(ex(a, cx) for a in args)})"
    if name == "@autosize":
        return _autosize(args, cx)
    if name in ("@assert", "@test"):
        return f"jl.check({ex(args[0], cx)})"
    if name in ("@doc",):
        return "None"
    if name == "@save" and args:
        names = [a for a in args[1:] if a.type == "identifier"]
        if len(names) == len(args) - 1:
            kw = ", ".join(f"{cx.pyname(text(a))}={ex(a, cx)}" for a in names)
            return f"jl.bson_save({ex(args[0], cx)}, {kw})"
    if name in ("@save", "@load"):
        raise Untranslatable(f"{name} stores Julia objects (BSON/JLD2); "
                             "save Flux.state(model) with Flux.save instead")
    raise Untranslatable(f"the macro {name}")


def _autosize(args, cx):
    from .names import flux_name
    if len(args) != 2 or args[1].type != "call_expression" or text(named(args[1])[0]) != "Chain":
        raise Untranslatable("@autosize of something other than (shape) Chain(...)")
    fn = flux_name("autosize", cx)
    shape = args[0]
    dims = ", ".join(ex(d, cx) for d in reversed(named(shape)))
    shape_code = f"({dims}{',' if len(named(shape)) == 1 else ''})"
    layers = []
    cx.defined.add("_")
    for a in named(named(args[1])[-1]):
        code = ex(a, cx)
        uses = "_" in {text(x) for x in _identifiers(a)}
        layers.append(f"lambda _: {code}" if uses else code)
    return f"Flux.{fn}({shape_code}, {', '.join(layers)})"


def _identifiers(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            yield n
        stack.extend(named(n))


def animate(n, target, cx) -> list:
    """Plots' ``@animate for ...``: the loop runs; collecting its frames is left to a person."""
    from .loops import for_statement
    first = text(n).splitlines()[0]
    cx.todos += 1
    cx.todo_lines += 1
    lines = [f"# TODO(port): {macro_name(n)} collects one Plots frame per iteration; left to a person",
             f"#   {first}"]
    if target is not None:
        lines.append(f"{target} = None")
    return lines + for_statement(_args(n)[0], cx)


def _split_message(args):
    """``@assert x == 1 "msg"`` parses as ``x == (1 "msg")`` (a juxtaposition): split it off."""
    if len(args) != 1:
        return args
    node = args[0]
    while named(node) and node.type in ("binary_expression", "juxtaposition_expression"):
        last = named(node)[-1]
        if node.type == "juxtaposition_expression" and last.type == "string_literal":
            from .parse import parse
            src = text(args[0])
            start = last.start_byte - args[0].start_byte
            cond = src.encode("utf-8")[:start].decode("utf-8")
            root = parse(cond)
            return [named(root)[0], last]
        node = last
    return args
