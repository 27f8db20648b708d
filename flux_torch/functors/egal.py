"""Value equality of layers: Julia's ``==`` on structs, which is ``===`` (egal).

Two layers are equal when they are of the same class and their fields are egal: the very
same tensor (a tensor is a mutable array, compared by identity, as Julia compares
arrays inside an immutable struct), equal numbers and strings, egal tuples and dicts
(Julia's tuples and NamedTuples), and egal layers. So ``m[0:2] == m`` and
``fmap(identity, m) == m`` hold, while two layers built alike with fresh weights differ.
Hashing stays by identity, so layers still serve as dict keys.

>>> d = Dense(2, 3)
>>> Chain(d, relu) == Chain(d, relu), Dense(2, 3) == Dense(2, 3)
(True, False)
"""
import torch

__all__ = ["egal", "give_value_equality"]


def egal(a, b):
    """Julia's ``===`` for the values a layer holds (see the module's docstring)."""
    if a is b:
        return True
    ta = type(a)
    if ta is not type(b):
        return False
    if isinstance(a, torch.Tensor) or ta is list:       # mutable arrays: identity only
        return False
    if isinstance(a, (int, float, complex, str, bytes, bool)):
        return a == b
    if isinstance(a, tuple):
        return len(a) == len(b) and all(egal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(egal(a[k], b[k]) for k in a)
    if getattr(ta, "_flux_egal", None) is not None:
        return a.__eq__(b) is True
    return False


def _eq(self, other):
    if type(other) is not type(self):
        return NotImplemented
    d, e = getattr(self, "__dict__", None), getattr(other, "__dict__", None)
    if d is None or e is None:
        return self is other
    return d.keys() == e.keys() and all(egal(d[k], e[k]) for k in d)


def give_value_equality(cls):
    """Give ``cls`` Julia's struct equality, unless it defines its own ``__eq__`` or inherits
    one from a base class of its own (as a Julia test defines ``==`` for its structs)."""
    own = next(c.__dict__["__eq__"] for c in cls.__mro__ if "__eq__" in c.__dict__)
    if own is not object.__eq__ and own is not _eq:
        return
    cls.__eq__ = _eq
    cls.__hash__ = object.__hash__       # identity, as before: layers stay usable as dict keys
    cls._flux_egal = True
