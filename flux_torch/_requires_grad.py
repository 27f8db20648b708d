"""Switching ``requires_grad`` on for the tensors a gradient call differentiates, counted.

Parameters are plain tensors with ``requires_grad=False`` (SPEC §2), so a gradient call
switches the flag on for its call and off after. Several calls may be running at
once (threads; nested calls): each tensor counts the calls that switched it on, and
only the last one to finish switches it off, so no call sees a flag changed under it.
A tensor whose flag the user set stays as it is.

>>> w = torch.zeros(2)
>>> held = switch_on([w]); again = switch_on([w])
>>> switch_off(held); w.requires_grad
True
>>> switch_off(again); w.requires_grad
False
"""
import threading

__all__ = ["switch_on", "switch_off"]

_lock = threading.Lock()
_count = {}      # id(tensor) -> how many running calls switched it on


def switch_on(tensors):
    """Switch ``requires_grad`` on for ``tensors`` (those that need it); returns what to pass to
    :func:`switch_off` when the call ends."""
    held = []
    append = held.append
    with _lock:
        count = _count
        for t in tensors:
            k = id(t)
            n = count.get(k)
            if n is not None:
                count[k] = n + 1
            elif t.requires_grad:          # the user's own flag (or a tensor in a graph): left alone
                continue
            else:
                t.requires_grad_(True)
                count[k] = 1
            append(t)
    return held


def switch_off(held):
    """Undo one :func:`switch_on`: a tensor's flag goes off when no running call needs it."""
    if not held:
        return
    with _lock:
        count = _count
        for t in held:
            k = id(t)
            n = count[k] - 1
            if n:
                count[k] = n
            else:
                del count[k]
                t.requires_grad_(False)
