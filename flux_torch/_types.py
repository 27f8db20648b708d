"""The names that the public functions' type hints use: what flux_torch takes and gives back.

Hints are written with ``typing``'s names (``Optional``, ``Union``), and each resolves with
``typing.get_type_hints`` (tests/test_typing.py checks every public function).
"""
import os
from typing import Any, Callable, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import torch

__all__ = ["Agg", "DataRNG", "Model", "Numeric", "PathLike", "RNG", "Shape", "T", "TensorLike"]

TensorLike = Union[torch.Tensor, np.ndarray, Sequence[Any], float]
"""What flux_torch turns into a tensor: a tensor, a numpy array, a (nested) list or a number."""

Numeric = TypeVar("Numeric", torch.Tensor, float)
"""An elementwise function's argument and result: a tensor gives a tensor, a number a float."""

T = TypeVar("T")
"""A value given back as it came (a model to ``gpu``, ``testmode_``, ``loadmodel_``)."""

Model = Any
"""A model: any object flux_torch walks (a layer, a container of them, a ``torch.nn.Module``)."""

Shape = Union[int, Tuple[int, ...]]
"""A size: one int or a tuple of them."""

RNG = Optional[torch.Generator]
"""A torch random generator, or None for torch's global one."""

DataRNG = Union[None, int, torch.Generator, np.random.Generator]
"""The data functions' randomness: a seed, a torch or numpy generator, or None."""

PathLike = Union[str, os.PathLike]
"""A file name."""

Agg = Callable[[torch.Tensor], torch.Tensor]
"""A loss's aggregation, ``torch.mean`` by default (``torch.sum``, ``lambda x: x``...)."""
