"""state and loadmodel_ against Flux v0.14's src/loading.jl (docstrings of `Flux.state`, `Flux.loadmodel!`)
and test/loading.jl, translated: σ² is `σ2`, ϵ is `ε` (Python's NFKC form of the identifier), `bias=false`
is `None`, 0-based layer indices.

Oracles: the model's own tensors (by identity), the structure Flux documents, the values Flux's docstrings
print, and the outputs of the source model after loading.
"""
import pytest
import torch
from torch import nn

from flux_torch import BatchNorm, Chain, Dense, Dropout, f64, relu, tanh, trainmode_
from flux_torch import testmode_ as set_testmode   # (a name starting with test_ would be collected)
from flux_torch.state import loadmodel_, state


def trained_chain(seed):
    torch.manual_seed(seed)
    m = Chain(Dense(3, 4, relu), BatchNorm(4), Dense(4, 2))
    trainmode_(m)
    m(torch.randn(16, 3))        # moves the running statistics away from 0 and 1
    set_testmode(m)
    return m


# ------------------------------------------------------------------ state

def test_state_chain_dense_batchnorm_structure_and_identity():
    m = Chain(Dense(3, 2), BatchNorm(2))
    s = state(m)
    assert list(s) == ["layers"] and type(s["layers"]) is tuple and len(s["layers"]) == 2
    d, bn = s["layers"]
    assert list(d) == ["weight", "bias", "σ"]              # Flux: (weight = ..., bias = ..., σ = ())
    assert d["weight"] is m[0].weight and d["bias"] is m[0].bias and d["σ"] == ()
    # Flux: (λ = (), β, γ, μ, σ², ϵ = 1.0f-5, momentum = 0.1f0, affine = true, track_stats = true,
    #        active = nothing, chs = 1)
    assert list(bn) == ["λ", "β", "γ", "μ", "σ2", "ε", "momentum", "affine", "track_stats", "active", "chs"]
    for k in ("β", "γ", "μ", "σ2"):
        assert bn[k] is getattr(m[1], k)                   # the model's own tensors, running stats included
    assert bn["λ"] == () and bn["active"] is None
    assert (bn["ε"], bn["momentum"], bn["affine"], bn["track_stats"], bn["chs"]) == (1e-5, 0.1, True, True, 2)


def test_state_flux_docstring_values():
    # Flux: Chain(Dense(1 => 2, tanh; init=ones), Dense(2 => 1; init=ones)) has state
    # (layers = ((weight = [1.0; 1.0;;], bias = [0.0, 0.0], σ = ()), (weight = [1.0 1.0], bias = [0.0], σ = ())),)
    m1 = Chain(Dense(1, 2, tanh, init=torch.ones), Dense(2, 1, init=torch.ones))
    (a, b), = state(m1).values()
    assert torch.equal(a["weight"], torch.ones(2, 1)) and torch.equal(a["bias"], torch.zeros(2)) and a["σ"] == ()
    assert torch.equal(b["weight"], torch.ones(1, 2)) and torch.equal(b["bias"], torch.zeros(1)) and b["σ"] == ()
    # then loadmodel! into Chain(Dense(1 => 2, tanh), Dense(2 => 1; bias=false)) gives ones weights
    m2 = Chain(Dense(1, 2, tanh), Dense(2, 1, bias=False))
    loadmodel_(m2, state(m1))
    assert torch.equal(m2[0].weight, torch.ones(2, 1)) and m2[1].bias is None


def test_state_dropout():
    # Flux: state(trainmode!(Dropout(0.2))) == (p = 0.2, dims = (), active = true, rng = ())
    s = state(trainmode_(Dropout(0.2)))
    assert s["p"] == 0.2 and s["active"] is True and set(s) == {"p", "dim", "active", "rng"}


def test_state_tied_and_containers():
    w = torch.randn(2, 2)
    m = {"a": Dense(w, torch.zeros(2)), "b": Dense(w, torch.zeros(2)), "l": [1, (2.0, "s")], "f": print}
    s = state(m)
    assert s["a"]["weight"] is w and s["b"]["weight"] is w
    assert s["l"] == [1, (2.0, "s")] and type(s["l"]) is list and type(s["l"][1]) is tuple
    assert s["f"] == ()


def test_state_nn_module_and_namedtuple():
    from collections import namedtuple
    P = namedtuple("P", ["w", "k"])
    lin = nn.Linear(3, 2)
    s = state([Chain(lin), P(torch.ones(1), 3)])
    assert set(s[0]["layers"][0]) == {"weight", "bias"} and s[0]["layers"][0]["weight"] is lin.weight
    assert list(s[1]) == ["w", "k"] and s[1]["k"] == 3 and type(s[1]) is dict


# ------------------------------------------------------------------ loadmodel_

def test_loadmodel_round_trip_identical_outputs():
    src, dst = trained_chain(0), trained_chain(1)
    x = torch.randn(5, 3)
    assert not torch.equal(src(x), dst(x))
    ids = [id(t) for t in (dst[0].weight, dst[1].μ, dst[1].σ2)]
    assert loadmodel_(dst, state(src)) is dst
    assert torch.equal(dst(x), src(x))
    assert torch.equal(dst[1].μ, src[1].μ) and torch.equal(dst[1].σ2, src[1].σ2)   # non-trainable too
    assert [id(t) for t in (dst[0].weight, dst[1].μ, dst[1].σ2)] == ids            # in place
    assert dst[0].weight is not src[0].weight


def test_loadmodel_model_to_model_and_flux_bias_false_example():
    # Flux's loadmodel! docstring: loading Dense(2 => 1, bias=false) zeroes the destination's bias
    dst = Chain(Dense(torch.ones(2, 5), torch.ones(2), tanh), Dense(2, 1, bias=torch.ones(1)))
    src = Chain(Dense(5, 2, relu), Dense(2, 1, bias=False))
    loadmodel_(dst, src)
    assert not torch.allclose(dst[0].weight, torch.ones(2, 5))
    assert torch.equal(dst[0].weight, src[0].weight)
    assert torch.equal(dst[1].bias, torch.zeros(1))
    assert dst[0].σ is tanh                               # non-array leaves are not copied


def test_loadmodel_dtype_conversion():
    src = f64(trained_chain(0))
    dst = trained_chain(1)
    loadmodel_(dst, state(src))
    assert dst[0].weight.dtype == torch.float32
    assert torch.equal(dst[0].weight, src[0].weight.float())
    x = torch.randn(4, 3)
    torch.testing.assert_close(dst(x), src(x.double()).float())


def test_loadmodel_into_nn_module_parameters():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    loadmodel_(Chain(b), state(Chain(a)))
    assert torch.equal(a.weight, b.weight) and b.weight.requires_grad and isinstance(b.weight, nn.Parameter)


def test_loadmodel_shape_mismatch_message():
    with pytest.raises(ValueError, match=r"at dst\.layers\[0\]\.weight, tried to load a tensor of shape "
                                         r"\(3, 2\) into a tensor of shape \(2, 3\)"):
        loadmodel_(Chain(Dense(3, 2)), state(Chain(Dense(2, 3))))


def test_loadmodel_structure_mismatch_messages():
    with pytest.raises(ValueError, match=r"at dst\.layers, tried to load keys \(0,\) into keys \(0, 1\) "
                                         r"but the structures do not match"):
        loadmodel_(Chain(Dense(3, 2), Dense(2, 1)), state(Chain(Dense(3, 2))))
    with pytest.raises(ValueError, match=r"at dst\.layers\[0\], .*structures do not match.*missing from src"):
        loadmodel_(Chain(Dense(2, 2)), state(Chain(BatchNorm(2))))
    with pytest.raises(ValueError, match=r"at the top level, .*'extra'"):
        loadmodel_({"w": torch.zeros(1)}, {"w": torch.zeros(1), "extra": torch.zeros(1)})


def test_loadmodel_array_vs_non_array_errors():
    with pytest.raises(TypeError, match=r"at dst\.σ, tried to copy a tensor of shape \(1,\)"):
        loadmodel_(Dense(1, 1), {"weight": torch.ones(1, 1), "bias": torch.ones(1), "σ": torch.ones(1)})
    with pytest.raises(TypeError, match=r"at dst\.bias, tried to copy \(\) into a tensor destination"):
        loadmodel_(Dense(1, 1), {"weight": torch.ones(1, 1), "bias": (), "σ": ()})
    with pytest.raises(ValueError, match=r"at dst\.bias, cannot load a non-zero tensor into None"):
        loadmodel_(Dense(1, 1, bias=False), state(Dense(torch.ones(1, 1), torch.ones(1))))


def test_loadmodel_tied_destination_loaded_once():
    w = torch.zeros(2, 2)
    dst = Chain(Dense(w, False), Dense(w, False))
    v = torch.randn(2, 2)
    loadmodel_(dst, {"layers": ({"weight": v, "bias": None, "σ": ()}, {"weight": v.clone(), "bias": None,
                                                                         "σ": ()})})
    assert dst[0].weight is dst[1].weight and torch.equal(w, v)
    with pytest.raises(ValueError, match="tied destination tensor .* mismatched sources"):
        loadmodel_(dst, state(Chain(Dense(2, 2, bias=False), Dense(2, 2, bias=False))))


def test_loadmodel_filter():
    src, dst = Dense(2, 3), Dense(2, 3)
    old_bias = dst.bias.clone()
    loadmodel_(dst, src, filter=lambda c: not (isinstance(c, torch.Tensor) and c.dim() == 1))
    assert torch.equal(dst.weight, src.weight) and torch.equal(dst.bias, old_bias)


def test_loadmodel_leaf_tensor():
    t = torch.zeros(3)
    assert loadmodel_(t, torch.arange(3.0)) is t and torch.equal(t, torch.arange(3.0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_loadmodel_from_cuda_state_into_cpu_model():
    from flux_torch import gpu
    src = gpu(trained_chain(0))
    dst = trained_chain(1)
    loadmodel_(dst, state(src))
    assert dst[0].weight.device.type == "cpu"
    assert torch.equal(dst[0].weight, src[0].weight.cpu())


def test_loading_a_trained_recurrent_model_into_a_fresh_one():
    """Issue 13 item 7: the state after a forward pass has the batch dimension; it is not a
    parameter, so loadmodel_ leaves the fresh model's state alone and copies the weights."""
    import flux_torch.v014 as F14
    from flux_torch import Chain, Dense, loadmodel_, state
    trained = Chain(F14.LSTM(3, 4), Dense(4, 1))
    trained(torch.randn(5, 3))                       # state now (5, 4)
    fresh = Chain(F14.LSTM(3, 4), Dense(4, 1))
    loadmodel_(fresh, state(trained))
    assert torch.equal(fresh[0].cell.Wi, trained[0].cell.Wi)
    F14.reset_(trained)
    x = torch.randn(2, 3)
    torch.testing.assert_close(fresh(x), trained(x))
