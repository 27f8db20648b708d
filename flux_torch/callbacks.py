"""Flux's callback helpers: ``throttle`` and the patience triggers ``patience``,
``early_stopping``, ``plateau`` (Flux ``src/utils.jl``).

``early_stopping`` and ``plateau`` start from ``init_score=inf`` as in Flux v0.16; Flux
v0.14 started from 0, which ``early_stopping_v014`` and ``plateau_v014`` keep for the
v0.14 namespace.
"""
import math
import operator
import threading
import time
from typing import Any, Callable

__all__ = ["throttle", "patience", "early_stopping", "plateau", "early_stopping_v014", "plateau_v014"]


def throttle(f: Callable[..., Any], timeout: float, leading: bool = True,
             trailing: bool = False) -> Callable[..., Any]:
    """Wrap ``f`` so that it runs at most once every ``timeout`` seconds.

    With ``leading=True`` a call that opens a quiet period runs at once;
    with ``leading=False`` it is postponed to the end of the period. With
    ``trailing=True`` the last call made during a period runs when the period
    ends. The wrapper returns the latest result of ``f``. Postponed calls run
    on a background thread (Flux runs them in an ``@async`` task).

    >>> a = throttle(lambda: print("Flux"), 2)
    >>> for i in range(4):   # calls 2 to 4 fall within 2 seconds of the first
    ...     _ = a()
    Flux
    """
    lock = threading.Lock()
    state = {"cooldown_until": None, "busy": False, "later": None, "result": None}

    if leading and not trailing:
        # Nothing is ever postponed: a quiet period simply ends `timeout` after its call.
        def throttled(*args, **kwargs):
            now = time.monotonic()
            until = state["cooldown_until"]
            if until is None or now >= until:
                state["cooldown_until"] = now + timeout
                state["result"] = f(*args, **kwargs)
            return state["result"]
        return throttled

    def run_later():
        try:
            while True:
                time.sleep(timeout)
                with lock:
                    later, state["later"] = state["later"], None
                    if later is None:
                        state["busy"] = False
                        return
                later()
        except BaseException:
            with lock:
                state["busy"] = False
            raise

    def call_and_store(args, kwargs):
        def go():
            state["result"] = f(*args, **kwargs)
        return go

    def throttled(*args, **kwargs):
        with lock:
            start = not state["busy"]
            if start:
                state["busy"] = True
                if not leading:
                    state["later"] = lambda: f(*args, **kwargs)
            elif trailing:
                state["later"] = call_and_store(args, kwargs)
        if start:
            if leading:
                try:
                    state["result"] = f(*args, **kwargs)
                except BaseException:
                    with lock:
                        state["busy"] = False
                    raise
            threading.Thread(target=run_later, daemon=True).start()
        return state["result"]

    return throttled


def patience(predicate: Callable[..., bool], wait: int) -> Callable[..., bool]:
    """A trigger that counts consecutive calls where ``predicate(...)`` is true
    (a false result resets the count) and returns ``True`` once the count
    reaches ``wait``. Arguments are passed on to ``predicate``.

    >>> trigger = patience(lambda: True, 3)
    >>> [trigger() for _ in range(4)]
    [False, False, True, True]
    """
    count = 0

    def on_trigger(*args, **kwargs):
        nonlocal count
        count = count + 1 if predicate(*args, **kwargs) else 0
        return count >= wait

    return on_trigger


def early_stopping(f: Callable[..., float], delay: int,
                   distance: Callable[[float, float], float] = operator.sub, init_score: float = math.inf,
                   min_dist: float = 0) -> Callable[..., bool]:
    """A trigger that returns ``True`` after ``delay`` consecutive calls in
    which ``f(...)`` failed to improve on the best score so far by at least
    ``min_dist``, i.e. ``distance(best_score, f(...)) < min_dist``.

    The default ``distance(best, score) = best - score`` suits a loss to be
    minimised, and the first score always improves on ``init_score=inf`` (Flux v0.16);
    for a metric such as accuracy pass ``distance=lambda best, score: score - best,
    init_score=-math.inf``. Arguments are passed on to ``f``.

    >>> loss = iter(range(1, 100)).__next__    # a loss that only increases
    >>> es = early_stopping(loss, 3)
    >>> for epoch in range(1, 11):
    ...     print("Epoch", epoch)
    ...     if es():
    ...         break
    Epoch 1
    Epoch 2
    Epoch 3
    Epoch 4
    """
    best_score = init_score

    def trigger(*args, **kwargs):
        nonlocal best_score
        score = f(*args, **kwargs)
        delta = distance(best_score, score)
        if not delta < 0:
            best_score = score
        return delta < min_dist

    return patience(trigger, delay)


def plateau(f: Callable[..., float], width: int, distance: Callable[[float, float], float] = operator.sub,
            init_score: float = math.inf, min_dist: float = 1e-6) -> Callable[..., bool]:
    """A trigger that returns ``True`` after ``width`` consecutive calls in
    which ``f(...)`` moved less than ``min_dist`` from its previous value,
    i.e. ``abs(distance(last_score, f(...))) < min_dist``. Arguments are
    passed on to ``f``.

    >>> v = 10
    >>> def f():                      # -9, 8, -7, 6, ...
    ...     global v
    ...     v = v / abs(v) - v
    ...     return v
    >>> trigger = plateau(f, 3, init_score=10, min_dist=18)
    >>> for epoch in range(1, 11):
    ...     print("Epoch", epoch)
    ...     if trigger():
    ...         break
    Epoch 1
    Epoch 2
    Epoch 3
    Epoch 4
    """
    last_score = init_score

    def is_plateau(*args, **kwargs):
        nonlocal last_score
        score = f(*args, **kwargs)
        delta = abs(distance(last_score, score))
        last_score = score
        return delta < min_dist

    return patience(is_plateau, width)


def early_stopping_v014(f, delay, distance=operator.sub, init_score=0, min_dist=0):
    """:func:`early_stopping` as Flux v0.14 defines it, starting from ``init_score=0``
    (so a loss that never goes below 0 counts as not improving from the first call).

    >>> loss = iter(range(1, 100)).__next__    # a loss that only increases
    >>> es = early_stopping_v014(loss, 3)
    >>> [es() for _ in range(3)]
    [False, False, True]
    """
    return early_stopping(f, delay, distance, init_score, min_dist)


def plateau_v014(f, width, distance=operator.sub, init_score=0, min_dist=1e-6):
    """:func:`plateau` as Flux v0.14 defines it, starting from ``init_score=0``.

    >>> trigger = plateau_v014(lambda: 0.0, 2)   # |0 - 0| < 1e-6 from the first call
    >>> [trigger(), trigger()]
    [False, True]
    """
    return plateau(f, width, distance, init_score, min_dist)
