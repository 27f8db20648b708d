"""Flux's own layer tests, translated: FluxML/Flux.jl test/layers/attention.jl at v0.16.11
(commit 443ed1bc8c157168e4fe99a045f42014ae26def8); v0.14.25 (commit
0567cb30a79e328a5077a6851ddbfe4db9b72d81) differs only in the loss's signature.

Flux's ``(features, len, batch)`` arrays are ``(batch, len, features)`` here and its scores
``(kv_len, q_len, nheads, batch)`` are ``(batch, nheads, q_len, kv_len)`` (docs/porting.md,
Containers and attention): Julia's ``α[i, j, h, b]`` is ``α[b, h, j, i]``, so Flux's upper
triangular ``(kv, q)`` score matrices are lower triangular here."""
import torch

from flux_torch import MultiHeadAttention, make_causal_mask
from flux_checks import check_gradients

DIM, NHEADS, LEN, BATCH = 4, 2, 3, 5


def setup():
    torch.manual_seed(0)
    mha = MultiHeadAttention(DIM, nheads=NHEADS)
    q, k, v = (torch.rand(BATCH, LEN, DIM) for _ in range(3))
    return mha, q, k, v


def test_attention():
    mha, q, k, v = setup()
    y, α = mha(q, k, v)
    assert y.dtype == torch.float32 and y.shape == (BATCH, LEN, DIM)
    assert α.dtype == torch.float32 and α.shape == (BATCH, NHEADS, LEN, LEN)
    y1, α1 = mha(q)                                             # self-attention
    y2, α2 = mha(q, q, q)
    torch.testing.assert_close(y1, y2)
    torch.testing.assert_close(α1, α2)
    y1, α1 = mha(q, k)                                          # key and value are the same
    y2, α2 = mha(q, k, k)
    torch.testing.assert_close(y1, y2)
    torch.testing.assert_close(α1, α2)


def test_change_dims():
    mha, q, k, v = setup()
    mha2 = MultiHeadAttention((4, 10, 5), nheads=NHEADS)        # Flux's 4 => 10 => 5
    y2, _ = mha2(q, k, v)
    assert y2.shape == (BATCH, LEN, 5)


def test_mask():
    mha, q, k, v = setup()
    y, α = mha(q, mask=make_causal_mask(q))
    assert bool((α[:, :, 0, 1] == 0).all())                     # Flux's α[2, 1, :, :]
    torch.testing.assert_close(α[0, 0], torch.tril(α[0, 0]))   # Flux's triu of the (kv, q) matrix


def test_bias():
    """A +Inf bias on the allowed positions makes a causal mask (NNlib's softmax shares the mass
    among the +Inf entries)."""
    mha, q, k, v = setup()
    b = torch.zeros(LEN, LEN)                                   # (q, kv): Flux's b[i, j] is b[j, i]
    for i in range(LEN):
        for j in range(i, LEN):
            b[j, i] = float("inf")                              # Flux's typemax(Float32)
    y, α = mha(q, k, v, b)
    assert bool((α[:, :, 0, 1] == 0).all())
    torch.testing.assert_close(α[0, 0], torch.tril(α[0, 0]))
    assert not bool(torch.isnan(y).any())


def test_gradient():
    mha, q, k, v = setup()

    def loss(m, q):
        y, α = m(q)
        return (y ** 2).sum() + (α ** 2).sum()
    assert check_gradients(mha, q, loss=loss)
