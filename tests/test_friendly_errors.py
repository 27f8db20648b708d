"""Errors that a Julia habit produces say what was expected, what was got and the fix (issue 15).

Each case is one a Flux user meets in a first hour; on the old code each gave a bare Python
error ("'module' object is not callable", "takes 2 positional arguments but 3 were given",
"missing 1 required positional argument", "tuple index out of range").
"""
import pytest
import torch

import flux_torch as Flux
from flux_torch import Chain, Dense


def _model():
    return Chain(Dense(2, 3), Dense(3, 1))


def test_flux_train_points_to_train_():
    with pytest.raises(AttributeError, match=r"Julia's train! is train_ in flux_torch"):
        Flux.train(lambda m, x: m(x).sum(), _model(), [], None)


def test_a_loss_of_the_data_only_in_the_explicit_style():
    m = _model()
    data = [(torch.randn(4, 2), torch.randn(4, 1))]
    with pytest.raises(TypeError, match=r"calls loss\(model, \*batch\), with the model first.*loss\(m, x, y\)"):
        Flux.train_(lambda x, y: Flux.mse(m(x), y), m, data, Flux.setup(Flux.Descent(), m))


def test_a_bare_tuple_of_data():
    m = _model()
    X, Y = torch.randn(4, 2), torch.randn(4, 1)
    with pytest.raises(TypeError, match=r"bare tuple of 2 tensors.*\(4, 2\).*\[\(X, Y\)\]"):
        Flux.train_(lambda mm, x, y: Flux.mse(mm(x), y), m, (X, Y), Flux.setup(Flux.Descent(), m))
    Flux.train_(lambda mm, x, y: Flux.mse(mm(x), y), m, [(X, Y)], Flux.setup(Flux.Descent(), m))


def test_an_error_inside_the_loss_is_not_rewritten():
    m = _model()

    def loss(mm, x, y):
        raise TypeError("my own mistake")
    with pytest.raises(TypeError, match="^my own mistake$"):
        Flux.train_(loss, m, [(torch.randn(4, 2), torch.randn(4, 1))], Flux.setup(Flux.Descent(), m))


def test_implicit_loss_that_takes_the_model():
    m = _model()
    with pytest.raises(TypeError, match=r"calls loss\(\*batch\) with the data only.*explicit style"):
        Flux.train_(lambda mm, x, y: Flux.mse(mm(x), y), Flux.params(m),
                    [(torch.randn(4, 2), torch.randn(4, 1))], Flux.Descent())


def test_gradient_of_params_with_a_function_of_the_model():
    m = _model()
    with pytest.raises(TypeError, match=r"implicit style: f takes no arguments.*gradient\(lambda m"):
        Flux.gradient(lambda mm: mm(torch.randn(1, 2)).sum(), Flux.params(m))


def test_chain_index_out_of_range_says_zero_based():
    with pytest.raises(IndexError, match=r"Chain has 2 layers, indexed from 0, so m\[2\] is out of range"):
        _model()[2]
    assert _model()[-1].weight.shape == (1, 3)
    with pytest.raises(IndexError, match=r"has 2 layers"):
        Chain(a=Dense(1, 1), b=Dense(1, 1))[5]


def test_a_loss_with_float_labels_missing_a_dimension():
    """A float y of shape (8,) against ŷ (8, 1) is one value per observation, not class indices:
    the hint is the reshape, not onehotbatch (which stays the hint for integer labels)."""
    with pytest.raises(ValueError, match=r"lacks ŷ's last dimension, of size 1.*y\.reshape\(8, 1\)") as err:
        Flux.mse(torch.randn(8, 1), torch.randn(8))
    assert "onehotbatch" not in str(err.value)
    with pytest.raises(ValueError, match=r"class indices.*onehotbatch\(y, range\(3\)\)"):
        Flux.mse(torch.randn(8, 3), torch.randint(0, 3, (8,)))
