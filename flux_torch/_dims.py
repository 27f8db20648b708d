"""The ``dim`` keyword: refusing Flux's ``dims=`` with an explanation.

Flux counts dimensions from 1 over a column-major, batch-last shape; flux_torch
takes ``dim`` with torch semantics over the reversed, batch-first shape. Julia's
``dims=d`` on an array is ``dim=-d`` here (so Flux's feature dim ``dims=1`` is
``dim=-1``, and Flux's last dim, the batch, is ``dim=0``). Every function that
takes ``dim`` refuses ``dims`` through :func:`reject_dims`.
"""

__all__ = ["reject_dims"]


def reject_dims(fname, kwargs, extra=""):
    """Raise a ``TypeError`` for keyword arguments ``fname`` does not take.

    ``dims=`` gets an explanation of how Flux's 1-based, batch-last ``dims``
    maps onto flux_torch's ``dim``; any other name gets Python's usual message.
    ``extra`` adds a sentence for functions with special cases.

    >>> reject_dims("stack", {})
    >>> reject_dims("stack", {"dims": 1})
    Traceback (most recent call last):
    ...
    TypeError: stack takes dim=, not Flux's `dims`: ...
    """
    if not kwargs:
        return
    if "dims" in kwargs:
        d = kwargs["dims"]
        hint = f"dim={-d}" if isinstance(d, int) and not isinstance(d, bool) and d > 0 else "dim=-d"
        raise TypeError(
            f"{fname} takes dim=, not Flux's `dims`: flux_torch is batch-first and 0-based "
            f"(torch semantics), so Julia's dims=d is dim=-d here; for dims={d!r} write {hint}. "
            "Flux's dims=1 (features) is dim=-1, its last (batch) dim is dim=0, "
            "and dims=: (all elements) is dim=None" + (f". {extra}" if extra else ""))
    raise TypeError(f"{fname}() got an unexpected keyword argument {next(iter(kwargs))!r}")
