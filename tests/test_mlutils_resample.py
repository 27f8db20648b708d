"""randobs, group_counts/group_indices, oversample/undersample, *_like and rpad_constant
against MLUtils.jl's tests and docstrings, torch's own functions, and plain counting.

Source: github.com/JuliaML/MLUtils.jl, tag v0.4.10, commit
5787f51b24d2f206f6137cb63b042fe6489f6446: test/randobs.jl, test/resample.jl and test/utils.jl's
ones_like/zeros_like/rand_like/randn_like/fill_like and rpad_constant testsets (the rest of
the suite: test_mlutils_jl.py, whose docstring gives the translation rules: batch first,
0-based). utils.jl's `test_zygote` checks of ones_like/zeros_like/fill_like are
test_fill_like_value_is_differentiable; trues_like/falses_like are not in flux_torch.
"""
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from flux_torch.data import fill_like, ones_like, rand_like, randn_like, zeros_like
from flux_torch.data import rpad_constant
from flux_torch.data import group_counts, group_indices, oversample, randobs, undersample


def jl(rows):
    """A matrix written as Julia's literal [a b; c d] (rows), in flux_torch's layout:
    Julia's (r, c) array is a batch-first (c, r) tensor."""
    return torch.tensor(rows).T


# ---- randobs -------------------------------------------------------------------------

def test_randobs_matches_mlutils_tests():
    # MLUtils: randobs(X[:, 1:4]) has size (4,) and is one of the columns; randobs(X, 2) is 4×2
    X = torch.rand(150, 4)[:4]
    x = randobs(X)
    assert x.shape == (4,) and any(torch.equal(X[i], x) for i in range(4))
    xs = randobs(X, 2)
    assert xs.shape == (2, 4)
    assert all(any(torch.equal(X[i], row) for i in range(4)) for row in xs)


def test_randobs_draws_with_replacement_and_keeps_arrays_in_step():
    g = torch.Generator().manual_seed(1)
    X, y = torch.arange(5.0).reshape(5, 1), list("abcde")
    bx, by = randobs((X, y), 200, rng=g)
    assert bx.shape == (200, 1) and len(by) == 200
    assert [y[int(i)] for i in bx[:, 0]] == by
    assert set(bx[:, 0].tolist()) == set(range(5))  # every observation is reachable
    d = randobs({"x": np.arange(6).reshape(3, 2), "y": [0, 1, 2]}, rng=3)
    assert list(d["x"]) == [2 * d["y"], 2 * d["y"] + 1]


def test_randobs_seeded_is_reproducible_and_validates():
    X = torch.arange(100)
    assert torch.equal(randobs(X, 10, rng=7), randobs(X, 10, rng=torch.Generator().manual_seed(7)))
    assert randobs(list(range(10)), rng=0) in range(10)
    with pytest.raises(ValueError, match="no observations"):
        randobs(torch.zeros(0, 3))
    with pytest.raises(TypeError, match="rng="):
        randobs(torch.Generator(), X)
    with pytest.raises(TypeError, match="rng must be"):
        randobs(X, rng="seed")


# ---- group_counts / group_indices -----------------------------------------------------

def test_group_counts_matches_mlutils_and_counter():
    assert group_counts(["a", "b", "b"]) == {"a": 1, "b": 2}        # MLUtils' test
    x = torch.randint(0, 5, (300,), generator=torch.Generator().manual_seed(0))
    assert group_counts(x) == dict(Counter(x.tolist()))
    s = np.array(["x", "y", "y", "z"])
    assert group_counts(s) == {"x": 1, "y": 2, "z": 1}
    assert group_counts(torch.tensor([[1, 2], [2, 2]])) == {1: 1, 2: 3}  # every element, as Julia


def test_group_indices_matches_mlutils_docstring_0_based():
    # MLUtils: group_indices([:yes, :no, :maybe, :yes]) == Dict(:yes => [1, 4], :maybe => [3], :no => [2])
    assert group_indices(["yes", "no", "maybe", "yes"]) == {"yes": [0, 3], "maybe": [2], "no": [1]}
    assert group_indices(torch.tensor([2, 0, 2])) == {0: [1], 2: [0, 2]}


# ---- oversample / undersample: MLUtils' tests, 0-based and batch first -----------------

ya = ["a", "c", "c", "a", "b"]
y2 = ["c", "c", "c", "a", "b"]


def test_oversample_matches_mlutils_tests():
    X = torch.rand(5, 2)                                            # Julia's rand(2, 5)
    ox, oy = oversample((X, ya), fraction=1, shuffle=False)
    o2 = oversample((X, ya), ya, shuffle=False)[0]
    xo, yo = oversample(X, ya, shuffle=False)
    assert torch.equal(o2[0], ox) and o2[1] == oy and torch.equal(xo, ox) and yo == oy
    assert ox.shape == (6, 2) and len(oy) == 6
    assert torch.equal(ox[:5], X) and torch.equal(ox[5], ox[4])
    assert oy[:5] == ya and oy[5] == ya[4]

    ox, oy = oversample((X, ya), y2, shuffle=False)[0]
    assert ox.shape == (9, 2) and len(oy) == 9 and torch.equal(ox[:5], X) and oy[:5] == ya
    # repeats sorted by class: "a" (observation 3), then "b" (observation 4). MLUtils' Dict
    # happened to give "b" first.
    assert torch.equal(ox[5], X[3]) and torch.equal(ox[6], X[3]) and oy[5] == oy[6] == ya[3]
    assert torch.equal(ox[7], X[4]) and torch.equal(ox[8], X[4]) and oy[7] == oy[8] == ya[4]


def test_undersample_matches_mlutils_tests():
    X = torch.rand(5, 2)
    ox, oy = undersample((X, ya), shuffle=False)
    xo, yo = undersample(X, ya, shuffle=False)
    assert torch.equal(xo, ox) and yo == oy
    assert ox.shape == (3, 2) and len(oy) == 3 and torch.equal(ox[2], X[4])
    ox, oy = undersample((X, ya), y2, shuffle=False)[0]
    assert ox.shape == (3, 2) and len(oy) == 3 and torch.equal(ox[1:3], X[3:5])


def test_docstring_examples_balance_classes():
    X, Y = torch.rand(6, 3), ["a", "b", "b", "b", "b", "a"]        # Julia's rand(3, 6)
    Xb, Yb = oversample(X, Y)
    assert Xb.shape == (8, 3) and len(Yb) == 8 and Yb.count("a") == 4 and Yb.count("b") == 4
    Xb, Yb = undersample(X, Y)
    assert Xb.shape == (4, 3) and len(Yb) == 4 and Yb.count("a") == 2 and Yb.count("b") == 2


@pytest.mark.parametrize("fraction", [1, 0.5, 2.3])
def test_oversample_counts_by_plain_counting(fraction):
    g = torch.Generator().manual_seed(0)
    y = torch.tensor([0] * 17 + [1] * 5 + [2] * 2 + [3] * 40)
    X = torch.arange(len(y))                                         # rows name their observation
    Xo, yo = oversample((X, y), fraction=fraction, rng=g)
    before, after = Counter(y.tolist()), Counter(yo.tolist())
    target = round(fraction * max(before.values()))
    assert after == {c: max(n, target) for c, n in before.items()}
    assert torch.equal(y[Xo], yo)                                    # data and labels in step
    uses = Counter(Xo.tolist())
    assert set(uses) == set(range(len(y)))                           # everything kept
    for c, n in before.items():                                      # repeats spread evenly
        per = [uses[i] for i in range(len(y)) if int(y[i]) == c]
        assert max(per) - min(per) <= 1 and sum(per) == max(n, target)
    assert not torch.equal(Xo[:len(y)], X)                           # shuffled


def test_undersample_counts_by_plain_counting():
    y = np.array(list("aaaaabbbcccccccc"))
    X = np.arange(len(y))
    Xu, yu = undersample(X, y, rng=5)
    assert Counter(yu.tolist()) == {"a": 3, "b": 3, "c": 3}
    assert len(set(Xu.tolist())) == 9 and (y[Xu] == yu).all()
    Xs, ys = undersample(X, y, shuffle=False)
    assert Xs.tolist() == [0, 1, 2, 5, 6, 7, 8, 9, 10]              # first of each class, in order


def test_resample_is_reproducible_and_keeps_containers():
    y = [0, 0, 0, 1]
    a = oversample({"x": torch.arange(4)}, y, rng=11)
    b = oversample({"x": torch.arange(4)}, y, rng=torch.Generator().manual_seed(11))
    assert torch.equal(a[0]["x"], b[0]["x"]) and a[1] == b[1]
    from collections import namedtuple
    D = namedtuple("D", "x y")
    out = undersample(D(torch.arange(4), torch.tensor(y)), shuffle=False)
    assert isinstance(out, D) and out.y.tolist() == [0, 1]


def test_resample_errors():
    with pytest.raises(TypeError, match="class labels"):
        oversample(torch.arange(4))
    with pytest.raises(ValueError, match="one label per observation"):
        undersample(torch.arange(4), [0, 1, 1])
    with pytest.raises(ValueError, match="onecold"):
        oversample((torch.arange(3), torch.eye(3)))
    with pytest.raises(TypeError, match="rng="):
        oversample(torch.Generator(), (torch.arange(3), [0, 1, 1]))


# ---- ones_like & co: MLUtils' tests with torch oracles --------------------------------

def test_like_functions_match_mlutils_tests():
    x = torch.rand(3, 2).half()                                      # Julia's rand(Float16, 2, 3)
    for f, ref in [(ones_like, torch.ones), (zeros_like, torch.zeros)]:
        y = f(x, (2, 4, 2))
        assert y.dtype == torch.float16 and torch.equal(y, ref(2, 4, 2, dtype=torch.float16))
    y = fill_like(x, 2.2, (2, 4, 2))
    assert y.dtype == torch.float16 and torch.equal(y, torch.full((2, 4, 2), 2.2, dtype=torch.float16))
    for f, ref in [(rand_like, torch.rand), (randn_like, torch.randn)]:
        y = f(x, (2, 4, 2), rng=torch.Generator().manual_seed(42))
        want = ref((2, 4, 2), generator=torch.Generator().manual_seed(42), dtype=torch.float16)
        assert y.dtype == torch.float16 and torch.equal(y, want)


def test_like_defaults_dtype_and_shape_and_inputs():
    x = torch.arange(6).reshape(2, 3)
    assert torch.equal(ones_like(x), torch.ones_like(x)) and torch.equal(zeros_like(x), torch.zeros_like(x))
    assert torch.equal(ones_like(x, torch.float64), torch.ones(2, 3, dtype=torch.float64))
    assert torch.equal(zeros_like(x, torch.float32, 4), torch.zeros(4))
    assert torch.equal(zeros_like(x, shape=(1, 2)), torch.zeros(1, 2, dtype=torch.int64))
    assert torch.equal(fill_like(x, 7), torch.full((2, 3), 7))
    assert torch.equal(fill_like(x, 0.5, torch.float32, (3,)), torch.full((3,), 0.5))
    assert torch.equal(ones_like(np.zeros((2, 2), dtype=np.float32)), torch.ones(2, 2))
    assert torch.equal(zeros_like([1.0, 2.0]), torch.zeros(2))
    r = rand_like(x, torch.float32, rng=0)
    assert r.shape == (2, 3) and torch.equal(r, torch.rand(2, 3, generator=torch.Generator().manual_seed(0)))
    assert randn_like(torch.zeros(2, dtype=torch.complex64)).dtype == torch.complex64


def test_fill_like_value_is_differentiable():
    v = torch.tensor(2.0, requires_grad=True)
    w = torch.arange(6.0).reshape(2, 3)
    y = fill_like(torch.zeros(5), v, shape=(2, 3))
    (grad,) = torch.autograd.grad((y * w).sum(), v)
    assert torch.equal(y.detach(), torch.full((2, 3), 2.0)) and grad.item() == w.sum().item()


def test_like_errors():
    with pytest.raises(TypeError, match="torch.float64"):
        ones_like(torch.zeros(2), "Float64")
    with pytest.raises(ValueError, match="InexactError"):
        fill_like(torch.zeros(2, dtype=torch.int64), 2.5)
    with pytest.raises(TypeError, match="randint"):
        rand_like(torch.zeros(2, dtype=torch.int64))
    with pytest.raises(TypeError, match="rng="):
        randn_like(torch.Generator(), torch.zeros(2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_like_keeps_the_device():
    x = torch.zeros(2, 3, device="cuda")
    for y in [ones_like(x), zeros_like(x, torch.float64), fill_like(x, 3.0), rand_like(x, rng=0),
              randn_like(x, (4,))]:
        assert y.device == x.device


# ---- rpad_constant ----------------------------------------------------------------------

def test_rpad_constant_matches_mlutils_tests():
    assert torch.equal(rpad_constant([1, 2], 4, -1), torch.tensor([1, 2, -1, -1]))
    assert torch.equal(rpad_constant([1, 2, 3], 2), torch.tensor([1, 2, 3]))
    M = jl([[1, 2], [3, 4]])
    # Julia dims=1 is dim=-1 here
    assert torch.equal(rpad_constant(M, 4, dim=-1), jl([[1, 2], [3, 4], [0, 0], [0, 0]]))
    assert torch.equal(rpad_constant(M, 4), jl([[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]))
    # Julia n=(3, 4) over all dims is the shape (4, 3) here
    assert torch.equal(rpad_constant(M, (4, 3)), jl([[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 0, 0]]))


def test_rpad_constant_against_torch_pad():
    x = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    y = rpad_constant(x, (5, 4), 1.5, dim=(0, -1))
    assert torch.equal(y, F.pad(x, (0, 0, 0, 0, 0, 3), value=1.5))
    (g,) = torch.autograd.grad((y * y).sum(), x)
    assert torch.equal(g, 2 * x.detach())
    assert torch.equal(rpad_constant(x.detach(), 1, dim=1), x.detach())


def test_rpad_constant_rejects_dims_and_bad_arguments():
    with pytest.raises(TypeError, match=r"dim=-1"):
        rpad_constant([1, 2], 4, dims=1)
    with pytest.raises(ValueError, match="one length per padded dimension"):
        rpad_constant(torch.zeros(2, 2), (3, 3, 3))
    with pytest.raises(ValueError, match="out of range"):
        rpad_constant(torch.zeros(2, 2), 3, dim=2)
