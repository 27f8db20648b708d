"""NNlib's attention tests, translated: FluxML/NNlib.jl test/attention.jl at v0.9.36 (commit
4ed25976bb6c67a4f2d04630e26fd1f37fbde6eb). Shapes reversed (docs/porting.md, Containers and
attention): NNlib's ``(features, len, batch...)`` is ``(batch..., len, features)`` and its
scores ``(kv_len, q_len, nheads, batch...)`` are ``(batch..., nheads, q_len, kv_len)``; a mask
or bias ``(kv, q)`` is ``(q, kv)``. ``gradtest`` is ``torch.autograd.gradcheck``.
``dot_product_attention_scores`` is not part of flux_torch: its mask tests go through
``dot_product_attention``, which returns the same scores."""
import itertools

import pytest
import torch

from flux_torch import dot_product_attention, make_causal_mask

F64 = torch.float64


@pytest.mark.parametrize("batch, nheads", list(itertools.product([(), (1,), (2,), (2, 1, 3)], [1, 3, 5])))
def test_different_batchsizes(batch, nheads):
    n, lenq, lenkv = 15, 3, 4
    b = tuple(reversed(batch))
    q, k, v = torch.rand(*b, lenq, n), torch.rand(*b, lenkv, n), torch.rand(*b, lenkv, n)
    y, α = dot_product_attention(q, k, v, nheads=nheads)
    assert y.dtype == torch.float32 and y.shape == (*b, lenq, n)
    assert α.shape == (*b, nheads, lenq, lenkv)
    torch.testing.assert_close(α.sum(dim=-1), torch.ones(*b, nheads, lenq))


def test_specific_results():
    q = k = v = torch.arange(1.0, 13, dtype=F64).reshape(1, 3, 4) / 12     # reshape([1:12;], 4, 3, 1)
    y, α = dot_product_attention(q, k, v, nheads=2)
    ytrue = torch.tensor([0.429754, 0.513087, 0.613791, 0.697125, 0.46431, 0.547644, 0.647876, 0.73121,
                          0.49773, 0.581064, 0.680455, 0.763788], dtype=F64).reshape(1, 3, 4)
    αtrue = torch.tensor([0.313896, 0.332948, 0.353157, 0.264431, 0.328206, 0.407362, 0.219215, 0.31838,
                          0.462405, 0.288691, 0.331243, 0.380066, 0.241239, 0.323893, 0.434868, 0.198438,
                          0.311761, 0.489801], dtype=F64).reshape(1, 2, 3, 3)
    torch.testing.assert_close(y, ytrue, atol=1e-5, rtol=0)
    torch.testing.assert_close(α, αtrue, atol=1e-5, rtol=0)


def test_mask():
    q, k = torch.rand(1, 3, 8, dtype=F64), torch.rand(1, 5, 8, dtype=F64)    # 2 heads of 4
    mask = torch.rand(3, 5) > 0.5                                             # NNlib's rand(Bool, (5, 3))
    _, α = dot_product_attention(q, k, k, mask=mask, nheads=2)
    assert torch.equal(α[0, 0] > 0, mask) and torch.equal(α[0, 1] > 0, mask)
    x = torch.rand(1, 3, 8, dtype=F64)                                        # causal
    mask = make_causal_mask(x)
    _, α = dot_product_attention(x, x, x, mask=mask, nheads=2)
    assert torch.equal(α[0, 0] > 0, mask) and torch.equal(α[0, 1] > 0, mask)


def test_dropout():
    q = k = v = torch.rand(10, 10, 10, dtype=F64)
    fdrop = lambda x, p: (torch.rand_like(x) > p) * x / (1 - p)
    y, α = dot_product_attention(q, k, v, nheads=2, fdrop=lambda x: fdrop(x, 0.5))
    assert 0.6 > float((α > 0).double().mean()) > 0.4


def test_bias():
    q = torch.rand(1, 5, 4, dtype=F64)
    k = v = torch.rand(1, 3, 4, dtype=F64)
    bias = torch.randn(5, 3, dtype=F64)                                       # NNlib's randn(3, 5)
    y, α = dot_product_attention(q, k, v, bias, nheads=2)
    assert α.shape == (1, 2, 5, 3) and y.shape == (1, 5, 4)


def test_gradient():
    q = torch.rand(1, 5, 4, dtype=F64, requires_grad=True)
    k = torch.rand(1, 3, 4, dtype=F64, requires_grad=True)
    v = torch.rand(1, 3, 4, dtype=F64, requires_grad=True)
    bias = torch.randn(5, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *x: dot_product_attention(*x, nheads=2)[0], (q, k, v, bias))
