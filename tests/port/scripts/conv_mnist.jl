# LeNet-style convolutions on MNIST, trained with Flux.train! (explicit style).
using Flux, MLDatasets
using Flux: onehotbatch, onecold

data = MLDatasets.MNIST(split=:train)
x = reshape(data.features, 28, 28, 1, :)
y = onehotbatch(data.targets, 0:9)
model = Chain(
    Conv((5, 5), 1 => 6, relu; pad=2),
    MaxPool((2, 2)),
    Conv((3, 3), 6 => 8, relu),
    MaxPool((2, 2)),
    Flux.flatten,
    Dense(6 * 6 * 8 => 10),
)
@assert size(model(x[:, :, :, 1:2])) == (10, 2)
@assert Flux.outputsize(model, (28, 28, 1, 7)) == (10, 7)
loader = Flux.DataLoader((x, y); batchsize=64, shuffle=true)
opt_state = Flux.setup(Adam(3e-3), model)
for epoch in 1:2
    Flux.train!((m, a, b) -> Flux.logitcrossentropy(m(a), b), model, loader, opt_state)
end
println("accuracy: ", sum(onecold(model(x)) .== onecold(y)) / size(x, 4))
