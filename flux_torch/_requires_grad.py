"""Switching ``requires_grad`` on for the tensors a gradient call differentiates, counted.

Parameters are plain tensors with ``requires_grad=False`` (SPEC §2), so a gradient call
switches the flag on for its call and off after. Several calls may be running at
once (threads; nested calls): each tensor counts the calls that switched it on, and
only the last one to finish switches it off, so no call sees a flag changed under it.
A tensor whose flag the user set stays as it is.

A training step switches the same few tensors on and off every batch, and usually no
other call is running: then the one running call holds its list as a whole (no count
per tensor), and a second call that starts meanwhile turns that list into counts first.

>>> w = torch.zeros(2)
>>> held = switch_on([w]); again = switch_on([w])
>>> switch_off(held); w.requires_grad
True
>>> switch_off(again); w.requires_grad
False
"""
from collections import deque
from itertools import filterfalse, repeat
from operator import attrgetter
import threading

import torch

__all__ = ["switch_on", "switch_off"]

_requires_grad = attrgetter("requires_grad")
_set_requires_grad = torch.Tensor.requires_grad_
_OFF = repeat(False)
_run = deque(maxlen=0).extend       # runs an iterator through, in C, keeping nothing

_lock = threading.Lock()
_count = {}      # id(tensor) -> how many running calls switched it on
_whole = []      # [the list switched on by the only running call], or []: no count kept for it


def switch_on(tensors):
    """Switch ``requires_grad`` on for ``tensors`` (those that need it); returns what to pass to
    :func:`switch_off` when the call ends."""
    with _lock:
        if not _count and not _whole:       # no other call running: hold the list as a whole
            held = list(filterfalse(_requires_grad, tensors))
            if held:
                _run(map(_set_requires_grad, held))
                _whole.append(held)
            return held
        _to_counts()
        held = []
        append = held.append
        count = _count
        for t in tensors:
            k = id(t)
            n = count.get(k)
            if n is not None:
                count[k] = n + 1
            elif t.requires_grad:          # the user's own flag (or a tensor in a graph): left alone
                continue
            else:
                t.requires_grad = True
                count[k] = 1
            append(t)
    return held


def _to_counts():
    """The list held as a whole becomes counts, as another call starts (under the lock)."""
    if _whole:
        count = _count
        for t in _whole.pop():
            count[id(t)] = count.get(id(t), 0) + 1


def switch_off(held):
    """Undo one :func:`switch_on`: a tensor's flag goes off when no running call needs it."""
    if not held:
        return
    with _lock:
        if _whole and _whole[0] is held:
            _whole.clear()
            _run(map(_set_requires_grad, held, _OFF))
            return
        count = _count
        for t in held:
            k = id(t)
            n = count[k] - 1
            if n:
                count[k] = n
            else:
                del count[k]
                t.requires_grad = False
