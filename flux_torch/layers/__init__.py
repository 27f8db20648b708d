"""Flux's layers as plain ``@functor`` classes over ``torch.nn.functional``."""
from .basic import Chain, ComposedFunction, Dense, activations, compose

__all__ = ["Dense", "Chain", "compose", "ComposedFunction", "activations"]
