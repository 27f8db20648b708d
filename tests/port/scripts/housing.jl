# Linear regression on the housing data by hand: W .-= η .* gradient.
using Flux, DelimitedFiles, Statistics

raw = readdlm("housing.data")'                 # 14×N after the transpose
x = raw[1:13, :]
y = raw[14:14, :]
x = (x .- mean(x; dims=2)) ./ std(x; dims=2)
W = zeros(1, 13)
b = [0.0]
predict(x) = W * x .+ b
loss(x, y) = mean((predict(x) .- y) .^ 2)
η = 0.1
for i in 1:100
    gW, gb = gradient((W, b) -> mean(((W * x .+ b) .- y) .^ 2), W, b)
    W .-= η .* gW
    b .-= η .* gb
end
@show loss(x, y)
