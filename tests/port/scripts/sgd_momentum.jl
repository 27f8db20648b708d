# Rosenbrock-like fitting with Momentum and a schedule of learning rates (adjust!).
using Flux

p = [0.0, 0.0]
f(p) = (1 - p[1])^2 + 10 * (p[2] - p[1]^2)^2
state = Flux.setup(Momentum(0.001, 0.9), p)
history = Float64[]
for step in 1:400
    g = gradient(f, p)[1]
    Flux.update!(state, p, g)
    step == 200 && Flux.adjust!(state, 0.0005)
    push!(history, f(p))
end
@show f(p)
@assert history[end] < history[1]
