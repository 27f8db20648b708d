"""A model's state and loading it back: ``state``, ``loadmodel_`` (``Flux.state``, ``Flux.loadmodel!``).

``state(model)`` mirrors the model with plain containers: each layer becomes a
dict of its children (the keys are the fields the one traversal walks), tuples,
lists and dicts stay what they are, and the leaves are kept when they are
tensors, numpy arrays, numbers, strings or ``None``. Anything else (an
activation function, a random generator) becomes ``()``, as in Flux. Trainable
and non-trainable tensors (``BatchNorm``'s running statistics) are both
included; they are the model's own tensors, not copies.

``loadmodel_(dst, src)`` walks ``dst`` and ``src`` together, key by key (a walk
that checks the keys at every node), and copies every tensor of ``src`` into the
matching tensor of ``dst``, in place. ``state`` is ``fmapstructure``, which gives
plain containers.
"""
import numbers
from typing import Any, Callable, Optional

import numpy as np
import torch

from .functors import AbstractWalk, KeyPath, children, execute, fmapstructure, isleaf, node_of
from .optimise.tree import Leaf
from ._types import Model, T

__all__ = ["state", "loadmodel_"]

_KEPT = (torch.Tensor, np.ndarray, numbers.Number, str, type(None), Leaf)
_ARRAY = (torch.Tensor, np.ndarray)


def state(x: Model) -> Any:
    """The state of ``x`` in plain containers, to save or to :func:`loadmodel_` (``Flux.state``).

    A layer becomes a dict of its fields; tensors (trainable or not), numbers,
    strings and ``None`` are kept (the model's own tensors, not copies); other
    leaves such as activation functions become ``()``. A tensor used twice
    (tied weights) appears at both places as one object. In an optimiser state tree
    (from ``setup``) the ``Leaf`` objects are kept, so :func:`~flux_torch.io.save` can
    store the optimiser's state too.

    >>> from flux_torch import Chain, Dense, BatchNorm, tanh
    >>> m1 = Chain(Dense(torch.ones(2, 1), torch.zeros(2), tanh), Dense(torch.ones(1, 2), torch.zeros(1)))
    >>> s = state(m1)
    >>> s
    {'layers': ({'weight': tensor([[1.], [1.]]), 'bias': tensor([0., 0.]), 'σ': ()},
                {'weight': tensor([[1., 1.]]), 'bias': tensor([0.]), 'σ': ()})}
    >>> state(BatchNorm(1))       # includes the non-trainable running statistics μ, σ2
    {'λ': (), 'β': tensor([0.]), 'γ': tensor([1.]), 'μ': tensor([0.]), 'σ2': tensor([1.]),
     'ε': 1e-05, 'momentum': 0.1, 'affine': True, 'track_stats': True, 'active': None, 'chs': 1}
    """
    return fmapstructure(_kept, x)


def _kept(leaf):
    return leaf if isinstance(leaf, _KEPT) else ()


def _where(dst, path):
    """``path`` written as Python from the top of ``dst``: ``dst.layers[0].weight``."""
    return "the top level" if not path else f"dst{KeyPath(*path)}"


def _shape(a):
    return tuple(a.shape)


def _is_off(v):
    """Flux's ``false`` for an absent parameter; here ``bias=False`` is stored as ``None``."""
    return v is None or v is False


def _load_leaf(dst, src, where):
    """Copy the leaf ``src`` into the leaf ``dst``; ``where()`` names the place, for errors."""
    if isinstance(dst, _ARRAY):
        if isinstance(src, _ARRAY):
            if _shape(src) != _shape(dst):
                raise ValueError(f"loadmodel_: at {where()}, tried to load a tensor of shape {_shape(src)} "
                                 f"into a tensor of shape {_shape(dst)}; the source model must be built "
                                 "with the same layer sizes as the destination")
            if isinstance(dst, np.ndarray):
                np.copyto(dst, src.detach().cpu().numpy() if isinstance(src, torch.Tensor) else src,
                          casting="unsafe")
            else:
                with torch.no_grad():      # nn.Parameter destinations require grad
                    dst.copy_(torch.as_tensor(src))
        elif src is None or src is False:   # Flux: copying `false` (no bias) zeroes the array
            with torch.no_grad():
                dst[...] = 0
        else:
            raise TypeError(f"loadmodel_: at {where()}, tried to copy {src!r} into a tensor destination "
                            f"of shape {_shape(dst)}; this is not allowed (the source has no tensor here)")
    elif isinstance(src, _ARRAY):
        if _is_off(dst):
            if bool((torch.as_tensor(src) != 0).any()):
                raise ValueError(f"loadmodel_: at {where()}, cannot load a non-zero tensor into {dst!r} "
                                 "(the destination has no parameter here, e.g. bias=False); "
                                 "build the destination with this parameter")
        else:
            raise TypeError(f"loadmodel_: at {where()}, tried to copy a tensor of shape {_shape(src)} "
                            f"into {dst!r}; this is not allowed (the destination has no tensor here)")
    # other leaves (functions, numbers, strings) are not copied and need not match


def _tie_check(dst, src, where):
    if not isinstance(dst, _ARRAY):
        return
    if isinstance(src, _ARRAY):
        s = torch.as_tensor(src)
        d = torch.as_tensor(dst)
        same = _shape(s) == _shape(d) and torch.equal(d, s.to(d.device, d.dtype))
    else:
        same = _is_off(src) and not bool((torch.as_tensor(dst) != 0).any())
    if not same:
        raise ValueError(f"loadmodel_: at {where()}, encountered a tied destination tensor (one tensor "
                         "used at several places) with untied and mismatched sources; give it the "
                         "same source value everywhere")


def _kids(node, keep, transient=()):
    kids = children(node)
    if transient:        # a layer's passing state (a Recur's): not loaded, as it is not a parameter
        kids = {k: v for k, v in kids.items() if k not in transient}
    return kids if keep is None else {k: v for k, v in kids.items() if keep(v)}


def loadmodel_(dst: T, src: Any, *, filter: Optional[Callable[..., bool]] = None) -> T:
    """Copy every tensor of ``src`` (a model or a :func:`state`) into ``dst``, in place; return ``dst``.

    ``Flux.loadmodel!``: ``dst`` and ``src`` are walked together; their keys
    must match at every level, and tensors must have the same shapes (dtype and
    device are converted to ``dst``'s). Trainable and non-trainable tensors are
    copied; other leaves (activations...) are not and need not match. An absent
    parameter (``bias=False``, stored as ``None``) in ``src`` zeroes the tensor
    of ``dst``; a zero tensor loads into an absent one. A tied tensor is loaded
    once. ``filter(child)`` can restrict which children are loaded.

    >>> from flux_torch import Chain, Dense, relu, tanh
    >>> dst = Chain(Dense(torch.ones(2, 5), torch.ones(2), tanh), Dense(2, 1, bias=torch.ones(1)))
    >>> src = Chain(Dense(5, 2, relu), Dense(2, 1, bias=False))
    >>> loadmodel_(dst, src) is dst
    True
    >>> torch.equal(dst[0].weight, src[0].weight), dst[1].bias
    (True, tensor([0.]))
    >>> loadmodel_(Dense(2, 3), state(Dense(3, 2)))
    Traceback (most recent call last):
    ValueError: loadmodel_: at dst.weight, tried to load a tensor of shape (2, 3) into a tensor of shape (3, 2); ...
    """
    if isinstance(dst, _ARRAY) and not isleaf(src):
        raise TypeError(f"loadmodel_: tried to load a {type(src).__name__} into a tensor of shape "
                        f"{_shape(dst)}; pass a tensor, or load the whole model")
    execute(_LoadWalk(dst, filter), KeyPath(), dst, src)
    return dst


class _LoadWalk(AbstractWalk):
    """Walks ``dst`` and ``src`` together: checks the keys at every node, copies at the leaves.

    A tied tensor of ``dst`` (one tensor at several places) is loaded once, and its other
    sources must agree; ``filter(child)`` false skips a child (the top is always loaded)."""

    __slots__ = ("dst", "filter", "loaded")

    def __init__(self, dst, filter):
        self.dst, self.filter, self.loaded = dst, filter, set()

    def __call__(self, recurse, kp, d, s):
        if kp and self.filter is not None and not self.filter(d):
            return
        node = node_of(type(d))
        if node is None or isleaf(d):
            self._leaf(kp, d, s)
            return
        transient = getattr(type(d), "_transient_fields", ())
        dkids, skids = _kids(d, self.filter, transient), _kids(s, self.filter, transient)
        if set(dkids) != set(skids):
            missing = [k for k in dkids if k not in skids]
            extra = [k for k in skids if k not in dkids]
            raise ValueError(f"loadmodel_: at {_where(self.dst, kp)}, tried to load keys {tuple(skids)} "
                             f"into keys {tuple(dkids)} but the structures do not match (missing from "
                             f"src: {missing}, not in dst: {extra}); src must mirror dst, as "
                             "state(model) does for a model built the same way")
        for k, v in dkids.items():
            recurse(KeyPath(kp, k), v, skids[k])

    def _leaf(self, kp, d, s):
        where = lambda: _where(self.dst, kp)    # noqa: E731
        if isinstance(d, _ARRAY) and id(d) in self.loaded:
            _tie_check(d, s, where)
            return
        if isinstance(d, _ARRAY):
            self.loaded.add(id(d))
        _load_leaf(d, s, where)
