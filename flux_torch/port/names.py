"""Names: bare identifiers, ``Module.name`` paths, field reads, types and operators.

A bare name resolves, in order, to the script's own definition, a constant
(``nothing``, ``Inf``, ``π``), Julia's Base (``jl.<name>`` when the runtime has it),
the Flux namespace (checked against flux_torch's exports now), and the packages the
script is ``using``. Anything else is an unknown name and its statement a TODO.

>>> from flux_torch.port.context import Context
>>> cx = Context(); cx.imported["Flux"] = None
>>> resolve("nothing", cx), resolve("size", cx), resolve("Dense", cx)
('None', 'jl.size', 'Dense')
"""
from __future__ import annotations

from . import runtime
from .context import Untranslatable
from .expressions import CONSTANTS, ex
from .parse import named, text
from .tables import FLUX_PACKAGES, FLUX_VERSIONS, NO_COUNTERPART, PACKAGES, ZYGOTE_EXTRAS

__all__ = ["resolve", "field", "type_value", "operator_value", "module_path", "flux_name",
           "qualified"]

_OPERATORS = {"+": "jl.add", "-": "jl.sub", "*": "jl.mul", "/": "jl.truediv", "^": "jl.pow",
              "==": "jl.eq", "!=": "jl.ne", "<": "jl.lt", ">": "jl.gt", "<=": "jl.le",
              ">=": "jl.ge", "=>": "jl.Pair", ":": "jl.Colon", "÷": "jl.div", "%": "jl.rem",
              "&": "jl.and_", "|": "jl.or_", "!": "jl.not_", "∘": "jl.compose",
              "≈": "jl.isapprox", "≤": "jl.le", "≥": "jl.ge", "∈": "jl.in_", "in": "jl.in_",
              "∉": "jl.notin", "|>": "jl.pipe",
              ".+": "jl.add", ".*": "jl.mul", ".-": "jl.sub", "./": "jl.truediv"}


_ALIASES = {"print": "print_", "range": "range_", "open": "open_", "repr": "repr_", "inv": "inv_",
            "stack": "stack_", "splat": "splat_", "Pair": "Pair_", "sum": "sum", "tuple": "tuple_"}


def _runtime_name(py):
    py = _ALIASES.get(py, py)
    return py if py in runtime.__all__ else None


# flux_torch names that `using Flux` does not bring into scope in Julia
NOT_FLUX_EXPORTS = {"save", "load", "state", "io", "data", "train", "compile", "init", "layers",
                    "losses", "activation", "optimise", "distributed", "to_torch", "from_torch",
                    "compile_step", "swap_batch_time", "loadmodel_", "TorchView", "CompiledStep"}

# Flux names flux_torch spells otherwise: Flux v0.16's deprecated aliases, and CuIterator
# (batches moved to the GPU), which is gpu(loader) here
DEPRECATED = {"get_device": "gpu_device", "CuIterator": "gpu"}


def flux_name(name: str, cx, sub: str = "") -> str:
    """``Flux[.sub].name`` checked against the namespace; raises for a missing name."""
    py = cx.pyname(name)
    if not cx.has_flux(py, sub or None) and name in DEPRECATED:
        py = DEPRECATED[name]
    if cx.has_flux(py, sub or None):
        return py
    had = FLUX_VERSIONS.get(name.lstrip("@"), "") or FLUX_VERSIONS.get(name, "")
    where = f"Flux.{sub + '.' if sub else ''}{name}"
    raise Untranslatable(f"{where} is not in {cx.flux_module}"
                         + (f" ({had} had it)" if had else ""))


def resolve(name: str, cx) -> str:
    """The Python code for a bare Julia name used as a value."""
    if name == "end":
        if cx.end_value:
            return cx.end_value
        raise Untranslatable("`end` outside an index")
    py = cx.pyname(name)
    if name in cx.defined or cx.is_local(py):
        return py
    if name in CONSTANTS:
        return CONSTANTS[name]
    rt = _runtime_name(py)
    if rt:
        return "jl." + rt
    for pkg, names in cx.imported.items():
        if pkg in FLUX_PACKAGES and names is None and py in NOT_FLUX_EXPORTS:
            continue
        if pkg == "Zygote" and name in ZYGOTE_EXTRAS and (names is None or name in names):
            return ZYGOTE_EXTRAS[name]
        if pkg in FLUX_PACKAGES and (names is None or name in names):
            sub = FLUX_PACKAGES[pkg]
            if cx.has_flux(py, sub or None):
                return py if not sub else f"Flux.{sub}.{py}"
        elif pkg in PACKAGES and name in PACKAGES[pkg] and (names is None or name in names):
            code = PACKAGES[pkg][name]
            if code is None:
                raise Untranslatable(f"{pkg}.{name}: {NO_COUNTERPART.get(pkg, 'no counterpart')}")
            return code
    if name in cx.modules:
        return cx.modules[name]
    cx.unknown.add(name)
    if cx.includes:
        return py                   # it may come from a file this script includes
    pkgs = [p for p in cx.imported if p not in FLUX_PACKAGES and not PACKAGES.get(p)]
    if pkgs:
        raise Untranslatable(f"{name} is not defined in this script, in flux_torch or in Base;"
                             f" it may come from {', '.join(pkgs)}")
    raise Untranslatable(f"{name} is not defined in this script, in {cx.flux_module} or in Base")


def module_path(node):
    """``['Flux', 'Losses', 'mse']`` for a dotted path of identifiers, else ``None``."""
    parts = []
    while node.type in ("field_expression", "scoped_identifier"):
        kids = named(node)
        parts.append(text(kids[-1]))
        node = kids[0]
    if node.type != "identifier":
        return None
    parts.append(text(node))
    return parts[::-1]


def qualified(path, cx):
    """Python code for ``Pkg.sub.name``, or ``None`` when ``path[0]`` is not a module."""
    root = path[0]
    if root in cx.defined:
        return None
    if path[-1] in ZYGOTE_EXTRAS and path[-2:-1] == ["Zygote"]:
        return ZYGOTE_EXTRAS[path[-1]]
    if root == "Flux" or (root in FLUX_PACKAGES and root not in PACKAGES):
        rest = path[1:]
        if not rest:
            return "Flux"
        if rest[0] in FLUX_PACKAGES and rest[0] != "Flux":
            sub = FLUX_PACKAGES[rest[0]]
            rest = rest[1:]
        else:
            sub = FLUX_PACKAGES.get(root, "")
        if not rest:
            return "Flux" + (f".{sub}" if sub else "")
        if len(rest) == 2 and cx.has_flux(rest[0]) and rest[0][:1].isupper():
            sub = (sub + "." if sub else "") + rest[0]
            rest = rest[1:]
            obj = cx.namespace
            for part in sub.split("."):
                obj = getattr(obj, part)
            py = cx.pyname(rest[0])
            if not hasattr(obj, py):
                raise Untranslatable(f"Flux.{sub}.{rest[0]} is not in {cx.flux_module}")
            return f"Flux.{sub}.{py}"
        if len(rest) != 1:
            had = FLUX_VERSIONS.get(rest[0], "")
            raise Untranslatable(f"{'.'.join(path)} is not in {cx.flux_module}"
                                 + (f" ({had} had it)" if had else ""))
        py = flux_name(rest[0], cx, sub.split(".")[0] if sub else "")
        return f"Flux.{sub + '.' if sub else ''}{py}"
    if root in ("Base", "Core", "Main") or (root == "Iterators" and len(path) == 2):
        if len(path) == 3 and path[1] == "Iterators":
            return PACKAGES["Iterators"].get(path[2]) or _missing(path)
        if len(path) == 2:
            if root == "Iterators":
                return PACKAGES["Iterators"].get(path[1]) or _missing(path)
            if path[1] in CONSTANTS:
                return CONSTANTS[path[1]]
            rt = _runtime_name(cx.pyname(path[1]))
            return "jl." + rt if rt else _missing(path)
        return _missing(path)
    if root in PACKAGES:
        if len(path) == 1:
            return f"jl.{root}" if hasattr(runtime, root) else _missing(path)
        table = PACKAGES[root]
        name = path[1]
        if name in table and len(path) == 2:
            if table[name] is None:
                raise Untranslatable(f"{root}.{name}: {NO_COUNTERPART.get(root, 'no counterpart')}")
            return table[name]
        if root in ("Statistics", "LinearAlgebra", "Random") and len(path) == 2:
            rt = _runtime_name(cx.pyname(name))
            if rt:
                return "jl." + rt
        return _missing(path)
    return None


def _missing(path):
    pkg = path[0]
    reason = NO_COUNTERPART.get(pkg)
    raise Untranslatable(f"{'.'.join(path)} has no counterpart in flux_torch.port's tables"
                         + (f" ({reason})" if reason else ""))


def field(node, cx) -> str:
    """``a.b``: a module path, or a field read."""
    path = module_path(node)
    if path is not None:
        code = qualified(path, cx)
        if code is not None:
            return code
    kids = named(node)
    obj, name = kids[0], kids[-1]
    if name.type == "quote_expression":              # x.:+ (an operator as a field)
        raise Untranslatable("a quoted field name")
    if name.type != "identifier":
        raise Untranslatable("a computed field name")
    from .expressions import CALL, operand
    from .tables import LAYOUT_FIELDS
    if text(name) in LAYOUT_FIELDS and not cx.raw_fields:
        # flux_torch keeps Dense/Bilinear/cell weights in Julia's (out, in) layout
        return f'jl.julia_layout({ex(obj, cx)}, "{text(name)}")'
    return f"{operand(obj, cx, CALL)}.{cx.pyname(text(name))}"


def type_value(node, cx) -> str:
    """A type used as a value (``Float32``, ``Vector{Float32}``)."""
    if node.type == "parametrized_type_expression":
        return ex(named(node)[0], cx)
    raise Untranslatable("a type parameter list {...} used as a value")


def operator_value(op: str, cx) -> str:
    """An operator passed as a function value (``SkipConnection(m, +)``)."""
    if op in _OPERATORS:
        return _OPERATORS[op]
    raise Untranslatable(f"the operator {op} as a value")
