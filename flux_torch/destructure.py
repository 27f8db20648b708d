"""``destructure``: a model's trainable parameters as one flat vector, and back
(``Flux.destructure``, from Optimisers.jl).

The vector joins the trainable floating (and complex) tensors in traversal order, a
tied tensor once, each flattened in row-major order: a Dense weight ``(out, in)``
contributes its rows one after the other (Julia's column-major ``vec`` of the same
``out × in`` matrix takes its columns). Integer tensors are not parameters and are left out.
Both directions are plain torch operations, so ``gradient``, ``torch.autograd`` and
``torch.func`` differentiate through them.
"""
from typing import Tuple

import torch

from .devices import as_tensor
from .functors import DefaultWalk, fleaves, fmap
from ._types import Model

__all__ = ["destructure", "Restructure"]


def _numeric(x):
    """Optimisers' ``isnumeric``: a tensor of floating or complex numbers."""
    return isinstance(x, torch.Tensor) and (x.is_floating_point() or x.is_complex())


def _piece(t, offset, flat):
    """The slice of ``flat`` that replaces ``t``, with its shape and dtype (a copy)."""
    v = flat[offset:offset + t.numel()].reshape(t.shape)
    if v.is_complex() and not t.is_complex():
        v = v.real
    return v.clone() if v.dtype == t.dtype else v.to(t.dtype)


class Restructure:
    """Rebuilds a model from a flat vector; made by :func:`destructure` (``Optimisers.Restructure``).

    ``re(flat)`` gives a model of the same structure whose trainable tensors are slices
    of ``flat`` reshaped (and converted to each tensor's dtype); everything else is the
    original's. ``re(x, flat)`` is ``re(flat)(x)``. ``len(re)`` is the expected length.

    >>> _, re = destructure(Dense(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.zeros(2), σ))
    >>> re
    Restructure(Dense, ..., 6)
    >>> m = re(torch.arange(-4.0, 2.0))
    >>> m.weight, m.bias
    (tensor([[-4., -3.],
            [-2., -1.]]), tensor([0., 1.]))
    >>> torch.equal(m(torch.tensor([0.2, 0.3])), re(torch.tensor([0.2, 0.3]), torch.arange(-4.0, 2.0)))
    True
    """

    __slots__ = ("model", "offsets", "length")

    def __init__(self, model, offsets, length):
        self.model, self.offsets, self.length = model, offsets, length

    def __call__(self, *args):
        if len(args) == 2:
            x, flat = args
            return self(flat)(x)
        if len(args) != 1:
            raise TypeError(f"Restructure takes re(flat) or re(x, flat), but got {len(args)} arguments")
        flat = args[0] if isinstance(args[0], torch.Tensor) else as_tensor(args[0])
        if flat.dim() != 1:
            raise ValueError(f"Restructure expects a vector (a 1-D tensor), but got shape "
                             f"{tuple(flat.shape)}; use flat.reshape(-1) if the order is right")
        if flat.shape[0] != self.length:
            raise ValueError(f"Restructure expected a vector of length {self.length}, but got length "
                             f"{flat.shape[0]}; it rebuilds the model that destructure was given")
        if _numeric(self.model):
            return _piece(self.model, 0, flat)
        offsets = self.offsets
        return fmap(lambda t: _piece(t, offsets[id(t)], flat) if id(t) in offsets else t,
                    self.model, walk=DefaultWalk(trainable=True))

    def __len__(self):
        return self.length

    def __repr__(self):
        return f"Restructure({type(self.model).__name__}, ..., {self.length})"


def destructure(model: Model) -> Tuple[torch.Tensor, Restructure]:
    """All trainable parameters of ``model`` in one vector, and a :class:`Restructure` to
    rebuild the model from such a vector (``Flux.destructure``). Differentiable both ways.

    >>> v, re = destructure({"x": torch.tensor([1.0, 2.0, 3.0]), "y": (torch.sin, torch.tensor([4.0, 5.0]))})
    >>> v
    tensor([1., 2., 3., 4., 5.])
    >>> re(torch.tensor([10.0, 20, 30, 40, 50]))["y"][1]
    tensor([40., 50.])
    >>> model = Chain(Dense(2, 1, tanh), Dense(1, 1))
    >>> flat, rebuild = destructure(model)
    >>> flat.shape, rebuild
    (torch.Size([5]), Restructure(Chain, ..., 5))
    >>> gradient(lambda v: rebuild(v)(torch.ones(2)).sum(), torch.zeros(5))[0].tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0]
    """
    if _numeric(model):
        return model.reshape(-1).clone(), Restructure(model, {}, model.numel())
    offsets, arrays, n = {}, [], 0
    for t in fleaves(model, trainable_only=True):
        if _numeric(t):
            offsets[id(t)] = n
            arrays.append(t.reshape(-1))
            n += t.numel()
    flat = torch.cat(arrays) if arrays else torch.zeros(0)
    return flat, Restructure(model, offsets, n)
