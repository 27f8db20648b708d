"""``ctc_loss``: the connectionist temporal classification loss of one sequence
(NNlib's ``ctc_loss``, reached in Flux as ``Flux.ctc_loss`` and ``Flux.Losses.ctc_loss``)."""
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from flux_torch.devices import as_tensor
from flux_torch._dims import reject_dims
from .._types import TensorLike

__all__ = ["ctc_loss"]


def ctc_loss(ŷ: TensorLike, y: Sequence[int], **kwargs: Any) -> torch.Tensor:
    """The CTC loss (negative log-likelihood) of the label sequence ``y`` under the
    per-step class scores ``ŷ``, summed over the sequence.

    ``ŷ`` holds raw scores (logits, ``logsoftmax`` is applied here) of shape
    ``(T, C)``: time first, classes last (NNlib's classes × time matrix, reversed).
    ``y`` is a 1-D sequence of 0-based labels in ``0 .. C-2``; the blank is the last
    class, ``C - 1``, as in NNlib (whose 1-based blank is ``size(ŷ, 1)``).
    Computed by ``torch.nn.functional.ctc_loss``, so it is differentiable in ``ŷ``.

    >>> x = torch.tensor([[1.0, 2.0, 3.0], [2.0, 1.0, 1.0], [3.0, 3.0, 2.0]]).T
    >>> round(float(ctc_loss(x, [0, 1])), 5)      # NNlib's test: 3.6990738275138035
    3.69907
    """
    reject_dims("ctc_loss", kwargs)
    if kwargs:
        raise TypeError(f"ctc_loss got unexpected keywords {sorted(kwargs)}; it takes (ŷ, y) only")
    ŷ = as_tensor(ŷ)
    if not ŷ.is_floating_point():
        ŷ = ŷ.to(torch.get_default_dtype())
    y = as_tensor(y).to(torch.long).reshape(-1)
    if ŷ.dim() != 2:
        raise ValueError(f"ctc_loss expects ŷ of shape (T, C) (time steps, classes; NNlib's "
                         f"classes × time reversed), but got shape {tuple(ŷ.shape)}")
    T, C = ŷ.shape
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= C - 1):
        raise ValueError(f"ctc_loss expects 0-based labels in 0..{C - 2} (the blank is the last "
                         f"class, {C - 1}), but got labels from {int(y.min())} to {int(y.max())}")
    logp = torch.log_softmax(ŷ, dim=-1).unsqueeze(1)            # (T, 1, C)
    return F.ctc_loss(logp, y.to(logp.device).unsqueeze(0), [T], [y.numel()], blank=C - 1,
                      reduction="sum")
