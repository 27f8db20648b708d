"""The runtime of translated scripts, imported as ``from flux_torch.port import runtime as jl``.

Julia semantics that depend on run-time types live here: ``jl.mul`` (a matrix
product for two arrays), ``jl.eq`` (one Bool for arrays), ``jl.getindex`` (dicts
by key, arrays 1-based), ``jl.broadcast``, reductions keeping dims, Base's
functions, structs and methods. It never imports the Julia parser.

>>> from flux_torch.port import runtime as jl
>>> jl.size(jl.zeros(jl.Float32, 3, 4)), jl.rem(-7, 3)
((3, 4), -1)
"""
from .rt_arrays import *  # noqa: F401,F403
from .rt_base import *  # noqa: F401,F403
from .rt_data import *  # noqa: F401,F403
from .rt_math import *  # noqa: F401,F403
from .rt_types import *  # noqa: F401,F403
from . import rt_arrays, rt_base, rt_data, rt_math, rt_types

__all__ = sorted(set(rt_arrays.__all__) | set(rt_base.__all__) | set(rt_data.__all__)
                 | set(rt_math.__all__) | set(rt_types.__all__))
