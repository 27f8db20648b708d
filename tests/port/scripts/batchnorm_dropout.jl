# BatchNorm and Dropout are active only while training, as Flux decides automatically.
using Flux, Statistics

n = 256
x = randn(Float32, 2, n)
y = Flux.onehotbatch(x[1, :] .* x[2, :] .> 0, [false, true])
model = Chain(Dense(2 => 16), BatchNorm(16, relu), Dropout(0.1), Dense(16 => 2))
opt_state = Flux.setup(Adam(0.01), model)
loader = Flux.DataLoader((x, y); batchsize=32, shuffle=true)
for epoch in 1:10
    for (a, b) in loader
        g = gradient(m -> Flux.logitcrossentropy(m(a), b), model)[1]
        Flux.update!(opt_state, model, g)
    end
end
Flux.testmode!(model)
acc = mean(Flux.onecold(model(x)) .== Flux.onecold(y))
println("accuracy ", acc)
@assert acc > 0.7
