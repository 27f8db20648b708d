"""Does an optimiser state read from a file have the layout its rule gives?

``rule.init(x)`` makes the state of a parameter ``x``: for ``Adam`` two tensors shaped
like ``x`` and a list of two floats. A state read from a file must have that layout,
or ``update_`` would fail later with an ``IndexError`` or a raw torch error far from
the file. The file does not say which parameter a ``Leaf`` belongs to, so the check
asks ``init`` for the layout of a parameter shaped like each tensor of the state in
turn (on torch's ``meta`` device: no memory is used) and accepts the state when one of
them matches: the same containers and lengths, tensors of the same shapes and dtypes,
numbers where numbers are, the same kinds of value elsewhere. ``save`` runs the same
check, so a state it writes is one ``load`` accepts.
"""
import torch

from ..functors import fleaves, fmapstructure

__all__ = ["check_layout"]


def _kind(v):
    if type(v) is tuple and not v:        # the empty tuple: a leaf of the walk, a container here
        return "()"
    if isinstance(v, torch.Tensor):
        return f"tensor{tuple(v.shape)} {str(v.dtype)[len('torch.'):]}"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "number"
    return type(v).__name__


def _describe(tree):
    return str(fmapstructure(_kind, tree)).replace("'", "")


def _compare(ref, got):
    """The same containers (types, keys, lengths) with the same kinds of leaves."""
    return fmapstructure(_kind, ref) == fmapstructure(_kind, got)


def check_layout(rule, state, cache):
    """``None`` when ``state`` has a layout ``rule.init`` gives, else the reason it has not.
    ``cache`` (a dict) keeps the layouts asked for, per rule text and parameter.

    >>> from flux_torch.optimise import Adam
    >>> check_layout(Adam(), (torch.zeros(3), torch.zeros(3), [0.9, 0.999]), {}) is None
    True
    >>> print(check_layout(Adam(), (torch.zeros(3), torch.zeros(2)), {}))
    Adam(...) keeps a state like (tensor(3,) float32, tensor(3,) float32, [number, number]),
    but this one is (tensor(3,) float32, tensor(2,) float32)
    """
    params = []
    for t in fleaves(state):
        if isinstance(t, torch.Tensor) and (t.shape, t.dtype) not in params:
            params.append((t.shape, t.dtype))
    first = None
    for shape, dtype in params or [((), torch.float32)]:
        key = (repr(rule), shape, dtype)
        if key not in cache:
            try:
                cache[key] = rule.init(torch.empty(shape, dtype=dtype, device="meta"))
            except Exception:        # a rule whose init needs real values
                cache[key] = None
        ref = cache[key]
        if ref is None:
            continue
        if _compare(ref, state):
            return None
        first = ref if first is None else first
    if first is None:
        return f"{rule!r} cannot say what its state looks like (its init fails on a meta tensor)"
    return f"{rule!r} keeps a state like {_describe(first)}, but this one is {_describe(state)}"
