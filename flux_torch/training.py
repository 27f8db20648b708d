"""``train_``: one pass over the data, in Flux's explicit and implicit styles (``Flux.train!``)."""
import sys
import warnings
from typing import Any, Callable, Optional, Sequence, Union

from ._locks import lock_for
from ._requires_grad import switch_off, switch_on
from .functors import fleaves
from .gradient import withgradient
from .params import Params
from .progress import within_progress
from .optimise.tree import check_rule, is_rule, leaves, setup
from .optimise.updates import _is_state, update_
from .compile import CompiledTrainStep
from ._train_errors import explain_call
from .adtypes import AbstractADType
from .trainstep import TrainStep, check_finite, step_for

__all__ = ["train_"]


def train_(loss: Callable[..., Any], model: Any, data: Any, opt: Any = None,
           cb: Optional[Union[Callable[[], Any], Sequence[Callable[[], Any]]]] = None, *args: Any,
           progress: Optional[bool] = None, compile: bool = False) -> None:
    """Improve the parameters with ``loss`` over ``data`` once, in place (``Flux.train!``).

    Explicit style, ``train_(loss, model, data, opt_state)``: for each ``d`` in
    ``data`` it computes ``loss(model, *d)`` and its gradient, then calls
    ``update_(opt_state, model, grad)``. ``opt_state`` comes from
    ``setup(rule, model)``; a rule is also accepted (set up afresh for this pass,
    with a warning when the rule keeps state that would be lost).

    Implicit style, ``train_(loss, ps, data, rule)`` with ``ps = params(model)``:
    ``loss(*d)`` takes only the data, and ``update_(rule, ps, gs)`` does the step.

    A tuple or list ``d`` is spread into arguments (torch's ``DataLoader`` gives
    lists), anything else is passed as one argument. If the loss is NaN or
    infinite, a ``FloatingPointError`` names the item (counting from 0) before
    that step changes anything. After each step ``cb()`` is called (``cb`` may be
    a list of functions). A progress bar (tqdm) appears on long runs when stderr
    is a terminal, and on every call inside a ``for ... in Flux.progress(...)`` loop;
    ``progress=True`` forces it, ``progress=False`` hides it.
    ``compile=True`` (explicit style) runs each step through :func:`compile_step`,
    compiled once and reused by later calls with the same loss, model and state.
    Returns None.

    >>> from flux_torch.optimise import Descent
    >>> model = Dense(torch.tensor([[1.0]]), torch.tensor([0.0]))
    >>> data = [(torch.tensor([[2.0]]), torch.tensor([[8.0]]))]
    >>> train_(lambda m, x, y: ((m(x) - y) ** 2).mean(), model, data, Descent(0.05))
    >>> model.weight, model.bias   # w - 0.05 * 2 * (2 - 8) * 2, b - 0.05 * 2 * (2 - 8)
    (tensor([[2.2000]]), tensor([0.6000]))

    Flux v0.16's ``train!(loss, adtype, model, data, opt_state)`` works too: the backend
    (``AutoZygote()``...) means torch's autograd. The loss may return auxiliary outputs
    (``(loss, aux...)``): the first entry is the one trained on.
    """
    if isinstance(model, AbstractADType):       # train_(loss, AutoZygote(), model, data, opt)
        model, data, opt, cb = data, opt, cb, (args[0] if args else None)
    elif args:
        raise TypeError(f"train_ takes (loss, model, data, opt_state, cb=None), but got "
                        f"{5 + len(args)} positional arguments")
    if opt is None:
        raise TypeError("train_ needs the optimiser state: train_(loss, model, data, opt_state) with "
                        "opt_state = setup(rule, model)")
    callbacks = _callbacks(cb)
    if isinstance(model, Params):
        _check_implicit(opt, compile)
        with lock_for(model):      # calls on one model from several threads take turns
            try:
                for i, d in enumerate(_progress(data, progress)):
                    batch = tuple(d) if isinstance(d, (tuple, list)) else (d,)
                    val, gs = withgradient(lambda: loss(*batch), model)
                    check_finite(val, i)
                    update_(opt, model, gs)
                    for f in callbacks:
                        f()
            except TypeError as err:
                hint = explain_call(loss, None, data, err)
                if hint is None:
                    raise
                raise TypeError(hint) from err
        return
    if is_rule(opt):
        opt = _rule_to_state(model, opt)
    elif isinstance(opt, type):
        check_rule(opt, "train_")
    # the explicit style steps on the model's record, with a step kept for the next epoch
    kind = CompiledTrainStep if compile else TrainStep
    with lock_for(model):
        try:
            _explicit_loop(loss, model, data, opt, kind, callbacks, progress)
        except TypeError as err:
            hint = explain_call(loss, model, data, err)
            if hint is None:
                raise
            raise TypeError(hint) from err


def _explicit_loop(loss, model, data, opt, kind, callbacks, progress):
    if callbacks or kind is not TrainStep:   # a callback may change the model: its step asked anew
        for i, d in enumerate(_progress(data, progress)):
            step_for(model, opt, kind).step(loss, model, tuple(d) if isinstance(d, (tuple, list))
                                            else (d,), i)
            for f in callbacks:
                f()
        return
    # no code of the user's runs between the steps: one step, and the parameters'
    # requires_grad on from the first to the last (a callback would see it switched off)
    step = step_for(model, opt, kind)
    held = switch_on(step.params)
    try:
        for i, d in enumerate(_progress(data, progress)):
            step.step(loss, model, tuple(d) if isinstance(d, (tuple, list)) else (d,), i, held=True)
    finally:
        switch_off(held)


def _check_implicit(opt, compile):
    if not is_rule(opt):
        if _is_state(opt):
            raise TypeError(
                "train_: can't mix implicit Params with explicit state! To use params(model) in "
                "train_, the 4th argument must be a rule such as Adam(). But better to use the "
                "explicit style, in which the model itself is the 2nd argument: "
                "train_(loss, model, data, setup(rule, model)).")
        check_rule(opt, "train_")
    if compile:
        raise TypeError("train_(compile=True) needs the explicit style, "
                        "train_(loss, model, data, setup(rule, model)); with params(...) "
                        "leave compile off")


def _rule_to_state(model, rule):
    state = setup(rule, model)
    kept = (x for leaf in leaves(state, "train_") for x in fleaves(leaf.state)
            if x is not None and not (type(x) is tuple and not x))
    if any(True for _ in kept):    # the rule keeps something beyond () or None
        name = type(rule).__name__
        warnings.warn(f"train_: the rule {name} has state which will be discarded after train_ "
                      f"finishes. Please run opt_state = setup({name}(), model) once and pass this "
                      f"opt_state to train_.", stacklevel=3)
    return state


def _callbacks(cb):
    if cb is None:
        return ()
    fs = tuple(cb) if isinstance(cb, (list, tuple)) else (cb,)
    for f in fs:
        if not callable(f):
            raise TypeError(f"train_: cb must be a function (or a list of functions) called with no "
                            f"arguments after each step, but got {f!r}")
    return fs


def _progress(data, progress):
    """``data``, wrapped in a tqdm progress bar when wanted."""
    if progress is False:
        return data
    inner = within_progress(data, "train_", forced=progress is True)
    if inner is not None:      # inside a Flux.progress(...) loop: a line under its bar
        return inner
    if progress is None and not _stderr_is_terminal():
        return data
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ImportError("train_(progress=True) needs the tqdm package: pip install tqdm") from None
        return data
    total = len(data) if hasattr(data, "__len__") else None
    # On a terminal the bar shows only for runs longer than a second (Flux: "long runs").
    return tqdm(data, total=total, delay=0 if progress else 1.0, leave=False, desc="train_")


def _stderr_is_terminal():
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
