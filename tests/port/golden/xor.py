# Translated from xor.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# The XOR problem: a two-layer network, binary cross-entropy, Flux.train! over epochs.
from flux_torch import *  # using Flux

x = jl.typed_array(jl.Float32, jl.hvcat((0, 0, 1, 1), (0, 1, 0, 1)))
y = jl.typed_array(jl.Float32, jl.hcat(0, 1, 1, 0))
model = Chain(Dense(2, 8, jl.tanh), Dense(8, 1, σ))
def loss(m, x, y):
    return Flux.binarycrossentropy(m(x), y)
opt_state = Flux.setup(Adam(0.05), model)
for epoch in range(1, 301):
    Flux.train_(loss, model, jl.vect((x, y)), opt_state)
predictions = model(x) > 0.5
jl.show_values(("predictions", predictions))
assert loss(model, x, y) < 0.2
