"""``Params``: the ordered, identity-keyed set of tensors of Flux's implicit style."""
from typing import Any, List

import numpy as np
import torch

from .functors import KeyPath
from .functors.record import record_of
from ._types import Model

__all__ = ["Params", "params", "trainables"]


class Params:
    """An ordered set of tensors, compared by identity (``Zygote.Params``).

    Build it with :func:`params`. Supports ``len``, iteration, ``in`` (identity),
    ``add``/``remove`` (Flux's ``push!``/``delete!``) and union with ``|``.

    >>> W, b = torch.ones(2, 3), torch.zeros(2)
    >>> ps = Params([W, b])
    >>> len(ps), W in ps, torch.ones(2, 3) in ps
    (2, True, False)
    """

    __slots__ = ("order", "_ids", "_fast", "__weakref__")

    def __init__(self, xs=()):
        self.order, self._ids, self._fast = [], set(), None
        for x in xs:
            self.add(x)

    def add(self, x):
        """Add a tensor unless it is already present (``push!``). Returns ``self``."""
        _check_param(x, "Params.add")
        if id(x) not in self.ids:
            self.ids.add(id(x))
            self.order.append(x)
            self._fast = None
        return self

    push_ = add

    @classmethod
    def _of(cls, tensors):
        """Params of distinct floating tensors, without checking each one again."""
        ps = object.__new__(cls)
        ps.order, ps._ids, ps._fast = tensors, None, None
        return ps

    @property
    def ids(self):
        """The set of the tensors' ids (made when first needed)."""
        if self._ids is None:
            self._ids = {id(t) for t in self.order}
        return self._ids

    def remove(self, x):
        """Remove a tensor (``delete!``); a tensor that is absent is ignored. Returns ``self``."""
        if id(x) in self.ids:
            self.ids.discard(id(x))
            self.order = [p for p in self.order if p is not x]
            self._fast = None
        return self

    delete_ = remove

    def union(self, *others):
        """A new ``Params`` with the tensors of ``self`` then of ``others``."""
        out = Params(self.order)
        for o in others:
            for x in (o if isinstance(o, Params) else params(o)):
                out.add(x)
        return out

    __or__ = union

    def __len__(self):
        return len(self.order)

    def __iter__(self):
        return iter(self.order)

    def __getitem__(self, i):
        return self.order[i]

    def __contains__(self, x):
        return id(x) in self.ids

    def __eq__(self, other):
        return isinstance(other, Params) and len(self) == len(other) and all(
            a is b for a, b in zip(self, other))

    __hash__ = None

    def __repr__(self):        # Flux shows the arrays themselves: Params([[1.0 1.0], [0.0]])
        return "Params([" + ", ".join(repr(p.detach()) for p in self.order) + "])"


def _check_param(x, fname):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fname} expects a tensor, but got {type(x).__name__}; "
                        "use torch.tensor(...) for data you want to differentiate")
    if not x.is_floating_point() and not x.is_complex():
        raise TypeError(
            f"{fname} got a tensor of dtype {x.dtype}, which cannot be differentiated; "
            f"convert it with x.float() (for example W = torch.tensor([2.0, 1.0]), not [2, 1])")


def params(*xs: Any) -> Params:
    """Collect the trainable floating tensors of tensors, containers and models (``Flux.params``).

    Order is the traversal order; a tensor that appears twice (tied weights) is kept once.

    >>> W = torch.ones(2, 3)
    >>> ps = params(W, {"b": torch.zeros(2), "tied": W})
    >>> [tuple(p.shape) for p in ps]
    [(2, 3), (2,)]
    """
    if len(xs) == 1 and not isinstance(xs[0], (torch.Tensor, np.ndarray)):
        return Params._of(list(record_of(xs[0]).tensors))
    ps = Params()
    for x in xs:
        if isinstance(x, np.ndarray):
            raise TypeError("params got a numpy array, which flux_torch cannot update in place; "
                            "convert it once with x = torch.as_tensor(x) and use that tensor")
        if isinstance(x, torch.Tensor):
            ps.add(x)
            continue
        for leaf in record_of(x).tensors:      # the record: cheap when x is seen again
            ps.add(leaf)
    return ps


def trainables(x: Model, path: bool = False) -> List[Any]:
    """The trainable floating tensors of ``x`` as a list (``Flux.trainables``, Flux >= 0.14.17);
    with ``path=True`` each comes with its :class:`KeyPath` (where it is first met).

    >>> [tuple(t.shape) for t in trainables(Dense(2, 3))]
    [(3, 2), (3,)]
    >>> [(str(kp), tuple(t.shape)) for kp, t in trainables(Chain(Dense(2, 3)), path=True)]
    [('.layers[0].weight', (3, 2)), ('.layers[0].bias', (3,))]
    """
    if not path:
        return list(params(x))
    if isinstance(x, torch.Tensor):
        return [(KeyPath(), x)]
    rec = record_of(x)
    return [(rec.path(slots[0]), t) for t, slots in zip(rec.tensors, rec.tensor_slots)]
