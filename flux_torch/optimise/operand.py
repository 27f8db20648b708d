"""A Python number as the second operand of a ``torch._foreach_*`` op, in its quickest form.

On the CPU, ``torch._foreach_mul_(xs, 0.9)`` multiplies each tensor by itself:
``x.mul_(0.9)`` for each ``x``. Each of those calls makes the number a 0-d float64
tensor and converts that to ``x``'s dtype, three small ops at about 1 µs each. Given
instead a list holding one 0-d tensor of that dtype, made once, the op does the same
arithmetic without those steps: about 3 µs less per tensor, which is a fifth of a
small model's Adam step.

The numbers are the same, bit for bit, for float32 and float64: torch rounds the
number to the tensor's dtype either way (``tests/test_operand.py`` checks it).
Float16 and bfloat16 are left alone, since their kernels compute with the number
unrounded. So are other devices, whose ``_foreach`` kernels take the number directly,
and code that ``torch.compile`` is tracing, where the number is a constant in the graph.
"""
from operator import attrgetter

import torch

__all__ = ["operand", "operands"]

_EXACT = (torch.float32, torch.float64)
_DTYPE = attrgetter("dtype")
_compiling = torch.compiler.is_dynamo_compiling     # False here; True to dynamo as it traces


def operand(value, xs):
    """``value`` as the quickest operand of ``torch._foreach_add_``, ``_mul_`` or ``_div_``
    on the list ``xs``, with the same result: a list of one 0-d tensor of their dtype, when
    ``value`` is a float and ``xs`` are float32 or float64 tensors of one dtype on the CPU;
    else ``value`` itself (a number, or a list of numbers or tensors, one per tensor).

    >>> xs = [torch.tensor([1.0, 2.0]), torch.tensor([3.0])]
    >>> operand(0.5, xs)
    [tensor(0.5000), tensor(0.5000)]
    >>> _ = torch._foreach_mul_(xs, operand(0.5, xs))
    >>> xs
    [tensor([0.5000, 1.0000]), tensor([1.5000])]
    >>> operand(0.5, [torch.tensor([1.0], dtype=torch.float16)])     # float16: as it is
    0.5
    """
    if type(value) is not float:
        return value
    dtype = _exact_dtype(xs)
    return value if dtype is None else [torch.scalar_tensor(value, dtype=dtype)] * len(xs)


def operands(xs, *values):
    """:func:`operand` of each of ``values``, for ops on ``xs`` (``xs`` checked once).

    >>> operands([torch.tensor([1.0])], 0.5, 2.0, [0.5])
    ([tensor(0.5000)], [tensor(2.)], [0.5])
    """
    dtype = _exact_dtype(xs)
    if dtype is None:
        return values
    n = len(xs)
    return tuple([[torch.scalar_tensor(v, dtype=dtype)] * n if type(v) is float else v for v in values])


def _exact_dtype(xs):
    """The dtype of ``xs`` when they are float32 or float64 CPU tensors of one dtype, outside
    code that ``torch.compile`` traces; else None."""
    if not xs:
        return None
    x = xs[0]
    dtype = x.dtype
    if dtype not in _EXACT or not x.is_cpu or _compiling():
        return None
    n = len(xs)
    if n > 1 and list(map(_DTYPE, xs)).count(dtype) != n:     # mixed dtypes: each rounds its own way
        return None
    return dtype
