# A recurrent network reads a sequence step by step (Flux v0.14's Recur and reset!).
using Flux

model = Chain(RNN(1 => 16, tanh), Dense(16 => 1))
function predict(m, seq)
    Flux.reset!(m)
    out = [m(reshape(x, 1, :)) for x in seq][end]
    return out
end
seqs = [rand(Float32, 4) for _ in 1:5]          # 5 steps, a batch of 4
target = reshape(sum(seqs), 1, :)
loss(m) = Flux.mse(predict(m, seqs), target)
ps = Flux.params(model)
opt = Flux.Optimise.Adam(0.01)
for epoch in 1:100
    gs = gradient(() -> loss(model), ps)
    Flux.Optimise.update!(opt, ps, gs)
end
@show loss(model)
