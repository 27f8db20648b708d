"""The runtime of translated scripts, imported as ``from flux_torch.port import runtime as jl``.

Julia semantics that depend on run-time types live here: ``jl.mul`` (a matrix
product for two arrays), ``jl.eq`` (one Bool for arrays), ``jl.getindex`` (dicts
by key, arrays 1-based), ``jl.broadcast``, reductions keeping dims, Base's
functions, structs and methods. It never imports the Julia parser.

>>> from flux_torch.port import runtime as jl
>>> jl.size(jl.zeros(jl.Float32, 3, 4)), jl.rem(-7, 3)
((3, 4), -1)
"""
from . import (rt_arrays, rt_base, rt_data, rt_index, rt_io, rt_layout, rt_linalg, rt_math,
               rt_operators, rt_random, rt_ranges, rt_reduce, rt_search, rt_strings, rt_types)
from .rt_arrays import *  # noqa: F401,F403
from .rt_base import *  # noqa: F401,F403
from .rt_data import *  # noqa: F401,F403
from .rt_index import *  # noqa: F401,F403
from .rt_io import *  # noqa: F401,F403
from .rt_layout import *  # noqa: F401,F403
from .rt_linalg import *  # noqa: F401,F403
from .rt_math import *  # noqa: F401,F403
from .rt_operators import *  # noqa: F401,F403
from .rt_random import *  # noqa: F401,F403
from .rt_ranges import *  # noqa: F401,F403
from .rt_reduce import *  # noqa: F401,F403
from .rt_search import *  # noqa: F401,F403
from .rt_strings import *  # noqa: F401,F403
from .rt_types import *  # noqa: F401,F403

__all__ = sorted(set().union(*(m.__all__ for m in (
    rt_arrays, rt_base, rt_data, rt_index, rt_io, rt_layout, rt_linalg, rt_math, rt_operators,
    rt_random, rt_ranges, rt_reduce, rt_search, rt_strings, rt_types))))
