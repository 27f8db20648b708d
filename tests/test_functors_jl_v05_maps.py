"""Functors.jl v0.5's own tests of the maps over several trees and with key paths, translated.

Source: https://github.com/FluxML/Functors.jl, test/basics.jl at v0.5.2
(commit 3eefb60ca30091f329e8c3e0bf2c04844e0cb9c7), from its "Vararg forms" to the end;
the structs, helpers and translation rules are those of tests/test_functors_jl_v05.py.
"""
import pytest
import torch

from flux_torch import gradient
from flux_torch.functors import (DefaultWalk, IterateWalk, KeyPath, children, fleaves, fmap, fmap_with_path,
                                 fmapstructure, fmapstructure_with_path, functor, isleaf, leaf)

from test_functors_jl_v05 import MAPS, Bar, Foo, LeafType, Struct, eq, jfloat

T = torch.tensor


# ------------------------------------------------------------------ vararg forms

def check_fmap_several(Foo, fmap=fmap, mapped=lambda f: f):
    """``fmap(f, x, y...)``; ``fmap`` and ``mapped`` let the ``_with_path`` testset reuse it."""
    add = mapped(lambda *xs: sum(xs[1:], xs[0]))
    m1 = {"x": T([1, 2]), "y": 3}
    n1 = {"x": T([4, 5]), "y": 6}
    assert eq(fmap(add, m1, n1), {"x": T([5, 7]), "y": 9})

    # the rebuilt type comes from the first argument
    foo1 = Foo(T([7, 8]), 9)
    assert eq(fmap(add, m1, foo1), {"x": T([8, 10]), "y": 12})
    assert type(fmap(add, foo1, n1)) is Foo
    assert eq(fmap(add, foo1, n1).x, T([11, 13]))

    # mismatched trees are an error
    m2 = {"x": T([1, 2]), "y": {"a": T([3, 4]), "b": 5}}
    n2 = {"x": T([6, 7]), "y": 8}
    with pytest.raises(ValueError, match="do not match"):
        fmap(mapped(lambda *xs: xs[0]), m2, n2)

    # the cache uses the identities of the first argument
    shared = T([1, 2, 3])
    m3 = {"x": shared, "y": T([4, 5, 6]), "z": shared}
    n3 = {"x": shared, "y": shared, "z": T([7, 8, 9])}
    assert eq(fmap(add, m3, n3), {"x": T([2, 4, 6]), "y": T([5, 7, 9]), "z": T([2, 4, 6])})
    z3 = fmap(add, m3, n3)
    assert z3["x"] is z3["z"]

    # pruning of duplicates
    assert eq(fmap(add, m3, n3, prune=None), {"x": T([2, 4, 6]), "y": T([5, 7, 9]), "z": None})

    # more than two arguments
    z4 = fmap(add, m3, n3, m3, n3)
    assert eq(z4, fmap(mapped(lambda x: 2 * x), z3))
    assert z4["x"] is z4["z"]

    mul = mapped(lambda a, b, c: a * b * c)
    assert type(fmap(add, foo1, m1, n1)) is Foo
    assert eq(fmap(mul, m1, foo1, n1), {"x": T([4 * 7, 2 * 5 * 8]), "y": 3 * 6 * 9})


def check_fmapstructure_several(Foo, fmapstructure=fmapstructure, mapped=lambda f: f):
    add = mapped(lambda *xs: sum(xs[1:], xs[0]))
    m1, n1 = Foo(T([1, 2]), 3), Foo(T([4, 5]), 6)
    assert eq(fmapstructure(add, m1, n1), {"x": T([5, 7]), "y": 9})

    m2 = {"x": T([1, 2]), "y": {"a": T([3, 4]), "b": 5}}
    n2 = {"x": T([6, 7]), "y": 8}
    with pytest.raises(ValueError, match="do not match"):
        fmapstructure(mapped(lambda *xs: xs[0]), m2, n2)

    shared = T([1, 2, 3])
    m3 = {"x": shared, "y": T([4, 5, 6]), "z": shared}
    n3 = {"x": shared, "y": shared, "z": T([7, 8, 9])}
    assert eq(fmapstructure(add, m3, n3), {"x": T([2, 4, 6]), "y": T([5, 7, 9]), "z": T([2, 4, 6])})
    z3 = fmapstructure(add, m3, n3)
    assert z3["x"] is z3["z"]
    assert eq(fmapstructure(add, m3, n3, prune=None), {"x": T([2, 4, 6]), "y": T([5, 7, 9]), "z": None})
    z4 = fmapstructure(add, m3, n3, m3, n3)
    assert eq(z4, fmapstructure(mapped(lambda x: 2 * x), z3))
    assert z4["x"] is z4["z"]

    foo1 = Foo(T([7, 8]), 9)
    mul = mapped(lambda a, b, c: a * b * c)
    assert eq(fmapstructure(mul, foo1, m1, n1), {"x": T([4 * 7, 2 * 5 * 8]), "y": 3 * 6 * 9})


@pytest.mark.parametrize("path", MAPS)
def test_fmap_several_trees(path):
    check_fmap_several(Foo, fmap=MAPS[path][0])


@pytest.mark.parametrize("path", MAPS)
def test_fmapstructure_several_trees(path):
    check_fmapstructure_several(Foo, fmapstructure=MAPS[path][1])


def check_old_update():
    # the old test/update.jl: a gradient step written with fmap over the model and its gradient
    @functor
    class M:
        def __init__(self, σ, W, b):
            self.σ, self.W, self.b = σ, W, b

        def __call__(self, x):
            return self.σ(x @ self.W.T + self.b)

    m = M(lambda x: x, torch.ones(3, 4), torch.zeros(3))
    x = torch.ones(2, 4)                          # Julia's 4×2 batch, batch first
    mbar, _ = gradient(lambda m, x: m(x).sum(), m, x)

    def step(x, y):
        if x is None:
            return y
        if y is None:
            return x
        return x - 0.1 * y
    mhat = fmap(step, m, mbar)
    torch.testing.assert_close(mhat.W, torch.full((3, 4), 0.8))
    torch.testing.assert_close(mhat.b, torch.full((3,), -0.2))
    assert mhat.σ is m.σ


def test_old_update():
    check_old_update()


def test_parametric_types():            # (v0.5 only)
    class A(Struct):
        def __init__(self, x):
            self.x = x
    assert fmap(lambda x: x / 2, A(1)) == A(0.5)


def check_dict():
    d = {"a": 1, "b": 2}
    assert children(d) == d
    assert fmap(lambda x: x + 1, d) == {"a": 2, "b": 3}
    d = {"a": 1, "b": {"a": 5, "b": 6, "c": 7}}
    assert children(d) == d
    assert fmap(lambda x: x + 1, d) == {"a": 2, "b": {"a": 6, "b": 7, "c": 8}}

    add = lambda x, y: x + y
    m1, n1 = {"x": T([1, 2]), "y": 3}, {"x": T([4, 5]), "y": 6}
    assert eq(fmap(add, m1, n1), {"x": T([5, 7]), "y": 9})
    # extra keys in n1 are ignored
    m1 = {"x": T([1, 2]), "y": {"a": 3, "b": 4}}
    n1 = {"x": T([4, 5]), "y": {"a": 0.1, "b": 0.2, "c": 5}, "z": {"a": 5}}
    assert eq(fmap(add, m1, n1), {"x": T([5, 7]), "y": {"a": 3.1, "b": 4.2}})


def test_dict():
    check_dict()


def test_leaf():
    @leaf
    class B:
        def __init__(self, x):
            self.x = x
    b = B(1)
    kids, re = functor(b)
    assert re(kids) is b

    a = LeafType(1)
    kids, re = functor(a)
    assert kids == {}                             # Functors.NoChildren()
    assert re(kids) is a


def check_iterate_walk():
    x = (T([1, 2, 3]), 4, (5, 6, T([7, 8])))

    def make_iterator(x):
        return (x ** 2).tolist() if isinstance(x, torch.Tensor) else (x ** 2,)
    it = fmap(make_iterator, x, walk=IterateWalk(), cache=None)
    assert iter(it) is it                         # Iterators.Flatten: a lazy iterator
    assert list(it) == [v ** 2 for v in range(1, 9)]

    y = (T([8, 7, 6]), 5, (4, 3, T([2, 1])))     # several trees together
    zipped = fmap(lambda a, b: zip(make_iterator(a), make_iterator(b)), x, y, walk=IterateWalk(), cache=None)
    assert iter(zipped) is zipped
    assert list(zipped) == list(zip([v ** 2 for v in range(1, 9)], [v ** 2 for v in range(8, 0, -1)]))


def test_iterate_walk():
    check_iterate_walk()


def check_deprecated_walk_first():
    with pytest.warns(DeprecationWarning, match="execute"):
        assert fmap(DefaultWalk(), None, (1, 2, 3)) == (1, 2, 3)


def test_deprecated_walk_first():
    check_deprecated_walk_first()


def check_fleaves(Foo, Bar):
    x = (1, (2, 3), {"a": 4, "b": (5, 6), "c": 7})
    assert fleaves(x) == [1, 2, 3, 4, 5, 6, 7]
    exclude = lambda v: isleaf(v) or isinstance(v, dict)
    assert fleaves(x, exclude=exclude) == [1, 2, 3, {"a": 4, "b": (5, 6), "c": 7}]

    x = {"a": Foo(1, 2), "b": Bar(T([1, 2, 3]))}
    xflat = fleaves(x)
    assert isinstance(xflat, list) and len(xflat) == 3
    assert 1 in xflat and 2 in xflat and any(eq(v, T([1, 2, 3])) for v in xflat)

    assert fleaves({}) == []
    assert fleaves({"a": 1, "b": 2, "c": {}}) == [1, 2]


def test_fleaves():
    check_fleaves(Foo, Bar)


# ------------------------------------------------------------------ fmap_with_path

def check_fmap_with_path(Foo, Bar):
    m = Bar(Foo({"a": 1, "b": {"b1": 2, "b2": 20}}, [3, 4, (5, 6)]))
    res = fmap_with_path(lambda kp, x: x ** 2, m)
    assert res == Bar(Foo({"b": {"b1": 4, "b2": 400}, "a": 1}, [9, 16, (25, 36)]))
    picked = (KeyPath("x", "x", "b"), KeyPath("x", "y", 2))
    res = fmap_with_path(lambda kp, x: x ** 2 if isinstance(x, int) else None, m,
                         exclude=lambda kp, x: kp in picked or isleaf(x))
    assert res == Bar(Foo({"b": None, "a": 1}, [9, 16, None]))

    # sharing
    shared = T([1, 2, 3])
    m1 = Foo(shared, Foo(T([1, 2, 3]), Foo(shared, T([1, 2, 3]))))
    m1f = fmap_with_path(lambda kp, x: jfloat(x), m1)
    assert m1f.x is m1f.y.y.x and m1f.x is not m1f.y.x
    m1no = fmap_with_path(lambda kp, x: jfloat(x), m1, cache=None)    # disable the cache by hand
    assert m1no.x is not m1no.y.y.x
    m2 = Foo(Foo(shared, 4), Foo(shared, 4))     # two objects here (see check_sharing)
    m2f = fmap_with_path(lambda kp, x: jfloat(x), m2)
    assert m2f.x.x is m2f.y.x
    ref = [1]                                     # Ref(1)
    m5 = {"x": ref, "y": ref, "z": [1]}
    m5f = fmap_with_path(lambda kp, x: x / 2, m5)
    assert m5f["x"] is m5f["y"] and m5f["x"] is not m5f["z"]

    # fmap_with_path(f, x, y): the vararg testset, f given the key path first
    check_fmap_several(Foo, fmap=fmap_with_path, mapped=lambda f: lambda kp, *xs: f(*xs))


def test_fmap_with_path():
    check_fmap_with_path(Foo, Bar)


def check_fmapstructure_with_path(Foo, Bar):
    m = Bar(Foo({"a": 1, "b": {"b1": 2, "b2": 20}}, [3, 4, (5, 6)]))
    res = fmapstructure_with_path(lambda kp, x: x ** 2, m)
    assert res == {"x": {"x": {"b": {"b1": 4, "b2": 400}, "a": 1}, "y": [9, 16, (25, 36)]}}
    picked = (KeyPath("x", "x", "b"), KeyPath("x", "y", 2))
    res = fmapstructure_with_path(lambda kp, x: x ** 2 if isinstance(x, int) else None, m,
                                  exclude=lambda kp, x: kp in picked or isleaf(x))
    assert res == {"x": {"x": {"b": None, "a": 1}, "y": [9, 16, None]}}

    shared = T([1, 2, 3])
    m1 = Foo(shared, Foo(T([1, 2, 3]), Foo(shared, T([1, 2, 3]))))
    m1p = fmapstructure_with_path(lambda kp, x: x, m1, prune=None)
    assert eq(m1p, {"x": T([1, 2, 3]), "y": {"x": T([1, 2, 3]), "y": {"x": None, "y": T([1, 2, 3])}}})
    m2 = Foo(Foo(shared, 4), Foo(shared, 4))
    m2p = fmapstructure_with_path(lambda kp, x: x, m2, prune=Bar(0))
    assert eq(m2p, {"x": {"x": T([1, 2, 3]), "y": 4}, "y": {"x": Bar(0), "y": 4}})
    r = range(1, 4)
    m3p = fmapstructure_with_path(lambda kp, x: x, Foo(Foo(shared, r), Foo(r, shared)), prune=0)
    assert m3p["y"]["y"] == 0 and m3p["y"]["x"] == range(1, 4)

    m1, n1 = {"x": T([1, 2]), "y": 3}, {"x": T([4, 5]), "y": 6}
    assert eq(fmapstructure_with_path(lambda kp, x, y: x + y, m1, n1), {"x": T([5, 7]), "y": 9})
    foo1 = Foo(T([7, 8]), 9)
    assert eq(fmapstructure_with_path(lambda kp, x, y: x + y, foo1, m1), {"x": T([8, 10]), "y": 12})


def test_fmapstructure_with_path():
    check_fmapstructure_with_path(Foo, Bar)
