"""Rule tests: a Julia snippet and the Python the translator must write for it (one per rule)."""
import pytest

pytest.importorskip("tree_sitter_julia")

from flux_torch.port import expression, translate  # noqa: E402
from flux_torch.port.context import Context  # noqa: E402

V014 = Context(flux="0.14").flux_module       # flux_torch.v014 once installed, else flux_torch

EXPRESSIONS = [
    # indexing: reversed dims, 1-based, `end`, ranges
    ("x[1, 2:end]", "x[1:, 0]"),
    ("x[:, end]", "x[-1, :]"),
    ("x[2:end-1]", "x[1:-1]"),
    ("x[end]", "x[-1]"),
    ("x[i, j]", "jl.getindex(x, i, j)"),
    ("x[:, i]", "x[jl.ix(i), :]"),
    ("gs[m.weight]", "jl.getindex(gs, m.weight)"),
    # dims and shapes
    ("sum(x; dims=2)", "jl.sum(x, dim=-2)"),
    ("softmax(x; dims=1)", "softmax(x, dim=-1)"),
    ("mean(x; dims=1)", "jl.mean(x, dim=-1)"),
    ("Dropout(0.5; dims=3)", "Dropout(0.5, dim=-3)"),
    ("size(x, 2)", "x.shape[-2]"),
    ("size(x)", "jl.size(x)"),
    ("reshape(x, 28^2, :)", "x.reshape(-1, 28 ** 2)"),
    ("vec(x)", "jl.vec(x)"),
    ("rand(Float32, 3, 4)", "torch.rand(4, 3)"),
    ("zeros(2, 3)", "torch.zeros(3, 2, dtype=torch.float64)"),
    ("outputsize(m, (28, 28, 1, 32))", "jl.rev(outputsize(m, (32, 1, 28, 28)))"),
    # operators
    ("x .+ y .* 2", "x + y * 2"),
    ("x .^ 2", "x ** 2"),
    ("3x^2", "3 * x ** 2"),
    ("A * B", "jl.mul(A, B)"),
    ("2 * x", "2 * x"),
    ("a == b", "jl.eq(a, b)"),
    ("x == 1", "x == 1"),
    ("a % b", "jl.rem(a, b)"),
    ("a ÷ b", "jl.div(a, b)"),
    ("a ≈ b", "jl.isapprox(a, b)"),
    ("x'", "jl.adjoint(x)"),
    ("f ∘ g", "jl.compose(f, g)"),
    ("x |> f", "f(x)"),
    ("cond ? a : b", "a if cond else b"),
    # broadcasting calls
    ("f.(x)", "jl.broadcast(f, x)"),
    ("relu.(x)", "relu(x)"),
    ("exp.(x)", "jl.exp(x)"),
    ("Float32.(x)", "jl.Float32(x)"),
    # literals
    ("[1, 2, 3]", "jl.vect(1, 2, 3)"),
    ("[1 2; 3 4]", "jl.hvcat((1, 2), (3, 4))"),
    ("[f(v) for v in xs]", "jl.collect([f(v) for v in xs])"),
    ("1:n", "jl.colon(1, n)"),
    ("nothing", "None"),
    ("(a = 1, b = 2)", "jl.NamedTuple(a=1, b=2)"),
    (":sym", '"sym"'),
    ('"loss = $(l) at $i"', 'f"loss = {l} at {i}"'),
    ("1f-3", "1e-3"),
    # lambdas
    ("x -> x^2", "lambda x: x ** 2"),
    ("(a, b) -> a + b", "lambda a, b: a + b"),
    # Flux's layers: pairs, reversed kernels and windows, user init functions
    ("Dense(2 => 3, relu)", "Dense(2, 3, relu)"),
    ("Conv((5, 3), 1 => 8, relu; stride=(2, 1), pad=(1, 2))",
     "Conv((3, 5), 1, 8, relu, stride=(1, 2), pad=(2, 1))"),
    ("MaxPool((2, 3))", "MaxPool((3, 2))"),
    ("Embedding(100 => 8)", "jl.one_based(Embedding(100, 8))"),
    ("LSTM(3 => 5)", "LSTM(3, 5)"),
    ("Upsample(:nearest; scale=(2, 3))", 'Upsample("nearest", scale=(3, 2))'),
    ("Dense(2 => 3; init=Flux.glorot_uniform(gain=2))", "Dense(2, 3, init=Flux.glorot_uniform(gain=2))"),
    ("m.weight * x", 'jl.mul(jl.julia_layout(m, "weight"), x)'),
    # Flux's functions: f! is f_, qualified names resolve, onecold keeps Julia's values
    ("Flux.train!(loss, ps, data, opt)", "Flux.train_(loss, ps, data, opt)"),
    ("Flux.update!(opt_state, model, g)", "Flux.update_(opt_state, model, g)"),
    ("Flux.Losses.mse(a, b)", "Flux.Losses.mse(a, b)"),
    ("Flux.params(m)", "Flux.params(m)"),
    ("onecold(y)", "jl.onecold(y)"),
    # Base and the package tables
    ("length(xs)", "jl.length(xs)"),
    ("push!(xs, 1)", "jl.push_(xs, 1)"),
    ("Random.seed!(1)", "jl.seed_(1)"),
    ("CUDA.functional()", "torch.cuda.is_available()"),
    ("Statistics.std(x)", "jl.std(x)"),
]


@pytest.mark.parametrize("julia, python", EXPRESSIONS)
def test_expression_rule(julia, python):
    assert expression(julia) == python


STATEMENTS = [
    # assignments: Julia rebinds with +=, .= and .+= change in place
    ("x = 1\nx += 2", "x = 1\nx = x + 2"),
    ("x = zeros(3)\nx .= 1", "x = torch.zeros(3, dtype=torch.float64)\nx[...] = 1"),
    ("x = zeros(3)\nx .+= 1", "x = torch.zeros(3, dtype=torch.float64)\nx += 1"),
    ("x = zeros(2, 2)\nx[1, 2] = 5", "x = torch.zeros(2, 2, dtype=torch.float64)\nx[1, 0] = 5"),
    # functions: last value returned, keywords after ;, defaults evaluated per call
    ("f(x; k=2) = x .* k", "def f(x, *, k=2):\n    return x * k"),
    ("function g(a, b=zeros(2))\n  a + b\nend",
     "def g(a, b=None):\n    b = torch.zeros(2, dtype=torch.float64) if b is None else b\n    return a + b"),
    # do blocks of one expression become lambdas, longer ones a def before the call
    ("xs = [1]\nys = map(xs) do v\n  v + 1\nend", "xs = jl.vect(1)\nys = jl.map(lambda v: v + 1, xs)"),
    ("xs = [1]\nys = map(xs) do v\n  w = v + 1\n  w * 2\nend",
     "xs = jl.vect(1)\ndef _do1(v):\n    w = v + 1\n    return w * 2\nys = jl.map(_do1, xs)"),
    # loops
    ("for i in 1:3\n  println(i)\nend", "for i in range(1, 4):\n    jl.println(i)"),
    ("xs = []\nfor (i, x) in enumerate(xs)\nend", "xs = []\nfor (i, x) in jl.enumerate(xs):\n    pass"),
    # scopes: `global` at top level is dropped, inside a function it is declared first
    ("s = 0\nfor i in 1:3\n  global s += i\nend", "s = 0\nfor i in range(1, 4):\n    s = s + i"),
    ("c = 0\nfunction bump()\n  c + 1\n  global c = 2\nend",
     "c = 0\ndef bump():\n    global c\n    c + 1\n    c = 2\n    return c"),
    ("function outer()\n  n = 0\n  inner() = (n += 1)\n  inner()\n  n\nend",
     "def outer():\n    n = 0\n    def inner():\n        nonlocal n\n        n = n + 1\n        return n\n"
     "    inner()\n    return n"),
    # structs, call methods, functor, outer constructors
    ("struct Affine\n  W\n  b\nend", 'class Affine(jl.Struct):\n    W: "Any"\n    b: "Any"'),
    ("struct A\n  W\nend\n(m::A)(x) = m.W * x",
     'class A(jl.Struct):\n    W: "Any"\n@jl.extend(A, "__call__")\ndef A__call(m, x):\n    return jl.mul(m.W, x)'),
    ("struct A\n  W\nend\nA(n::Integer) = A(zeros(n))",
     'class A(jl.Struct):\n    W: "Any"\n@jl.method(jl.Integer)\ndef A(n):\n'
     '    return A(torch.zeros(n, dtype=torch.float64))'),
    ("using Flux\nstruct A\n  W\nend\nFlux.@functor A", 'from flux_torch import *  # using Flux\n'
     'class A(jl.Struct):\n    W: "Any"\nFlux.functor(A)'),
    # a function of the script given as init= receives Julia's sizes
    ("using Flux\nmyinit(dims...) = zeros(Float32, dims...)\nm = Dense(10, 5; init=myinit)",
     'from flux_torch import *  # using Flux\ndef myinit(*dims):\n    return jl.zeros(jl.Float32, *dims)\n'
     'm = Dense(10, 5, init=jl.julia_init(myinit, "Dense"))'),
    # macros
    ('x = 1\n@show x', 'x = 1\njl.show_values(("x", x))'),
    ('l = 1\n@info "epoch" l', 'l = 1\njl.info("epoch", l=l)'),
    ('x = 1.5\n@printf("%.2f\\n", x)', 'x = 1.5\njl.printf("%.2f\\n", x)'),
    ("using Flux\n@epochs 2 println(1)", f"from {V014} import *  # using Flux\nfor _ in range(2):\n    jl.println(1)"),
    ("using Flux\nm = @autosize (28, 28, 1, 32) Chain(Conv((3, 3), _ => 5), Flux.flatten, Dense(_ => 10))",
     "from flux_torch import *  # using Flux\nm = Flux.autosize((32, 1, 28, 28), lambda _: Conv((3, 3), _, 5), "
     "Flux.flatten, lambda _: Dense(_, 10))"),
    ('x = 1.5\ns = @sprintf("%.1f", x)', 'x = 1.5\ns = jl.sprintf("%.1f", x)'),
    ("xs = []\nfor x in xs\n  @time x\nend", "xs = []\nfor x in xs:\n    x"),
    # imports
    ("using Flux: onehotbatch, onecold", "from flux_torch import onehotbatch, onecold"),
    ("using Statistics", "# using Statistics: its names come from flux_torch.port.runtime (jl)"),
    ('include("utils.jl")', 'jl.include("utils.jl", globals())'),
    # statements that cannot be translated are kept as Julia under a TODO
    ("using Plots\nplot(1:10)",
     "# TODO(port): Plots: plotting is left to a person (matplotlib is the usual choice)\n#   using Plots\n"
     "# TODO(port): plot is not defined in this script, in flux_torch or in Base; it may come from Plots\n"
     "#   plot(1:10)"),
]


@pytest.mark.parametrize("julia, python", STATEMENTS)
def test_statement_rule(julia, python):
    assert translate(julia).body == python


def test_version_is_chosen_from_the_idioms():
    assert translate("using Flux\nFlux.reset!(m)").flux == "0.14"
    assert translate("using Flux\nm = Dense(2 => 3)").flux == "0.16"
    assert translate("using Flux", flux="0.14").flux == "0.14"


def test_unknown_flux_name_is_marked_with_the_version_that_had_it():
    body = translate("using Flux\nx = Flux.Tracker.data(y)").body.splitlines()
    assert body[1] == f"# TODO(port): Flux.Tracker.data is not in {V014} (Flux ≤ v0.9 (Tracker) had it)"
    body = translate("using Flux\nx = Flux.data(y)", flux="0.14").body.splitlines()
    assert body[1] == f"# TODO(port): Flux.data is not in {V014} (Flux ≤ v0.9 (Tracker) had it)"


def test_epoch_override_caps_epoch_loops_only():
    body = translate("for epoch in 1:100\nend\nfor i in 1:100\nend", epochs=2).body
    assert "for epoch in jl.take(range(1, 101), 2):" in body
    assert "for i in range(1, 101):" in body
