"""One-hot encoding (OneHotArrays.jl's ``onehot``, ``onehotbatch``, ``onecold``),
batch first and 0-based.

OneHotArrays returns lazy ``Bool`` arrays that Julia multiplies efficiently.
torch has no such type and will not multiply a float matrix by a bool one, so
these functions return dense ``float32`` tensors by default (``dtype=`` picks
another, e.g. ``torch.bool`` or ``torch.long``): ``W @ onehot(...)``, ``Dense``
and the cross-entropy losses take them as they are. The class axis is the
LAST one: ``onehotbatch`` of ``N`` values is ``(N, C)``, the transpose of
Flux's ``C × N``, and ``onecold`` takes the argmax over ``dim=-1``.

Labels match as Julia's ``isequal`` does, not ``==``: ``-0.0`` and ``0.0`` are different
labels, and ``NaN`` matches ``NaN``; ``1`` and ``1.0`` are the same label.
"""
import math
import numbers
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..devices import as_tensor
from .._types import TensorLike

__all__ = ["onehot", "onehotbatch", "onecold"]


def _as_list(labels):
    if isinstance(labels, (torch.Tensor, np.ndarray)):
        if labels.ndim != 1:
            raise ValueError(f"labels must be one-dimensional, but got shape {tuple(labels.shape)}")
        return labels.tolist()
    return list(labels)


_NAN, _NEG_ZERO = object(), object()  # stand-ins: NaN != NaN, and -0.0 == 0.0 in a dict


def _key(v):
    """``v`` as a dict key that matches as Julia's ``isequal``: a NaN finds a NaN, and -0.0
    does not find 0.0 (Python's ``==`` says the opposite of both)."""
    if isinstance(v, torch.Tensor) and v.dim() == 0 or isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return _NAN
        if v == 0.0 and math.copysign(1.0, v) < 0:
            return _NEG_ZERO
    return v


def _lookup(labels):
    """Map each label (as a :func:`_key`) to the position of its first occurrence."""
    table = {}
    for i, lab in enumerate(labels):
        table.setdefault(_key(lab), i)
    return table


def _show(labels):
    s = repr(tuple(labels))
    return s if len(s) <= 80 else s[:76] + " ...)"


def _missing(fname, value, labels):
    return ValueError(
        f"{fname}: value {value!r} not found in labels {_show(labels)}; add it to the labels, "
        f"or pass a default label as the third argument, e.g. {fname}(x, labels, {labels[-1]!r})"
        if labels else f"{fname}: value {value!r} not found in labels (labels are empty)")


def _default_index(fname, table, labels, default):
    if default is None:
        return None
    i = table.get(_key(default))
    if i is None:
        raise ValueError(f"{fname}: the default value {default!r} is not in labels {_show(labels)}")
    return i


def onehot(x: Any, labels: Iterable[Any], default: Any = None, *,
           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A vector of length ``len(labels)`` that is 1 at the (0-based) position
    of ``x`` in ``labels`` and 0 elsewhere.

    If ``x`` is not among the labels, ``default`` is encoded instead, or, with
    no default, a ``ValueError`` is raised. Labels may be any hashable values
    (numbers, strings, characters); a string is a sequence of characters.

    >>> onehot("b", ["a", "b", "c"])
    tensor([0., 1., 0.])
    >>> onehot("z", "abc", "c")
    tensor([0., 0., 1.])
    """
    labels = _as_list(labels)
    table = _lookup(labels)
    d = _default_index("onehot", table, labels, default)
    if isinstance(x, torch.Tensor) and x.dim() == 0:
        x = x.item()
    i = table.get(_key(x), d)
    if i is None:
        raise _missing("onehot", x, labels)
    out = torch.zeros(len(labels), dtype=dtype)
    out[i] = 1
    return out


def _numeric_indices(data, labels, d):
    """Vectorised lookup of a numeric tensor in numeric labels, matching as ``isequal``."""
    lab = torch.tensor(labels, device=data.device)
    flat = data.reshape(-1, 1)
    eq = flat == lab.to(torch.promote_types(flat.dtype, lab.dtype))
    eq = (eq & (torch.signbit(flat) == torch.signbit(lab))) | (flat.isnan() & lab.isnan())
    idx = eq.to(torch.uint8).argmax(1)  # position of the first match
    found = eq.any(1)
    if d is not None:
        return torch.where(found, idx, torch.full_like(idx, d)).reshape(data.shape)
    if not bool(found.all()):
        raise _missing("onehotbatch", flat[~found][0, 0].item(), labels)
    return idx.reshape(data.shape)


def onehotbatch(data: Iterable[Any], labels: Iterable[Any], default: Any = None, *,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """One-hot encode every value of ``data``: shape ``(*data.shape, C)`` with
    ``C = len(labels)``, so ``N`` values give an ``(N, C)`` batch (Flux's
    ``C × N``, transposed). Row ``k`` is ``onehot(data[k], labels, default)``.

    ``data`` may be a tensor, numpy array, list, or any iterable (a string is
    its characters). Numeric arrays with numeric labels are encoded without a
    Python loop.

    >>> onehotbatch([1, 0, 1], [0, 1, 2])
    tensor([[0., 1., 0.],
            [1., 0., 0.],
            [0., 1., 0.]])
    >>> onehotbatch("abracadabra", "abcde", "e").sum(0)
    tensor([5., 2., 1., 1., 2.])
    """
    labels = _as_list(labels)
    table = _lookup(labels)
    d = _default_index("onehotbatch", table, labels, default)
    C = len(labels)
    device = data.device if isinstance(data, torch.Tensor) else None
    if isinstance(data, (torch.Tensor, np.ndarray)) and data.dtype not in (np.object_,) \
            and all(isinstance(v, numbers.Real) for v in labels):
        t = as_tensor(data)
        if not t.dtype.is_complex and t.dtype != torch.bool:
            idx = _numeric_indices(t, labels, d) if C else None
            if idx is not None:
                return F.one_hot(idx, C).to(dtype)
    if isinstance(data, (torch.Tensor, np.ndarray)):
        shape = tuple(data.shape)
        values = data.reshape(-1).tolist()
    else:
        values = list(data)
        shape = (len(values),)
    idx = [table.get(_key(v), d) for v in values]
    if None in idx:
        raise _missing("onehotbatch", values[idx.index(None)], labels)
    idx = torch.tensor(idx, dtype=torch.long, device=device).reshape(shape)
    return F.one_hot(idx, C).to(dtype)


def _map_labels(ix, labels):
    if isinstance(ix, list):
        return [_map_labels(i, labels) for i in ix]
    return labels[ix]


def onecold(y: TensorLike, labels: Optional[Sequence[Any]] = None) -> Any:
    """The inverse of :func:`onehot`/:func:`onehotbatch`, and a general
    argmax: the 0-based index of the largest entry along the last dimension,
    or the label at that index when ``labels`` are given.

    A vector gives one result (a Python ``int`` or a label). A batch
    ``(N, C)`` gives a ``(N,)`` tensor of indices; with labels, a list of
    labels, except that ``range``, tensor and numpy labels give a tensor or
    array (so results compare elementwise, as Flux's ``.==`` does).

    >>> onecold([0.3, 0.2, 0.5], ["a", "b", "c"])
    'c'
    >>> onecold(torch.tensor([[1., 2, 5, 3], [20, 7, 9, 1], [5, 6, 10, 14]]))
    tensor([2, 0, 3])
    >>> "".join(onecold(onehotbatch("abeacadabea", "abcde"), "abcde"))
    'abeacadabea'
    """
    y = as_tensor(y)
    if y.dim() == 0:
        raise ValueError("onecold expects a vector or a batch of scores, but got a 0-dim tensor")
    if y.dtype == torch.bool:
        y = y.to(torch.uint8)
    C = y.shape[-1]
    if labels is not None and len(labels) != C:
        raise ValueError(f"onecold got {len(labels)} labels for scores with y.shape[-1] == {C}, "
                         "these must agree (flux_torch puts the classes last: did you mean y.T?)")
    if y.dim() == 1 and y.is_floating_point() and bool(y.isnan().any()):
        raise ValueError("onecold: the maximum value found is nan")
    idx = y.argmax(-1)
    if y.dim() == 1:
        i = int(idx)
        return i if labels is None else labels[i]
    if labels is None:
        return idx
    if isinstance(labels, range):
        return labels.start + labels.step * idx
    if isinstance(labels, torch.Tensor):
        return labels[idx.to(labels.device)]
    if isinstance(labels, np.ndarray):
        return labels[idx.cpu().numpy()]
    return _map_labels(idx.tolist(), labels)
