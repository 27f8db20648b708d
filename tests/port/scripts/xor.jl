# The XOR problem: a two-layer network, binary cross-entropy, Flux.train! over epochs.
using Flux

x = Float32[0 0 1 1; 0 1 0 1]
y = Float32[0 1 1 0]
model = Chain(Dense(2 => 8, tanh), Dense(8 => 1, σ))
loss(m, x, y) = Flux.binarycrossentropy(m(x), y)
opt_state = Flux.setup(Adam(0.05), model)
for epoch in 1:300
    Flux.train!(loss, model, [(x, y)], opt_state)
end
predictions = model(x) .> 0.5
@show predictions
@assert loss(model, x, y) < 0.2
