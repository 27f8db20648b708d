# Julia's numbers and control flow, asserted.
@assert mod(-7, 3) == 2
@assert -7 % 3 == -1
@assert rem(-7, 3) == -1
@assert div(-7, 2) == -3
@assert -7 ÷ 2 == -3
@assert 7 / 2 == 3.5
@assert 2^10 == 1024
@assert round(2.567; digits=2) == 2.57
@assert floor(Int, 2.7) == 2
@assert isapprox(0.1 + 0.2, 0.3)
@assert 0.1 + 0.2 ≈ 0.3
@assert max(3, 7, 5) == 7
@assert string("a", 1, 2.5) == "a12.5"
n = 3
@assert "n is $n, twice $(2n)" == "n is 3, twice 6"
s = 0
for i in 1:10
    global s += i
end
@assert s == 55
function collatz(n)
    steps = 0
    while n != 1
        n = iseven(n) ? n ÷ 2 : 3n + 1
        steps += 1
    end
    steps
end
@assert collatz(6) == 8
function counter()
    count = 0
    bump() = (count += 1)
    bump(); bump()
    count
end
@assert counter() == 2
f(x; k=2) = x * k
@assert f(3) == 6 && f(3; k=3) == 9
g = (a, b) -> a - b
@assert g(5, 3) == 2
@assert map(x -> x^2, [1, 2, 3]) == [1, 4, 9]
total = map([1, 2, 3]) do v
    w = v + 1
    w * 2
end
@assert total == [4, 6, 8]
@assert [x for (i, x) in enumerate([10, 20, 30]) if i > 1] == [20, 30]
d = Dict(:a => 1, :b => 2)
@assert d[:b] == 2
@assert haskey(d, :a)
t = (a = 1, b = 2)
@assert t.b == 2 && t[1] == 1
area(r::Real) = 3r^2
area(w::Real, h::Real) = w * h
@assert area(2) == 12 && area(2, 3) == 6
struct Point
    x
    y
end
Point(v::Vector) = Point(v[1], v[2])
norm1(p::Point) = abs(p.x) + abs(p.y)
@assert norm1(Point(3, -4)) == 7
@assert norm1(Point([1, -2])) == 3
Base.@kwdef mutable struct Config
    lr::Float64 = 0.1
    epochs::Int = 2
end
c = Config(epochs = 5)
@assert c.lr == 0.1 && c.epochs == 5
c.lr = 0.5
@assert c.lr == 0.5
