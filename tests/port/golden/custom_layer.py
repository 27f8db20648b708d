# Translated from custom_layer.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# A custom layer: struct, outer constructor, call method, @layer, trained in a Chain.
from flux_torch import *  # using Flux

class Affine(jl.Struct):
    W: "Any"
    b: "Any"
@jl.method(jl.Integer, jl.Integer)
def Affine(in_, out):
    return Affine(jl.randn(jl.Float32, out, in_) * 0.1, torch.zeros(out))
@jl.extend(Affine, "__call__")
def Affine__call(m, x):
    return jl.mul(m.W, x) + m.b
Flux.layer(Affine)

model = Chain(Affine(3, 8), lambda x: jl.tanh(x), Affine(8, 1))
xs = torch.randn(100, 3)
ys = jl.sum(xs ** 2, dim=-1)
assert jl.eq(jl.size(model(xs)), (1, 100))
opt_state = Flux.setup(Adam(0.01), model)
def loss(m):
    return Flux.mse(m(xs), ys)
for epoch in range(1, 151):
    g = gradient(loss, model)[0]
    Flux.update_(opt_state, model, g)
jl.println("final loss ", loss(model))
