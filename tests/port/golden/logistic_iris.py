# Translated from logistic_iris.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.16 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch as Flux
from flux_torch.port import runtime as jl

# Logistic regression on Iris with labels one-hot encoded from strings.
from flux_torch import *  # using Flux
# using MLDatasets: its names come from flux_torch.port.runtime (jl)
# using Statistics: its names come from flux_torch.port.runtime (jl)
from flux_torch import onehotbatch, onecold, crossentropy

iris = jl.MLDatasets.Iris(as_df=False)
x = jl.Float32(iris.features)  # 4×150
labels = jl.vec(iris.targets)
classes = jl.sort(jl.unique(labels))
y = onehotbatch(labels, classes)
x = Flux.normalise(x, dim=-2)
model = Chain(Dense(4, 3), softmax)
def loss(m, x, y):
    return crossentropy(m(x), y)
opt_state = Flux.setup(Descent(0.5), model)
data = jl.vect((x, y))
for epoch in range(1, 101):
    Flux.train_(loss, model, data, opt_state)
acc = jl.mean(jl.dot_eq(jl.onecold(model(x), classes), labels))
jl.println("accuracy = ", jl.round(acc, digits=3))
assert acc > 0.8
