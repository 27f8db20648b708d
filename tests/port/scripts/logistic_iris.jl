# Logistic regression on Iris with labels one-hot encoded from strings.
using Flux, MLDatasets, Statistics
using Flux: onehotbatch, onecold, crossentropy

iris = MLDatasets.Iris(as_df=false)
x = Float32.(iris.features)                    # 4×150
labels = vec(iris.targets)
classes = sort(unique(labels))
y = onehotbatch(labels, classes)
x = Flux.normalise(x; dims=2)
model = Chain(Dense(4 => 3), softmax)
loss(m, x, y) = crossentropy(m(x), y)
opt_state = Flux.setup(Descent(0.5), model)
data = [(x, y)]
for epoch in 1:100
    Flux.train!(loss, model, data, opt_state)
end
acc = mean(onecold(model(x), classes) .== labels)
println("accuracy = ", round(acc; digits=3))
@assert acc > 0.8
