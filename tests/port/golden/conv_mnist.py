# Translated from conv_mnist.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# LeNet-style convolutions on MNIST, trained with Flux.train! (explicit style).
from flux_torch import *  # using Flux
# using MLDatasets: its names come from flux_torch.port.runtime (jl)
from flux_torch import onehotbatch, onecold

data = jl.MLDatasets.MNIST(split="train")
x = data.features.reshape(-1, 1, 28, 28)
y = onehotbatch(data.targets, jl.colon(0, 9))
model = Chain(
    Conv((5, 5), 1, 6, relu, pad=2),
    MaxPool((2, 2)),
    Conv((3, 3), 6, 8, relu),
    MaxPool((2, 2)),
    Flux.flatten,
    Dense(6 * 6 * 8, 10),
)
assert jl.eq(jl.size(model(x[:2, :, :, :])), (10, 2))
assert jl.eq(jl.rev(Flux.outputsize(model, (7, 1, 28, 28))), (10, 7))
loader = Flux.DataLoader((x, y), batchsize=64, shuffle=True)
opt_state = Flux.setup(Adam(3e-3), model)
for epoch in range(1, 3):
    Flux.train_(lambda m, a, b: Flux.logitcrossentropy(m(a), b), model, loader, opt_state)
jl.println("accuracy: ", jl.sum(jl.dot_eq(jl.onecold(model(x)), jl.onecold(y))) / x.shape[-4])
