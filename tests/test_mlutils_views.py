"""MLUtils.jl's views, transforms, BatchView, eachobs, getobs! and folds, batch first, 0-based.

Source: github.com/JuliaML/MLUtils.jl, tag v0.4.10, commit
5787f51b24d2f206f6137cb63b042fe6489f6446: test/obsview.jl, test/batchview.jl,
test/obstransform.jl and test/folds.jl (the rest of the suite: test_mlutils_jl.py, whose
docstring gives the translation rules), plus MLUtils' docstrings. Oracles beside them: plain
numpy indexing and np.array_split. Not in flux_torch, so not translated: timeseries_kfolds.
"""
import math

import numpy as np
import pytest
import torch

from flux_torch.data import DataLoader, getobs, numobs, shuffleobs
from flux_torch.data import BatchView, batchsize, eachobs
from flux_torch.data import kfolds, leavepout
from flux_torch.data import getobs_
from flux_torch.data import filterobs, groupobs, joinobs, mapobs
from flux_torch.data import ObsView, obsview

RNG = np.random.default_rng(1335)
X = RNG.random((15, 4))                       # Julia's rand(4, 15), batch first
y = ["setosa"] * 5 + ["versicolor"] * 5 + ["virginica"] * 5
XX = RNG.random((15, 30, 20))                 # Julia's rand(20, 30, 15)
Xt = torch.from_numpy(X)
VARS = (X, Xt, y, XX)
TUPLES = ((X, y), (Xt, y), (XX, X, y))


class CustomType:                             # MLUtils' test CustomType, 0-based
    def __len__(self):
        return 15

    def __getitem__(self, i):
        return i


def same(a, b):
    """Equality of observations/batches of any of the kinds used here."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(u, v) for u, v in zip(a, b))
    if isinstance(a, (torch.Tensor, np.ndarray)) or isinstance(b, (torch.Tensor, np.ndarray)):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return list(a) == list(b) if isinstance(a, (list, ObsView)) else a == b


def oracle(var, idx):
    """numpy/list indexing of a batch-first container."""
    if isinstance(var, tuple):
        return tuple(oracle(v, idx) for v in var)
    if isinstance(var, list):
        return var[idx] if isinstance(idx, (int, slice)) else [var[i] for i in idx]
    return np.asarray(var)[idx if isinstance(idx, (int, slice)) else list(idx)]


# ---------------------------------------------------------------- ObsView / obsview

def test_obsview_constructor_errors():
    with pytest.raises(ValueError, match="same number of observations"):
        ObsView((np.zeros((10, 2)), np.zeros(9)))
    with pytest.raises(ValueError, match="same number of observations"):
        ObsView((np.zeros((10, 2)), np.zeros((10, 9, 4)), np.zeros(9)), range(0, 2))
    for var in VARS + TUPLES + (CustomType(),):
        for bad in (range(-1, 100), range(0, 16), [0, 9, 15, 2], [0, 9, -16, 3], [0, 9, 17, 3]):
            with pytest.raises(IndexError, match="out of range for 15 observations"):
                ObsView(var, bad)
    with pytest.raises(TypeError, match="getobs"):
        ObsView(X, 3)
    with pytest.raises(TypeError, match="0-based integer indices"):
        ObsView(X, [0.5, 1.0])


def test_obsview_tuples():
    d = ObsView((X, y), range(4, 10))
    assert same(getobs(d, 1), (X[5], y[5]))
    assert numobs(d) == 6 == len(d)


@pytest.mark.parametrize("var", VARS, ids=["ndarray", "tensor", "list", "3d"])
def test_obsview_arrays_and_lists(var):
    subset = ObsView(var)
    assert subset.data is var and subset.indices == range(15)
    assert numobs(subset) == numobs(var) == 15
    assert same(getobs(subset), oracle(var, slice(None)))
    assert ObsView(subset) == subset and ObsView(subset, range(15)) == subset
    assert same(subset[0], oracle(var, 0)) and same(subset[-1], oracle(var, 14))
    assert same(subset[1:5], obsview(var, range(1, 5)))
    for idx in (range(0, 10), [0, 9, 14, 2], [1]):
        assert same(ObsView(var)[idx], obsview(var, idx))
        assert same(ObsView(var)[idx], obsview(var, list(idx)))
        sub = ObsView(var, idx)
        assert sub.data is var and list(sub.indices) == list(idx)
        assert numobs(sub) == len(idx)
        assert same(getobs(sub), oracle(var, idx))
        assert same(sub[0], oracle(var, idx[0]))
        assert numobs(sub[0:1]) == 1


def test_obsview_custom_type():
    with pytest.raises(IndexError):
        getobs(ObsView(CustomType(), range(10, 20)), 10)
    assert numobs(ObsView(CustomType())) == 15
    assert numobs(ObsView(CustomType(), range(10))) == 10
    assert getobs(ObsView(CustomType())) == list(range(15))
    assert getobs(ObsView(CustomType(), range(10)), 9) == 9
    assert getobs(ObsView(CustomType(), range(10)), [2, 4]) == [2, 4]


@pytest.mark.parametrize("var", (X, Xt), ids=["ndarray", "tensor"])
def test_obsview_getindex_and_getobs_matrix(var):
    subset = ObsView(var, range(4, 12))
    assert numobs(subset) == len(subset) == 8
    assert same(subset[1:5], X[5:9])
    assert not same(subset[2:6], X[5:9])
    assert same(getobs(subset, range(1, 5)), X[5:9])
    assert same(getobs(subset, [2, 0, 3]), X[[6, 4, 7]])
    assert same(subset[[1, 2, 3, 4]], X[5:9])
    assert same(getobs(subset), getobs(subset[0:len(subset)])) and same(getobs(subset), X[4:12])
    assert same(subset[::-1], X[4:12][::-1]) and same(getobs(subset, slice(None, None, -3)),
                                                      X[4:12][::-3])


def test_obsview_vector_of_strings():
    subset = ObsView(y, range(5, 10))
    assert numobs(subset) == len(subset) == 5
    assert list(subset[1:3]) == y[6:8]
    assert getobs(subset, range(1, 3)) == y[6:8]
    assert getobs(subset, [1, 0, 3]) == [y[6], y[5], y[8]]
    assert getobs(subset) == y[5:10]
    assert list(subset) == y[5:10]        # iteration gives observations


def test_view_of_view_is_one_view():
    perm = RNG.permutation(15)
    v = ObsView(ObsView(y, perm.tolist()), [3, 1, -1])
    assert v.data is y
    assert v.indices.tolist() == [perm[3], perm[1], perm[14]]
    assert list(v) == [y[perm[3]], y[perm[1]], y[perm[14]]]
    w = ObsView(ObsView(y, range(2, 14, 3)), slice(None, None, -1))
    assert list(w) == y[2:14:3][::-1]
    assert list(obsview(ObsView(y, range(14, -1, -2)), range(1, 4))) == y[::-2][1:4]


def test_obsview_of_arrays_is_an_array():
    t = torch.arange(30.0).reshape(10, 3)
    v = obsview(t, range(2, 6))
    assert isinstance(v, torch.Tensor) and v.data_ptr() == t[2].data_ptr()  # a true view
    assert same(obsview(t, [7, 1]), t.numpy()[[7, 1]])
    assert same(obsview(X, range(9, 2, -2)), X[9:2:-2])
    assert obsview(t) is t
    assert same(obsview(t, -1), t.numpy()[-1])
    d = obsview({"x": t, "y": list("abcdefghij")}, [4, 0])
    assert same(d["x"], t.numpy()[[4, 0]]) and list(d["y"]) == ["e", "a"]
    assert obsview(list("abc"), 1) == "b" == obsview(ObsView(list("abc")), -2)
    with pytest.raises(IndexError, match="out of range for 10 observations"):
        obsview(t, [10])


def test_lazy_containers_in_dataloader_and_shuffleobs():
    v = ObsView((X, y), RNG.permutation(15).tolist())
    xs, ys = zip(*DataLoader(v, batchsize=4))
    assert same(np.concatenate(xs), X[v.indices.numpy()])
    assert sum(ys, []) == [y[i] for i in v.indices.tolist()]
    assert sorted(shuffleobs(ObsView(y), rng=0)) == sorted(y)


# ---------------------------------------------------------------- mapobs & co

def test_mapobs():
    data = range(1, 11)
    mdata = mapobs(lambda x: -x, data)
    assert getobs(mdata, 7) == -8
    assert len(mdata) == 10 == numobs(mdata)
    mdata2 = mapobs((lambda x: -x, lambda x: 2 * x), data)
    assert getobs(mdata2, 7) == (-8, 16)
    nameddata = mapobs({"x": math.sqrt, "y": math.log}, data)
    assert getobs(nameddata, 9) == {"x": math.sqrt(10), "y": math.log(10)}
    assert getobs(nameddata.x, 9) == math.sqrt(10) == getobs(nameddata["x"], 9)
    assert same(mapobs(lambda x: 2 * x, np.arange(1, 11))[:], np.arange(2, 21, 2))
    with pytest.raises(ValueError, match="'auto', 'never' or 'always'"):
        mapobs(abs, data, batched="sometimes")
    with pytest.raises(TypeError, match="must be a function"):
        mapobs(3, data)


@pytest.mark.parametrize("batched", ["auto", "always", "never"])
def test_mapobs_batched(batched):
    data = {"a": torch.arange(1, 11)}
    seen = []

    def f(x):
        seen.append(x["a"].ndim)
        return {"c": 2 * x["a"]}

    m = mapobs(f, data, batched=batched)
    assert m[0] == {"c": 2}
    two = m[0:2]
    if batched == "never":
        assert two == [{"c": 2}, {"c": 4}] and seen == [0, 0, 0]
    else:
        assert two["c"].tolist() == [2, 4]
        assert seen == ([0, 1] if batched == "auto" else [1, 1])


def test_filterobs_groupobs_joinobs():
    fdata = filterobs(lambda x: x > 5, range(1, 11))
    assert numobs(fdata) == 5 and list(fdata) == [6, 7, 8, 9, 10]
    t = torch.from_numpy(RNG.standard_normal(20))
    assert same(filterobs(lambda x: x > 0, t), t.numpy()[t.numpy() > 0])
    with pytest.raises(TypeError, match="True or False"):
        filterobs(lambda x: x, X)
    datas = groupobs(lambda x: x > 0, range(-10, 11))
    assert len(datas) == 2
    assert list(datas[True]) == list(range(1, 11)) and list(datas[False]) == list(range(-10, 1))
    g = groupobs(lambda obs: obs[1], (X, y))
    assert list(g) == ["setosa", "versicolor", "virginica"]
    assert same(g["versicolor"][0], X[5:10])
    jdata = joinobs(range(1, 11), range(11, 21))
    assert getobs(jdata, 14) == 15 and len(jdata) == 20
    assert getobs(jdata, [0, 10, 19]) == [1, 11, 20]
    assert len(joinobs(jdata, [0]).datas) == 3
    with pytest.raises(IndexError):
        jdata[20]


# ---------------------------------------------------------------- BatchView, eachobs

def test_batchview_constructor():
    with pytest.raises(ValueError, match="same number of observations"):
        BatchView((np.zeros((10, 2)), np.zeros(9)))
    for var in VARS + TUPLES:
        A = BatchView(var, batchsize=3)
        assert len(A) == 5 == numobs(A) and batchsize(A) == 3 and A.data is var
    with pytest.warns(UserWarning, match="decreasing the batch size to 15"):
        A = BatchView(X, batchsize=16)
    assert len(A) == 1 and batchsize(A) == 15
    with pytest.raises(ValueError, match="at least 1"):
        BatchView(X, batchsize=0)
    with pytest.raises(ValueError, match="collate must be"):
        BatchView(X, collate="yes")
    with pytest.raises(TypeError, match="BatchView or a DataLoader"):
        batchsize(X)


def test_batchview_collate():
    assert BatchView(X, batchsize=2, collate=True)[0].shape == (2, 4)
    assert len(BatchView(X, batchsize=2, collate=False)[0]) == 2
    xb, yb = BatchView((X, list(range(15))), batchsize=2, collate=True)[0]
    assert tuple(xb.shape) == (2, 4) and tuple(yb.shape) == (2,)
    xs, s = BatchView((X[:4], ["a", "b", "c", "d"]), batchsize=2,
                      collate=lambda obs: (np.stack([o[0] for o in obs]), "".join(o[1] for o in obs)))[1]
    assert same(xs, X[2:4]) and s == "cd"


@pytest.mark.parametrize("var", VARS + TUPLES[:2], ids=["ndarray", "tensor", "list", "3d", "t1", "t2"])
def test_batchview_indexing(var):
    A = BatchView(var, batchsize=5)
    with pytest.raises(IndexError):
        A[3]
    with pytest.raises(IndexError):
        A[-4]
    assert numobs(A) == len(A) == 3 and batchsize(A) == 5
    assert same(A[1:3], oracle(var, slice(5, 15)))
    assert same(A[[0, 2]], oracle(var, [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]))
    assert same(A[[2, 0]], oracle(var, [10, 11, 12, 13, 14, 0, 1, 2, 3, 4]))
    for i, sl in enumerate((slice(0, 5), slice(5, 10), slice(10, 15))):
        assert same(A[i], oracle(var, sl)) and same(getobs(A, i), oracle(var, sl))
    assert same(A[-1], A[2])
    assert same(getobs(A), oracle(var, slice(None)))
    assert len(list(A)) == 3
    S = ObsView(BatchView(var, batchsize=3), range(0, 2))
    assert numobs(S) == 2 and same(getobs(S), oracle(var, slice(0, 6)))
    with pytest.raises(IndexError):
        ObsView(BatchView(var, batchsize=3), range(0, 6))


def test_batchview_partial_false_and_obsview():
    bv = BatchView(list(range(1, 13)), batchsize=5, partial=False)
    assert len(bv) == 2 and bv[0] == [1, 2, 3, 4, 5] and bv[1] == [6, 7, 8, 9, 10]
    with pytest.raises(IndexError):
        bv[2]
    x = RNG.random((6, 2))
    ov = obsview(BatchView(x, batchsize=2), range(0, 2))
    assert same(getobs(ov, 0), x[0:2])


def test_eachobs():
    X100, Y100 = RNG.random((100, 4)), np.arange(100)
    obs = list(eachobs(X100))
    assert len(obs) == 100 and all(o.shape == (4,) for o in obs) and same(obs[7], X100[7])
    batches = list(eachobs(X100, batchsize=10))
    assert len(batches) == 10 and all(b.shape == (10, 4) for b in batches)
    assert same(np.concatenate(batches), X100)
    pairs = list(eachobs((X100, Y100)))
    assert len(pairs) == 100 and same(pairs[3], (X100[3], 3))
    shuffled = [int(b) for b in eachobs(Y100, shuffle=True, rng=0)]
    assert sorted(shuffled) == list(range(100)) and shuffled != list(range(100))
    assert len(list(eachobs(Y100, batch_size=30, partial=False))) == 3


# ---------------------------------------------------------------- getobs_

@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_getobs_inplace_arrays(kind):
    arr = (lambda a: a) if kind == "numpy" else torch.from_numpy
    zeros = np.zeros if kind == "numpy" else (lambda s: torch.zeros(s, dtype=torch.float64))
    Xk, XXk = arr(X), arr(XX)
    buf = zeros(X.shape)
    assert getobs_(buf, Xk) is buf and same(buf, X)
    for bad in (-16, 15):
        with pytest.raises(IndexError):
            getobs_(buf, Xk, bad)
    assert same(getobs_(zeros(4), Xk, 4), X[4])
    assert same(getobs_(zeros((8, 4)), Xk, range(2, 10)), X[2:10])
    assert same(getobs_(zeros((30, 20)), XXk, 4), XX[4])
    assert same(getobs_(zeros((5, 30, 20)), XXk, range(5, 10)), XX[5:10])
    b = zeros((3, 4))
    assert getobs_(b, Xk, [13, 4, -1]) is b and same(b, X[[13, 4, 14]])
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        getobs_(zeros((2, 4)), Xk, range(0, 5))


def test_getobs_inplace_other_kinds():
    assert getobs_("setosa", y, 0) == "setosa" and getobs_(None, y, 0) == "setosa"
    assert same(getobs_((None, None), (X, y), range(0, 5)), (X[:5], y[:5]))
    xbuf, ybuf = np.zeros((2, 4)), ["foo", "bar"]
    with pytest.raises(ValueError, match="tuple of 2"):
        getobs_((xbuf,), (X, y), range(0, 5))
    with pytest.raises(ValueError, match="tuple of 2"):
        getobs_((xbuf, ybuf, ybuf), (X, y), range(0, 5))
    out = getobs_((xbuf, ybuf), (X, y), range(1, 3))
    assert out[0] is xbuf and out[1] is ybuf
    assert same(xbuf, X[1:3]) and ybuf == y[1:3]
    getobs_((xbuf, ybuf), (X, y), [13, 4])
    assert same(xbuf, X[[13, 4]]) and ybuf == [y[13], y[4]]
    buf32 = torch.zeros(2, 4)                         # float32 buffer, float64 data: converted
    assert getobs_(buf32, Xt, [1, 0]) is buf32 and torch.allclose(buf32, Xt[[1, 0]].float())
    d = {"x": torch.zeros(2, 4), "y": None}
    assert getobs_(d, {"x": Xt, "y": y}, range(3, 5)) is d and d["y"] == y[3:5]
    with pytest.raises(ValueError, match="same keys"):
        getobs_({"x": None}, {"x": Xt, "y": y}, 0)


def test_getobs_inplace_obsview():
    xbuf1 = np.zeros((8, 4))
    s1 = ObsView(X, range(1, 9))
    assert getobs_(xbuf1, s1) is xbuf1 and same(xbuf1, getobs(s1))
    xbuf1 = np.zeros((5, 4))
    s1 = ObsView(X, range(4, 12))
    assert getobs_(xbuf1, s1, range(1, 6)) is xbuf1
    assert same(xbuf1, getobs(s1, range(1, 6))) and same(xbuf1, X[5:10])
    assert getobs_(None, ObsView(y), 0) == "setosa"
    s4 = ObsView(CustomType(), range(5, 10))
    assert getobs_(None, s4) == getobs(s4) == [5, 6, 7, 8, 9]
    xbuf = np.zeros((2, 4))
    out = getobs_((None, xbuf), (ObsView(y, range(4, 9)), ObsView(X, range(4, 9))), range(1, 3))
    assert out[0] == y[5:7] and out[1] is xbuf and same(xbuf, X[5:7])


# ---------------------------------------------------------------- kfolds, leavepout

def test_kfolds_docstring_example():
    train_idx, val_idx = kfolds(10, 5)                # MLUtils' docstring, minus 1
    julia_train = [[3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 7, 8, 9, 10],
                   [1, 2, 3, 4, 5, 6, 9, 10], [1, 2, 3, 4, 5, 6, 7, 8]]
    assert train_idx == [[i - 1 for i in t] for t in julia_train]
    assert [list(v) for v in val_idx] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert leavepout(10, 2) == (train_idx, val_idx)


@pytest.mark.parametrize("n,k", [(15, 5), (10, 3), (7, 2), (23, 7), (5, 5), (2, 2)])
def test_kfolds_indices_partition(n, k):
    train, val = kfolds(n, k)
    assert len(train) == len(val) == k
    expected = np.array_split(np.arange(n), k)       # remainder goes to the first folds
    for tr, va, ex in zip(train, val, expected):
        assert list(va) == ex.tolist()
        assert tr == np.setdiff1d(np.arange(n), ex).tolist()
    assert sorted(i for v in val for i in v) == list(range(n))


def test_kfolds_mlutils_tests():
    assert kfolds(15, k=5) == kfolds(15, 5)
    r = range(1, 16)
    assert list(kfolds(r, k=5)) == list(kfolds(r, 5))
    itrain, ival = kfolds(15, k=5)
    assert len(itrain) == len(ival) == 5
    assert all(len(i) == 12 for i in itrain) and all(len(i) == 3 for i in ival)
    assert all(sorted(list(it) + list(iv)) == list(range(15)) for it, iv in zip(itrain, ival))
    for xtr, xval in kfolds(r, k=5):
        assert len(xtr) == 12 and len(xval) == 3
        assert sorted(list(xtr) + list(xval)) == list(range(1, 16))
    folds = kfolds((range(1, 16), range(11, 26)), k=5)
    assert len(folds) == 5
    for (xtr, ytr), (xval, yval) in folds:
        assert (len(xtr), len(xval), len(ytr), len(yval)) == (12, 3, 12, 3)
        assert sorted(list(xtr) + list(xval)) == list(range(1, 16))
        assert sorted(list(ytr) + list(yval)) == list(range(11, 26))


def test_kfolds_tensor_data_and_errors():
    for (tr, va), ex in zip(kfolds(Xt, 4), np.array_split(np.arange(15), 4)):
        assert same(va, X[ex]) and same(tr, np.delete(X, ex, axis=0))
    with pytest.raises(ValueError, match=r"2\.\.10"):
        kfolds(10, 1)
    with pytest.raises(ValueError, match=r"k=11"):
        kfolds(10, 11)
    with pytest.raises(ValueError, match=r"k=20"):
        kfolds(X, 20)


def test_leavepout():
    assert leavepout(15) == kfolds(15, k=15)
    r = range(1, 16)
    assert list(leavepout(r)) == list(kfolds(r, 15))
    assert list(leavepout(r, p=5)) == list(kfolds(r, 3))
    assert [len(v) for v in leavepout(11, 2)[1]] == [3, 2, 2, 2, 2]
    with pytest.raises(ValueError, match=r"1\.\.5"):
        leavepout(10, 6)
    with pytest.raises(ValueError, match=r"p=0"):
        leavepout(list(range(10)), 0)


# ---------------------------------------------------------------- v0.4.10 additions

class EmptyType:
    pass


def test_obsview_other():
    with pytest.raises(TypeError, match="no observations"):          # MethodError
        ObsView(EmptyType())
    with pytest.raises(TypeError, match="no observations"):
        ObsView((EmptyType(), EmptyType()))
    for var in VARS + TUPLES:
        A = ObsView(var)
        assert A.data is var and ObsView(A) == A
        for bad in (15, -16):                                         # Julia: -1 and 16
            with pytest.raises(IndexError):
                A[bad]
        assert numobs(A) == len(A) == 15
        assert same(A[1:3], obsview(var, range(1, 3))) and same(A[[0, 2]], obsview(var, [0, 2]))
        for i in (0, 10, 14):
            assert same(A[i], obsview(var, i)) and same(getobs(A, i), getobs(var, i))
        assert same(A[-1], A[14]) and len(list(A)) == 15
        assert same(getobs(A), getobs(var))
        assert all(same(a, getobs(var, i)) for i, a in enumerate(A))


def test_obsview_subsetting_of_views():
    for var_raw in VARS + TUPLES:
        for var in (var_raw, ObsView(var_raw)):
            A = ObsView(var)
            assert same(getobs(ObsView(A)), getobs(A))
            S = ObsView(A, range(0, 5))
            assert len(S) == 5 and same(getobs(A, range(0, 5)), getobs(S))
            assert same(getobs(S), getobs(ObsView(ObsView(var, range(0, 5)))))


def test_obsview_iteration():
    X1 = np.repeat(np.arange(1, 16)[:, None], 10, axis=1)             # hcat((1:15 for i = 1:10)...)'
    count = 0
    for i, x in enumerate(ObsView(X1)):
        assert (x == i + 1).all()
        count += 1
    assert count == 15


@pytest.mark.skip(reason="obsview(x, ObsDim(d)) picks another observation dimension; here "
                         "observations are always along the first (batch first)")
def test_obsview_obsdim():
    pass


def test_batchview_getobs_inplace():
    buf1 = np.zeros((3, 4))
    bv = BatchView(X, batchsize=3)
    assert getobs_(buf1, bv, 1) is buf1 and same(buf1, getobs(bv, 1))
    buf12 = [np.zeros(4) for _ in range(3)]
    bv12 = BatchView(X, batchsize=3, collate=False)
    res = getobs_(buf12, bv12, 1)
    assert all(r is b for r, b in zip(res, buf12)) and same(np.stack(buf12), X[3:6])
    bvc = BatchView(X, batchsize=3, collate=True)
    assert same(getobs_([np.zeros(4) for _ in range(3)], bvc, 4), X[12:15])


@pytest.mark.skip(reason="MLUtils issue 156 defines getobs! for a user type; flux_torch's "
                         "getobs_ has no public extension point (a user type with __getitem__ "
                         "gets getobs' result)")
def test_batchview_getobs_inplace_custom_type():
    pass


def test_joinobs_v0410():
    data = joinobs(range(1, 6), range(6, 11))
    assert data[4:6] == [5, 6]
    data = joinobs(torch.ones(3, 2), torch.zeros(3, 2))             # ones(2, 3), zeros(2, 3)
    assert [x.tolist() for x in data[2:4]] == [[1.0, 1.0], [0.0, 0.0]]
    data1, data2, data3 = range(1, 11), range(11, 21), range(21, 31)
    data123 = joinobs(joinobs(data1, data2), data3)
    assert getobs(data123, 14) == 15 and getobs(data123, 24) == 25 and len(data123) == 30
    assert data123.datas == (data1, data2, data3)
    data12 = joinobs(range(1, 6), torch.ones(3, 2))                  # join different types
    assert data12[2] == 3 and data12[5].tolist() == [1.0, 1.0]
    assert repr(joinobs(range(1, 11), range(11, 21))).endswith("# 20 observations")


@pytest.mark.xfail(strict=True, reason="docs/porting.md (Data): containers print as the call "
                                       "that makes them, not Julia's `20-element JoinedData`")
def test_joinobs_show():
    assert repr(joinobs(range(1, 11), range(11, 21))) == "20-element JoinedData"


def test_kfolds_shuffle():
    r = range(1, 16)
    folds = list(kfolds(r, k=5, shuffle=True, rng=42))
    assert sorted(x for _, xval in folds for x in xval) == list(r)   # one validation set each
    for xtr, xval in folds:
        assert len(xtr) == 12 and len(xval) == 3 and sorted(list(xtr) + list(xval)) == list(r)
    assert [list(v) for _, v in kfolds(r, k=5, shuffle=True)] != [list(v) for _, v in kfolds(r, k=5)]
    a = [(list(t), list(v)) for t, v in kfolds(r, k=3, shuffle=True, rng=1)]
    b = [(list(t), list(v)) for t, v in kfolds(r, k=3, shuffle=True, rng=1)]
    assert a == b
    with pytest.raises(TypeError, match="kfolds\\(range\\(n\\)"):
        kfolds(15, 5, shuffle=True)


def test_kfolds_stratified():
    yy = [0] * 10 + [1] * 20
    x = list(range(1, 31))                                            # collect(1:30)
    seen = []
    for xtr, xval in kfolds(x, k=5, stratified=yy):
        labels = [yy[v - 1] for v in xval]                            # y[xval], 1-based values
        assert labels.count(0) == 2 and labels.count(1) == 4
        assert len(xval) == 6 and len(xtr) == 24
        assert sorted(list(xtr) + list(xval)) == x and not set(xtr) & set(xval)
        seen.extend(xval)
    assert sorted(seen) == x
    for xtr, xval in kfolds(x, k=5, stratified=yy, shuffle=True, rng=0):
        labels = [yy[v - 1] for v in xval]
        assert labels.count(0) == 2 and labels.count(1) == 4 and sorted(list(xtr) + list(xval)) == x
    with pytest.raises(ValueError, match="one label per observation"):   # ArgumentError
        kfolds(x, k=5, stratified=yy[:5])
    with pytest.raises(ValueError, match="class 0 has 3 observations"):
        kfolds(x, k=5, stratified=[0] * 3 + [1] * 27)
