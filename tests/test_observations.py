"""numobs / getobs / shuffleobs / splitobs against MLUtils' documented behaviour (0-based, batch first)."""
import numpy as np
import pytest
import torch

from flux_torch import getobs, numobs, shuffleobs, splitobs


def test_splitobs_matches_mlutils_examples():
    # MLUtils: splitobs(1:10, at=0.7) == (1:7, 8:10); at=(0.5, 0.3) gives (1:5, 6:8, 9:10)
    a, b = splitobs(range(1, 11), at=0.7)
    assert (a, b) == (list(range(1, 8)), [8, 9, 10])
    parts = splitobs(range(1, 11), at=(0.5, 0.3))
    assert parts == ([1, 2, 3, 4, 5], [6, 7, 8], [9, 10])
    X, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)     # Flux's 2×10 X, reversed
    (xtr, ytr), (xte, yte) = splitobs((X, y), at=0.7)
    assert torch.equal(xtr, X[:7]) and torch.equal(yte, y[7:])


def test_getobs_numobs_and_errors():
    data = {"x": np.arange(12).reshape(6, 2), "y": list("abcdef")}
    assert numobs(data) == 6
    got = getobs(data, [5, 0])
    assert np.array_equal(got["x"], np.array([[10, 11], [0, 1]])) and got["y"] == ["f", "a"]
    assert getobs(torch.arange(4), 2) == 2
    with pytest.raises(ValueError, match="same number of observations"):
        numobs((torch.zeros(3, 2), torch.zeros(4)))
    with pytest.raises(ValueError, match="fractions"):
        splitobs(torch.arange(4), at=1.5)


def test_shuffleobs_is_a_permutation_kept_in_step_across_arrays():
    x, y = torch.arange(8), torch.arange(8) * 10
    sx, sy = shuffleobs((x, y), rng=3)
    assert sorted(sx.tolist()) == list(range(8)) and torch.equal(sy, sx * 10)
    again = shuffleobs((x, y), rng=3)
    assert torch.equal(again[0], sx)
