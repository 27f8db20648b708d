"""Printing layers as Flux's ``show`` does, translated to valid Python.

A layer defines ``_inline(self)``, its one-line constructor call. A container
also defines ``_show_children(self)``, a list of ``(name or None, child)``.
:class:`Showable` turns these into Flux's display: a top-level layer is
``Dense(10, 5, σ)  # 55 parameters``; a container lists one child per line with
its parameter count and closes with ``# Total: ...``. Counts come from the
one traversal (``params`` and ``fleaves``).
"""
import functools

import torch
from torch import nn

from .functors import children, fleaves, trainable
from .functors.maps import leaflike
from .params import params

__all__ = ["Showable", "show", "inline", "fn_name", "set_show"]


def fn_name(f):
    """How a function appears in a layer's repr: ``σ``, ``relu``, ``softmax``...

    >>> fn_name(torch.tanh)
    'tanh'
    """
    if isinstance(f, nn.Module):
        return repr(f)
    name = getattr(f, "__name__", None)
    if name is None or not name.isidentifier():
        return repr(f)
    return name


def inline(x):
    """The one-line form of any child: layers' ``_inline``, functions by name, else ``repr``.

    >>> inline(torch.relu)
    'relu'
    """
    method = getattr(type(x), "_inline", None)
    if method is not None:
        try:
            return method(x)
        except (AttributeError, TypeError, ValueError, IndexError):
            return _fields(x)   # a gradient or optimiser state in the layer's class
    if isinstance(x, torch.Tensor):
        return _tensor(x)
    if isinstance(x, functools.partial):
        return f"partial({', '.join(inline(v) for v in (x.func,) + x.args)})"
    if callable(x) and not isinstance(x, nn.Module) and hasattr(x, "__name__"):
        return fn_name(x)
    if _struct_like(x):          # Julia's show of a struct: its name and its fields' values
        return f"{type(x).__name__}({', '.join(inline(v) for v in vars(x).values())})"
    return repr(x)


def _tensor(t):
    """A tensor in one line: its values when it is small, else its size (Julia's ``22×33 Matrix``)."""
    if t.numel() <= 4 and t.dim() <= 1:
        return repr(t.detach())
    return f"<{tuple(t.shape)} {str(t.dtype).replace('torch.', '')}>"


def _struct_like(x):
    """A walked object whose class prints Python's default ``<... object at 0x...>``."""
    t = type(x)
    return (t.__repr__ in (object.__repr__, _layer_repr, _big_repr)
            and hasattr(x, "__dict__") and not isinstance(x, (type, nn.Module)))


def _fields(x):
    """``Dense(weight=..., bias=..., σ=None)``: an object of a layer's class holding other things."""
    inner = ", ".join(f"{k}={_short(v)}" for k, v in children(x).items())
    return f"{type(x).__name__}({inner})"


def _short(v):
    if isinstance(v, torch.Tensor):
        return _tensor(v)
    return inline(v)


def _counts(x):
    """(trainable arrays, trainable numbers, other arrays, other numbers, bytes)."""
    ps = params(x)
    ids = {id(p) for p in ps}
    n_ps = sum(p.numel() for p in ps)
    others = [t for t in fleaves(x) if isinstance(t, torch.Tensor) and id(t) not in ids]
    nbytes = sum(t.numel() * t.element_size() for t in list(ps) + others)
    return len(ps), n_ps, len(others), sum(t.numel() for t in others), nbytes


def _underscored(n):
    return f"{n:_}"


def _format_bytes(n):
    units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    if n < 1024:
        return f"{n} bytes"
    i, v = 0, float(n)
    while v >= 1024 and i < len(units) - 1:
        v, i = v / 1024, i + 1
    return f"{v:.3f} {units[i]}"


def _children_to_show(x):
    """``(name, child)`` pairs to print on their own lines, or None for a one-line layer."""
    kids = getattr(type(x), "_show_children", None)
    if kids is not None:
        return kids(x)
    if getattr(type(x), "__repr__", None) is _big_repr:     # @layer: its trainable children,
        out = []                                             # tuples and dicts flattened
        for v in trainable(x).values():
            if isinstance(v, dict):
                out.extend(v.items())
            elif type(v) is tuple:
                out.extend((None, c) for c in v)
            else:
                out.append((None, v))
        return out
    if isinstance(x, functools.partial):
        return [(None, v) for v in (x.func,) + x.args]
    return None


def _is_big(x):
    kids = _children_to_show(x)
    return kids is not None and not all(leaflike(c) for _, c in kids)


def _layer_line(x, indent, name, out):
    s = ("" if name is None else f"{name}=") + inline(x)
    line = " " * indent + s + ("," if indent else "")
    n_arr, n_ps, n_other, n_num, _ = _counts(x)
    if n_arr:                     # Flux shows no comment for a layer with nothing to train
        pad = 2 if indent == 0 else max(2, 39 - indent - len(s))
        line += " " * pad + f"# {_underscored(n_ps)} parameters"
        if n_num:
            line += f", plus {_underscored(n_num)}" + (" non-trainable" if indent == 0 else "")
        line += _flag(params(x))
    out.append(line)


def _flag(ps):
    """Flux's warning after a count: all-zero, NaN or Inf parameters."""
    ps = [p for p in ps if p.numel()]
    if not ps:
        return ""
    if all(not bool(p.any()) for p in ps):
        return "  (all zero)"
    if any(bool(torch.isnan(p).any()) for p in ps):
        return "  (some NaN)"
    if any(bool(torch.isinf(p).any()) for p in ps):
        return "  (some Inf)"
    return ""


def _big(x, indent, name, out):
    if not _is_big(x):
        _layer_line(x, indent, name, out)
        return
    pre, post = x._show_pre_post() if hasattr(x, "_show_pre_post") else (f"{type(x).__name__}(", ")")
    out.append(" " * indent + ("" if name is None else f"{name}=") + pre)
    for k, c in _children_to_show(x):
        _big(c, indent + 2, k, out)
    if indent:
        out.append(" " * indent + post + ",")
        return
    n_arr, n_ps, n_other, n_num, nbytes = _counts(x)
    if n_arr <= 2:
        out.append(post)
    elif n_other:
        out.append(post.ljust(2) + " " * 8 + f"# Total: {n_arr} trainable arrays, "
                   f"{_underscored(n_ps)} parameters,")
        out.append(" " * 10 + f"# plus {n_other} non-trainable, {_underscored(n_num)} parameters, "
                   f"summarysize {_format_bytes(nbytes)}.")
    else:
        out.append(post.ljust(2) + " " * 18 + f"# Total: {n_arr} arrays, {_underscored(n_ps)} "
                   f"parameters, {_format_bytes(nbytes)}.")


def show(x):
    """Flux's display of a layer or model, as a string (what ``repr`` gives).

    >>> @functor
    ... class Tiny(Showable):
    ...     def __init__(self):
    ...         self.w = torch.ones(3)
    ...     def _inline(self):
    ...         return "Tiny()"
    >>> show(Tiny())
    'Tiny()  # 3 parameters'
    """
    out = []
    _big(x, 0, None, out)
    return "\n".join(out)


class Showable:
    """Mixin giving a layer Flux's printed form (``repr`` is :func:`show`)."""

    __slots__ = ()

    def __repr__(self):
        return show(self)


def _big_repr(self):
    """``repr`` of a class made a layer by ``@layer`` (``:expand``): printed as Flux prints ``Chain``."""
    return show(self)


def _layer_repr(self):
    """``repr`` of a ``@layer("noexpand")`` class: one line with its parameter count, as ``Dense``."""
    out = []
    _layer_line(self, 0, None, out)
    return out[0]


def set_show(cls, mode):
    """How a ``@layer`` class prints: ``"expand"`` (like ``Chain``), ``"noexpand"`` (one line, like
    ``Dense``) or ``"ignore"`` (as it would anyway). A class with its own ``__repr__`` keeps it."""
    if mode == "ignore" or ("__repr__" in cls.__dict__ and cls.__dict__["__repr__"] not in
                            (_big_repr, _layer_repr)):
        return
    cls.__repr__ = _big_repr if mode == "expand" else _layer_repr
