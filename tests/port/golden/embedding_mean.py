# Translated from embedding_mean.jl by `python -m flux_torch.port` (flux_torch 0.1.0,
# Flux v0.14 semantics). Arrays keep Julia's values with every shape reversed
# (batch first); `jl` holds the Julia semantics that depend on run-time types.
# Lines marked TODO(port) keep Julia code that was not translated.
import torch
import flux_torch.v014 as Flux
from flux_torch.port import runtime as jl

# Token classification from one-hot words: Dense on onehotbatch, mean over tokens.
from flux_torch.v014 import *  # using Flux
# using Statistics: its names come from flux_torch.port.runtime (jl)
from flux_torch.v014 import onehotbatch

vocab = jl.vect("a", "b", "c", "d", "e")
sentences = jl.collect([jl.rand(vocab, 6) for _ in range(1, 41)])
def label(s):
    return 1.0 if jl.count(jl.eq("a"), s) > 1 else 0.0
y = jl.collect([label(s) for s in sentences]).reshape(-1, 1)
embed = Dense(jl.length(vocab), 4)
head = Dense(4, 1)
def encode(s):
    return jl.mean(embed(onehotbatch(s, vocab)), dim=-2)
def model(ss):
    return head(jl.reduce(jl.hcat, jl.collect([encode(s) for s in ss])))
def loss():
    return Flux.logitbinarycrossentropy(model(sentences), y)
ps = Flux.params(embed, head)
opt = Flux.Optimise.Adam(0.05)
for epoch in range(1, 61):
    gs = gradient(loss, ps)
    Flux.Optimise.update_(opt, ps, gs)
jl.show_values(("loss()", loss()))
