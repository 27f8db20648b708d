# A multi-layer perceptron on MNIST: DataLoader, withgradient, onecold accuracy.
using Flux, MLDatasets, Statistics
using Flux: onehotbatch, onecold, logitcrossentropy

train_data = MLDatasets.MNIST(split=:train)
x = reshape(train_data.features, 28 * 28, :)
y = onehotbatch(train_data.targets, 0:9)
loader = Flux.DataLoader((x, y); batchsize=64, shuffle=true)
model = Chain(Dense(784 => 32, relu), Dense(32 => 10))
accuracy(m) = mean(onecold(m(x)) .== onecold(y))
opt_state = Flux.setup(Adam(1e-3), model)
for epoch in 1:3
    total = 0.0
    for (xb, yb) in loader
        l, gs = Flux.withgradient(m -> logitcrossentropy(m(xb), yb), model)
        Flux.update!(opt_state, model, gs[1])
        total += l
    end
    @info "epoch $epoch" loss = total / length(loader) acc = accuracy(model)
end
@assert accuracy(model) > 0.5
