# Translated from mlp_mnist.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# A multi-layer perceptron on MNIST: DataLoader, withgradient, onecold accuracy.
from flux_torch import *  # using Flux
# using MLDatasets: its names come from flux_torch.port.runtime (jl)
# using Statistics: its names come from flux_torch.port.runtime (jl)
from flux_torch import onehotbatch, onecold, logitcrossentropy

train_data = jl.MLDatasets.MNIST(split="train")
x = train_data.features.reshape(-1, 28 * 28)
y = onehotbatch(train_data.targets, jl.colon(0, 9))
loader = Flux.DataLoader((x, y), batchsize=64, shuffle=True)
model = Chain(Dense(784, 32, relu), Dense(32, 10))
def accuracy(m):
    return jl.mean(jl.dot_eq(jl.onecold(m(x)), jl.onecold(y)))
opt_state = Flux.setup(Adam(1e-3), model)
for epoch in range(1, 4):
    total = 0.0
    for (xb, yb) in loader:
        l, gs = Flux.withgradient(lambda m: logitcrossentropy(m(xb), yb), model)
        Flux.update_(opt_state, model, gs[0])
        total = total + l
    jl.info(f"epoch {epoch}", loss=total / jl.length(loader), acc=accuracy(model))
assert accuracy(model) > 0.5
