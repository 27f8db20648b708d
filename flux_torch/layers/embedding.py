"""Lookup tables: ``Embedding`` and ``EmbeddingBag``.

Ids are 0-based. The weight is ``(in, out)`` (vocabulary × embedding dim), as in
``torch.nn.Embedding``: row ``i`` is the embedding of id ``i``. Flux stores the transpose
``(out, in)``, and a Julia ``out × in`` matrix has the memory of this row-major
``(in, out)`` tensor, so weights saved from Julia's memory load as they are; a Flux weight
written out as a nested ``(out, in)`` list needs ``.T``. Torch weights need nothing.
"""
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from ..devices import as_tensor, match_input
from ..functors import functor
from .._show import Showable, fn_name, inline
from ..init import randn32

__all__ = ["Embedding", "EmbeddingBag"]


def _weight_from(name, in_, out, init):
    if isinstance(in_, (torch.Tensor, np.ndarray)):
        w = as_tensor(in_)
        if w.dim() != 2 or out is not None:
            raise ValueError(f"{name}(weight) expects one matrix of shape (in, out) = (vocabulary, "
                             f"embedding dim), but got shape {tuple(w.shape)}")
        return w
    if isinstance(in_, tuple) and out is None and len(in_) == 2:      # Embedding((in, out))
        in_, out = in_
    ok = all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in (in_, out))
    if not ok:
        raise TypeError(f"{name} expects sizes {name}(in, out) with non-negative integers "
                        f"(vocabulary size, embedding dim), but got in={in_!r}, out={out!r}")
    return init(in_, out)


def _ids(layer, x, w):
    """``x`` as a tensor of ids checked against the vocabulary, or None when it is one-hot."""
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        x = torch.tensor(int(x), device=w.device)
    elif not isinstance(x, torch.Tensor):
        x = as_tensor(x).to(w.device)           # lists and numpy ids follow the weight
    if x.dtype == torch.bool or x.is_floating_point() or x.is_complex():
        return None, x
    if x.dtype != torch.long:
        x = x.long()
    n = w.shape[0]
    if x.numel():
        lo, hi = torch.aminmax(x)
        if lo < 0 or hi >= n:
            bad = lo.item() if lo < 0 else hi.item()
            raise IndexError(f"{inline(layer)} expects ids in range(0, {n}) (0-based), but got {bad}; "
                             "Flux's ids 1..n are 0..n-1 here")
    return x, None


def _onehot(layer, x, w):
    """``x @ weight`` for one-hot (bool or float) input of shape ``(..., in)``."""
    x = match_input(layer, x, w)
    if x.dim() == 0 or x.shape[-1] != w.shape[0]:
        raise ValueError(f"{inline(layer)} expects one-hot input of shape (..., {w.shape[0]}), but "
                         f"got shape {tuple(x.shape)}; integer tensors are read as ids")
    return x @ w


@functor
class Embedding(Showable):
    """A lookup table of ``out``-dimensional embeddings for ids ``0..in-1`` (``Flux.Embedding``).

    ``Embedding(in, out)`` (Flux's ``in => out``; keyword ``init=randn32``) or
    ``Embedding(weight)`` with ``weight`` of shape ``(in, out)``, ``torch.nn.Embedding``'s
    layout. An id gives ``weight[id]``; integer ids of shape ``s`` give ``(*s, out)``; float
    or bool one-hot input ``(..., in)`` gives ``x @ weight`` of shape ``(..., out)``.

    >>> emb = Embedding(26, 4, init=identity_init(gain=22))
    >>> emb
    Embedding(26, 4)  # 104 parameters
    >>> emb(1)
    tensor([ 0., 22.,  0.,  0.])
    >>> emb([2, 0, 19, 13, 3, 14, 6])      # Flux's [3, 1, 20, 14, 4, 15, 7]
    tensor([[ 0.,  0., 22.,  0.],
            [22.,  0.,  0.,  0.],
            [ 0.,  0.,  0.,  0.],
            [ 0.,  0.,  0.,  0.],
            [ 0.,  0.,  0., 22.],
            [ 0.,  0.,  0.,  0.],
            [ 0.,  0.,  0.,  0.]])
    >>> emb(torch.randint(0, 26, (12, 1, 10))).shape
    torch.Size([12, 1, 10, 4])

    ``padding_idx`` (Flux v0.16, 0-based here) names a padding id: its row starts at zero,
    its output is always zero and its gradient is masked, so it stays zero in training.

    >>> emb = Embedding(5, 2, padding_idx=0)
    >>> emb
    Embedding(5, 2, padding_idx=0)  # 10 parameters
    >>> emb(0)
    tensor([0., 0.])
    """

    def __init__(self, in_, out=None, *, init=randn32, padding_idx=None):
        weight = _weight_from("Embedding", in_, out, init)
        if padding_idx is not None:
            n = weight.shape[0]
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral) \
                    or not 0 <= padding_idx < n:
                raise ValueError(f"Embedding: padding_idx={padding_idx!r} must be an id in range(0, "
                                 f"{n}) (0-based: Flux's padding_idx=1 is 0 here)")
            padding_idx = int(padding_idx)
            if out is not None or not isinstance(in_, (torch.Tensor, np.ndarray)):
                with torch.no_grad():
                    weight[padding_idx] = 0     # as Flux: only a weight it creates is zeroed
        self.weight = weight
        self.padding_idx = padding_idx

    def trainable(self):
        return {"weight": self.weight}

    def __call__(self, x):
        w = self.weight
        pad = self.padding_idx
        if type(x) is torch.Tensor and x.dtype is torch.long and w.is_cpu:
            try:            # the hot path: on the CPU torch itself refuses ids out of range
                y = F.embedding(x, w)
                return y if pad is None else _mask(y, x != pad)
            except (IndexError, RuntimeError):
                pass        # the checks below say what is wrong, in flux_torch's words
        ids, hot = _ids(self, x, w)
        if ids is None:
            y = _onehot(self, hot, w)
            return y if pad is None else _mask(y, hot[..., pad] == 0)
        if ids.device != w.device:
            match_input(self, ids.to(w.dtype), w)
        y = F.embedding(ids, w)
        return y if pad is None else _mask(y, ids != pad)

    def _inline(self):
        s = f"Embedding({self.weight.shape[0]}, {self.weight.shape[1]}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s + ")"


def _mask(y, keep):
    """Zero the outputs of the padding id (Flux's ``_mask_padding``): multiplying by the mask
    also zeroes the padding row's gradient, since only those positions select it."""
    return y * keep.unsqueeze(-1).to(y.dtype)


_MODES = {"mean": "mean", "sum": "sum", "max": "max", torch.mean: "mean", torch.sum: "sum",
          torch.amax: "max", torch.max: "max", sum: "sum", max: "max"}


@functor
class EmbeddingBag(Showable):
    """Embeddings of bags of ids, reduced to one vector per bag (``Flux.EmbeddingBag``).

    ``EmbeddingBag(in, out, reduction="mean")``: ``reduction`` (or torch's keyword ``mode``)
    is ``"mean"``, ``"sum"`` or ``"max"`` (also ``torch.mean``, ``torch.sum``, ``torch.amax``),
    or a function called as ``f(e, dim=-2)``. Input: ids ``(..., L)`` (bags of equal length
    ``L``, giving ``(..., out)``), a list of bags of any lengths, ``(data, offsets)`` as
    ``torch.nn.EmbeddingBag`` (0-based starts, Flux's ``at``), or one-hot ``(..., L, in)``.

    >>> eb = EmbeddingBag(26, 3, init=identity_init(gain=100))
    >>> eb
    EmbeddingBag(26, 3)  # 78 parameters
    >>> eb([2, 2, 0])                      # one bag of 3 items
    tensor([33.3333,  0.0000, 66.6667])
    >>> eb([[2, 0, 2], [1, 0]])            # two bags
    tensor([[33.3333,  0.0000, 66.6667],
            [50.0000, 50.0000,  0.0000]])
    >>> eb([10, 0, 11, 1, 12, 2, 13], [0, 3])   # data split into bags at 0 and 3
    tensor([[33.3333,  0.0000,  0.0000],
            [ 0.0000, 25.0000, 25.0000]])
    """

    def __init__(self, in_, out=None, reduction="mean", *, mode=None, init=randn32):
        if isinstance(in_, (torch.Tensor, np.ndarray)) and out is not None:
            in_, out, reduction = in_, None, out                 # EmbeddingBag(weight, reduction)
        self.weight = _weight_from("EmbeddingBag", in_, out, init)
        reduction = reduction if mode is None else mode
        if not (callable(reduction) or reduction in _MODES):
            raise ValueError(f"EmbeddingBag expects reduction 'mean', 'sum', 'max' or a function "
                             f"f(e, dim), but got {reduction!r}")
        self.reduction = reduction

    def _reduce(self, e):
        mode = _MODES.get(self.reduction)
        if mode == "mean":
            return e.mean(dim=-2)
        if mode == "sum":
            return e.sum(dim=-2)
        if mode == "max":
            return e.amax(dim=-2)
        return self.reduction(e, dim=-2)

    def __call__(self, x, offsets=None):
        w = self.weight
        if offsets is not None:
            return self._split(x, offsets)
        if isinstance(x, (list, tuple)) and x and not isinstance(x[0], numbers.Number):
            return self._bags(x)
        if isinstance(x, numbers.Number) or (isinstance(x, torch.Tensor) and x.dim() == 0):
            raise TypeError(f"{inline(self)} expects a bag (a 1-d tensor or list of ids), not just one id")
        ids, hot = _ids(self, x, w)
        if ids is None:
            if hot.dim() < 2:
                raise ValueError(f"{inline(self)} expects one-hot bags of shape (..., L, "
                                 f"{w.shape[0]}), but got a one-hot vector; a bag is a matrix")
            return self._reduce(_onehot(self, hot, w))
        mode = _MODES.get(self.reduction)
        if mode is None or ids.dim() == 0 or ids.shape[-1] == 0:
            return self._reduce(F.embedding(ids, w))
        flat = ids.reshape(-1, ids.shape[-1])
        return F.embedding_bag(flat, w, mode=mode).reshape(*ids.shape[:-1], w.shape[1])

    def _split(self, data, at):
        """``(data, offsets)``: bags start at the 0-based ``offsets`` (Flux's ``_splitat``)."""
        data, _ = _ids(self, data, self.weight)
        at = as_tensor(at).long() if not isinstance(at, torch.Tensor) else at.long()
        if data is None or data.dim() != 1 or at.dim() != 1:
            raise ValueError(f"{inline(self)}(data, offsets) expects two 1-d integer tensors")
        n = data.shape[0]
        if at.numel() == 0 or at[0] != 0 or at[-1] >= n or (at.numel() > 1 and (at.diff() <= 0).any()):
            raise ValueError(f"{inline(self)}(data, offsets) expects offsets starting at 0, strictly "
                             f"increasing and below len(data) = {n}, but got {at.tolist()}")
        mode = _MODES.get(self.reduction)
        if mode is not None:
            return F.embedding_bag(data, self.weight, at.to(data.device), mode=mode)
        ends = at.tolist()[1:] + [n]
        return self._bags([data[a:b] for a, b in zip(at.tolist(), ends)])

    def _bags(self, bags):
        """A list of bags of any lengths (``Vector{Vector{Int}}``), or of one-hot matrices."""
        first = bags[0] if isinstance(bags[0], torch.Tensor) else as_tensor(bags[0])
        if first.is_floating_point() or first.dtype == torch.bool:
            return torch.stack([self(b) for b in bags])
        bags = [b if isinstance(b, torch.Tensor) else as_tensor(b) for b in bags]
        lens = [b.numel() for b in bags]
        data = torch.cat([b.reshape(-1) for b in bags]) if sum(lens) else torch.zeros(0, dtype=torch.long)
        if _MODES.get(self.reduction) is None or 0 in lens:
            return torch.stack([self(b) for b in bags])
        offsets = torch.tensor([0] + lens[:-1]).cumsum(0)
        return self._split(data.to(self.weight.device), offsets)

    def _inline(self):
        s = f"EmbeddingBag({self.weight.shape[0]}, {self.weight.shape[1]}"
        if self.reduction != "mean":
            r = self.reduction
            s += f", {r!r}" if isinstance(r, str) else f", {fn_name(r)}"
        return s + ")"
