"""outputsize / autosize against Flux's test/outputsize.jl (every shape reversed, batch first)
and against running the models on real data."""
import operator

import pytest
import torch

import flux_torch as Flux
from flux_torch import (AdaptiveMaxPool, AdaptiveMeanPool, AlphaDropout, BatchNorm, Bilinear, Chain,
                        Conv, ConvTranspose, CrossCor, Dense, DepthwiseConv, Dropout, Embedding,
                        GlobalMaxPool, GlobalMeanPool, GroupNorm, InstanceNorm, LayerNorm,
                        Maxout, MaxPool, MeanPool, Parallel, SamePad, Scale, SkipConnection, flatten,
                        relu, sigmoid, softmax, unsqueeze, vcat)
from flux_torch.outputsize import LazyLayer, autosize, autosizefor, outputsize, striplazy
from flux_torch.v014 import LSTM, reset_     # v0.14's stateful LSTM, time first (T, N, F)


def cat_channels(mx, x):          # Flux's cat(mx, x; dims=3) on WHCN
    return torch.cat((mx, x), dim=1)


# ------------------------------------------------------------------ Flux's "basic" testset

def test_basic():
    m = Chain(Conv((3, 3), 3, 16), Conv((3, 3), 16, 32))
    assert outputsize(m, (1, 3, 10, 10)) == (1, 32, 6, 6)

    m = Dense(10, 5)
    with pytest.raises(ValueError):
        outputsize(m, (2, 5))
    assert outputsize(m, (10,), padbatch=True) == (1, 5)

    m = Chain(Dense(10, 8, sigmoid), Dense(8, 5), Dense(5, 2))
    assert outputsize(m, (10,), padbatch=True) == (1, 2)
    assert outputsize(m, (30, 10)) == (30, 2)

    assert outputsize(Scale(10), (1, 10)) == (1, 10)
    assert outputsize(Maxout(lambda: Conv((3, 3), 3, 16), 2), (1, 3, 10, 10)) == (1, 16, 8, 8)
    assert outputsize(flatten, (10, 3, 5, 5)) == (10, 75)
    assert outputsize(unsqueeze(dim=-3), (13, 7, 5)) == (13, 1, 7, 5)   # Flux: dims=3

    m = Bilinear(10, 7)                                                  # Flux: Bilinear(10, 10, 7)
    assert outputsize(m, (10,)) == (7,)
    assert outputsize(m, (32, 10)) == (32, 7)

    m = Chain(Conv((3, 3), 3, 16), BatchNorm(16), flatten, Dense(1024, 10))
    assert outputsize(m, (50, 3, 10, 10)) == (50, 10)
    assert outputsize(m, (2, 3, 10, 10)) == (2, 10)

    m = SkipConnection(Conv((3, 3), 3, 16, pad=1), cat_channels)
    assert outputsize(m, (1, 3, 10, 10)) == (1, 19, 10, 10)
    m = Parallel(cat_channels, Conv((3, 3), 3, 16, pad=1), lambda x: x)
    assert outputsize(m, (1, 3, 10, 10)) == (1, 19, 10, 10)


def test_chain_error_names_the_layer():
    m = Chain(Dense(10, 8, sigmoid), Dense(8, 4), Dense(5, 2))
    with pytest.raises(ValueError) as info:
        outputsize(m, (10,))
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:
        assert "layer Dense(5, 2), index 2 in Chain" in notes[0]
        assert "input of shape (4,)" in notes[0]


def test_multiple_inputs():
    m = Parallel(vcat, Dense(2, 4, relu), Dense(3, 6, relu))
    assert outputsize(m, (2,), (3,)) == (10,)
    assert outputsize(m, ((2,), (3,))) == (10,)
    assert outputsize(m, (2,), (3,), padbatch=True) == (1, 10)
    assert outputsize(m, (7, 2), (7, 3)) == (7, 10)

    m = Chain(m, Dense(10, 13, Flux.tanh), softmax)
    assert outputsize(m, (2,), (3,)) == (13,)
    assert outputsize(m, ((2,), (3,))) == (13,)
    assert outputsize(m, (2,), (3,), padbatch=True) == (1, 13)
    assert outputsize(m, (7, 2), (7, 3)) == (7, 13)


@pytest.mark.parametrize("name", ["celu", "elu", "gelu", "hardsigmoid", "hardtanh", "leakyrelu",
                                  "lisht", "logcosh", "logσ", "mish", "relu", "relu6",
                                  "selu", "σ", "softplus", "softshrink", "softsign", "swish",
                                  "tanhshrink", "trelu"])
def test_activations(name):
    assert outputsize(Dense(10, 5, getattr(Flux, name)), (1, 10)) == (1, 5)


CONV = [   # (layer, Flux's input size, Flux's output size), as in test/outputsize.jl
    (Conv((3, 3), 3, 16), (10, 10, 3, 1), (8, 8, 16, 1)),
    (Conv((3, 3), 3, 16, stride=2), (5, 5, 3, 1), (2, 2, 16, 1)),
    (Conv((3, 3), 3, 16, stride=2, pad=3), (5, 5, 3, 1), (5, 5, 16, 1)),
    (Conv((3, 3), 3, 16, stride=2, pad=3, dilation=2), (5, 5, 3, 1), (4, 4, 16, 1)),
    (Conv((3, 3), 3, 16, stride=2, pad=3, dilation=2), (5, 5, 3, 100), (4, 4, 16, 100)),
    (ConvTranspose((3, 3), 3, 16), (8, 8, 3, 1), (10, 10, 16, 1)),
    (ConvTranspose((3, 3), 3, 16, stride=2), (2, 2, 3, 1), (5, 5, 16, 1)),
    (ConvTranspose((3, 3), 3, 16, stride=2, pad=3), (5, 5, 3, 1), (5, 5, 16, 1)),
    (ConvTranspose((3, 3), 3, 16, stride=2, pad=3, dilation=2), (4, 4, 3, 1), (5, 5, 16, 1)),
    (DepthwiseConv((3, 3), 3, 6), (10, 10, 3, 1), (8, 8, 6, 1)),
    (DepthwiseConv((3, 3), 3, 6, stride=2), (5, 5, 3, 1), (2, 2, 6, 1)),
    (DepthwiseConv((3, 3), 3, 6, stride=2, pad=3), (5, 5, 3, 1), (5, 5, 6, 1)),
    (DepthwiseConv((3, 3), 3, 6, stride=2, pad=3, dilation=2), (5, 5, 3, 1), (4, 4, 6, 1)),
    (CrossCor((3, 3), 3, 16), (10, 10, 3, 1), (8, 8, 16, 1)),
    (CrossCor((3, 3), 3, 16, stride=2), (5, 5, 3, 1), (2, 2, 16, 1)),
    (CrossCor((3, 3), 3, 16, stride=2, pad=3), (5, 5, 3, 1), (5, 5, 16, 1)),
    (CrossCor((3, 3), 3, 16, stride=2, pad=3, dilation=2), (5, 5, 3, 1), (4, 4, 16, 1)),
    (AdaptiveMaxPool((2, 2)), (10, 10, 3, 1), (2, 2, 3, 1)),
    (AdaptiveMeanPool((2, 2)), (10, 10, 3, 1), (2, 2, 3, 1)),
    (GlobalMaxPool(), (10, 10, 3, 1), (1, 1, 3, 1)),
    (GlobalMeanPool(), (10, 10, 3, 1), (1, 1, 3, 1)),
    (MaxPool((2, 2)), (10, 10, 3, 1), (5, 5, 3, 1)),
    (MaxPool((2, 2), stride=1), (5, 5, 4, 1), (4, 4, 4, 1)),
    (MaxPool((2, 2), stride=2, pad=3), (5, 5, 2, 1), (5, 5, 2, 1)),
    (MeanPool((2, 2)), (10, 10, 3, 1), (5, 5, 3, 1)),
    (MeanPool((2, 2), stride=1), (5, 5, 4, 1), (4, 4, 4, 1)),
    (MeanPool((2, 2), stride=2, pad=3), (5, 5, 2, 1), (5, 5, 2, 1)),
]


@pytest.mark.parametrize("layer, jl_in, jl_out", CONV)
def test_conv_and_pools(layer, jl_in, jl_out):
    shape, expected = jl_in[::-1], jl_out[::-1]
    assert outputsize(layer, shape) == expected
    assert tuple(layer(torch.rand(shape)).shape) == expected       # and the real run agrees


def test_conv_wrong_channels():
    m = Conv((3, 3), 3, 16, stride=2, pad=3, dilation=2)
    with pytest.raises(ValueError):
        outputsize(m, (2, 5, 5))


def test_normalisation():
    for m in (Dropout(0.1), AlphaDropout(0.1)):
        assert outputsize(m, (10, 10)) == (10, 10)
        assert outputsize(m, (10,), padbatch=True) == (1, 10)

    m = LayerNorm(32)
    assert outputsize(m, (16, 3, 32, 32)) == (16, 3, 32, 32)
    assert outputsize(m, (3, 32, 32), padbatch=True) == (1, 3, 32, 32)
    m2 = LayerNorm(2, 3)                        # Flux: LayerNorm(3, 2)
    assert outputsize(m2, (2, 3)) == (2, 3) == tuple(m2(torch.randn(2, 3)).shape)

    for m, good, bad in ((BatchNorm(3), (16, 3, 32, 32), (1, 5, 32, 32)),
                         (InstanceNorm(3), (16, 3, 32, 32), (1, 5, 32, 32)),
                         (GroupNorm(16, 4), (16, 16, 32, 32), (4, 15, 32, 32))):
        assert outputsize(m, good) == good
        assert outputsize(m, good[1:], padbatch=True) == (1,) + good[1:]
        with pytest.raises(ValueError):
            m(torch.randn(bad))
        with pytest.raises(ValueError):
            outputsize(m, bad)


# ------------------------------------------------------------------ beyond Flux's tests

def test_no_data_is_allocated():
    # 10^6 images of 3×1000×1000 would be 12 TB of float32; on the meta device it is free
    m = Chain(Conv((3, 3), 3, 8, stride=2), MaxPool((2, 2)), GlobalMeanPool(), flatten, Dense(8, 2))
    assert outputsize(m, (1_000_000, 3, 1000, 1000)) == (1_000_000, 2)


def test_agrees_with_real_runs():
    models = [
        (Chain(Conv((5, 5), 1, 6, relu), MaxPool((2, 2)), Conv((5, 5), 6, 16, relu),
               MaxPool((2, 2)), flatten, Dense(256, 120, relu), Dense(120, 84, relu), Dense(84, 10)),
         (4, 1, 28, 28)),
        (Chain(Conv((3, 3), 1, 4, pad=SamePad(), stride=2), BatchNorm(4), MeanPool((3, 3))), (2, 1, 28, 28)),
        (LSTM(3, 5), (7, 4, 3)),
        (Chain(Dense(3, 4), Dropout(0.5), LayerNorm(4)), (6, 3)),
    ]
    for m, shape in models:
        assert outputsize(m, shape) == tuple(m(torch.rand(shape)).shape)
        reset_(m)


def test_model_is_left_as_it_was():
    m = LSTM(3, 5)
    w = m.cell.Wi
    assert outputsize(m, (7, 4, 3)) == (7, 4, 5)
    assert m.cell.Wi is w and w.device.type == "cpu"
    assert tuple(m(torch.rand(2, 3)).shape) == (2, 5)      # a fresh state, not one for a batch of 4


def test_layers_refusing_meta_run_on_zeros():
    calls = []

    def numpy_layer(x):             # a function that needs real data
        calls.append(x.device.type)
        return torch.from_numpy(x.numpy() * 2)

    m = Chain(Dense(4, 3), numpy_layer, Dense(3, 2))
    assert outputsize(m, (5, 4)) == (5, 2)
    assert calls[-1] == "cpu"


def test_dtype_follows_the_model_and_can_be_set():
    assert outputsize(Flux.f64(Dense(2, 3)), (1, 2)) == (1, 3)      # no float64 warning (error)
    assert outputsize(Embedding(10, 3), (4, 5), dtype=torch.long) == (4, 5, 3)


def test_tuple_output_and_list_model():
    mha = Flux.MultiHeadAttention(8, nheads=2)
    y, α = mha(torch.rand(3, 4, 8))
    assert outputsize(mha, (3, 4, 8)) == (tuple(y.shape), tuple(α.shape)) == ((3, 4, 8), (3, 2, 4, 4))
    assert outputsize((Dense(10, 4), Dense(4, 2)), (1, 10)) == (1, 2)


def test_bad_shapes():
    with pytest.raises(TypeError, match="outputsize expects input shapes"):
        outputsize(Dense(2, 3), 2)
    with pytest.raises(TypeError, match="outputsize expects input shapes"):
        outputsize(Dense(2, 3), (1, 2.0))


# ------------------------------------------------------------------ Flux's "autosize macro" testset

def test_autosize():
    m = autosize((3,), lambda _: Dense(_, 4))
    assert tuple(m(torch.randn(3)).shape) == (4,)

    m = autosize((1, 3), Chain(lambda _: Dense(_, 4), Dense(4, 10), softmax))
    assert tuple(m(torch.randn(5, 3)).shape) == (5, 10)

    m = autosize((5, 4, 3, 2), lambda _: Dense(_, 10))         # by the feature dim, not channels
    assert tuple(m(torch.randn(5, 4, 3, 2)).shape) == (5, 4, 3, 10)

    m = autosize((9,), lambda _: Dense(_, _ // 2))
    assert tuple(m(torch.randn(9)).shape) == (4,)

    m = autosize((3,), Chain(one=lambda _: Dense(_, 4), two=softmax))
    assert tuple(m(torch.randn(3)).shape) == (4,)

    m = autosize((45, 3), Maxout(lambda: lambda _: Dense(_, 6, Flux.tanh), 2))
    assert tuple(m(torch.randn(45, 3)).shape) == (45, 6)

    # Parallel gets two inputs from the SkipConnection
    m = autosize((3,), Chain(SkipConnection(lambda _: Dense(_, 4),
                                            Parallel(vcat, lambda _: Dense(_, 5), lambda _: Dense(_, 6))),
                             lambda _: Scale(_)))
    assert tuple(m(torch.randn(3)).shape) == (11,)

    m = autosize((5, 4, 3), lambda _: LayerNorm(_))              # LayerNorm also reads the features
    assert tuple(m(torch.rand(7, 6, 3)).shape) == (7, 6, 3)
    m = autosize((10, 3, 3), lambda _: LayerNorm(_, _))
    assert tuple(m(torch.rand(10, 3, 3)).shape) == (10, 3, 3)

    m = autosize((3,), lambda _: Bilinear(_, 10))
    assert tuple(m(torch.randn(3)).shape) == (10,)
    m = autosize((1, 3), lambda _: Bilinear(_, 10))
    assert tuple(m(torch.randn(4, 3)).shape) == (4, 10)
    m = autosize((3,), SkipConnection(lambda _: Dense(_, _), lambda _: Bilinear(_, 10)))
    assert tuple(m(torch.randn(4, 3)).shape) == (4, 10)

    m = autosize((7, 11, 3), lambda _: LSTM(_, 5))               # a sequence (T, N, F); Flux fails here
    assert tuple(m(torch.rand(7, 11, 3)).shape) == (7, 11, 5)


def test_autosize_docstring_examples():
    m = autosize((1, 3), Chain(lambda _: Dense(_, 2, sigmoid), lambda _: BatchNorm(_, affine=False)))
    assert tuple(m(torch.randn(4, 3)).shape) == (4, 2)
    lines = [line.split() for line in repr(m).splitlines()[1:3]]
    assert lines == [["Dense(3,", "2,", "σ),", "#", "8", "parameters"], ["BatchNorm(2,", "affine=False),"]]

    img = [28, 28]
    m = autosize((32, 1, *img),
                 Chain(c=lambda _: Conv((3, 3), _, 5, stride=2, pad=SamePad()),
                       p=MeanPool((3, 3)),
                       b=lambda _: BatchNorm(_),
                       f=flatten),
                 lambda _: Dense(_, _ // 4, relu, init=Flux.rand32),
                 SkipConnection(lambda _: Dense(_, _, relu), operator.add),
                 lambda _: Dense(_, 10))
    assert tuple(m(torch.randn(32, 1, *img)).shape) == (32, 10)
    assert outputsize(m, (32, 1, 28, 28)) == (32, 10)
    # Flux prints Conv((3, 3), 1 => 5, pad=1, stride=2), Dense(80 => 20, relu), ..., and
    # "Total: 10 trainable arrays, 2_310 parameters, plus 2 non-trainable, 10 parameters"
    c = m[0].c
    assert c.weight.shape == (5, 1, 3, 3) and c.stride == (2, 2)
    assert (m[1].weight.shape, m[2].layers.weight.shape, m[3].weight.shape) == ((20, 80), (20, 20), (10, 20))
    text = repr(m)
    assert "10 trainable arrays, 2_310 parameters" in text
    assert "plus 2 non-trainable, 10 parameters" in text


def test_autosizefor():
    assert autosizefor(Conv, (32, 1, 28, 28)) == 1
    assert autosizefor(BatchNorm, (7,)) == 7
    assert autosizefor(Dense, (5, 4, 3, 2)) == 2
    assert autosizefor(LayerNorm, (5, 4, 3)) == 3

    class Mine:
        @classmethod
        def autosizefor(cls, shape):
            return shape[2]
    assert autosizefor(Mine, (1, 2, 3)) == 3


# ------------------------------------------------------------------ Flux's "LazyLayer" testset

def test_lazy_layer():
    ld = LazyLayer(lambda _: Dense(_, 3, relu, init=lambda *d: torch.ones(d)))
    lm = Chain(ld, Scale(3))
    assert repr(ld) == "LazyLayer(<lambda>)"
    with pytest.raises(RuntimeError, match="never called"):
        striplazy(lm)
    assert torch.equal(lm([1, 2]), torch.tensor([3.0, 3.0, 3.0]))
    assert repr(ld) == "LazyLayer(Dense(2, 3, relu))"
    assert outputsize(lm, (5, 2)) == (5, 3)              # built: runs on meta like any layer
    assert isinstance(striplazy(ld), Dense)
    with pytest.raises(RuntimeError, match="never be used within a gradient"):
        Flux.gradient(lambda x: lm(x).sum(), torch.tensor([1.0, 2.0]))


def test_autosize_needs_layers():
    with pytest.raises(TypeError, match="at least one layer"):
        autosize((3,))
