"""Flux's callback helpers, checked against Flux's test/utils.jl and docs: v0.16.11
(github.com/FluxML/Flux.jl, commit 443ed1bc8c157168e4fe99a045f42014ae26def8) for
``early_stopping``/``plateau`` (init_score=Inf), v0.14.25 (commit
0567cb30a79e328a5077a6851ddbfe4db9b72d81) for their ``_v014`` twins (init_score=0).

Flux's throttle tests use a 1 s timeout and sleep(1.01); here the timeout is
scaled down to keep the suite fast, with the same relative margins.
"""
import time

import pytest

import math

import flux_torch
from flux_torch.callbacks import (early_stopping, early_stopping_v014, patience, plateau,
                                  plateau_v014, throttle)

T = 0.2       # throttle timeout (Flux: 1)
WAIT = 0.35   # sleep past the timeout (Flux: 1.01)


def test_throttle_default():
    a = []
    f = throttle(lambda: a.append(time.time()), T, leading=True, trailing=False)
    f()
    f()
    f()
    time.sleep(WAIT)
    assert len(a) == 1


def test_throttle_leading():
    a = []
    f = throttle(lambda: a.append(time.time()), T, leading=True, trailing=False)
    f()
    assert len(a) == 1
    f()
    assert len(a) == 1
    time.sleep(WAIT)
    f()
    assert len(a) == 2


def test_throttle_trailing():
    a = []
    f = throttle(lambda: a.append(time.time()), T, leading=False, trailing=True)
    f()
    assert len(a) == 0
    f()
    assert len(a) == 0
    time.sleep(WAIT)
    assert len(a) == 1


def test_throttle_arguments():
    a = []
    f = throttle(lambda x: a.append(x), T, leading=True, trailing=True)
    f(1)
    assert a == [1]
    f(2)
    assert a == [1]
    f(3)
    assert a == [1]
    time.sleep(WAIT)
    assert a == [1, 3]


def test_throttle_not_leading_not_trailing_runs_first_call_late():
    # Flux: with leading=false the opening call is postponed to the end of the period;
    # with trailing=false later calls in the period are dropped.
    a = []
    f = throttle(lambda x: a.append(x), T, leading=False, trailing=False)
    f(1)
    f(2)
    assert a == []
    time.sleep(WAIT)
    assert a == [1]


def test_throttle_returns_latest_result_and_passes_kwargs():
    f = throttle(lambda x, y=0: x + y, T)
    assert f(1, y=10) == 11
    assert f(5, y=5) == 11   # throttled: the last result comes back


def test_throttle_recovers_after_exception():
    calls = []

    def g(x):
        calls.append(x)
        if x == 0:
            raise RuntimeError("boom")
        return x

    f = throttle(g, T, leading=True, trailing=True)
    with pytest.raises(RuntimeError):
        f(0)
    assert f(1) == 1
    time.sleep(WAIT)


def test_patience():
    trigger = patience(lambda: True, 3)
    assert trigger() is False
    assert trigger() is False
    assert trigger() is True

    v = [False, True, False, True, True, True]
    trigger = patience(lambda i: v[i], 3)
    n_iter = 0
    for i in range(len(v)):
        if trigger(i):
            break
        n_iter += 1
    assert n_iter == 5


def test_patience_kwargs_from_docs():
    trigger = patience(lambda a, b: a > b, 3)
    assert not any(trigger(1, b=2) for _ in range(10))
    trigger = patience(lambda a, b: a > b, 3)
    epochs = next(e for e in range(1, 11) if trigger(3, b=2))
    assert epochs == 3


def _run(trigger, arg=lambda n: (), kw=lambda n: {}, limit=99):
    n_iter = 0
    while n_iter < limit:
        if trigger(*arg(n_iter), **kw(n_iter)):
            break
        n_iter += 1
    return n_iter


# ---- Flux v0.16.11 test/utils.jl, "early stopping" (init_score = Inf) -------------

def test_early_stopping_decreasing_score():
    es = early_stopping(lambda x: x, 10)
    assert _run(es, arg=lambda n: (-n,)) == 99          # every iter improves


def test_early_stopping_increasing_score():
    es = early_stopping(lambda x: x, 10, distance=lambda best, score: score - best,
                        init_score=-math.inf)
    assert _run(es, arg=lambda n: (n,)) == 99


def test_early_stopping_args_and_kwargs_v016():
    es = early_stopping(lambda x, *, y: x + y, 10)
    assert _run(es, arg=lambda n: (-n,), kw=lambda n: {"y": -n}) == 99


def test_early_stopping_minimum_distance():
    es = early_stopping(lambda x: x, 10, min_dist=3)
    n_iter = 0
    while n_iter < 99:                                   # every iter improves by at least 3
        if es(-n_iter):
            break
        n_iter += 3
    assert n_iter == 99
    n_iter = 0
    while n_iter < 99:                                   # the first improves by 3, the rest not
        if es(-n_iter):
            break
        n_iter += 1
    assert n_iter == 9


def test_callbacks_keep_their_names_and_defaults():
    assert flux_torch.early_stopping is early_stopping is flux_torch.data.early_stopping
    assert flux_torch.throttle is throttle is flux_torch.Optimise.throttle
    assert early_stopping.__defaults__[1] == math.inf and plateau.__defaults__[1] == math.inf
    assert early_stopping_v014.__defaults__[1] == 0 and plateau_v014.__defaults__[1] == 0


# ---- Flux v0.14.25 test/utils.jl, "early stopping" (init_score = 0) ---------------

def test_early_stopping_v014_args_and_kwargs():
    es = early_stopping_v014(lambda x, y=1: x + y, 10, min_dist=3)
    assert _run(es, arg=lambda n: (-n,), kw=lambda n: {"y": -n}) == 9


def test_early_stopping_v014_distance():
    es = early_stopping_v014(lambda x: x, 10, distance=lambda best, score: score - best)
    assert _run(es, arg=lambda n: (n,)) == 99


def test_early_stopping_v014_init_score():
    es = early_stopping_v014(lambda x: x, 10, init_score=10)
    assert _run(es, arg=lambda n: (n,)) == 10


def test_plateau_v014():
    v = 10

    def f():
        nonlocal v
        v = v / abs(v) - v
        return v

    trigger = plateau_v014(f, 3, init_score=10, min_dist=18)
    assert _run(trigger) == 3
    zero = plateau_v014(lambda: 0.0, 2)                  # |0 - 0| from the first call
    assert [zero(), zero()] == [False, True]
    later = plateau(lambda: 0.0, 2)                      # v0.16: |Inf - 0| first, then 0, 0
    assert [later(), later(), later()] == [False, False, True]


def test_early_stopping_docs_example():
    # Flux docs: a loss (t - 4)^2 that decreases for 4 calls, then increases;
    # early_stopping(loss, 2; init_score = 9) stops at the 6th epoch.
    t = 0

    def loss():
        nonlocal t
        t += 1
        return (t - 4) ** 2

    es = early_stopping(loss, 2, init_score=9)
    stopped = next(epoch for epoch in range(1, 11) if es())
    assert stopped == 6


def test_plateau():
    v = 10

    def f():
        nonlocal v
        v = v / abs(v) - v
        return v

    trigger = plateau(f, 3, init_score=10, min_dist=18)
    assert _run(trigger) == 3


def test_plateau_default_min_dist():
    trigger = plateau(lambda: 1.0, 2, init_score=1.0)
    assert trigger() is False   # count 1: |1 - 1| < 1e-6
    assert trigger() is True
