"""Runtime: Julia's strings and regular expressions.

>>> from flux_torch.port import runtime as jl
>>> jl.replace("a-b", ("-", "+")), jl.join(["a", "b"], ", "), jl.match(jl.Regex(r"(.*)[.]txt"), "en.txt").captures
('a+b', 'a, b', ['en'])
"""
from __future__ import annotations

from .rt_io import _str

__all__ = ["Regex", "occursin", "startswith", "endswith", "split", "join", "strip", "lstrip",
           "rstrip", "replace", "uppercase", "lowercase", "parse", "tryparse", "lpad", "rpad",
           "chop", "match", "unicode_normalize"]


def Regex(pattern):
    import re
    return re.compile(pattern)


def occursin(needle, hay):
    if hasattr(needle, "search"):
        return needle.search(hay) is not None
    return needle in hay


def startswith(s, p):
    return s.startswith(p)


def endswith(s, p):
    return s.endswith(p)


def split(s, sep=None, *, limit=0, keepempty=True):
    parts = s.split(sep) if sep is not None else s.split()
    return parts


def join(xs, sep=""):
    return sep.join(_str(x) for x in xs)


def strip(s, chars=None):
    return s.strip(chars)


def lstrip(s, chars=None):
    return s.lstrip(chars)


def rstrip(s, chars=None):
    return s.rstrip(chars)


def replace(s, pair, *more, count=None):
    for a, b in (pair,) + more:
        if hasattr(a, "sub"):
            s = a.sub(b, s, count=count or 0)
        else:
            s = s.replace(a, b) if count is None else s.replace(a, b, count)
    return s


def uppercase(s):
    return s.upper()


def lowercase(s):
    return s.lower()


def parse(t, s):
    return t(s)


def tryparse(t, s):
    try:
        return t(s)
    except (ValueError, TypeError):
        return None


def lpad(s, n, c=" "):
    return _str(s).rjust(n, c)


def rpad(s, n, c=" "):
    return _str(s).ljust(n, c)


def chop(s, *, head=0, tail=1):
    return s[head:len(s) - tail]


class _Match:
    def __init__(self, m):
        self.match = m.group(0)
        self.captures = list(m.groups())
        self.offset = m.start() + 1


def match(regex, s):
    m = regex.search(s)
    return None if m is None else _Match(m)


def unicode_normalize(s, *, casefold=False, stripmark=False, **kw):
    import unicodedata
    if casefold:
        s = s.casefold()
    if stripmark:
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", s)
