"""JSON from an untrusted file, parsed only once its nesting is known to be shallow.

Python's ``json`` parser recurses once per level of nesting, so a text nested
100,000 deep raises ``RecursionError`` (or worse) instead of a clear error.
:func:`loads` first measures the depth with a few passes of C-speed byte
operations (no Python loop over the text, no recursion): escaped characters and
strings are removed, every other byte but brackets is dropped, and innermost
bracket pairs are removed once per allowed level. Only a text whose brackets are
then all gone is handed to ``json.loads``.
"""
import json
import re

__all__ = ["loads"]

_STRING = re.compile(rb'"[^"]*"')           # after escapes are removed, strings have no '"' inside
_TO_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def depth_within(raw, limit):
    """True when the JSON text ``raw`` (bytes) nests brackets at most ``limit`` deep, False
    when deeper, None when its brackets do not pair up (so it is not JSON).

    >>> depth_within(b'{"a": [1, {"b": "[[["}]}', 3), depth_within(b"[[[[]]]]", 3), depth_within(b"[}}", 3)
    (True, False, None)
    """
    s = raw.replace(b"\\\\", b"").replace(b'\\"', b"")     # escapes, in JSON's own order
    s = _STRING.sub(b"", s).translate(_TO_SQUARE, _NOT_BRACKET)
    for _ in range(limit):
        if not s:
            return True
        shorter = s.replace(b"[]", b"")
        if len(shorter) == len(s):
            return None
        s = shorter
    return False if s.replace(b"[]", b"") != s else (None if s else True)


def loads(raw, what, limit):
    """Parse the JSON bytes ``raw``; a ``ValueError`` naming ``what`` when they are not
    UTF-8 JSON or nest deeper than ``limit``.

    >>> loads(b'{"w": [1, 2]}', "the header", 4)
    {'w': [1, 2]}
    >>> loads(b"[" * 100000 + b"]" * 100000, "the header", 4)
    Traceback (most recent call last):
    ValueError: the header nests deeper than 4 levels
    """
    depth_ok = depth_within(raw, limit)
    if depth_ok is False:
        raise ValueError(f"{what} nests deeper than {limit} levels")
    try:
        if depth_ok is None:
            raise ValueError
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError(f"{what} is not valid UTF-8 JSON") from None
