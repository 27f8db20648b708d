# Translated from fizzbuzz.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# FizzBuzz as classification: features from divisibility, labels one-hot.
from flux_torch import *  # using Flux
from flux_torch import onehotbatch, onecold, logitcrossentropy

def fizzbuzz(x):
    if jl.rem(x, 15) == 0:
        return "fizzbuzz"
    elif jl.rem(x, 5) == 0:
        return "buzz"
    elif jl.rem(x, 3) == 0:
        return "fizz"
    else:
        return "else"
LABELS = ("fizz", "buzz", "fizzbuzz", "else")
def features(x):
    return jl.float(jl.vect(jl.rem(x, 3), jl.rem(x, 5), jl.rem(x, 15)))
assert jl.eq(jl.broadcast(fizzbuzz, (3, 5, 15, 98)), LABELS)
raw_x = jl.colon(1, 100)
X = jl.reduce(jl.hcat, jl.broadcast(features, raw_x))
Y = onehotbatch(jl.broadcast(fizzbuzz, raw_x), LABELS)
model = Chain(Dense(3, 16, relu), Dense(16, 4))
opt_state = Flux.setup(Adam(0.02), model)
for epoch in range(1, 201):
    Flux.train_(lambda m, x, y: logitcrossentropy(m(x), y), model, jl.vect((X, Y)), opt_state)
def predicted(x):
    return jl.getindex(LABELS, jl.argmax(model(features(x))))
jl.println(jl.join(jl.broadcast(predicted, jl.colon(1, 15)), " "))
