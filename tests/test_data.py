"""DataLoader and the array helpers, against MLUtils.jl's tests/docs and Flux's
normalise docs, translated to batch first, and against torch/numpy twins.

Translation used throughout: a Julia array of size (a, b) has the memory of a
row-major (b, a) array, so Julia's `reshape(1:10, 2, 5)` is
`arange(1, 11).reshape(5, 2)` here, Julia's column `X[:, k]` is row `X[k-1]`,
and Julia's `dims=d` is `dim=-d`.
"""
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

from flux_torch.data import (DataLoader, batch, batchseq, chunk, eachobs, flatten, normalise,
                             stack, unbatch, unsqueeze, unstack)

X2 = torch.arange(1, 11).reshape(5, 2)   # Julia: reshape([1:10;], (2, 5))
Y2 = torch.arange(1, 6)                  # Julia: [1:5;]


def eq_batches(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert torch.equal(torch.as_tensor(g), torch.as_tensor(w))


# --------------------------------------------------------------------- DataLoader

def test_dataloader_array():
    d = DataLoader(X2, batchsize=2)
    batches = list(d)
    assert len(batches) == len(d) == 3
    eq_batches(batches, [X2[0:2], X2[2:4], X2[4:5]])
    d = DataLoader(X2, batchsize=2, partial=False)
    assert len(d) == 2
    eq_batches(list(d), [X2[0:2], X2[2:4]])


def test_dataloader_matches_torch_dataloader():
    x = torch.randn(23, 3)
    for bs in (1, 4, 7, 23, 30):
        for drop in (False, True):
            ours = list(DataLoader(x, batchsize=bs, partial=not drop))
            twin = list(tud.DataLoader(x, batch_size=bs, drop_last=drop))
            assert len(ours) == len(twin) == len(DataLoader(x, batchsize=bs, partial=not drop))
            eq_batches(ours, twin)


def test_dataloader_tuples_and_namedtuples():
    batches = list(DataLoader((X2,), batchsize=2, partial=False))
    assert all(isinstance(b, tuple) and len(b) == 1 for b in batches)
    eq_batches([b[0] for b in batches], [X2[0:2], X2[2:4]])

    batches = list(DataLoader((X2, Y2), batchsize=2))
    assert len(batches) == 3
    eq_batches([b[0] for b in batches], [X2[0:2], X2[2:4], X2[4:5]])
    eq_batches([b[1] for b in batches], [Y2[0:2], Y2[2:4], Y2[4:5]])

    XY = namedtuple("XY", "x y")
    batches = list(DataLoader(XY(X2, Y2), batchsize=2))
    assert all(type(b) is XY for b in batches)
    assert torch.equal(batches[1].x, X2[2:4]) and torch.equal(batches[1][1], Y2[2:4])
    assert torch.equal(batches[2].y, Y2[4:5])


def test_dataloader_default_batchsize_one():
    X3 = torch.ones(10, 2)
    Y3 = torch.full((10,), 5)
    d = DataLoader((X3, Y3))
    assert len(d) == 10
    for x, y in d:
        assert x.shape == (1, 2)
        assert y.tolist() == [5]


def test_dataloader_partial_false_vector():
    d = list(DataLoader(torch.arange(1, 13), batchsize=5, partial=False))
    eq_batches(d, [torch.arange(1, 6), torch.arange(6, 11)])


def test_dataloader_dict():
    data = {"x": torch.rand(4, 2), "y": torch.rand(4)}
    c = list(DataLoader(data, batchsize=2))
    assert all(isinstance(b, dict) and set(b) == {"x", "y"} for b in c)
    assert torch.equal(c[0]["x"], data["x"][0:2]) and torch.equal(c[0]["y"], data["y"][0:2])
    assert torch.equal(c[1]["x"], data["x"][2:4]) and torch.equal(c[1]["y"], data["y"][2:4])


def test_dataloader_numpy_in_numpy_out():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    batches = list(DataLoader((X, y), batchsize=4, shuffle=True, rng=3))
    assert all(isinstance(a, np.ndarray) and isinstance(b, np.ndarray) for a, b in batches)
    xs = np.concatenate([a for a, _ in batches])
    ys = np.concatenate([b for _, b in batches])
    np.testing.assert_array_equal(xs, X[ys])          # rows stay paired with their labels
    assert sorted(ys.tolist()) == list(range(10))


def test_dataloader_range_and_list():
    c = list(DataLoader(range(1, 11), batchsize=2))
    assert c[0] == [1, 2] and len(c) == 5
    c = list(DataLoader(range(1, 11), batchsize=2, shuffle=True))
    assert sorted(sum(c, [])) == list(range(1, 11))


def test_dataloader_collate():
    # MLUtils docs: collate_fn(batch) = join(batch); first(...) == "ab"
    assert next(iter(DataLoader(["a", "b", "c", "d"], batchsize=2, collate="".join))) == "ab"
    X = torch.ones(6, 3)
    b = next(iter(DataLoader(X, batchsize=2, collate=False)))
    assert isinstance(b, list) and len(b) == 2 and b[0].shape == (3,)
    b = next(iter(DataLoader(X, batchsize=2, collate=True)))
    assert torch.equal(b, torch.ones(2, 3))
    ds = tud.TensorDataset(torch.arange(6.0).reshape(3, 2), torch.arange(3))
    x, y = next(iter(DataLoader(ds, batchsize=3, collate=True)))
    assert torch.equal(x, torch.arange(6.0).reshape(3, 2)) and torch.equal(y, torch.arange(3))


def test_dataloader_int8_summary_example():
    # MLUtils docs: DataLoader(rand(Int8, 10, 64), batchsize=30) gives 10×30, 10×30, 10×4
    x = torch.randint(-5, 5, (64, 10), dtype=torch.int8)
    shapes = [tuple(b.shape) for b in DataLoader(x, batchsize=30)]
    assert shapes == [(30, 10), (30, 10), (4, 10)]
    assert len(DataLoader(x, batchsize=30, partial=False)) == 2


def test_dataloader_single_observations():
    # MLUtils: batchsize < 0 iterates over individual observations
    d = DataLoader((X2, Y2), batchsize=-1)
    assert len(d) == 5
    obs = list(d)
    assert obs[0][0].shape == (2,) and obs[0][1].shape == ()
    eq_batches([o[0] for o in obs], list(X2))


def test_dataloader_data_is_original():
    Xtrain = torch.rand(100, 10)
    loader = DataLoader(Xtrain, batchsize=2)
    assert loader.data is Xtrain
    assert all(x.shape == (2, 10) for x in loader)
    assert len(loader) == 50


def test_dataloader_shuffle_and_rng():
    X4 = torch.rand(1000, 2)
    d1 = DataLoader(X4, batchsize=2, shuffle=True)
    d2 = DataLoader(X4, batchsize=2, shuffle=True)
    assert not torch.equal(next(iter(d1)), next(iter(d2)))
    torch.manual_seed(17)
    x1 = next(iter(DataLoader(X4, batchsize=2, shuffle=True)))
    torch.manual_seed(17)
    assert torch.equal(x1, next(iter(DataLoader(X4, batchsize=2, shuffle=True))))
    for make in (lambda: 1, lambda: torch.Generator().manual_seed(1),
                 lambda: np.random.default_rng(1)):
        a = DataLoader(X4, batchsize=2, shuffle=True, rng=make())
        b = DataLoader(X4, batchsize=2, shuffle=True, rng=make())
        assert torch.equal(next(iter(a)), next(iter(b)))


def test_dataloader_reshuffles_every_epoch():
    x = torch.arange(50)
    d = DataLoader(x, batchsize=50, shuffle=True, rng=0)
    e1, e2 = next(iter(d)), next(iter(d))
    assert not torch.equal(e1, e2)
    assert torch.equal(e1.sort().values, x) and torch.equal(e2.sort().values, x)
    # the named tuple example from MLUtils' docstring: first batch differs from Ytrain[1:5]
    Ytrain = torch.arange(100)
    first = next(iter(DataLoader((torch.rand(100, 10), Ytrain), batchsize=5, shuffle=True)))
    assert first[1].shape == (5,) and not torch.equal(first[1], Ytrain[:5])


def test_dataloader_torch_aliases():
    x = torch.arange(10)
    eq_batches(list(DataLoader(x, batch_size=4, drop_last=True)), [x[0:4], x[4:8]])
    a = next(iter(DataLoader(x, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(5))))
    b = next(iter(DataLoader(x, batchsize=4, shuffle=True, rng=torch.Generator().manual_seed(5))))
    assert torch.equal(a, b)
    with pytest.raises(TypeError, match="both"):
        DataLoader(x, batchsize=2, batch_size=3)
    with pytest.raises(TypeError, match="both parallel= and num_workers="):
        DataLoader(x, parallel=2, num_workers=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'pin_memory'"):
        DataLoader(x, pin_memory=True)
    with pytest.raises(TypeError, match="rng"):
        DataLoader(x, rng="seed")


def test_dataloader_length_mismatch():
    with pytest.raises(ValueError, match=r"data\[0\] has 5 and data\[1\] has 4"):
        DataLoader((X2, torch.arange(4)))
    with pytest.raises(ValueError, match=r"data\['x'\] has 3 and data\['y'\] has 5"):
        DataLoader({"x": torch.zeros(3, 5), "y": torch.zeros(5)})
    with pytest.raises(ValueError, match="0-dim"):
        DataLoader(torch.tensor(1.0))


def test_dataloader_with_transform():
    x = torch.arange(6.0).reshape(6, 1)
    d = DataLoader(x, batchsize=3)
    d2 = d.with_transform(lambda b: b * 10)
    d3 = d2.with_transform(lambda b: b + 1)
    eq_batches(list(d), [x[:3], x[3:]])
    eq_batches(list(d2), [x[:3] * 10, x[3:] * 10])
    eq_batches(list(d3), [x[:3] * 10 + 1, x[3:] * 10 + 1])
    assert len(d3) == 2 and d3.data is x
    t = DataLoader((x, x), batchsize=6).with_transform(lambda b: tuple(v.double() for v in b))
    assert all(v.dtype == torch.float64 for v in next(iter(t)))


def test_dataloader_repr():
    r = repr(DataLoader(torch.zeros(10, 3), batchsize=4, shuffle=True))
    assert r.startswith("DataLoader(") and "batchsize=4" in r and "3 batches" in r


# ------------------------------------------------------------------ array helpers

def test_flatten():
    x = np.random.rand(5, 4, 3)      # Julia rand(3, 4, 5)
    out = flatten(torch.from_numpy(x))
    assert out.shape == (5, 12)      # Julia (12, 5)
    np.testing.assert_array_equal(out.numpy(), x.reshape(5, 12))
    assert flatten(torch.zeros(7)).shape == (7, 1)


def test_unsqueeze():
    # Julia: unsqueeze([1 2; 3 4], dims=2) is 2×1×2 with [:, :, 1] = [1; 3], [:, :, 2] = [2; 4]
    x = torch.tensor([[1, 3], [2, 4]])   # Julia [1 2; 3 4]
    out = unsqueeze(x, -2)
    assert torch.equal(out, torch.tensor([[[1, 3]], [[2, 4]]]))
    assert unsqueeze(dim=-2)(torch.zeros(23, 22, 21)).shape == (23, 22, 1, 21)
    assert torch.equal(unsqueeze(x, 0), x[None])


def test_stack_unstack():
    xs = [np.array([1, 2]), np.array([3, 4]), np.array([5, 6])]
    np.testing.assert_array_equal(stack(xs).numpy(), np.stack(xs))
    np.testing.assert_array_equal(stack(xs, dim=1).numpy(), np.stack(xs, axis=1))
    # Julia: unstack([1 3 5 7; 2 4 6 8], dims=2) == [[1, 2], [3, 4], [5, 6], [7, 8]]
    x = torch.tensor([[1, 2], [3, 4], [5, 6], [7, 8]])
    eq_batches(unstack(x, dim=-2), [[1, 2], [3, 4], [5, 6], [7, 8]])
    eq_batches(unstack(x, dim=1), [[1, 3, 5, 7], [2, 4, 6, 8]])


def test_batch_unbatch():
    # Julia: batch([[1,2,3], [4,5,6]]) == [1 4; 2 5; 3 6]
    assert torch.equal(batch([[1, 2, 3], [4, 5, 6]]), torch.tensor([[1, 2, 3], [4, 5, 6]]))
    AB = namedtuple("AB", "a b")
    out = batch([AB([1, 2], [3, 4]), AB([5, 6], [7, 8])])
    assert type(out) is AB
    assert torch.equal(out.a, torch.tensor([[1, 2], [5, 6]]))
    assert torch.equal(out.b, torch.tensor([[3, 4], [7, 8]]))
    out = batch([(1, [1.0]), (2, [2.0])])
    assert torch.equal(out[0], torch.tensor([1, 2])) and torch.equal(out[1], torch.tensor([[1.0], [2.0]]))
    eq_batches(unbatch(torch.tensor([[1, 2], [3, 4], [5, 6], [7, 8]])), [[1, 2], [3, 4], [5, 6], [7, 8]])
    with pytest.raises(ValueError, match="different keys"):
        batch([{"a": 1}, {"b": 2}])
    with pytest.raises(ValueError, match="same shape"):
        batch([[1, 2], [1, 2, 3]])


def test_batchseq():
    eq_batches(batchseq([[1, 2, 3], [4, 5]], 0), [[1, 4], [2, 5], [3, 0]])
    eq_batches(batchseq([[1.0], [4.0, 5.0]], -1), [[1.0, 4.0], [-1.0, 5.0]])


def test_batchseq_pads_any_sequences():
    # issue 11: the model zoo's char-rnn batches sequences of characters (MLUtils pads any)
    assert batchseq([list("abc"), list("de")], "_") == [["a", "d"], ["b", "e"], ["c", "_"]]
    assert batchseq(["abc", "d"], " ") == [["a", "d"], ["b", " "], ["c", " "]]
    steps = batchseq([[torch.ones(3)] * 3, [torch.zeros(3)] * 2], [-1, -1, -1])
    eq_batches(steps, [[[1.0] * 3, [0.0] * 3]] * 2 + [[[1.0] * 3, [-1.0] * 3]])


def test_batch_of_non_arrays_is_a_list():
    assert batch(["a", "b"]) == ["a", "b"]
    names, xs = batch([("x", torch.ones(2)), ("y", torch.zeros(2))])
    assert names == ["x", "y"] and torch.equal(xs, torch.tensor([[1.0, 1.0], [0.0, 0.0]]))


def test_chunk():
    assert chunk(range(1, 11), 3) == [range(1, 5), range(5, 9), range(9, 11)]
    assert chunk(range(1, 11), size=2) == [range(1, 3), range(3, 5), range(5, 7),
                                           range(7, 9), range(9, 11)]
    assert chunk(range(1, 7), size=[2, 4]) == [range(1, 3), range(3, 7)]
    x = torch.arange(1, 21).reshape(4, 5)           # Julia reshape(collect(1:20), (5, 4))
    xs = chunk(x, 2, dim=-1)                        # Julia chunk(x, 2, dims=1)
    assert torch.equal(xs[0], torch.tensor([[1, 2, 3], [6, 7, 8], [11, 12, 13], [16, 17, 18]]))
    assert torch.equal(xs[1], torch.tensor([[4, 5], [9, 10], [14, 15], [19, 20]]))
    xes = chunk(x, size=2)                          # Julia chunk(x; size=2, dims=2)
    assert torch.equal(xes[1], torch.tensor([[11, 12, 13, 14, 15], [16, 17, 18, 19, 20]]))
    # Julia: chunk(reshape([1:10;], 2, 5), [1, 2, 2, 3, 3])
    parts = chunk(torch.arange(1, 11).reshape(5, 2), [0, 1, 1, 2, 2])
    eq_batches(parts, [[[1, 2]], [[3, 4], [5, 6]], [[7, 8], [9, 10]]])
    assert [p.shape[0] for p in chunk(torch.zeros(3, 1), [0, 0, 2], npartitions=4)] == [2, 0, 1, 0]
    for n in (1, 3, 4, 7, 10):
        eq_batches(chunk(torch.arange(10), n), torch.chunk(torch.arange(10), n))


def test_chunk_errors():
    with pytest.raises(ValueError, match="sum to 5.*must sum to 6"):
        chunk(range(6), size=[2, 3])
    with pytest.raises(ValueError, match="sorted"):
        chunk(torch.zeros(3), [1, 0, 1])
    with pytest.raises(TypeError, match="exactly one"):
        chunk(torch.zeros(3), 2, size=1)


def test_normalise_flux_docs():
    """Flux v0.14's docstring values: (x - μ) / (σ + ϵ), flux_torch.v014's form."""
    from flux_torch.v014 import normalise
    x = torch.tensor([90, 100, 110, 130, 70], dtype=torch.float64)
    y = normalise(x)
    expected = [-0.49999975000012503, 0.0, 0.49999975000012503, 1.499999250000375,
                -1.499999250000375]
    assert y.tolist() == pytest.approx(expected, rel=1e-14)
    assert y.std(correction=0).item() == pytest.approx(1, abs=1e-5)


def test_normalise_dims_against_numpy():
    """v0.16 (flux_torch): (x - μ) / sqrt(σ² + ϵ); v0.14 (flux_torch.v014): (x - μ) / (σ + ϵ)."""
    # Seeded, and an absolute tolerance: a column whose mean is an integer leaves an exact 0.0
    # in numpy's answer where torch's differently ordered sum leaves ~1e-16.
    x = np.random.default_rng(0).integers(10, 100, size=(10, 10)).astype(np.float64)
    for dim, axis in ((0, 0), (-1, 1), ((0, 1), (0, 1))):
        want = (x - x.mean(axis=axis, keepdims=True)) / np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)
        np.testing.assert_allclose(normalise(x, dim=dim).numpy(), want, rtol=1e-12, atol=1e-12)
    from flux_torch.v014 import normalise as normalise14
    for dim, axis in ((0, 0), (-1, 1), ((0, 1), (0, 1))):
        want = (x - x.mean(axis=axis, keepdims=True)) / (x.std(axis=axis, keepdims=True) + 1e-5)
        np.testing.assert_allclose(normalise14(x, dim=dim).numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(normalise14(x, eps=0.5).numpy(),
                               (x - x.mean(0)) / (x.std(0) + 0.5), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(normalise(x, ϵ=0.5).numpy(), normalise(x, epsilon=0.5).numpy())
    assert normalise([[1, 2], [3, 4]]).dtype == torch.get_default_dtype()


@pytest.mark.parametrize("call", [
    lambda: unsqueeze(torch.zeros(2), dims=1),
    lambda: stack([torch.zeros(2)], dims=1),
    lambda: unstack(torch.zeros(2), dims=1),
    lambda: chunk(torch.zeros(2), 2, dims=1),
    lambda: normalise(torch.zeros(2), dims=1),
])
def test_dims_keyword_is_refused(call):
    with pytest.raises(TypeError, match=r"not Flux's `dims`.*dim=-1"):
        call()


# ------------------------------------------------ buffer, parallel, torch Datasets

def _same(a, b):
    """Batches equal in kind, structure and values (oracle: plain equality per leaf)."""
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def test_dataloader_buffer_refills_one_buffer():
    X = torch.arange(20.0).reshape(10, 2)
    plain = [b.clone() for b in DataLoader(X, batchsize=4, shuffle=True, rng=3)]
    loader = DataLoader(X, batchsize=4, shuffle=True, rng=3, buffer=True)
    seen, ptrs = [], set()
    for b in loader:
        seen.append(b.clone())
        ptrs.add(b.data_ptr())
    assert all(_same(a, b) for a, b in zip(seen, plain)) and len(seen) == 3
    assert len(ptrs) == 2                   # one buffer for the full batches, the last anew
    assert torch.equal(X, torch.arange(20.0).reshape(10, 2))   # the data is never the buffer
    mine = torch.zeros(4, 2)                # MLUtils: eachobs(X, buffer=b) fills b
    out = [b.data_ptr() for b in DataLoader(X, batchsize=4, partial=False, buffer=mine)]
    assert out == [mine.data_ptr()] * 2 and torch.equal(mine, X[4:8])
    obs = [x.tolist() for x in eachobs(X, buffer=True)]
    assert obs == X.tolist()


def test_dataloader_buffer_with_collate_fills_observation_buffers():
    X = np.arange(12.0).reshape(6, 2)
    want = list(DataLoader(X, batchsize=2, collate=True))
    got = [b.clone() for b in DataLoader(X, batchsize=2, collate=True, buffer=True)]
    assert all(_same(a, b) for a, b in zip(got, want))
    bufs = [np.zeros(2), np.zeros(2)]
    for pair in DataLoader(X, batchsize=2, collate=False, buffer=bufs):
        assert pair[0] is bufs[0] and pair[1] is bufs[1]
    assert np.array_equal(bufs[1], X[5])


def test_dataloader_parallel_gives_the_serial_batches():
    X = torch.arange(40.0).reshape(20, 2)
    data = (X, list("abcdefghijklmnopqrst"), {"n": np.arange(20)})
    for kw in (dict(batchsize=3), dict(batchsize=-1), dict(batchsize=4, collate=True),
               dict(batchsize=6, shuffle=True, rng=7, partial=False)):
        serial = DataLoader(data, **kw)
        parallel = DataLoader(data, parallel=2, **kw)
        for _ in range(2):                  # two epochs: the same reshuffles
            a, b = list(serial), list(parallel)
            assert len(a) == len(b) == len(serial) and all(_same(u, v) for u, v in zip(a, b))


def test_dataloader_parallel_draws_nothing_from_the_shuffling_generator():
    # torch's DataLoader seeds its workers from a generator; drawing that seed from the
    # global one would make the next shuffled epoch differ from the serial loader's.
    X = torch.arange(30)
    torch.manual_seed(11)
    a = [b.tolist() for _ in range(2) for b in DataLoader(X, batchsize=7, shuffle=True)]
    torch.manual_seed(11)
    b = [b.tolist() for _ in range(2) for b in DataLoader(X, batchsize=7, shuffle=True,
                                                           num_workers=2)]
    assert a == b


def _fails(batch):
    raise KeyError("no such image")


def test_dataloader_parallel_options_and_errors():
    X = torch.arange(10.0)
    assert DataLoader(X, parallel=True)._workers >= 1
    assert DataLoader(X, parallel=3)._workers == 3 and DataLoader(X, num_workers=2)._workers == 2
    assert DataLoader(X, parallel=0)._workers == DataLoader(X, parallel=-2)._workers == 0
    assert "parallel=2" in repr(DataLoader(X, parallel=2))
    with pytest.raises(ValueError, match="collate must be None, True, False or a function"):
        DataLoader(X, collate="stack")
    with pytest.raises(TypeError, match="parallel must be True, False or a number"):
        DataLoader(X, parallel="yes")
    with pytest.raises(TypeError, match="unexpected keyword argument 'paralel'"):
        DataLoader(X, batchsize=4, paralel=True)
    with pytest.warns(UserWarning, match="buffer has no effect with parallel loading"):
        loader = DataLoader(X, batchsize=4, buffer=True, parallel=2)
    assert [b.tolist() for b in loader] == [b.tolist() for b in DataLoader(X, batchsize=4)]
    with pytest.raises(KeyError, match="no such image"):   # a worker's error reaches the caller
        list(DataLoader(X, batchsize=5, collate=_fails, parallel=2))
    doubled = DataLoader(X, batchsize=5, parallel=2).with_transform(lambda b: 2 * b)
    assert [b.tolist() for b in doubled] == [(2 * X[:5]).tolist(), (2 * X[5:]).tolist()]


def test_dataloader_torch_dataset_gives_collated_batches():
    # issue 15: a TensorDataset (or any map-style Dataset) gives what torch's DataLoader
    # gives, as a tuple: stacked tensors, not a list of per-observation tuples
    ds = tud.TensorDataset(torch.arange(12.0).reshape(6, 2), torch.arange(6))
    ours = list(DataLoader(ds, batchsize=4))
    theirs = list(tud.DataLoader(ds, batch_size=4))
    assert len(ours) == len(theirs) == 2
    for (x, y), (tx, ty) in zip(ours, theirs):
        assert torch.equal(x, tx) and torch.equal(y, ty)
    assert isinstance(ours[0], tuple)

    class Squares(tud.Dataset):            # a Dataset with only __len__ and __getitem__
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": torch.tensor([float(i), float(i * i)]), "label": f"#{i}"}

    got = next(iter(DataLoader(Squares(), batchsize=3)))
    want = next(iter(tud.DataLoader(Squares(), batch_size=3)))
    assert torch.equal(got["x"], want["x"]) and got["label"] == want["label"]
    assert _same(list(DataLoader(Squares(), batchsize=2, parallel=2)),
                 list(DataLoader(Squares(), batchsize=2)))
    with pytest.raises(TypeError, match="IterableDataset"):
        DataLoader(tud.IterableDataset())
