"""Printed forms against Flux v0.14's show (src/layers/show.jl, test/layers/show.jl, docstrings),
translated by SPEC §5: `Dense(10, 5, σ)  # 55 parameters`, containers one child per line with the
comment at column 40, a closing `# Total: ...` when there are more than two arrays, bytes = nbytes.
The repr stays valid Python: eval of the comment-stripped text rebuilds the layer."""
import torch
from torch import nn

import flux_torch
from flux_torch import Chain, Dense, compose, layer, relu, softmax, zeros32, σ
from flux_torch._show import Showable

NAMES = {name: getattr(flux_torch, name) for name in flux_torch.__all__}


def strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def rebuilt(m):
    return eval(strip_comments(repr(m)), dict(NAMES))


def param_shapes(m):
    return [tuple(p.shape) for p in flux_torch.params(m)]


@layer(trainable=("W",))
class Scale2(Showable):
    """A custom layer with a non-trainable field."""

    def __init__(self, n):
        self.W, self.shift = torch.ones(n), torch.zeros(n)

    def __call__(self, x):
        return x * self.W + self.shift

    def _inline(self):
        return f"Scale2({self.W.shape[0]})"


# ------------------------------------------------------------------ single layers

def test_dense_top_level():
    assert repr(Dense(10, 5, σ)) == "Dense(10, 5, σ)  # 55 parameters"
    assert repr(Dense(2, 3)) == "Dense(2, 3)  # 9 parameters"
    assert repr(Dense((2, 3), relu)) == "Dense(2, 3, relu)  # 9 parameters"
    assert repr(Dense(2, 3, bias=False)) == "Dense(2, 3, bias=False)  # 6 parameters"
    assert repr(Dense(1000, 1000)) == "Dense(1000, 1000)  # 1_001_000 parameters"


def test_all_zero_and_nan_parameters_flagged():
    # Flux's _nan_show: "  (all zero)", "  (some NaN)", "  (some Inf)" after the count
    assert repr(Dense(2, 3, init=zeros32)) == "Dense(2, 3)  # 9 parameters  (all zero)"
    d = Dense(2, 3)
    d.weight[0, 0] = float("nan")
    assert repr(d) == "Dense(2, 3)  # 9 parameters  (some NaN)"


def test_custom_layer_non_trainable_top_level():
    assert repr(Scale2(3)) == "Scale2(3)  # 3 parameters, plus 3 non-trainable"


# ------------------------------------------------------------------ containers

def test_chain_of_basics_page():
    m = Chain(Dense(10, 5, σ), Dense(5, 2), softmax)
    assert repr(m) == (
        "Chain(\n"
        "  Dense(10, 5, σ),                      # 55 parameters\n"
        "  Dense(5, 2),                          # 12 parameters\n"
        "  softmax,\n"
        ")                   # Total: 4 arrays, 67 parameters, 268 bytes."
    )


def test_short_chain_has_no_total():
    s = repr(Chain(Dense(2, 3)))                 # Flux test/layers/show.jl toplevel_chain
    assert s.startswith("Chain(\n  Dense(2, 3)")
    assert "# 9 parameters" in s and "# Total:" not in s
    assert s.splitlines()[1] == "  Dense(2, 3),                          # 9 parameters"


def test_long_chain_total():
    s = repr(Chain(Dense(2, 3), Dense(3, 4), Dense(4, 5), softmax))
    assert s.startswith("Chain(\n  Dense(2, 3)")
    assert "# 9 parameters" in s
    assert s.splitlines()[-1] == ")                   # Total: 6 arrays, 50 parameters, 200 bytes."


def test_layer_without_fields():
    @layer
    class NoFields:                               # Flux issue #2208
        def __call__(self, x):
            return x

        def __repr__(self):
            return "NoFields()"

    s = repr(Chain(Dense(1, 1), Dense(1, 1), NoFields()))
    assert "4 arrays, 4 parameters" in s


def test_nested_chain():
    m = Chain(Chain(Dense(2, 3), Dense(3, 3)), Dense(3, 1))
    assert repr(m) == (
        "Chain(\n"
        "  Chain(\n"
        "    Dense(2, 3),                        # 9 parameters\n"
        "    Dense(3, 3),                        # 12 parameters\n"
        "  ),\n"
        "  Dense(3, 1),                          # 4 parameters\n"
        ")                   # Total: 6 arrays, 25 parameters, 100 bytes."
    )


def test_kib_bytes():
    m = Chain(Dense(28 ** 2, 64), Dense(64, 10))   # 50_890 float32 numbers = 203_560 bytes
    assert repr(m).splitlines()[-1].endswith("# Total: 4 arrays, 50_890 parameters, 198.789 KiB.")


def test_non_trainable_counts_in_chain():
    m = Chain(Dense(2, 3), Scale2(3))
    assert repr(m) == (
        "Chain(\n"
        "  Dense(2, 3),                          # 9 parameters\n"
        "  Scale2(3),                            # 3 parameters, plus 3\n"
        ")         # Total: 3 trainable arrays, 12 parameters,\n"
        "          # plus 1 non-trainable, 3 parameters, summarysize 60 bytes."
    )


def test_nn_module_counted():
    s = repr(Chain(Dense(3, 4), nn.Linear(4, 2)))
    assert "# 10 parameters" in s
    assert s.splitlines()[-1].endswith("# Total: 4 arrays, 26 parameters, 104 bytes.")


# ------------------------------------------------------------------ repr is valid Python

def test_repr_evaluates_back():
    models = [
        Dense(10, 5, σ),
        Dense(2, 3, bias=False),
        Chain(Dense(10, 5, σ), Dense(5, 2), softmax),
        Chain(Chain(Dense(2, 3, relu), Dense(3, 3)), Dense(3, 1)),
        Chain(enc=Dense(2, 3, relu), dec=Dense(3, 1)),
        Chain([Dense(2, 3), Dense(3, 1)]),
        compose(Dense(5, 2), Dense(10, 5, σ)),
    ]
    for m in models:
        r = rebuilt(m)
        assert type(r) is type(m), repr(m)
        assert param_shapes(r) == param_shapes(m), repr(m)
    assert rebuilt(Dense(10, 5, σ)).σ is σ
    assert rebuilt(Dense(2, 3, bias=False)).bias is None
    named = rebuilt(Chain(enc=Dense(2, 3, relu), dec=Dense(3, 1)))
    assert list(named.layers) == ["enc", "dec"] and named["enc"].σ is relu
    assert isinstance(rebuilt(Chain([Dense(2, 3), Dense(3, 1)])).layers, list)
    assert rebuilt(Chain(Dense(10, 5, σ), Dense(5, 2), softmax))[2] is softmax
