"""Params and Grads (Flux's implicit style) against Zygote's and Flux's tests
(Zygote test/deprecated.jl "Params"/"Grads", Flux test/utils.jl "Params", "Shared parameters",
"params gradient") and torch.autograd oracles."""
from collections import namedtuple

import numpy as np
import pytest
import torch
from torch import nn

from flux_torch import Chain, Dense, Grads, Params, gradient, params, pullback
from flux_torch import layer


def shapes(ps):
    return [tuple(p.shape) for p in ps]


# ------------------------------------------------------------------ params(...)

def test_params_of_dense_in_order():
    assert shapes(params(Dense(10, 5))) == [(5, 10), (5,)]       # Flux: [(5, 10), (5,)]


def test_layer_duplicated_in_chain_counted_once():
    m = Dense(10, 5)
    assert shapes(params(Chain(m, m))) == [(5, 10), (5,)]
    ps = params(Chain(m, m))
    assert ps[0] is m.weight and ps[1] is m.bias


def test_self_referential_list():
    m = Dense(10, 5)
    r = [None, m]
    r[0] = r
    assert shapes(params(r)) == [(5, 10), (5,)]


def test_shared_parameters_dedup_by_identity():
    mat = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert len(params((None, mat, (3, mat, 4)))) == 1        # Flux "Shared parameters"
    same_values = mat.clone()
    ps = params(mat, same_values)
    assert len(ps) == 2                                       # equal values, distinct tensors
    assert mat in ps and same_values in ps and torch.ones(2) not in ps


def test_order_is_traversal_order():
    a, b, c = torch.zeros(1), torch.zeros(2), torch.zeros(3)
    ps = params({"x": c, "y": [a, (b, c)]}, a)
    assert [p is q for p, q in zip(ps, [c, a, b])] == [True] * 3 and len(ps) == 3


def test_only_floating_tensors_collected():
    w = torch.zeros(2)
    ps = params({"w": w, "i": torch.tensor([1, 2]), "b": torch.tensor([True]), "n": 3.0, "s": "x"})
    assert len(ps) == 1 and ps[0] is w


def test_integer_tensor_given_directly_errors():
    with pytest.raises(TypeError, match="int64") as err:
        params(torch.tensor([2, 1]))
    assert "float" in str(err.value)                   # suggests the fix
    with pytest.raises(TypeError):
        Params([torch.tensor([2, 1])])
    with pytest.raises(TypeError):
        params(np.array([2.0, 1.0]))


def test_trainable_subset_respected():
    @layer(trainable=("W",))
    class Scale:
        def __init__(self):
            self.W, self.shift = torch.ones(3), torch.zeros(3)

    s = Scale()
    ps = params(s)
    assert len(ps) == 1 and ps[0] is s.W


def test_nn_module_inside_chain():
    lin = nn.Linear(4, 2)
    bn = nn.BatchNorm1d(2)
    m = Chain(Dense(3, 4, torch.relu), lin, bn)
    ps = params(m)
    expected = [m[0].weight, m[0].bias, lin.weight, lin.bias, bn.weight, bn.bias]
    assert len(ps) == 6 and all(p is q for p, q in zip(ps, expected))
    assert bn.running_mean not in ps and bn.num_batches_tracked not in ps

    m = Chain(Dense(3, 4, torch.relu), lin)
    x = torch.randn(5, 3)
    gs = gradient(lambda: (m(x) ** 2).sum(), params(m))
    W1, b1 = m[0].weight.clone().requires_grad_(), m[0].bias.clone().requires_grad_()
    W2, b2 = lin.weight.detach().clone().requires_grad_(), lin.bias.detach().clone().requires_grad_()
    ((torch.relu(x @ W1.T + b1) @ W2.T + b2) ** 2).sum().backward()
    for p, o in [(m[0].weight, W1), (m[0].bias, b1), (lin.weight, W2), (lin.bias, b2)]:
        torch.testing.assert_close(gs[p], o.grad)
    assert lin.weight.grad is None                    # torch.autograd.grad, no accumulation


# ------------------------------------------------------------------ Params set interface

def test_params_in_add_remove():
    w, b = torch.rand(2, 3), torch.rand(2)
    ps = Params([w])
    assert w in ps and b not in ps
    assert ps.add(b) is ps and len(ps) == 2 and ps[1] is b
    ps.add(w)
    assert len(ps) == 2                               # no duplicate
    ps.remove(b)
    assert len(ps) == 1 and ps[0] is w and b not in ps
    ps.remove(b)                                      # absent: ignored
    assert len(ps) == 1


def test_params_indexing_comparison_and_empty():
    x, y = torch.tensor([1.0, 2.0]), torch.tensor([1.0])
    ps1, ps2, ps3 = Params([x, y]), Params([x, y]), Params([y, x])
    assert ps1[0] is x and ps1[1] is y
    assert ps1 == ps2 and ps1 != ps3                  # order dependent
    assert len(Params()) == 0 and len(Params([])) == 0 and len(Params(())) == 0
    assert len(params()) == 0


def test_params_union():
    x, y, z = torch.tensor([1.0, 2.0]), torch.tensor([1.0]), torch.tensor([3.0, 4.0])
    ps1, ps2, ps3 = Params([x, y]), Params([z]), Params([y, z])
    for ps in (ps1.union(ps2), ps1 | ps3):
        assert isinstance(ps, Params)
        assert len(ps) == 3 and all(p is q for p, q in zip(ps, [x, y, z]))
    assert len(ps1) == 2                               # union does not mutate


# ------------------------------------------------------------------ Grads

def _grads(w, b, x):
    return gradient(lambda: (w * x).sum(), Params([w, b]))


def test_grads_lookup_none_and_keyerror():
    w, b, x = torch.rand(2), torch.rand(2), torch.rand(2)
    gs = _grads(w, b, x)
    torch.testing.assert_close(gs[w], x)
    assert gs[b] is None                               # untouched parameter
    other = torch.rand(3, 4)
    with pytest.raises(KeyError, match=r"\(3, 4\)"):
        gs[other]
    with pytest.raises(KeyError):
        gs[w.clone()]                                  # identity, not value


def test_grads_dictionary_interface():
    w, b, x = torch.rand(2), torch.rand(2), torch.rand(2)
    ps = Params([w, b])
    gs = gradient(lambda: torch.tanh(w * x + b).sum(), ps)
    assert len(gs) == 2 and w in gs and b in gs
    keys = list(gs.keys())
    assert keys[0] is w and keys[1] is b
    k, v = next(iter(gs.items()))
    assert k is w and v is gs[w]
    assert len(list(gs.values())) == 2


def test_grads_algebra():
    w, b = torch.rand(2, dtype=torch.float64), torch.rand(2, dtype=torch.float64)
    x1, x2 = torch.rand(2, dtype=torch.float64), torch.rand(2, dtype=torch.float64)
    gs1 = gradient(lambda: (w * x1).sum(), Params([w]))
    gs2 = gradient(lambda: (w * x2).sum(), Params([w]))
    for r in (gs1 + gs2, gs1 - gs2, 2 * gs1, gs1 * 2, gs1 / 2):
        assert isinstance(r, Grads)
    torch.testing.assert_close((gs1 + gs2)[w], x1 + x2)
    torch.testing.assert_close((gs1 - gs2)[w], x1 - x2)
    torch.testing.assert_close((2 * gs1)[w], 2 * x1)
    torch.testing.assert_close((gs1 * 2)[w], 2 * x1)
    torch.testing.assert_close((gs1 / 2)[w], x1 / 2)

    gs3 = gradient(lambda: (w * x1).sum(), Params([w, b]))        # nothing for b
    gs4 = gradient(lambda: (w * x2 + b).sum(), Params([w, b]))
    torch.testing.assert_close((gs3 + gs4)[w], x1 + x2)
    torch.testing.assert_close((gs3 + gs4)[b], gs4[b])
    torch.testing.assert_close((gs3 - gs4)[b], -gs4[b])
    assert (2 * gs3)[b] is None
    with pytest.raises(ValueError):
        gs1 + gs4                                     # different parameters


def test_grads_unary_minus():
    w, x = torch.rand(2), torch.rand(2)
    gs = gradient(lambda: (w * x).sum(), Params([w]))
    neg = -gs                                           # Zygote: `.- gs1 isa Grads`
    assert isinstance(neg, Grads)
    torch.testing.assert_close(neg[w], -x)


def test_pullback_implicit_none_cotangent_gives_none():
    w, x = torch.rand(2), torch.rand(2)
    _, back = pullback(lambda: (w * x).sum(), Params([w]))
    torch.testing.assert_close(back(1)[w], x)
    assert back(None)[w] is None                        # Zygote "copy": back(nothing)


def test_params_gradient_norm_implicit():
    # Flux test/utils.jl "params gradient" (implicit half)
    M = namedtuple("M", ["x", "y"])
    m = M(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64))
    gold = gradient(lambda: sum(p.norm() for p in params(m)), params(m))
    torch.testing.assert_close(gold[m.x], torch.tensor([0.4472135954999579, 0.8944271909999159],
                                                       dtype=torch.float64))
    torch.testing.assert_close(gold[m.y], torch.tensor([1.0], dtype=torch.float64))


def test_params_prints_the_arrays_as_flux_does():
    # Flux's params docstring: params(Chain(Dense(ones(2,3)), softmax)) shows
    # Params([[1.0 1.0 1.0; 1.0 1.0 1.0], [0.0, 0.0]]): the arrays themselves, in order.
    from flux_torch import Chain, Dense, softmax
    ps = params(Chain(Dense(torch.ones(2, 3)), softmax))
    assert repr(ps) == "Params([" + repr(torch.ones(2, 3)) + ", " + repr(torch.zeros(2)) + "])"
    # params(1, [2 2], (alpha=[3,3,3], beta=Ref(4), gamma=sin)) == Params([[2 2], [3, 3, 3]])
    ps = params(1, torch.tensor([[2.0, 2.0]]), {"alpha": torch.tensor([3.0, 3, 3]), "beta": [4],
                                                 "gamma": torch.sin})
    assert repr(ps) == "Params([tensor([[2., 2.]]), tensor([3., 3., 3.])])"
