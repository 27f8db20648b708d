# Translated from recurrent_sum.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.14 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch.v014 as Flux
from flux_torch.port import runtime as jl

# A recurrent network reads a sequence step by step (Flux v0.14's Recur and reset!).
from flux_torch.v014 import *  # using Flux

model = Chain(RNN(1, 16, jl.tanh), Dense(16, 1))
def predict(m, seq):
    Flux.reset_(m)
    out = jl.collect([m(x.reshape(-1, 1)) for x in seq])[-1]
    return out
seqs = jl.collect([torch.rand(4) for _ in range(1, 6)])  # 5 steps, a batch of 4
target = jl.sum(seqs).reshape(-1, 1)
def loss(m):
    return Flux.mse(predict(m, seqs), target)
ps = Flux.params(model)
opt = Flux.Optimise.Adam(0.01)
for epoch in range(1, 101):
    gs = gradient(lambda: loss(model), ps)
    Flux.Optimise.update_(opt, ps, gs)
jl.show_values(("loss(model)", loss(model)))
