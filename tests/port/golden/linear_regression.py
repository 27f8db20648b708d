# Translated from linear_regression.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# Fit y = 2x - 1 with one Dense layer (explicit style: setup, gradient, update!).
from flux_torch import *  # using Flux
# using Statistics: its names come from flux_torch.port.runtime (jl)

x = jl.hcat(*jl.collect(jl.Float32, jl.colon(-3, 0.5, 3)))  # 1×13
y = 2.0 * x - 1.0
model = Dense(1, 1)
def loss(m, x, y):
    return jl.mean(jl.abs2(m(x) - y))
opt_state = Flux.setup(Descent(0.05), model)
for epoch in range(1, 201):
    grads = gradient(lambda m: loss(m, x, y), model)
    Flux.update_(opt_state, model, grads[0])
jl.show_values(("loss(model, x, y)", loss(model, x, y)))
assert jl.eq(jl.size(jl.julia_layout(model, "weight")), (1, 1))
assert jl.isapprox(jl.julia_layout(model, "weight")[0], 2.0, atol=0.1)
