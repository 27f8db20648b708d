"""Which Flux a name belongs to, for the errors that say where a name of the other version is."""

__all__ = ["missing_in_v016"]

_V014_ONLY = {
    "Recur": "Flux v0.15 removed it; use RNN/LSTM/GRU/GRUv3 or Recurrence(cell) with an explicit "
             "state",
}


def missing_in_v016(name):
    """flux_torch's ``__getattr__``: an AttributeError for a name only v0.14 has, saying where it is."""
    if name in _V014_ONLY:
        return AttributeError(f"{name} is Flux v0.14's, not v0.16's: {_V014_ONLY[name]}; for v0.14 "
                              "code, import flux_torch.v014 as Flux")
    return AttributeError(f"module 'flux_torch' has no attribute {name!r}")
