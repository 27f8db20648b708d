# Julia's array semantics, asserted. Each @assert holds in Julia; the test translates
# this file and runs it, so the translation must keep Julia's meaning.
x = [1 2 3; 4 5 6]                       # a 2×3 matrix
@assert size(x) == (2, 3)
@assert size(x, 1) == 2 && size(x, 2) == 3
@assert length(x) == 6
@assert x[2, 1] == 4
@assert x[1, end] == 3
@assert x[end, end-1] == 5
@assert x[1, 2:end] == [2, 3]
@assert x[:, 2] == [2, 5]
k = 5
@assert x[k] == 3                        # linear indexing is column-major
@assert x[[1, 2], [1, 3]] == [1 3; 4 6]
@assert vec(x) == [1, 4, 2, 5, 3, 6]
@assert reshape(1:6, 2, 3) == [1 3 5; 2 4 6]
@assert reshape(x, 3, 2) == [1 5; 4 3; 2 6]
@assert reshape(x, :, 1) == reshape([1, 4, 2, 5, 3, 6], 6, 1)
@assert permutedims(x) == [1 4; 2 5; 3 6]
@assert x' == [1 4; 2 5; 3 6]
@assert permutedims(reshape(1:24, 2, 3, 4), (3, 1, 2))[4, 2, 3] == reshape(1:24, 2, 3, 4)[2, 3, 4]
@assert hcat([1, 2], [3, 4]) == [1 3; 2 4]
@assert vcat([1, 2], [3]) == [1, 2, 3]
@assert vcat(x, [7 8 9]) == [1 2 3; 4 5 6; 7 8 9]
@assert cat([1 2], [3 4]; dims=3)[1, 2, 2] == 4
@assert sum(x) == 21
@assert sum(x; dims=1) == [5 7 9]
@assert sum(x; dims=2) == reshape([6, 15], 2, 1)
@assert maximum(x; dims=2) == reshape([3, 6], 2, 1)
@assert minimum(x) == 1
@assert x * [1, 0, 1] == [4, 10]
@assert [1 2; 3 4] * [0 1; 1 0] == [2 1; 4 3]
v = [1, 2, 3]
@assert v' * v == 14
@assert v * v' == [1 2 3; 2 4 6; 3 6 9]
@assert [i * 10 + j for i in 1:2, j in 1:3] == [11 12 13; 21 22 23]
@assert [i^2 for i in 1:4 if iseven(i)] == [4, 16]
@assert findall(v .> 1) == [2, 3]
@assert argmax([3, 9, 2]) == 2
@assert sort([3, 1, 2]) == [1, 2, 3]
@assert reverse([1, 2, 3]) == [3, 2, 1]
@assert cumsum([1, 2, 3]) == [1, 3, 6]
r = 2:2:10
@assert length(r) == 5
@assert r[2] == 4
@assert collect(r) == [2, 4, 6, 8, 10]
@assert sum(1:10) == 55
y = zeros(2, 3)
y[2, 3] = 7
@assert y[2, 3] == 7 && sum(y) == 7
y[:, 1] .= 1
@assert sum(y) == 9
y[1, :] = [5, 6, 7]
@assert y == [5 6 7; 1 0 7]
