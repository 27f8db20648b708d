# A small autoencoder on MNIST digits.
using Flux, MLDatasets

imgs = MLDatasets.MNIST(split=:test).features
x = Flux.flatten(imgs)                         # 784×N
encoder = Chain(Dense(784 => 32, relu), Dense(32 => 8, relu))
decoder = Chain(Dense(8 => 32, relu), Dense(32 => 784, sigmoid))
model = Chain(encoder, decoder)
@assert size(encoder(x)) == (8, size(x, 2))
loss(m, x) = Flux.mse(m(x), x)
opt_state = Flux.setup(Adam(1e-2), model)
loader = Flux.DataLoader(x; batchsize=16, shuffle=true)
for epoch in 1:5
    for batch in loader
        val, grads = Flux.withgradient(m -> loss(m, batch), model)
        Flux.update!(opt_state, model, grads[1])
    end
end
@show loss(model, x)
