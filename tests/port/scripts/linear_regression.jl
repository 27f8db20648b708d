# Fit y = 2x - 1 with one Dense layer (explicit style: setup, gradient, update!).
using Flux, Statistics

x = hcat(collect(Float32, -3:0.5f0:3)...)      # 1×13
y = 2f0 .* x .- 1f0
model = Dense(1 => 1)
loss(m, x, y) = mean(abs2.(m(x) .- y))
opt_state = Flux.setup(Descent(0.05), model)
for epoch in 1:200
    grads = gradient(m -> loss(m, x, y), model)
    Flux.update!(opt_state, model, grads[1])
end
@show loss(model, x, y)
@assert size(model.weight) == (1, 1)
@assert isapprox(model.weight[1], 2.0; atol=0.1)
