"""Attention: NNlib's ``dot_product_attention`` and ``make_causal_mask``, and Flux's
``MultiHeadAttention``, batch first.

Flux's arrays ``(features, length, batch)`` are ``(batch, length, features)`` here, and the
attention scores ``(kv_len, q_len, nheads, batch)`` are ``(batch, nheads, q_len, kv_len)``,
torch's own layout (``nn.MultiheadAttention(..., batch_first=True)`` with
``average_attn_weights=False``). Masks are boolean, ``True`` = may attend, as in NNlib and
``torch.nn.functional.scaled_dot_product_attention``.
"""
import math
import numbers
from typing import Any, Callable, Optional, Tuple

import torch

from ..devices import as_tensor, match_input
from .._dims import reject_dims
from ..functors import functor
from .._show import Showable
from ..init import glorot_uniform
from ..softmax import softmax
from .basic import Dense
from .dropout import Dropout
from .._types import TensorLike

__all__ = ["MultiHeadAttention", "dot_product_attention", "make_causal_mask"]


def make_causal_mask(x: TensorLike, dim: int = -2, **kwargs: Any) -> torch.Tensor:
    """A square boolean mask letting position ``i`` attend to positions ``j <= i``
    (``NNlib.make_causal_mask``), of side ``x.shape[dim]``, on ``x``'s device.

    The default ``dim=-2`` is the sequence dim of ``(N, L, D)`` data (Flux's ``dims=2``).
    Rows are queries, columns keys: the transpose of NNlib's ``triu``, i.e. ``tril``.

    >>> make_causal_mask(torch.zeros(5, 3, 8)).int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 1]], dtype=torch.int32)
    """
    reject_dims("make_causal_mask", kwargs)
    x = as_tensor(x)
    n = x.shape[dim]
    return torch.ones(n, n, dtype=torch.bool, device=x.device).tril()


def _split_heads(x, nheads):
    """(..., L, D) -> (..., nheads, L, D // nheads)."""
    return x.unflatten(-1, (nheads, -1)).transpose(-2, -3)


def dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                          bias: Optional[torch.Tensor] = None, *,
                          fdrop: Optional[Callable[[torch.Tensor], torch.Tensor]] = None, mask: Any = None,
                          nheads: int = 1) -> Tuple[torch.Tensor, torch.Tensor]:
    """Multi-head scaled dot-product attention (``NNlib.dot_product_attention``).

    ``q`` is ``(..., q_len, qk_dim)``, ``k`` ``(..., kv_len, qk_dim)``, ``v``
    ``(..., kv_len, v_dim)`` with the same leading (batch) dims. Returns the output
    ``(..., q_len, v_dim)`` and the scores ``(..., nheads, q_len, kv_len)``. ``bias`` is added to
    the logits and ``mask`` (boolean, ``True`` = keep) applied before the softmax, both
    broadcastable to the scores; ``fdrop`` is applied to the scores after the softmax.

    >>> q, k, v = torch.rand(2, 20, 10), torch.rand(2, 30, 10), torch.rand(2, 30, 20)
    >>> y, α = dot_product_attention(q, k, v, nheads=2)
    >>> y.shape, α.shape
    (torch.Size([2, 20, 20]), torch.Size([2, 2, 20, 30]))
    """
    if type(q) is not torch.Tensor or type(k) is not torch.Tensor or type(v) is not torch.Tensor:
        q, k, v = (x if isinstance(x, torch.Tensor) else as_tensor(x) for x in (q, k, v))
    qs, ks, vs = q.shape, k.shape, v.shape
    if not (len(qs) >= 2 and len(ks) >= 2 and len(vs) >= 2 and qs[-1] % nheads == 0
            and ks[-1] % nheads == 0 and vs[-1] % nheads == 0 and qs[:-2] == ks[:-2] == vs[:-2]
            and qs[-1] == ks[-1] and ks[-2] == vs[-2]):
        raise _attention_error(q, k, v, nheads)
    qh, kh, vh = _split_heads(q, nheads), _split_heads(k, nheads), _split_heads(v, nheads)
    logits = (qh / math.sqrt(qh.shape[-1])) @ kh.transpose(-1, -2)
    if bias is not None:
        bias = as_tensor(bias)
        if bias.dtype != logits.dtype:
            bias = bias.to(logits.dtype)
        logits = logits + bias
    if mask is not None:
        mask = mask if isinstance(mask, torch.Tensor) else as_tensor(mask)
        if mask.dtype != torch.bool:
            raise TypeError(f"dot_product_attention expects a boolean mask (True = attend), but got "
                            f"dtype {mask.dtype}; pass an additive float mask as bias instead")
        logits = logits.masked_fill(~mask, float("-inf"))
    α = softmax(logits)                # NNlib's: a +Inf bias takes the whole mass, not NaN
    if fdrop is not None:
        α = fdrop(α)
    y = (α @ vh).transpose(-2, -3).flatten(-2)
    return y, α


def _attention_error(q, k, v, nheads):
    """The ValueError for q, k, v that do not fit together (built only when they do not)."""
    shapes = f"q.shape = {tuple(q.shape)}, k.shape = {tuple(k.shape)}, v.shape = {tuple(v.shape)}"
    if min(q.dim(), k.dim(), v.dim()) < 2:
        return ValueError(f"dot_product_attention expects (..., length, features) arrays, got {shapes}")
    if any(x.shape[-1] % nheads for x in (q, k, v)):
        return ValueError(f"dot_product_attention: the feature dim of q, k and v must be divisible "
                          f"by nheads = {nheads}, but got {shapes}")
    if not q.shape[:-2] == k.shape[:-2] == v.shape[:-2]:
        return ValueError(f"dot_product_attention: the batch dims of q, k and v must be the same, "
                          f"but got {shapes}")
    if q.shape[-1] != k.shape[-1]:
        return ValueError(f"dot_product_attention: q and k must have the same feature dim, got {shapes}")
    return ValueError(f"dot_product_attention: k and v must have the same length, got {shapes}")


def _mha_dims(dims):
    """Flux's ``in => qkv => out`` forms, here ``dims`` or ``(in, qkv, out)``; a dict of sizes."""
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        return dict(q_in=dims, k_in=dims, v_in=dims, qk=dims, v=dims, out=dims)
    if isinstance(dims, tuple) and len(dims) == 3:
        ins, qkv, out = dims
        q_in, k_in, v_in = ins if isinstance(ins, tuple) and len(ins) == 3 else (ins, ins, ins)
        qk, v = qkv if isinstance(qkv, tuple) and len(qkv) == 2 else (qkv, qkv)
        d = dict(q_in=q_in, k_in=k_in, v_in=v_in, qk=qk, v=v, out=out)
        if all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in d.values()):
            return d
    raise TypeError("MultiHeadAttention expects dims as an integer, or (in, qkv, out) with in an "
                    "integer or (q_in, k_in, v_in) and qkv an integer or (qk, v) (Flux's "
                    f"in => qkv => out), but got {dims!r}")


@functor
class MultiHeadAttention(Showable):
    """Multi-head dot-product attention of Transformers (``Flux.MultiHeadAttention``).

    ``MultiHeadAttention(dims, nheads=8, bias=False, init=glorot_uniform, dropout_prob=0.0)``
    with ``dims`` an integer, or Flux's ``in => qkv => out`` written ``(in, qkv, out)`` or as
    three arguments, where ``in`` may be ``(q_in, k_in, v_in)`` and ``qkv`` ``(qk, v)``.
    Called as ``mha(q, k, v, bias=None, mask=None)`` on ``(N, L, D)`` arrays (``mha(q)`` is
    self-attention, ``mha(q, kv)`` uses ``kv`` for both); returns ``(output, scores)``, the
    output ``(N, q_len, out)`` and the scores ``(N, nheads, q_len, kv_len)``.

    >>> mha = MultiHeadAttention(64, nheads=8)
    >>> mha
    MultiHeadAttention(64, nheads=8)  # 16_384 parameters
    >>> q, k = torch.rand(32, 10, 64), torch.rand(32, 20, 64)
    >>> y, α = mha(q, k, k)
    >>> y.shape, α.shape
    (torch.Size([32, 10, 64]), torch.Size([32, 8, 10, 20]))
    >>> MultiHeadAttention(64, 1024, 1024, nheads=8)(q)[0].shape   # Flux's 64 => 1024 => 1024
    torch.Size([32, 10, 1024])
    """

    def __init__(self, dims, *more, nheads=8, bias=False, init=glorot_uniform, dropout_prob=0.0):
        d = _mha_dims((dims,) + more if more else dims)
        for name in ("qk", "v"):
            if d[name] % nheads:
                raise ValueError(f"MultiHeadAttention: {name}_dim = {d[name]} should be divisible "
                                 f"by nheads = {nheads}")
        self.nheads = int(nheads)
        self.q_proj = Dense(d["q_in"], d["qk"], bias=bias, init=init)
        self.k_proj = Dense(d["k_in"], d["qk"], bias=bias, init=init)
        self.v_proj = Dense(d["v_in"], d["v"], bias=bias, init=init)
        self.attn_drop = Dropout(dropout_prob)
        self.out_proj = Dense(d["v"], d["out"], bias=bias, init=init)

    def __call__(self, q, k=None, v=None, bias=None, *, mask=None):
        k = q if k is None else k
        v = k if v is None else v
        w = self.q_proj.weight
        if not (type(q) is torch.Tensor and q.dtype == w.dtype and (k is q or type(k) is torch.Tensor
                and k.dtype == w.dtype) and (v is k or type(v) is torch.Tensor and v.dtype == w.dtype)):
            q, k, v = (x if type(x) is torch.Tensor and x.dtype == w.dtype else match_input(self, x, w)
                       for x in (q, k, v))
        if not (q.dim() >= 2 and k.dim() >= 2 and v.dim() >= 2 and q.shape[-1] == w.shape[1]
                and k.shape[-1] == self.k_proj.weight.shape[1]
                and v.shape[-1] == self.v_proj.weight.shape[1]):
            self._check_inputs(q, k, v)
        y, α = dot_product_attention(self.q_proj(q), self.k_proj(k), self.v_proj(v), bias,
                                     fdrop=self.attn_drop, mask=mask, nheads=self.nheads)
        return self.out_proj(y), α

    def _check_inputs(self, q, k, v):
        for x, proj, name in ((q, self.q_proj, "q"), (k, self.k_proj, "k"), (v, self.v_proj, "v")):
            n = proj.weight.shape[1]
            if x.dim() < 2 or x.shape[-1] != n:
                raise ValueError(f"{self._inline()} expects {name} of shape (N, L, {n}), but got "
                                 f"{tuple(x.shape)}; flux_torch puts the batch first and the "
                                 "features last (Flux's D × L × N is (N, L, D))")

    def _inline(self):
        qk, q_in = self.q_proj.weight.shape
        k_in = self.k_proj.weight.shape[1]
        v, v_in = self.v_proj.weight.shape
        out = self.out_proj.weight.shape[0]
        if q_in == k_in == v_in == qk == v == out:
            s = f"{q_in}"
        elif q_in == k_in == v_in and qk == v:
            s = f"{q_in}, {qk}, {out}"
        elif q_in == k_in == v_in:
            s = f"{q_in}, ({qk}, {v}), {out}"
        else:
            s = f"({q_in}, {k_in}, {v_in}), ({qk}, {v}), {out}"
        s = f"MultiHeadAttention({s}, nheads={self.nheads}"
        if self.q_proj.bias is not None:
            s += ", bias=True"
        if self.attn_drop.p != 0:
            s += f", dropout_prob={self.attn_drop.p}"
        return s + ")"
