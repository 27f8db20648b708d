"""MultiHeadAttention, dot_product_attention and make_causal_mask against Flux v0.14
(src/layers/attention.jl, test/layers/attention.jl) and NNlib (src/attention.jl), translated
batch first: Flux's (D, L, N) is (N, L, D), its scores (kv_len, q_len, nheads, N) are
(N, nheads, q_len, kv_len). Oracles: torch.nn.MultiheadAttention with mapped weights and
torch.nn.functional.scaled_dot_product_attention."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import flux_torch as Flux
from flux_torch import f64, gradient, params
from flux_torch.layers.attention import MultiHeadAttention, dot_product_attention, make_causal_mask

DIM, NHEADS, LEN, BATCH = 4, 2, 3, 5


def close(a, b, tol=1e-5):
    return torch.allclose(a, b, atol=tol, rtol=tol)


def rand3(*shape):
    return torch.rand(*shape)


def twin(mha):
    """torch.nn.MultiheadAttention with the same weights (only for equal dims)."""
    e = mha.q_proj.weight.shape[0]
    bias = mha.q_proj.bias is not None
    t = nn.MultiheadAttention(e, mha.nheads, bias=bias, batch_first=True)
    with torch.no_grad():
        t.in_proj_weight.copy_(torch.cat([mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight]))
        t.out_proj.weight.copy_(mha.out_proj.weight)
        if bias:
            t.in_proj_bias.copy_(torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias]))
            t.out_proj.bias.copy_(mha.out_proj.bias)
    return t


def test_flux_attention_testset_shapes():
    mha = MultiHeadAttention(DIM, nheads=NHEADS)
    q, k, v = rand3(BATCH, LEN, DIM), rand3(BATCH, LEN, DIM), rand3(BATCH, LEN, DIM)
    y, α = mha(q, k, v)
    assert y.dtype == torch.float32 and y.shape == (BATCH, LEN, DIM)
    assert α.dtype == torch.float32 and α.shape == (BATCH, NHEADS, LEN, LEN)
    y1, α1 = mha(q)
    y2, α2 = mha(q, q, q)
    assert close(y1, y2) and close(α1, α2)
    y1, α1 = mha(q, k)
    y2, α2 = mha(q, k, k)
    assert close(y1, y2) and close(α1, α2)
    mha2 = MultiHeadAttention(4, 10, 5, nheads=NHEADS)             # Flux: 4 => 10 => 5
    assert mha2(q, k, v)[0].shape == (BATCH, LEN, 5)
    assert MultiHeadAttention((4, 10, 5), nheads=NHEADS)(q)[0].shape == (BATCH, LEN, 5)


def test_causal_mask_and_bias_flux_testsets():
    mha = MultiHeadAttention(DIM, nheads=NHEADS)
    q, k, v = rand3(BATCH, LEN, DIM), rand3(BATCH, LEN, DIM), rand3(BATCH, LEN, DIM)
    mask = make_causal_mask(q)
    assert mask.tolist() == torch.ones(LEN, LEN).triu().T.bool().tolist()   # NNlib's triu, transposed
    y, α = mha(q, mask=mask)
    assert (α[:, :, 0, 1] == 0).all()                        # Flux: α[2, 1, :, :] .== 0
    assert close(α[0, 0], α[0, 0].tril())                    # Flux: α[:, :, 1, 1] ≈ triu(...)
    # Flux builds the causal mask from a bias; the torch idiom is an additive -inf bias
    b = torch.zeros(LEN, LEN).masked_fill(~mask, float("-inf"))
    y2, α2 = mha(q, k, v, b)
    assert (α2[:, :, 0, 1] == 0).all() and close(α2[0, 0], α2[0, 0].tril())
    assert close(y2, mha(q, k, v, mask=mask)[0])


@pytest.mark.parametrize("bias", [False, True])
def test_values_vs_nn_multiheadattention(bias):
    mha = MultiHeadAttention(8, nheads=2, bias=bias)
    if bias:
        for d in (mha.q_proj, mha.k_proj, mha.v_proj, mha.out_proj):
            d.bias = torch.randn(d.bias.shape)
    t = twin(mha)
    q, k, v = torch.randn(3, 5, 8), torch.randn(3, 7, 8), torch.randn(3, 7, 8)
    y, α = mha(q, k, v)
    y_ref, α_ref = t(q, k, v, need_weights=True, average_attn_weights=False)
    assert close(y, y_ref) and close(α, α_ref)
    mask = torch.rand(5, 7) > 0.3
    mask[:, 0] = True
    y, α = mha(q, k, v, mask=mask)
    y_ref, α_ref = t(q, k, v, attn_mask=~mask, need_weights=True, average_attn_weights=False)
    assert close(y, y_ref) and close(α, α_ref)


def test_general_dims_vs_sdpa():
    mha = MultiHeadAttention((3, 4, 5), (6, 8), 7, nheads=2)
    q, k, v = torch.randn(2, 5, 3), torch.randn(2, 6, 4), torch.randn(2, 6, 5)
    bias = torch.randn(2, 1, 5, 6)
    y, α = mha(q, k, v, bias)

    def heads(x):                                              # (N, L, D) -> (N, h, L, D/h)
        return x.reshape(*x.shape[:2], 2, -1).transpose(1, 2)
    qh, kh, vh = heads(q @ mha.q_proj.weight.T), heads(k @ mha.k_proj.weight.T), heads(v @ mha.v_proj.weight.T)
    o = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=bias)
    y_ref = o.transpose(1, 2).reshape(2, 5, 8) @ mha.out_proj.weight.T
    α_ref = torch.softmax(qh @ kh.transpose(-1, -2) / 3 ** 0.5 + bias, dim=-1)
    assert close(y, y_ref) and close(α, α_ref)


def test_dot_product_attention_nnlib_semantics():
    q, k, v = torch.rand(2, 20, 10), torch.rand(2, 30, 10), torch.rand(2, 30, 20)
    y, α = dot_product_attention(q, k, v, nheads=2)
    assert y.shape == (2, 20, 20) and α.shape == (2, 2, 20, 30)
    assert close(α.sum(-1), torch.ones(2, 2, 20))
    y1, α1 = dot_product_attention(q[0], k[0], v[0])        # no batch dims: scores (nheads, q, kv)
    assert y1.shape == (20, 20) and α1.shape == (1, 20, 30)
    assert close(y1, F.scaled_dot_product_attention(q[0], k[0], v[0]))
    with pytest.raises(ValueError, match="divisible by nheads = 3"):
        dot_product_attention(q, k, v, nheads=3)
    with pytest.raises(ValueError, match="same length"):
        dot_product_attention(q, k, v[:, :5])
    with pytest.raises(TypeError, match="boolean mask"):
        dot_product_attention(q, k, v, mask=torch.ones(20, 30))


def test_gradient_vs_autograd():
    mha = MultiHeadAttention(DIM, nheads=NHEADS, bias=True)
    q = torch.randn(BATCH, LEN, DIM)

    def loss(o):                                              # Flux: sum(o[1].^2) + sum(o[2].^2)
        return (o[0] ** 2).sum() + (o[1] ** 2).sum()
    g = gradient(lambda m: loss(m(q)), mha)[0]
    t = twin(mha)
    loss(t(q, q, q, need_weights=True, average_attn_weights=False)).backward()
    e = DIM
    assert close(g.q_proj.weight, t.in_proj_weight.grad[:e], 1e-4)
    assert close(g.k_proj.weight, t.in_proj_weight.grad[e:2 * e], 1e-4)
    assert close(g.v_proj.weight, t.in_proj_weight.grad[2 * e:], 1e-4)
    assert close(g.v_proj.bias, t.in_proj_bias.grad[2 * e:], 1e-4)
    assert close(g.out_proj.weight, t.out_proj.weight.grad, 1e-4)
    gx = gradient(lambda x: loss(mha(x)), q)[0]
    x = q.clone().requires_grad_()
    loss(t(x, x, x, need_weights=True, average_attn_weights=False)).backward()
    assert close(gx, x.grad, 1e-4)


def test_dropout_on_scores_follows_train_mode():
    mha = MultiHeadAttention(8, nheads=2, dropout_prob=0.5)
    q = torch.rand(2, 6, 8)
    assert close(mha(q)[1].sum(-1), torch.ones(2, 2, 6))     # test mode outside gradient: no dropout
    Flux.trainmode_(mha)
    α = mha(q)[1]
    assert (α == 0).any() and not close(α.sum(-1), torch.ones(2, 2, 6))
    Flux.testmode_(mha)
    assert close(mha(q)[1].sum(-1), torch.ones(2, 2, 6))


def test_printing_and_counts():
    assert repr(MultiHeadAttention(64, nheads=8)) == "MultiHeadAttention(64, nheads=8)  # 16_384 parameters"
    # the printing cases listed in Flux's src/layers/attention.jl
    m = MultiHeadAttention((3, 4, 5), (6, 7), 8, nheads=1)
    assert repr(m) == "MultiHeadAttention((3, 4, 5), (6, 7), 8, nheads=1)  # 133 parameters"
    assert repr(MultiHeadAttention(3, (6, 7), 8, nheads=1)).startswith("MultiHeadAttention(3, (6, 7), 8, nheads=1)")
    assert repr(MultiHeadAttention(3, 6, 8, nheads=1)).startswith("MultiHeadAttention(3, 6, 8, nheads=1)")
    assert repr(MultiHeadAttention(8, bias=True)) == "MultiHeadAttention(8, nheads=8, bias=True)  # 288 parameters"
    assert "dropout_prob=0.1" in repr(MultiHeadAttention(8, dropout_prob=0.1))
    assert sum(p.numel() for p in params(m)) == 3 * 6 + 4 * 6 + 5 * 7 + 7 * 8


def test_bad_inputs():
    with pytest.raises(ValueError, match="qk_dim = 10 should be divisible by nheads = 3"):
        MultiHeadAttention(10, nheads=3)
    with pytest.raises(TypeError, match="in => qkv => out"):
        MultiHeadAttention("big")
    mha = MultiHeadAttention(4, nheads=2)
    with pytest.raises(ValueError, match=r"expects q of shape \(N, L, 4\).*batch first"):
        mha(torch.rand(4, 3, 5))
    with pytest.raises(TypeError, match="dim="):
        make_causal_mask(torch.rand(2, 3, 4), dims=2)


def test_f64_round_trip():
    mha = MultiHeadAttention(4, nheads=2)
    m64 = f64(mha)
    assert all(p.dtype == torch.float64 for p in params(m64))
    q = torch.rand(2, 3, 4, dtype=torch.float64)
    y, α = m64(q)
    assert y.dtype == α.dtype == torch.float64
    assert close(y.float(), mha(q.float())[0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu():
    from flux_torch import gpu
    mha = gpu(MultiHeadAttention(8, nheads=2))
    q = gpu(torch.rand(2, 5, 8))
    y, α = mha(q, mask=make_causal_mask(q))
    assert y.device.type == "cuda" and α.device.type == "cuda"
