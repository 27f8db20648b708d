# Flux's semantics on batch-last arrays, asserted (values from Flux's docs and its definitions).
using Flux
@assert onecold([0.1, 0.7, 0.2]) == 2
@assert onecold([0.1 0.9; 0.8 0.05; 0.1 0.05]) == [2, 1]
@assert onecold([0.1, 0.7, 0.2], [:a, :b, :c]) == :b
@assert onehotbatch([:b, :a], [:a, :b, :c]) == [0 1; 1 0; 0 0]
s = softmax([1.0 2.0; 3.0 4.0]; dims=1)
@assert sum(s; dims=1) ≈ [1.0 1.0]
@assert s[1, 1] ≈ exp(1) / (exp(1) + exp(3))
@assert softmax([1.0, 2.0, 3.0])[3] ≈ exp(3) / (exp(1) + exp(2) + exp(3))
m = Dense(3 => 2)
@assert size(m(rand(Float32, 3, 5))) == (2, 5)
@assert size(m.weight) == (2, 3)
x = rand(Float32, 3)
@assert m(x) ≈ m.weight * x .+ m.bias
W = m.weight
@assert m(x) ≈ W * x .+ m.bias
c = Conv((3, 3), 1 => 4; stride=2)
@assert size(c(rand(Float32, 28, 28, 1, 5))) == (13, 13, 4, 5)
k = Conv((5, 3), 2 => 1)
@assert size(k(rand(Float32, 10, 10, 2, 1))) == (6, 8, 1, 1)
@assert size(MaxPool((2, 2))(rand(Float32, 4, 6, 1, 1))) == (2, 3, 1, 1)
@assert Flux.outputsize(Chain(Conv((3, 3), 1 => 2), Flux.flatten), (28, 28, 1, 1)) == (1352, 1)
@assert size(Flux.flatten(rand(Float32, 2, 3, 4))) == (6, 4)
@assert Flux.mse([1.0, 2.0], [1.0, 4.0]) ≈ 2.0
e = Embedding(4 => 3)
@assert size(e.weight) == (3, 4)
@assert e(2) == e.weight[:, 2]                     # token ids count from 1
@assert size(e([1, 4, 4])) == (3, 3)
@assert e([1, 4])[:, 2] == e.weight[:, 4]
model = Chain(Dense(2 => 8, relu), Dense(8 => 1))
xs = rand(Float32, 2, 64)
ys = sum(xs; dims=1)
opt_state = Flux.setup(Adam(0.01), model)
loss(m) = Flux.mse(m(xs), ys)
before = loss(model)
for step in 1:100
    g = gradient(loss, model)[1]
    Flux.update!(opt_state, model, g)
end
@assert loss(model) < before / 2
