"""One lock per model: calls that read and write a model's tensors take turns.

``gradient`` (and ``withgradient``, ``pullback``) of a model, ``train_`` and
``save`` hold the lock of the model they work on, so the same calls made from
several threads give what they give one after another, and a checkpoint saved
while another thread trains holds one consistent step. The lock is re-entrant: a
callback inside ``train_`` may ``save`` the model it trains.

The table holds models weakly: a model that is dropped drops its lock. Objects
that take no weak reference (a plain ``dict`` or ``list`` used as a model) share
one process-wide lock.

>>> import threading
>>> class Model:
...     pass
>>> m = Model()
>>> lock_for(m) is lock_for(m), lock_for(m) is lock_for(Model())
(True, False)
>>> with lock_for(m), lock_for(m):      # re-entrant
...     pass
"""
import threading
import weakref

__all__ = ["lock_for"]

_guard = threading.RLock()      # guards the table itself; re-entrant, as a weak reference's
                                # callback may run (garbage collection) while it is held
_locks = {}                     # id(obj) -> (weak reference to obj, its RLock)
_SHARED = threading.RLock()     # the lock of every object that takes no weak reference


def _forget(key, ref, table=_locks):     # bound now: at exit the module global may be gone
    def drop(_):
        with _guard:
            entry = table.get(key)
            if entry is not None and entry[0] is ref[0]:
                del table[key]
    return drop


def lock_for(obj):
    """The re-entrant lock of ``obj``, made on first use and dropped with ``obj``."""
    key = id(obj)
    entry = _locks.get(key)
    if entry is not None and entry[0]() is obj:
        return entry[1]
    with _guard:
        entry = _locks.get(key)
        if entry is not None and entry[0]() is obj:
            return entry[1]
        holder = [None]
        try:
            holder[0] = weakref.ref(obj, _forget(key, holder))
        except TypeError:
            return _SHARED
        lock = threading.RLock()
        _locks[key] = (holder[0], lock)
        return lock
