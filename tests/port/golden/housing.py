# Translated from housing.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# Linear regression on the housing data by hand: W .-= η .* gradient.
from flux_torch import *  # using Flux
# using DelimitedFiles: its names come from flux_torch.port.runtime (jl)
# using Statistics: its names come from flux_torch.port.runtime (jl)

raw = jl.adjoint(jl.readdlm("housing.data"))  # 14×N after the transpose
x = raw[:, :13]
y = raw[:, 13:14]
x = (x - jl.mean(x, dim=-2)) / jl.std(x, dim=-2)
W = torch.zeros(13, 1, dtype=torch.float64)
b = jl.vect(0.0)
def predict(x):
    return jl.mul(W, x) + b
def loss(x, y):
    return jl.mean((predict(x) - y) ** 2)
η = 0.1
for i in range(1, 101):
    gW, gb = gradient(lambda W, b: jl.mean((jl.mul(W, x) + b - y) ** 2), W, b)
    W -= η * gW
    b -= η * gb
jl.show_values(("loss(x, y)", loss(x, y)))
