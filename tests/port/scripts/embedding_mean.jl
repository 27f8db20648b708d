# Token classification from one-hot words: Dense on onehotbatch, mean over tokens.
using Flux, Statistics
using Flux: onehotbatch

vocab = ["a", "b", "c", "d", "e"]
sentences = [rand(vocab, 6) for _ in 1:40]
label(s) = count(==("a"), s) > 1 ? 1.0f0 : 0.0f0
y = reshape([label(s) for s in sentences], 1, :)
embed = Dense(length(vocab) => 4)
head = Dense(4 => 1)
encode(s) = mean(embed(onehotbatch(s, vocab)); dims=2)
model(ss) = head(reduce(hcat, [encode(s) for s in ss]))
loss() = Flux.logitbinarycrossentropy(model(sentences), y)
ps = Flux.params(embed, head)
opt = Flux.Optimise.Adam(0.05)
for epoch in 1:60
    gs = gradient(loss, ps)
    Flux.Optimise.update!(opt, ps, gs)
end
@show loss()
