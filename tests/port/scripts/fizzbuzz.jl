# FizzBuzz as classification: features from divisibility, labels one-hot.
using Flux
using Flux: onehotbatch, onecold, logitcrossentropy

function fizzbuzz(x::Int)
    if x % 15 == 0
        return "fizzbuzz"
    elseif x % 5 == 0
        return "buzz"
    elseif x % 3 == 0
        return "fizz"
    else
        return "else"
    end
end
const LABELS = ("fizz", "buzz", "fizzbuzz", "else")
features(x) = float.([x % 3, x % 5, x % 15])
@assert fizzbuzz.((3, 5, 15, 98)) == LABELS
raw_x = 1:100
X = reduce(hcat, features.(raw_x))
Y = onehotbatch(fizzbuzz.(raw_x), LABELS)
model = Chain(Dense(3 => 16, relu), Dense(16 => 4))
opt_state = Flux.setup(Adam(0.02), model)
for epoch in 1:200
    Flux.train!((m, x, y) -> logitcrossentropy(m(x), y), model, [(X, Y)], opt_state)
end
predicted(x) = LABELS[argmax(model(features(x)))]
println(join(predicted.(1:15), " "))
