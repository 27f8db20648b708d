r"""String literals: Julia's strings, characters and interpolation as Python literals.

>>> from flux_torch.port import expression
>>> print(expression('"loss $(l) at step $i"'), expression("'a'"), expression(r'"tab\there"'))
f"loss {l} at step {i}" "a" "tab\there"
"""
from __future__ import annotations

from .context import Untranslatable
from .parse import named, text

__all__ = ["string_literal"]


def _char(node, cx):
    from .expressions import ATOM
    body = text(node)[1:-1]
    return _pystr(_unescape(body)), ATOM


def _unescape(s):
    if "\\" not in s:
        return s
    try:
        return s.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return s


def _pystr(s):
    """A double-quoted Python literal for ``s``."""
    body = (s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\t", "\\t").replace("\r", "\\r"))
    return '"' + body + '"'


def _string(node, cx):
    from .expressions import ATOM, CALL, ex
    parts = []                                 # ("s", text) or ("e", code)
    for c in node.children:
        if c.type == "content":
            parts.append(("s", text(c)))
        elif c.type == "escape_sequence":
            t = text(c)
            parts.append(("s", "$" if t == "\\$" else _unescape(t)))
        elif c.type == "string_interpolation":
            inner = named(c)
            if len(inner) != 1:
                raise Untranslatable("string interpolation of several expressions")
            parts.append(("e", ex(inner[0], cx)))
    if not any(k == "e" for k, _ in parts):
        return _pystr("".join(v for _, v in parts)), ATOM
    if any('"' in v or "\\" in v or "\n" in v for k, v in parts if k == "e"):
        args = ", ".join(_pystr(v) if k == "s" else v for k, v in parts)
        return f"jl.string({args})", CALL
    body = "".join(
        _pystr(v)[1:-1].replace("{", "{{").replace("}", "}}") if k == "s" else "{" + v + "}"
        for k, v in parts)
    return 'f"' + body + '"', ATOM


def _prefixed_string(node, cx):
    from .expressions import ATOM, CALL
    prefix = text(named(node)[0]) if named(node) else ""
    body = text(node)[len(prefix):]
    if prefix == "raw":
        return "r" + body, ATOM
    if prefix == "r":
        return f"jl.Regex(r{body})", CALL
    raise Untranslatable(f'{prefix}"..." strings have no Python counterpart here')


string_literal = _string
