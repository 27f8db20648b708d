"""Automatic-differentiation backends as values (ADTypes.jl, which Flux v0.16 re-exports).

Flux v0.16's ``gradient(f, AutoZygote(), x)``, ``withgradient`` and ``train!`` take the engine
to differentiate with. flux_torch has one engine, torch's autograd, so every backend object is
accepted and means it; porting code that names one needs no change.

>>> gradient(lambda x: x ** 2, AutoZygote(), 3.0), AutoEnzyme() == AutoEnzyme()
((6.0,), True)
"""

__all__ = ["AbstractADType", "AutoZygote", "AutoEnzyme", "AutoMooncake", "AutoFiniteDifferences",
           "AutoForwardDiff", "AutoReverseDiff"]


class AbstractADType:
    """The base of the backend objects (``ADTypes.AbstractADType``); all mean torch's autograd."""

    __slots__ = ()

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self))

    def __repr__(self):
        return f"{type(self).__name__}()"


class AutoZygote(AbstractADType):
    """Zygote (Flux's default), here torch's autograd."""

    __slots__ = ()


class AutoEnzyme(AbstractADType):
    """Enzyme, here torch's autograd."""

    __slots__ = ()


class AutoMooncake(AbstractADType):
    """Mooncake, here torch's autograd."""

    __slots__ = ("config",)

    def __init__(self, config=None):
        self.config = config


class AutoFiniteDifferences(AbstractADType):
    """Finite differences, here torch's autograd (exact, so the results are what finite
    differences approximate)."""

    __slots__ = ("fdm",)

    def __init__(self, fdm=None):
        self.fdm = fdm


class AutoForwardDiff(AbstractADType):
    """ForwardDiff, here torch's autograd."""

    __slots__ = ()


class AutoReverseDiff(AbstractADType):
    """ReverseDiff, here torch's autograd."""

    __slots__ = ()


def drop_backend(args):
    """``args`` without a leading backend object (``gradient(f, AutoZygote(), x)``)."""
    return args[1:] if args and isinstance(args[0], AbstractADType) else args
