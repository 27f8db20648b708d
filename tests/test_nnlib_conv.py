"""NNlib's convolution size tests, translated: the ``ConvDims``, ``conv_wrapper`` and
``depthwiseconv_wrapper`` testsets of FluxML/NNlib.jl test/conv.jl at v0.9.36 (commit
4ed25976bb6c67a4f2d04630e26fd1f37fbde6eb), through flux_torch's ``Conv``/``DepthwiseConv``
(NNlib's ``DenseConvDims``/``conv`` are not part of flux_torch). Shapes and per-dim tuples
reversed (batch first, data order); a 4-tuple padding is NNlib's unchanged (``F.pad`` order).
NNlib's ``flipped``/``flipkernel`` does not change sizes and flux_torch's Conv does not flip
(docs/porting.md, Convolution)."""
import pytest
import torch

from flux_torch import Conv, DepthwiseConv

X = torch.randn(2, 3, 4, 5)                      # NNlib's randn(5, 4, 3, 2)


@pytest.mark.parametrize("kind", ["dense", "depthwise"])
def test_convdims_output_sizes(kind):
    def layer(**kw):
        if kind == "dense":
            return Conv(torch.randn(4, 3, 2, 1), **kw)      # NNlib's w = randn(1, 2, 3, 4)
        return DepthwiseConv((2, 1), 3, 12, **kw)        # 4 filters per channel: 12 out
    y = layer()(X)
    assert y.shape[2:] == (3, 5) and y.shape[1] == (4 if kind == "dense" else 12)   # output_size (5, 3)
    assert layer(stride=2, dilation=2, pad=3)(X).shape[2:] == (4, 6)
    assert layer(stride=(2, 1), dilation=(2, 1), pad=(1, 0))(X).shape[2:] == (2, 5)
    assert layer(pad=(1, 2, 3, 4))(X).shape[2:] == (10, 8)
    for bad in ({"stride": (1,)}, {"stride": (1, 1, 1)}, {"pad": (1, 1, 1)}, {"pad": (1, 1, 1, 1, 1)},
                {"dilation": (1,)}, {"dilation": (1, 1, 1)}):
        with pytest.raises(ValueError):
            layer(**bad)
    with pytest.raises(ValueError):                 # dilation reaches beyond input + padding
        layer(dilation=(5, 1))(X)
    with pytest.raises(ValueError):                 # channel mismatch
        (Conv(torch.randn(4, 1, 2, 1)) if kind == "dense" else DepthwiseConv((2, 1), 1, 4))(X)


def test_conv_wrapper_sizes():
    x = torch.rand(10, 3, 10, 10)
    w, w1 = torch.rand(16, 3, 2, 2), torch.rand(16, 3, 4, 3)        # NNlib's (2,2,3,16), (3,4,3,16)
    assert Conv(w)(x).shape == (10, 16, 9, 9)
    assert Conv(w, stride=(2, 2), pad=(2, 2))(x).shape == (10, 16, 7, 7)
    assert Conv(w1, stride=(2, 1), pad=(3, 2))(x).shape == (10, 16, 7, 12)
    assert Conv(w, stride=(2, 1), pad=(3, 2), dilation=(2, 2))(x).shape == (10, 16, 7, 12)


def test_depthwiseconv_wrapper_sizes():
    x = torch.rand(10, 3, 10, 10)
    assert DepthwiseConv((2, 2), 3, 9)(x).shape == (10, 9, 9, 9)
    assert DepthwiseConv((2, 2), 3, 9, stride=(2, 2), pad=(2, 2))(x).shape == (10, 9, 7, 7)
    assert DepthwiseConv((4, 3), 3, 9, stride=(2, 1), pad=(3, 2))(x).shape == (10, 9, 7, 12)
    assert DepthwiseConv((4, 3), 3, 9, stride=(2, 1), pad=(3, 2), dilation=(2, 2))(x).shape == (10, 9, 5, 10)
