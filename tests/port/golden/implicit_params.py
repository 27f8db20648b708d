# Translated from implicit_params.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.14 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch.v014 as Flux
from flux_torch.port import runtime as jl

# Flux v0.14's implicit style: params, gradient(() -> ..., ps), Flux.Optimise.update!.
from flux_torch.v014 import *  # using Flux

W = torch.rand(5, 2)
b = torch.rand(2)
def predict(x):
    return jl.mul(W, x) + b
def loss(x, y):
    return jl.sum((predict(x) - y) ** 2)
x, y = torch.rand(5), torch.rand(2)
ps = Flux.params(W, b)
opt = Descent(0.05)
for i in range(1, 31):
    gs = gradient(lambda: loss(x, y), ps)
    Flux.Optimise.update_(opt, ps, gs)
assert loss(x, y) < 1e-2
