# A custom layer: struct, outer constructor, call method, @layer, trained in a Chain.
using Flux

struct Affine
    W
    b
end
Affine(in::Integer, out::Integer) = Affine(randn(Float32, out, in) .* 0.1f0, zeros(Float32, out))
(m::Affine)(x) = m.W * x .+ m.b
Flux.@layer Affine

model = Chain(Affine(3, 8), x -> tanh.(x), Affine(8, 1))
xs = randn(Float32, 3, 100)
ys = sum(xs .^ 2; dims=1)
@assert size(model(xs)) == (1, 100)
opt_state = Flux.setup(Adam(0.01), model)
loss(m) = Flux.mse(m(xs), ys)
for epoch in 1:150
    g = gradient(loss, model)[1]
    Flux.update!(opt_state, model, g)
end
println("final loss ", loss(model))
