# Flux v0.14's implicit style: params, gradient(() -> ..., ps), Flux.Optimise.update!.
using Flux

W = rand(Float32, 2, 5)
b = rand(Float32, 2)
predict(x) = W * x .+ b
loss(x, y) = sum((predict(x) .- y) .^ 2)
x, y = rand(Float32, 5), rand(Float32, 2)
ps = Flux.params(W, b)
opt = Descent(0.05)
for i in 1:30
    gs = gradient(() -> loss(x, y), ps)
    Flux.Optimise.update!(opt, ps, gs)
end
@assert loss(x, y) < 1e-2
