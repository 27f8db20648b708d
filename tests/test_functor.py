"""The one traversal (functor / fmap / fleaves / fcollect / modules) against Functors.jl's
test/basics.jl and Flux's `modules` docstring and tests, plus the torch pytree interop of SPEC §4
(torch.func.grad / vmap / torch.compile on a Chain of Dense, checked against torch.autograd)."""
from collections import namedtuple
import dataclasses

import pytest
import torch
from torch import nn

from flux_torch import (Chain, Dense, children, fcollect, fleaves, fmap, fmapstructure, functor,
                        gradient, isleaf, layer, modules, params, relu, trainable)
from flux_torch.functors import DefaultWalk, DefaultWalkWithPath, leaf


def double(x):
    return x * 2 if isinstance(x, (int, float, torch.Tensor)) else x


def to64(x):
    return x.double() if isinstance(x, torch.Tensor) else x


@functor
class Foo:
    def __init__(self, x, y):
        self.x, self.y = x, y


@functor("y")
class OneChild3:                     # Functors: @functor OneChild3 (y,)
    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z


@functor("z", "x")
class WrongOrder:                    # Functors: @functor WrongOrder (z, x)
    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z


class NoChildren2:                   # not opted in: walked anyway (Functors v0.5)
    def __init__(self, x, y):
        self.x, self.y = x, y


@leaf
class Opaque:                        # Functors.@leaf
    def __init__(self, x, y):
        self.x, self.y = x, y


# ------------------------------------------------------------------ Functors.jl basics

def test_children_and_leaves():
    plain, has_children = NoChildren2(1, 2), Foo(1, 2)
    assert children(plain) == {"x": 1, "y": 2} and not isleaf(plain)
    assert children(Opaque(1, 2)) == {} and isleaf(Opaque(1, 2))
    assert children(has_children) == {"x": 1, "y": 2}
    assert list(children(Foo(3, 4))) == ["x", "y"]              # definition order


def test_nested_fmap():
    model = Foo(Foo(1, torch.tensor([1, 2, 3])), 5)
    out = fmap(lambda t: t.double() if isinstance(t, torch.Tensor) else t, model)
    assert type(out) is Foo and type(out.x) is Foo
    assert out.x.y.dtype == torch.float64 and torch.equal(out.x.y, model.x.y.double())
    assert model.x.y.dtype == torch.int64                       # original untouched


def test_exclude():
    f = lambda x: "z" if isinstance(x, str) else x
    x = ["a", "b", "c"]
    assert fmap(f, x) == ["z", "z", "z"]
    assert fmap(f, x, exclude=lambda v: isinstance(v, list)) == x
    x = (["a", "b", "c"], ["d", "e", "f"])
    assert fmap(f, x) == (["z", "z", "z"], ["z", "z", "z"])
    assert fmap(f, x, exclude=lambda v: isinstance(v, list)) == x


def test_field_subset():
    m = fmap(double, OneChild3(1, 2, 3))
    assert (m.x, m.y, m.z) == (1, 4, 3)
    m = fmap(double, WrongOrder(1, 2, 3))
    assert (m.x, m.y, m.z) == (2, 2, 6)
    assert list(children(WrongOrder(1, 2, 3))) == ["z", "x"]


def test_sharing_identity_cache():
    shared = torch.tensor([1, 2, 3])
    m1 = Foo(shared, Foo(torch.tensor([1, 2, 3]), Foo(shared, torch.tensor([1, 2, 3]))))
    m1f = fmap(to64, m1)
    assert m1f.x is m1f.y.y.x
    assert m1f.x is not m1f.y.x
    m1no = fmap(to64, m1, cache=None)         # Functors: cache = nothing turns the cache off
    assert m1no.x is not m1no.y.y.x and torch.equal(m1no.x, m1no.y.y.x)

    inner = Foo(shared, 4)                    # a layer used twice is visited once
    m2 = Foo(inner, inner)
    m2f = fmap(to64, m2)
    assert m2f.x.x is m2f.y.x
    assert m2f.x is m2f.y


def test_cache_given_by_the_caller_is_filled_every_time():
    # Functors: fmap(f, x; cache) stores each mutable node's result in the caller's cache, also
    # once the model's map has been generated (record.py): the oracle is the first call's cache
    m = Chain(Dense(2, 3), Dense(3, 1))
    first = {}
    fmap(lambda x: x, m, cache=first)
    assert id(m[0].weight) in first and id(m) in first
    for _ in range(5):
        for mapper in (fmap, fmapstructure):
            cache = {}
            mapper(lambda x: x, m, cache=cache)
            assert cache.keys() == first.keys()


def test_value_equality_keeps_an_inherited_eq():
    # @functor gives Julia's struct == (egal: the same tensors); a class that inherits an
    # __eq__ of its own keeps it, as a Julia file's own Base.:(==) for its struct wins
    class ByValue:
        def __eq__(self, other):
            return type(other) is type(self) and all(torch.equal(a, b) for a, b in
                                                      zip(vars(self).values(), vars(other).values()))
        __hash__ = object.__hash__

    @functor
    class Kept(ByValue):
        def __init__(self, w):
            self.w = w

    @functor
    class Egal:
        def __init__(self, w):
            self.w = w

    w = torch.ones(2)
    assert Kept(w) == Kept(torch.ones(2))                      # the base's == (by value)
    assert Egal(w) == Egal(w) and not Egal(w) == Egal(torch.ones(2))   # egal: the same tensor
    assert fmap(lambda x: x, Egal(w)) == Egal(w)


def test_fmap_with_second_tree():
    a = {"w": torch.ones(2), "b": torch.zeros(1)}
    g = {"w": torch.full((2,), 3.0), "b": torch.ones(1)}
    out = fmap(lambda p, q: p - q, a, g)
    torch.testing.assert_close(out["w"], torch.full((2,), -2.0))
    torch.testing.assert_close(out["b"], torch.full((1,), -1.0))


def test_fmap_keeps_chain_names():
    m = Chain(enc=Dense(2, 3), dec=Dense(3, 1))               # Flux: "does not forget names"
    out = fmap(to64, m)
    assert type(out) is Chain and list(out.layers) == ["enc", "dec"]
    assert out.enc.weight.dtype == torch.float64


def test_rebuild_does_not_call_init():
    calls = []

    @functor
    class Counted:
        def __init__(self, w):
            calls.append(1)
            self.w = w

    c = Counted(torch.ones(2))
    out = fmap(double, c)
    assert type(out) is Counted and out is not c
    assert len(calls) == 1
    torch.testing.assert_close(out.w, torch.full((2,), 2.0))
    torch.testing.assert_close(c.w, torch.ones(2))


# ------------------------------------------------------------------ trainable

def test_trainable_method():
    @functor
    class WithMethod:
        def __init__(self):
            self.W, self.b, self.state = torch.ones(2), torch.zeros(2), torch.zeros(2)

        def trainable(self):
            return {"W": self.W, "b": self.b}

    m = WithMethod()
    assert list(trainable(m)) == ["W", "b"]
    ps = params(m)
    assert len(ps) == 2 and ps[0] is m.W and ps[1] is m.b
    assert len(fleaves(m)) == 3

    @functor
    class WithTuple:
        def __init__(self):
            self.a, self.b = torch.ones(1), torch.ones(2)

        def trainable(self):
            return (self.b,)

    assert list(trainable(WithTuple())) == ["b"]


def test_layer_with_trainable_subset():
    @layer(trainable=("W",))
    class Scale:
        def __init__(self):
            self.W, self.shift = torch.ones(3), torch.zeros(3)

        def __call__(self, x):
            return x * self.W + self.shift

    s = Scale()
    assert list(trainable(s)) == ["W"]
    assert list(children(s)) == ["W", "shift"]
    (g,) = gradient(lambda m: m(torch.tensor([1.0, 2.0, 3.0])).sum(), s)
    torch.testing.assert_close(g.W, torch.tensor([1.0, 2.0, 3.0]))
    assert g.shift is None
    # trainable_only walk leaves the other fields as they are
    out = fmap(double, s, walk=DefaultWalk(trainable=True))
    assert out.shift is s.shift
    torch.testing.assert_close(out.W, torch.full((3,), 2.0))


def test_functor_called_as_function_and_errors():
    class Plain:
        def __init__(self):
            self.w = torch.ones(1)

    assert functor(Plain) is Plain
    assert len(fleaves(Plain())) == 1
    kids, re = functor(42)                     # Functors.functor of a leaf: no children
    assert kids == {} and re(()) == 42
    kids, re = functor(Plain())
    assert list(kids) == ["w"] and torch.equal(re({"w": torch.zeros(1)}).w, torch.zeros(1))
    with pytest.raises(TypeError, match="functor"):
        functor(Plain(), "w")


# ------------------------------------------------------------------ fleaves / fcollect / modules

def test_fleaves_and_fcollect():
    w = torch.zeros(1)
    tree = {"a": w, "b": [w, 2.0], "c": (torch.ones(2),)}
    leaves = fleaves(tree)
    assert len(leaves) == 3 and leaves[0] is w and leaves[1] == 2.0
    nodes = fcollect(tree)
    assert nodes[0] is tree
    assert sum(1 for n in nodes if n is w) == 1
    skipped = fcollect(tree, exclude=lambda n: isinstance(n, list))
    assert all(not isinstance(n, list) for n in skipped)
    assert not any(type(n) is float for n in skipped)


def test_flux_modules_docstring_example():
    # Flux v0.14 `modules` docstring: Chain(m1, Dense(64, 10)) with m1 a two-layer Chain
    # gives 7 entries: m2, its layers tuple, m1, m1's tuple, and the three layers
    # (BatchNorm there; any layer keeps the count).
    m1 = Chain(Dense(28 ** 2, 64), Dense(64, 64, relu))
    m2 = Chain(m1, Dense(64, 10))
    mods = modules(m2)
    assert len(mods) == 7
    assert mods[0] is m2 and mods[1] is m2.layers and mods[2] is m1 and mods[3] is m1.layers
    assert mods[4] is m1[0] and mods[5] is m1[1] and mods[6] is m2[1]
    L2 = sum((l.weight ** 2).sum() for l in modules(m2) if isinstance(l, Dense))
    expected = sum((w ** 2).sum() for w in (m1[0].weight, m1[1].weight, m2[1].weight))
    torch.testing.assert_close(L2, expected)


def test_modules_skips_tuples_of_numbers_and_arrays():
    # Flux: isleaflike(::Tuple{Vararg{<:Number}}) and Tuple{Vararg{<:AbstractArray}} are not
    # modules (e.g. Conv's stride/pad), so Flux.modules(Chain(Conv(...))) has 3 entries.
    @functor
    class ConvLike:
        def __init__(self):
            self.weight, self.bias = torch.zeros(5, 4, 2, 3), torch.zeros(5)
            self.stride, self.pad, self.dilation = (7, 7), (6, 6, 6, 6), (1, 1)
            self.cell_state = (torch.zeros(2), torch.zeros(2))

        def __call__(self, x):
            return x

    c = Chain(ConvLike())
    mods = modules(c)
    assert len(mods) == 3
    assert mods[0] is c and mods[1] is c.layers and mods[2] is c[0]


def test_builtin_containers_walked():
    P = namedtuple("P", ["a", "b"])

    @dataclasses.dataclass(frozen=True)
    class DC:
        w: torch.Tensor
        tag: str = "t"

    tree = [P(torch.ones(1), {"k": torch.ones(2)}), DC(torch.ones(3))]
    assert [tuple(t.shape) for t in fleaves(tree) if isinstance(t, torch.Tensor)] == \
        [(1,), (2,), (3,)]
    out = fmap(double, tree)
    assert type(out) is list and type(out[0]) is P and type(out[1]) is DC
    assert out[1].tag == "t"
    torch.testing.assert_close(out[1].w, torch.full((3,), 2.0))
    torch.testing.assert_close(out[0].b["k"], torch.full((2,), 2.0))
    assert len(params(tree)) == 3


def test_nn_module_walked():
    lin = nn.Linear(3, 2)
    leaves = fleaves(lin)
    assert len(leaves) == 2 and leaves[0] is lin.weight and leaves[1] is lin.bias
    bn = nn.BatchNorm1d(4)
    assert set(trainable(bn)) == {"weight", "bias"}
    assert {"running_mean", "running_var"} <= set(children(bn))
    lin64 = fmap(to64, lin)
    assert isinstance(lin64, nn.Linear) and lin64.weight.dtype == torch.float64
    assert lin.weight.dtype == torch.float32                 # original untouched
    x = torch.randn(2, 3, dtype=torch.float64)
    torch.testing.assert_close(lin64(x), x @ lin.weight.double().T + lin.bias.double())
    st = fmapstructure(lambda t: tuple(t.shape), Chain(lin))
    assert st == {"layers": ({"weight": (2, 3), "bias": (2,)},)}
    st = fmapstructure(lambda t: tuple(t.shape), Chain(lin), keep_types=True)
    assert st.layers[0] == {"weight": (2, 3), "bias": (2,)}


# ------------------------------------------------------------------ torch.func / torch.compile

def _model():
    torch.manual_seed(0)
    return Chain(Dense(3, 4, torch.tanh), Dense(4, 2))


def _oracle_grads(m, x):
    W1, b1 = m[0].weight.clone().requires_grad_(), m[0].bias.clone().requires_grad_()
    W2, b2 = m[1].weight.clone().requires_grad_(), m[1].bias.clone().requires_grad_()
    ((torch.tanh(x @ W1.T + b1) @ W2.T + b2) ** 2).sum().backward()
    return W1.grad, b1.grad, W2.grad, b2.grad


def test_torch_func_grad_accepts_chain():
    m, x = _model(), torch.randn(5, 3)
    g = torch.func.grad(lambda m, x: (m(x) ** 2).sum())(m, x)
    assert type(g) is Chain and type(g[0]) is Dense
    for got, want in zip((g[0].weight, g[0].bias, g[1].weight, g[1].bias), _oracle_grads(m, x)):
        torch.testing.assert_close(got, want)


def test_torch_func_grad_tied_weights_per_place():
    """A pytree is flattened per class (SPEC §4), so a tensor tied between two layers is two
    leaves for torch.func: each place gets its own part, and the parts add up to the tied
    tensor's gradient (oracle: autograd on one tensor); flux_torch's gradient keeps the tie."""
    W, x = torch.randn(3, 3), torch.randn(3)
    m = Chain(Dense(W, False), Dense(W, False))
    g = torch.func.grad(lambda m: m(x).sum())(m)
    Wo = W.clone().requires_grad_()
    (Wo @ (Wo @ x)).sum().backward()
    torch.testing.assert_close(g[0].weight + g[1].weight, Wo.grad)
    ours = gradient(lambda m: m(x).sum(), m)[0]
    torch.testing.assert_close(ours[0].weight, Wo.grad)
    assert ours[0].weight is ours[1].weight


def test_subclass_of_registered_class_walked():
    class MyDense(Dense):
        pass

    d = MyDense(2, 3)
    assert len(params(d)) == 2
    assert type(fmap(to64, d)) is MyDense


def test_torch_func_vmap_per_sample_grads():
    m, xs = _model(), torch.randn(4, 3)
    loss = lambda m, x: (m(x) ** 2).sum()
    per = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0))(m, xs)
    assert type(per) is Chain and per[0].weight.shape == (4, 4, 3)
    for i in range(4):
        want = _oracle_grads(m, xs[i])
        torch.testing.assert_close(per[0].weight[i], want[0])
        torch.testing.assert_close(per[1].bias[i], want[3])
    ys = torch.func.vmap(lambda m, x: m(x), in_dims=(None, 0))(m, xs)
    torch.testing.assert_close(ys, m(xs))


def test_torch_compile_fullgraph_accepts_chain():
    torch._dynamo.reset()
    m, x = _model(), torch.randn(5, 3)
    f = torch.compile(lambda m, x: m(x), fullgraph=True, backend="eager")
    torch.testing.assert_close(f(m, x), m(x))


# ------------------------------------------------------------------ fmap_with_path (Functors.jl test/basics.jl)

from flux_torch.functors import fmap_with_path, fmapstructure_with_path   # noqa: E402


@functor
class Bar:
    def __init__(self, x):
        self.x = x


B = namedtuple("B", ["b1", "b2"])
XY = namedtuple("XY", ["x", "y"])
XYZ = namedtuple("XYZ", ["x", "y", "z"])


def _functors_m():
    # Functors: Bar(Foo(Dict("a" => 1, "b" => (b1=2, b2=20)), [3, 4, (5, 6)])); keys 0-based
    return Bar(Foo({"a": 1, "b": B(2, 20)}, [3, 4, (5, 6)]))


def test_fmap_with_path_basic_properties():
    res = fmap_with_path(lambda kp, x: x ** 2, _functors_m())
    assert type(res) is Bar and type(res.x) is Foo
    assert res.x.x == {"a": 1, "b": B(4, 400)} and res.x.y == [9, 16, (25, 36)]
    res = fmap_with_path(lambda kp, x: x ** 2 if isinstance(x, int) else None, _functors_m(),
                         exclude=lambda kp, x: kp in (("x", "x", "b"), ("x", "y", 2)) or isleaf(x))
    assert res.x.x == {"a": 1, "b": None} and res.x.y == [9, 16, None]


def test_fmap_with_path_paths_are_children_keys():
    # Functors' docstring example, keys 0-based: ([1, 2, 3], 4, (a=5, b=Dict(...), c=Dict(...)))
    x = ([1, 2, 3], 4, {"a": 5, "b": {"A": 6, "B": 7}, "c": {"C": 8, "D": 9}})
    out = fmap_with_path(lambda kp, v: None if isinstance(v, dict) else v ** 2, x,
                         exclude=lambda kp, v: kp == (2, "c") or isleaf(v))
    assert out == ([1, 4, 9], 16, {"a": 25, "b": {"A": 36, "B": 49}, "c": None})
    paths = []
    fmap_with_path(lambda kp, v: paths.append(kp), x)
    assert paths == [(0, 0), (0, 1), (0, 2), (1,), (2, "a"), (2, "b", "A"), (2, "b", "B"),
                     (2, "c", "C"), (2, "c", "D")]
    assert fmap_with_path(lambda kp, v: kp, 7) == ()                    # a leaf: the empty path
    lin = nn.Linear(2, 1)
    got = fmapstructure_with_path(lambda kp, v: kp if isinstance(v, torch.Tensor) else v, Chain(lin),
                                  keep_types=True)
    assert got.layers[0] == {"weight": ("layers", 0, "weight"), "bias": ("layers", 0, "bias")}


def test_fmap_with_path_sharing_and_cache_off():
    shared = torch.tensor([1, 2, 3])
    m1 = Foo(shared, Foo(torch.tensor([1, 2, 3]), Foo(shared, torch.tensor([1, 2, 3]))))
    m1f = fmap_with_path(lambda kp, x: x.float(), m1)
    assert m1f.x is m1f.y.y.x and m1f.x is not m1f.y.x
    m1no = fmap_with_path(lambda kp, x: x.float(), m1, cache=None)    # Functors: cache = nothing
    assert m1no.x is not m1no.y.y.x and torch.equal(m1no.x, m1no.y.y.x)
    seen = []
    fmap_with_path(lambda kp, x: seen.append(kp), m1, cache=None)    # each place met
    assert seen == [("x",), ("y", "x"), ("y", "y", "x"), ("y", "y", "y")]
    m1no = fmap(lambda x: x.float(), m1, cache=None)                   # plain fmap too
    assert m1no.x is not m1no.y.y.x


def test_fmap_with_path_several_trees():
    m1 = XY(torch.tensor([1, 2]), 3)
    n1 = XY(torch.tensor([4, 5]), 6)
    out = fmap_with_path(lambda kp, x, y: x + y, m1, n1)
    assert type(out) is XY and torch.equal(out.x, torch.tensor([5, 7])) and out.y == 9
    foo1 = Foo(torch.tensor([7, 8]), 9)                              # rebuilt as the first tree
    out = fmap_with_path(lambda kp, x, y: x + y, foo1, n1)
    assert type(out) is Foo and torch.equal(out.x, torch.tensor([11, 13])) and out.y == 15
    # the cache uses the identities of the first tree
    shared = torch.tensor([1, 2, 3])
    m3 = XYZ(shared, torch.tensor([4, 5, 6]), shared)
    n3 = XYZ(shared, shared, torch.tensor([7, 8, 9]))
    z3 = fmap_with_path(lambda kp, x, y: x + y, m3, n3)
    assert [v.tolist() for v in z3] == [[2, 4, 6], [5, 7, 9], [2, 4, 6]] and z3.x is z3.z
    z4 = fmap_with_path(lambda kp, *xs: sum(xs), m3, n3, m3, n3)     # more than two trees
    assert [v.tolist() for v in z4] == [[4, 8, 12], [10, 14, 18], [4, 8, 12]] and z4.x is z4.z


def test_fmap_with_path_mismatch_and_a_checking_walk():
    # Functors: mismatched trees are an error
    m2 = XY(torch.tensor([1, 2]), {"a": torch.tensor([3, 4]), "b": 5})
    n2 = XY(torch.tensor([6, 7]), 8)
    with pytest.raises(ValueError, match="the trees do not match: dict has the child 'a'"):
        fmap_with_path(lambda kp, x, y: x, m2, n2)
    # a walk that sees each node with its partners first wraps the default one
    calls = []

    class SameKeys(DefaultWalkWithPath):
        def __call__(self, recurse, kp, x, y):
            calls.append((kp, type(x).__name__, type(y).__name__))
            if set(children(x)) != set(children(y)):
                raise ValueError(f"mismatch at {kp}")
            return super().__call__(recurse, kp, x, y)

    with pytest.raises(ValueError, match=r"mismatch at \.y$"):
        fmap_with_path(lambda kp, x, y: x, m2, n2, walk=SameKeys())
    assert calls == [((), "XY", "XY"), (("y",), "dict", "int")]
    calls.clear()
    fmap_with_path(lambda kp, x, y: x, m2, XY(0, {"a": 0, "b": 0}), walk=SameKeys())
    assert calls == [((), "XY", "XY"), (("y",), "dict", "dict")]


def test_fmapstructure_with_path_and_plain():
    # Functors: fmapstructure_with_path(f, m) == (x = (x = Dict(...), y = [9, 16, (25, 36)]),)
    res = fmapstructure_with_path(lambda kp, x: x ** 2, _functors_m())
    assert res == {"x": {"x": {"a": 1, "b": {"b1": 4, "b2": 400}}, "y": [9, 16, (25, 36)]}}
    assert type(res["x"]["y"][2]) is tuple
    res = fmapstructure_with_path(lambda kp, x: x ** 2 if isinstance(x, int) else None, _functors_m(),
                                  exclude=lambda kp, x: kp in (("x", "x", "b"), ("x", "y", 2)) or isleaf(x))
    assert res == {"x": {"x": {"a": 1, "b": None}, "y": [9, 16, None]}}
    # fmapstructure: the same without paths; shared nodes map to one object
    inner = Foo(1, 2)
    res = fmapstructure(lambda x: x, [inner, inner])
    assert res == [{"x": 1, "y": 2}, {"x": 1, "y": 2}] and res[0] is res[1]
    res = fmapstructure(lambda x: x, [inner, inner], cache=None)
    assert res[0] is not res[1]
    # keep_types: only nn.Module becomes a dict, other nodes keep their class
    res = fmapstructure_with_path(lambda kp, t: kp, Foo(nn.Linear(1, 1), 3), keep_types=True)
    assert type(res) is Foo and res.x == {"weight": ("x", "weight"), "bias": ("x", "bias")}


def test_fmap_with_path_trainable_only():
    @layer(trainable=("W",))
    class Half:
        def __init__(self, W, b):
            self.W, self.b = W, b
    h = Half(torch.ones(1), torch.ones(1))
    seen = []
    out = fmap_with_path(lambda kp, t: seen.append(kp) or t * 2, h, walk=DefaultWalkWithPath(trainable=True))
    assert seen == [("W",)] and out.b is h.b and torch.equal(out.W, torch.tensor([2.0]))
