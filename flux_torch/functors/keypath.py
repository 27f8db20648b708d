"""Key paths: where a value sits in a model (``Functors.KeyPath``).

A :class:`KeyPath` is a tuple of keys, those of :func:`~flux_torch.functors.children`:
attribute names for layers, indices for tuples and lists, keys for dicts. It
prints as Python that reaches the value (``.layers[0].weight``), and every error
message of flux_torch that names a place in a model uses that form.

>>> kp = KeyPath("layers", 0, "weight")
>>> kp
KeyPath('layers', 0, 'weight')
>>> str(kp), keypathstr(kp)
('.layers[0].weight', 'layers.0.weight')
>>> KeyPath("a", kp, 4) == ("a", "layers", 0, "weight", 4)
True
"""
from typing import Any

from .nodes import node_of

__all__ = ["KeyPath", "keypathstr", "getkeypath", "haskeypath", "setkeypath_"]


class KeyPath(tuple):
    """A path of keys into a nested structure; ``KeyPath(*keys)`` flattens key paths given as keys.

    It is a tuple (``kp[0]``, ``len(kp)``, ``kp == ("layers", 0)``), which prints as the
    Python that reaches the value from the top: ``str(KeyPath("layers", 0))`` is
    ``'.layers[0]'``, and the empty path is ``'(the top)'``.
    """

    __slots__ = ()

    def __new__(cls, *keys):
        flat = []
        for k in keys:
            if isinstance(k, KeyPath):
                flat.extend(k)
            else:
                flat.append(k)
        return tuple.__new__(cls, flat)

    def __getitem__(self, i):
        out = tuple.__getitem__(self, i)
        return tuple.__new__(KeyPath, out) if isinstance(i, slice) else out

    def __add__(self, other):
        return tuple.__new__(KeyPath, tuple(self) + tuple(other))

    def __repr__(self):
        return f"KeyPath({', '.join(repr(k) for k in self)})"

    def __str__(self):
        return "".join(f".{k}" if isinstance(k, str) and k.isidentifier() else f"[{k!r}]"
                       for k in self) or "(the top)"


def child_path(path, key):
    """``path`` with ``key`` added (a fast :class:`KeyPath` constructor for the walk)."""
    return tuple.__new__(KeyPath, (*path, key))


def keypathstr(kp):
    """The keys joined by dots, ``'layers.0.weight'`` (``Functors.keypathstr``).

    >>> keypathstr(KeyPath("b", 3))
    'b.3'
    """
    return ".".join(str(k) for k in kp)


def _get(x, key):
    node = node_of(type(x))
    if node is not None:
        return node.child(x, key)
    if isinstance(key, str):
        return getattr(x, key)
    return x[key]


def getkeypath(x: Any, kp: KeyPath) -> Any:
    """The value of ``x`` at the path ``kp`` (``Functors.getkeypath``).

    >>> x = {"a": 3, "b": {"c": 4, "d": [5, 6, 7]}}
    >>> getkeypath(x, KeyPath("b", "d", 1))
    6
    """
    for k in kp:
        x = _get(x, k)
    return x


def haskeypath(x: Any, kp: KeyPath) -> bool:
    """True when ``x`` has a value at the path ``kp`` (``Functors.haskeypath``).

    >>> x = {"a": 3, "b": {"c": 4, "d": [5, 6, 7]}}
    >>> haskeypath(x, KeyPath("a")), haskeypath(x, KeyPath("b", "d", 0)), haskeypath(x, KeyPath("b", "d", 3))
    (True, True, False)
    """
    for k in kp:
        try:
            x = _get(x, k)
        except (LookupError, AttributeError, TypeError):
            return False
    return True


def setkeypath_(x, kp, v):
    """Set the value of ``x`` at the path ``kp`` to ``v``, in place (``Functors.setkeypath!``).

    >>> x = {"a": 3, "b": {"c": 4, "d": [5, 6, 7]}}
    >>> setkeypath_(x, KeyPath("b", "d", 0), 17)
    >>> x["b"]["d"]
    [17, 6, 7]
    """
    if not kp:
        raise ValueError("setkeypath_: an empty key path names the whole object, which cannot be set "
                         "in place; give at least one key")
    parent, key = getkeypath(x, kp[:-1]), kp[-1]
    if isinstance(key, str) and not isinstance(parent, dict):
        setattr(parent, key, v)
    else:
        parent[key] = v
