"""Long calls written over several lines in Julia stay over several lines in Python.

A Julia ``Chain(...)`` spread over lines, one layer a line, is how model definitions are
read; the translation keeps that shape, one argument a line, rather than one long line.
"""
from __future__ import annotations

__all__ = ["reflow"]


def reflow(code: str) -> str:
    """A long call written over several lines in Julia: one argument per line.

    >>> print(reflow("Chain(Dense(2, 3), Dense(3, 1, relu))"))
    Chain(
        Dense(2, 3),
        Dense(3, 1, relu),
    )
    """
    if not code.endswith(")") or "(" not in code:
        return code
    head, body = code[:code.index("(")], code[code.index("(") + 1:-1]
    parts, depth, quote, cur = [], 0, None, ""
    for ch in body:
        if quote:
            quote = None if ch == quote and not cur.endswith("\\") else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if depth != 0 or quote or not head or not head.replace(".", "").replace("_", "a").isidentifier():
        return code
    parts.append(cur.strip())
    lines = "".join(f"\n    {p.replace(chr(10), chr(10) + '    ')}," for p in parts if p)
    return f"{head}({lines}\n)"
