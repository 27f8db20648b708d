# Translated from batchnorm_dropout.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# BatchNorm and Dropout are active only while training, as Flux decides automatically.
from flux_torch import *  # using Flux
# using Statistics: its names come from flux_torch.port.runtime (jl)

n = 256
x = torch.randn(n, 2)
y = Flux.onehotbatch(x[:, 0] * x[:, 1] > 0, jl.vect(False, True))
model = Chain(Dense(2, 16), BatchNorm(16, relu), Dropout(0.1), Dense(16, 2))
opt_state = Flux.setup(Adam(0.01), model)
loader = Flux.DataLoader((x, y), batchsize=32, shuffle=True)
for epoch in range(1, 11):
    for (a, b) in loader:
        g = gradient(lambda m: Flux.logitcrossentropy(m(a), b), model)[0]
        Flux.update_(opt_state, model, g)
Flux.testmode_(model)
acc = jl.mean(jl.dot_eq(jl.onecold(model(x)), jl.onecold(y)))
jl.println("accuracy ", acc)
assert acc > 0.7
