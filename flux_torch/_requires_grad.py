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
    with _lock:
        count = _count
        for t in tensors:
            n = count.get(id(t))
            if n is not None:
                count[id(t)] = n + 1
                held.append(t)
            elif not t.requires_grad and t.is_leaf:
                t.requires_grad_(True)
                count[id(t)] = 1
                held.append(t)
    return held


def switch_off(held):
    """Undo one :func:`switch_on`: a tensor's flag goes off when no running call needs it."""
    if not held:
        return
    with _lock:
        count = _count
        for t in held:
            n = count[id(t)] - 1
            if n:
                count[id(t)] = n
            else:
                del count[id(t)]
                t.requires_grad_(False)
