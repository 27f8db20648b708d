# Translated from sgd_momentum.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# Rosenbrock-like fitting with Momentum and a schedule of learning rates (adjust!).
from flux_torch import *  # using Flux

p = jl.vect(0.0, 0.0)
def f(p):
    return (1 - p[0]) ** 2 + 10 * (p[1] - p[0] ** 2) ** 2
state = Flux.setup(Momentum(0.001, 0.9), p)
history = jl.typed_vect(jl.Float64)
for step in range(1, 401):
    g = gradient(f, p)[0]
    Flux.update_(state, p, g)
    step == 200 and Flux.adjust_(state, 0.0005)
    jl.push_(history, f(p))
jl.show_values(("f(p)", f(p)))
assert history[-1] < history[0]
