"""Calls: argument rules for Flux's layers and functions, Base's array constructors.

* ``in => out`` becomes two arguments (``Dense(2 => 3)`` is ``Dense(2, 3)``).
* Kernel, window, ``stride``, ``dilation`` and per-dimension ``pad`` tuples are
  reversed (data order); ``dims=d`` is ``dim=-d``.
* ``size(x, d)`` is ``x.shape[-d]``, ``reshape(x, a, b)`` is ``x.reshape(b, a)``,
  ``rand(Float32, m, n)`` is ``torch.rand(n, m)``.
* A user function passed as ``init=`` is wrapped to receive Julia's dimensions.
* ``f.(x)``: elementwise functions apply to the whole array; others are mapped.

>>> from flux_torch.port.translation import expression
>>> expression("Conv((5, 3), 1 => 8, relu; stride=(2, 1))")
'Conv((3, 5), 1, 8, relu, stride=(1, 2))'
"""
from __future__ import annotations

from . import runtime
from .expressions import CALL, ex, literal_int, operand
from .parse import named, text
from .reflow import reflow

__all__ = ["call", "apply_value", "Args"]

_LAYER_PAIRS = {"Dense", "Embedding", "RNN", "LSTM", "GRU", "GRUv3", "RNNCell", "LSTMCell",
                "GRUCell", "GRUv3Cell", "Conv", "ConvTranspose", "CrossCor", "DepthwiseConv",
                "Bilinear", "Maxout", "MultiHeadAttention", "EmbeddingBag", "Scale"}
_KERNEL_FIRST = {"Conv", "ConvTranspose", "CrossCor", "DepthwiseConv", "MaxPool", "MeanPool",
                 "AdaptiveMaxPool", "AdaptiveMeanPool"}
_REVERSED_KW = {"stride", "dilation", "scale", "size", "outpad"}
_JULIA_LAYOUT_ARRAYS = {"Dense", "Bilinear"}
_INITS = {"glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal", "lecun_normal",
          "orthogonal", "sparse_init", "identity_init", "truncated_normal", "zeros32", "ones32",
          "rand32", "randn32"}
_TYPE_FIRST = {"rand": "rand", "randn": "randn", "zeros": "zeros", "ones": "ones"}
_DTYPES = {"Float32": "torch.float32", "Float64": "torch.float64", "Float16": "torch.float16",
           "Int": "torch.int64", "Int64": "torch.int64", "Int32": "torch.int32",
           "Bool": "torch.bool", "UInt8": "torch.uint8"}


class Args:
    """A call's arguments as nodes: positional, keyword (name, node), splats."""

    def __init__(self, arglist, cx):
        self.pos, self.kw, self.generator = [], [], None
        if arglist is None:
            return
        kids = [c for c in arglist.children if c.type not in ("line_comment", "block_comment")]
        if any(c.type == "for_clause" for c in kids):
            self.generator = arglist
            return
        after = False
        for c in kids:
            if not c.is_named:
                after = after or text(c) == ";"
                continue
            if c.type == "named_argument":
                parts = [k for k in c.children if k.is_named and k.type != "operator"]
                self.kw.append((text(parts[0]), parts[-1]))
            elif after and c.type == "identifier":
                self.kw.append((text(c), c))
            elif after and c.type == "splat_expression":
                self.kw.append(("**", named(c)[0]))
            elif after and c.type == "field_expression":
                self.kw.append((text(named(c)[-1]), c))
            elif after and c.type == "assignment":
                parts = [k for k in c.children if k.is_named and k.type != "operator"]
                self.kw.append((text(parts[0]), parts[-1]))
            else:
                self.pos.append(c)


def _pos_code(node, cx):
    if node.type == "splat_expression":
        return "*" + operand(named(node)[0], cx, CALL)
    return ex(node, cx)


def dim_code(node, cx):
    """Julia's ``dims=`` value as flux_torch's ``dim=`` (negated; tuples too)."""
    k = literal_int(node)
    if k is not None:
        return str(-k)
    if node.type == "tuple_expression":
        items = [dim_code(c, cx) for c in named(node)]
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    if node.type == "operator" and text(node) == ":":
        return None
    return f"jl.dim({ex(node, cx)})"


def _kw_code(name, node, cx, dims=True):
    if name == "**":
        return "**" + operand(node, cx, CALL)
    if dims and name == "dims":
        d = dim_code(node, cx)
        return None if d is None else f"dim={d}"
    return f"{cx.pyname(name)}={ex(node, cx)}"


def args_code(args, cx, dims=True, pos=None) -> str:
    if args.generator is not None:
        from .arrays import generator
        return generator(args.generator, cx)
    parts = list(pos) if pos is not None else [_pos_code(p, cx) for p in args.pos]
    for name, node in args.kw:
        code = _kw_code(name, node, cx, dims)
        if code is not None:
            parts.append(code)
    return ", ".join(parts)


def _rev_tuple(node, cx):
    """A shape or kernel tuple in data order."""
    if node.type == "tuple_expression":
        items = [ex(c, cx) for c in reversed(named(node))]
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    if literal_int(node) is not None or node.type == "identifier" and cx.is_int(text(node)):
        return ex(node, cx)
    return f"jl.rev({ex(node, cx)})"


def _size_arg(node, cx):
    """A layer size: one read out of an array is a 0-d tensor here, so it is made a number."""
    code = ex(node, cx)
    return f"jl.num({code})" if node.type == "index_expression" else code


def _spread_pairs(nodes, cx):
    out = []
    for p in nodes:
        if p.type == "binary_expression" and text(named(p)[1]) == "=>":
            out += [_size_arg(named(p)[0], cx), _size_arg(named(p)[-1], cx)]
        else:
            out.append(_pos_code(p, cx))
    return out


def _flux_layer(name, qual, args, cx):
    """Positional and keyword rules of Flux's layer constructors."""
    pos_nodes = list(args.pos)
    pos = []
    if name in _KERNEL_FIRST and pos_nodes:
        pos.append(_rev_tuple(pos_nodes.pop(0), cx))
        nk = len(named(args.pos[0])) if args.pos[0].type == "tuple_expression" else None
    else:
        nk = None
    if name in _JULIA_LAYOUT_ARRAYS and pos_nodes and pos_nodes[0].type not in (
            "integer_literal", "binary_expression", "tuple_expression", "identifier") :
        pos.append(f"jl.julia_layout({ex(pos_nodes.pop(0), cx)})")
    elif name in _JULIA_LAYOUT_ARRAYS and pos_nodes and pos_nodes[0].type == "identifier" \
            and not cx.is_int(text(pos_nodes[0])):
        pos.append(f"jl.julia_layout({ex(pos_nodes.pop(0), cx)})")
    pos += _spread_pairs(pos_nodes, cx)
    kws = []
    for k, v in args.kw:
        if k in _REVERSED_KW and v.type == "tuple_expression":
            kws.append(f"{k}={_rev_tuple(v, cx)}")
        elif k == "pad" and v.type == "tuple_expression" and nk and len(named(v)) == nk:
            kws.append(f"pad={_rev_tuple(v, cx)}")
        elif k == "init" and _user_function(v, cx):
            kws.append(f'init=jl.julia_init({ex(v, cx)}, "{name}")')
        else:
            code = _kw_code(k, v, cx)
            if code:
                kws.append(code)
    return f"{qual}({', '.join(pos + kws)})"


def _user_function(node, cx):
    """Whether an ``init=`` value is the script's own function (it takes Julia's sizes)."""
    if node.type in ("arrow_function_expression",):
        return True
    if node.type == "identifier":
        return text(node) in cx.defined
    if node.type == "call_expression":          # a function the script builds (a closure)
        callee = named(node)[0]
        return callee.type == "identifier" and text(callee) in cx.defined
    return False


def _dims_args(nodes, cx):
    return ", ".join(ex(d, cx) for d in reversed(nodes))


def _simple_dims(nodes, cx):
    from .expressions import _known_int
    return all(_known_int(d, cx) or d.type in ("integer_literal",) or (
        d.type == "binary_expression" and text(named(d)[1]) in ("^", "*", "+", "-")
        and not any(c.type == "float_literal" for c in named(d))) or (
        d.type == "call_expression" and text(named(d)[0]) in ("length", "size"))
        for d in nodes)


def _array_ctor(name, args, cx):
    """rand/randn/zeros/ones with a type and integer sizes: torch's constructor."""
    pos = args.pos
    if args.kw or any(p.type == "splat_expression" for p in pos):
        return None
    dtype = None
    if pos and pos[0].type == "identifier" and text(pos[0]) in _DTYPES:
        dtype = _DTYPES[text(pos[0])]
        pos = pos[1:]
    elif name in ("rand", "randn", "zeros", "ones"):
        dtype = "torch.float64"
    if not pos or not _simple_dims(pos, cx):
        return None
    dt = "" if dtype == "torch.float32" else f", dtype={dtype}"
    return f"torch.{_TYPE_FIRST[name]}({_dims_args(pos, cx)}{dt})"


def _base_rule(name, args, cx, bcast):
    """Static translations of a few Base calls; None when the runtime should decide."""
    pos = args.pos
    if bcast or args.generator is not None:
        return None
    if name == "size" and len(pos) == 2 and not args.kw:
        d = literal_int(pos[1])
        if d is not None:
            from .indexing import array_operand
            return f"{array_operand(pos[0], cx)}.shape[{-d}]"
    if name == "reshape" and len(pos) >= 2 and not args.kw and all(
            p.type != "splat_expression" for p in pos):
        from .indexing import array_operand
        x = array_operand(pos[0], cx)
        dims = pos[1:]
        if len(dims) == 1 and dims[0].type == "tuple_expression" and not any(
                d.type == "splat_expression" for d in named(dims[0])):
            dims = named(dims[0])
        elif len(dims) == 1:
            return f"jl.reshape({ex(pos[0], cx)}, {ex(dims[0], cx)})"
        codes = ["-1" if d.type == "operator" and text(d) == ":" else ex(d, cx) for d in dims]
        return f"{x}.reshape({', '.join(reversed(codes))})"
    if name == "include" and len(pos) == 1:
        return f"jl.include({ex(pos[0], cx)}, globals())"
    if name in _TYPE_FIRST:
        return _array_ctor(name, args, cx)
    return None


def call(node, cx) -> str:
    kids = [c for c in node.children if c.is_named and c.type not in ("line_comment", "block_comment")]
    callee = kids[0]
    bcast = node.type == "broadcast_call_expression"
    arglist = next((c for c in kids[1:] if c.type == "argument_list"), None)
    do = next((c for c in kids if c.type == "do_clause"), None)
    args = Args(arglist, cx)
    pre = []
    if do is not None:
        from .functions import do_function
        pre = [do_function(do, cx)]
    code = _call(callee, args, cx, bcast, pre)
    if arglist is not None and arglist.start_point[0] != arglist.end_point[0] and len(code) > 90:
        return reflow(code)
    return code


def _user_call(fcode, args, cx, bcast, pre):
    pos = pre + [_pos_code(p, cx) for p in args.pos]
    if bcast:
        return f"jl.broadcast({', '.join([fcode] + pos)}{_kw_tail(args, cx)})"
    return f"{fcode}({args_code(args, cx, dims=False, pos=pos)})"


def _kw_tail(args, cx):
    kws = [c for c in (_kw_code(k, v, cx) for k, v in args.kw) if c]
    return (", " + ", ".join(kws)) if kws else ""


def _call(callee, args, cx, bcast, pre):
    from .names import module_path, qualified, resolve
    if callee.type == "identifier":
        name = text(callee)
        py = cx.pyname(name)
        if name == "new" and getattr(cx, "current_struct", None):
            return f"jl.new({cx.current_struct}, {args_code(args, cx, dims=False)})"
        if name in cx.defined or cx.is_local(py):
            return _user_call(py, args, cx, bcast, pre)
        rule = _base_rule(name, args, cx, bcast) if not pre else None
        if rule is not None:
            return rule
        fcode = resolve(name, cx)
        return _apply(name, fcode, args, cx, bcast, pre)
    if callee.type in ("field_expression", "scoped_identifier"):
        path = module_path(callee)
        if path is not None and path[0] not in cx.defined and not cx.is_local(cx.pyname(path[0])):
            fcode = qualified(path, cx)
            if fcode is not None:
                if fcode.startswith("jl.") and not pre:
                    rule = _base_rule(path[-1], args, cx, bcast)
                    if rule is not None:
                        return rule
                return _apply(path[-1], fcode, args, cx, bcast, pre)
        return _user_call(ex(callee, cx), args, cx, bcast, pre)
    if callee.type == "parametrized_type_expression":
        return _call(named(callee)[0], args, cx, bcast, pre)
    return _user_call(operand(callee, cx, CALL), args, cx, bcast, pre)


def _apply(name, fcode, args, cx, bcast, pre):
    """A call of a resolved library function (runtime, Flux or a package)."""
    is_flux = fcode.startswith("Flux.") or "." not in fcode
    base = name.rstrip("!")
    if is_flux and not fcode.startswith("jl.") and (name in _LAYER_PAIRS or name in _KERNEL_FIRST
                                                    or name in ("Upsample", "Dropout", "LayerNorm")):
        code = _flux_layer(name, fcode, args, cx)
        # Julia's token ids count from 1: the layer is given them as they are in the script
        return f"jl.one_based({code})" if name in ("Embedding", "EmbeddingBag") else code
    if is_flux and base in _INITS and args.pos and not args.kw and _simple_dims(args.pos, cx):
        return f"{fcode}({_dims_args(args.pos, cx)})"
    if is_flux and name == "outputsize" and len(args.pos) >= 2:
        rest = [ex(p, cx) for p in args.pos[2:]]
        inner = ", ".join([ex(args.pos[0], cx), _rev_tuple(args.pos[1], cx)] + rest)
        return f"jl.rev({fcode}({inner}{_kw_tail(args, cx)}))"
    if is_flux and name == "unsqueeze" and len(args.pos) == 2 and not args.kw:
        return f"{fcode}({ex(args.pos[0], cx)}, dim={dim_code(args.pos[1], cx)})"
    if is_flux and base == "update" and len(args.pos) == 2 and not args.kw:
        # Flux ≤ v0.13's update!(x, x̄) is x .-= x̄
        return f"jl.subtract_({ex(args.pos[0], cx)}, {ex(args.pos[1], cx)})"
    if is_flux and name == "DataLoader" and len(args.pos) >= 2 and all(
            p.type in ("identifier", "field_expression", "index_expression") for p in args.pos):
        # Flux ≤ v0.11's DataLoader(x, y; ...) takes the arrays as one tuple now
        data = ", ".join(ex(p, cx) for p in args.pos)
        return f"{fcode}({args_code(args, cx, pos=[f'({data})'])})"
    if name in ("onecold",) and is_flux:
        fcode = "jl.onecold"
    if bcast:
        target = fcode
        if fcode.startswith("jl."):
            fn = getattr(runtime, fcode[3:], None)
            elementwise = getattr(fn, "elementwise", False)
        else:
            elementwise = _flux_elementwise(fcode, cx)
        pos = pre + [_pos_code(p, cx) for p in args.pos]
        if elementwise and len(pos) == 1 and not args.kw:
            return f"{target}({pos[0]})"
        return f"jl.broadcast({', '.join([target] + pos)}{_kw_tail(args, cx)})"
    if is_flux and not fcode.startswith("jl."):
        raw, cx.raw_fields = cx.raw_fields, True      # Flux gets its own tensors, not views
        try:
            pos = pre + _spread_pairs(args.pos, cx)
            return f"{fcode}({args_code(args, cx, pos=pos)})"
        finally:
            cx.raw_fields = raw
    pos = pre + [_pos_code(p, cx) for p in args.pos]
    return f"{fcode}({args_code(args, cx, pos=pos)})"


def _flux_elementwise(fcode, cx):
    name = fcode.split(".")[-1]
    try:
        from flux_torch import activation
        return name in getattr(activation, "__all__", ())
    except ImportError:
        return False


def apply_value(fnode, arg_codes, cx, broadcast=False) -> str:
    """``x |> f``: call the function value ``fnode`` on already translated arguments."""
    if fnode.type == "identifier":
        name = text(fnode)
        py = cx.pyname(name)
        if not (name in cx.defined or cx.is_local(py)):
            from .names import resolve
            fcode = resolve(name, cx)
            if broadcast:
                return f"jl.broadcast({fcode}, {', '.join(arg_codes)})"
            return f"{fcode}({', '.join(arg_codes)})"
        fcode = py
    else:
        fcode = operand(fnode, cx, CALL)
    if broadcast:
        return f"jl.broadcast({fcode}, {', '.join(arg_codes)})"
    return f"{fcode}({', '.join(arg_codes)})"
