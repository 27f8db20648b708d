# Translated from autoencoder.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# A small autoencoder on MNIST digits.
from flux_torch import *  # using Flux
# using MLDatasets: its names come from flux_torch.port.runtime (jl)

imgs = jl.MLDatasets.MNIST(split="test").features
x = Flux.flatten(imgs)  # 784×N
encoder = Chain(Dense(784, 32, relu), Dense(32, 8, relu))
decoder = Chain(Dense(8, 32, relu), Dense(32, 784, sigmoid))
model = Chain(encoder, decoder)
assert jl.eq(jl.size(encoder(x)), (8, x.shape[-2]))
def loss(m, x):
    return Flux.mse(m(x), x)
opt_state = Flux.setup(Adam(1e-2), model)
loader = Flux.DataLoader(x, batchsize=16, shuffle=True)
for epoch in range(1, 6):
    for batch in loader:
        val, grads = Flux.withgradient(lambda m: loss(m, batch), model)
        Flux.update_(opt_state, model, grads[0])
jl.show_values(("loss(model, x)", loss(model, x)))
