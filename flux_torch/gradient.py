"""``gradient`` and friends: Zygote's semantics on ``torch.autograd.grad``.

Each argument is turned into something torch can differentiate (see
``_gradient_args``), the function runs inside :class:`~flux_torch.modes.differentiating`
(Dropout and BatchNorm act as in training), and ``torch.autograd.grad`` computes the
result, which is turned back into the kind of thing the argument was. Nested calls
keep the graph; top-level calls do not.

Calls on one model from several threads take turns (the model's lock, ``_locks``),
and ``requires_grad`` is switched on per call, counted (``_requires_grad``), so
concurrent calls give what the same calls give one after another.
"""
from collections import namedtuple
import contextlib
import inspect
import numbers
from typing import Any, Callable, Tuple

import torch

from ._gradient_args import Arg, alias, is_structure
from .adtypes import AbstractADType
from ._backward import scalar_grad
from ._locks import lock_for
from ._requires_grad import switch_off, switch_on
from .functors import fmap, isleaf
from .grads import Grads
from .modes import differentiating
from .params import Params
from .functors.record import record_of

__all__ = ["gradient", "withgradient", "pullback", "ignore_derivatives", "WithGradient"]

WithGradient = namedtuple("WithGradient", ["val", "grad"])
WithGradient.__doc__ = "The result of :func:`withgradient`: the value ``val`` and the gradient ``grad``."


def _model_gradient(f, x, first):
    """``gradient(f, x)`` for one model argument ``x``: the value of ``f(x)`` and the
    model-shaped gradient of ``first(f(x))``, on the model's record.

    This is what ``_run`` and ``_grads_of`` do for a single structure argument, with
    nothing else: a training step calls it every batch.
    """
    with lock_for(x):
        rec = record_of(x)
        tensors = rec.tensors
        held = switch_on(tensors)
        try:
            with differentiating() as nested:
                y = f(x)
                val = _check_scalar(first(y))
                if val is None or not tensors:
                    gs = (None,) * len(tensors)
                else:
                    gs = scalar_grad(val, tensors, nested)
        finally:
            switch_off(held)
        return y, rec.mirror(x, gs), nested


def _tensors_gradient(f, args, first):
    """``gradient(f, *args)`` when every argument is a plain tensor: the value of ``f``
    and a tuple with each tensor's gradient (None for a bool tensor), as ``Arg`` gives."""
    with differentiating() as nested:
        xs = [alias(a, nested) for a in args]
        leaves = [x for x in xs if x.requires_grad]
        y = f(*xs)
        val = _check_scalar(first(y))
        if val is None or not leaves:
            return y, (None,) * len(xs), nested
        gs = iter(scalar_grad(val, leaves, nested))
    return y, tuple(next(gs) if x.requires_grad else None for x in xs), nested


def _check_scalar(y):
    """The differentiable scalar of an output, or ``None`` when it is constant."""
    if type(y) is torch.Tensor and not y.dim() and not y.is_complex():    # the usual case
        return y if y.requires_grad else None
    if isinstance(y, complex) or isinstance(y, torch.Tensor) and y.is_complex():
        raise ValueError("Output is complex, so the gradient is not defined. "
                         "Differentiate a real number made from it, e.g. abs(y) ** 2 or y.real")
    if isinstance(y, torch.Tensor):
        if y.dim() != 0:
            raise ValueError("Output is an array, so the gradient is not defined. "
                             f"Perhaps you wanted jacobian. (got a tensor of shape {tuple(y.shape)}; "
                             "reduce it, e.g. with .sum() or .mean())")
        return y if y.requires_grad else None
    if isinstance(y, numbers.Number):
        return None
    raise ValueError(f"Output should be scalar; gradients are not defined for output {y!r}")


@contextlib.contextmanager
def _locked(args):
    """Hold the locks of the model arguments (in a fixed order, so two calls never wait on each other)."""
    models = sorted({id(a): a for a in args if is_structure(a)}.values(), key=id)
    with contextlib.ExitStack() as stack:
        for m in models:
            stack.enter_context(lock_for(m))
        yield


def _run(f, args, fresh=False):
    """Call ``f`` on prepared arguments inside a gradient region.

    Returns ``(y, prepared, nested)``; the caller restores the arguments (``Arg.restore``).
    """
    with differentiating() as nested:
        prepared = [Arg(a, nested, fresh) for a in args]
        try:
            y = f(*[p.value for p in prepared])
        except BaseException:
            for p in prepared:
                p.restore()
            raise
    return y, prepared, nested


def _grads_of(y, prepared, nested, grad_output=None, retain=False):
    leaves = [t for p in prepared for t in p.leaves]
    if y is None or not leaves:
        gs = [None] * len(leaves)
    elif grad_output is None:       # a scalar's gradient (every call but a pullback's)
        gs = scalar_grad(y, leaves, nested, retain)
    else:
        gs = torch.autograd.grad(y, leaves, grad_outputs=grad_output, allow_unused=True,
                                 create_graph=nested, retain_graph=retain or nested)
    out, i = [], 0
    for p in prepared:
        n = len(p.leaves)
        out.append(p.finish(gs[i:i + n]))
        i += n
    return tuple(out)


def _same(y):
    return y


def _detached(y, nested):
    if nested:
        return y
    if type(y) is torch.Tensor:
        return y.detach()
    return fmap(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, y)


def _implicit(f, ps, grad_value):
    order = list(ps)
    with lock_for(ps):
        held = switch_on(order)
        try:
            with differentiating() as nested:
                y = _call_implicit(f)
                target = _check_scalar(grad_value(y))
                if target is None:
                    gs = [None] * len(order)
                else:
                    gs = scalar_grad(target, order, nested)
        finally:
            switch_off(held)
    return y, Grads(dict(zip(map(id, order), gs)), ps), nested


def _call_implicit(f):
    """``f()`` for the implicit style, saying what went wrong when ``f`` wants arguments."""
    try:
        return f()
    except TypeError as err:
        try:
            inspect.signature(f).bind()
        except TypeError:
            raise TypeError(f"gradient(f, params(...)) is the implicit style: f takes no arguments "
                            f"and uses the tensors it closes over, as in gradient(lambda: loss(model(x), "
                            f"y), ps), but this f wants arguments ({err}); to differentiate with "
                            "respect to the model itself, use gradient(lambda m: loss(m(x), y), model)"
                            ) from err
        except ValueError:
            pass
        raise


def gradient(f: Callable[..., Any], *args: Any) -> Any:
    """The gradient of the scalar ``f(*args)`` with respect to each argument (``Zygote.gradient``).

    Returns a tuple with one entry per argument, of the argument's kind: a Python
    number gives a float, a tensor or list a tensor, a numpy array a numpy array,
    a model or container the same kind of object holding gradients (``None``
    where there is none). With ``params(...)`` as the only argument, ``f`` takes
    no arguments and the result is a :class:`Grads`.

    >>> gradient(lambda x: 3 * x ** 2 + 2 * x + 1, 2)
    (14.0,)
    >>> gradient(lambda x, y: ((x - y) ** 2).sum(), [2.0, 1.0], [1.0, 0.0])
    (tensor([2., 2.]), tensor([-2., -2.]))

    Flux v0.16's form with a backend, ``gradient(f, AutoZygote(), x)``, is accepted: every
    backend means torch's autograd.
    """
    if args and isinstance(args[0], AbstractADType):
        args = args[1:]
    if len(args) == 1:
        if is_structure(args[0]):          # a model: the training loop's case
            return (_model_gradient(f, args[0], _same)[1],)
        if isinstance(args[0], Params):
            return _implicit(f, args[0], _same)[1]
    if args and all(type(a) is torch.Tensor for a in args):
        return _tensors_gradient(f, args, _same)[1]
    with _locked(args):
        y, prepared, nested = _run(f, args)
        try:
            return _grads_of(_check_scalar(y), prepared, nested)
        finally:
            for p in prepared:
                p.restore()


def withgradient(f: Callable[..., Any], *args: Any) -> WithGradient:
    """Both the value and the gradient: ``(val, grad)`` (``Zygote.withgradient``).

    When ``f`` returns a tuple, the gradient is of its first element and ``val``
    is the whole tuple.

    >>> r = withgradient(lambda x: x ** 2, 3.0)
    >>> r.val, r.grad
    (9.0, (6.0,))

    Auxiliary outputs (Flux v0.16): a loss returning ``(loss, aux...)`` or a dict whose first
    value is the loss is differentiated through that first entry, and ``val`` is the whole:

    >>> r = withgradient(lambda x: (x ** 2, {"double": 2 * x}), 3.0)
    >>> r.val, r.grad
    ((9.0, {'double': 6.0}), (6.0,))
    """
    if args and isinstance(args[0], AbstractADType):
        args = args[1:]
    if len(args) == 1:
        if is_structure(args[0]):
            y, g, nested = _model_gradient(f, args[0], _first)
            return WithGradient(_detached(y, nested), (g,))
        if isinstance(args[0], Params):
            y, gs, nested = _implicit(f, args[0], _first)
            return WithGradient(_value(y, nested, False), gs)
    if args and all(type(a) is torch.Tensor for a in args):
        y, gs, nested = _tensors_gradient(f, args, _first)
        return WithGradient(_detached(y, nested), gs)
    with _locked(args):
        y, prepared, nested = _run(f, args)
        try:
            grads = _grads_of(_check_scalar(_first(y)), prepared, nested)
        finally:
            for p in prepared:
                p.restore()
    return WithGradient(_value(y, nested, _all_numbers(prepared)), grads)


def _first(y):
    """The scalar that ``withgradient`` differentiates: a tuple's first element, or a dict's
    first value (Zygote's NamedTuple output)."""
    if isinstance(y, tuple):
        return y[0]
    if isinstance(y, dict) and y:
        return next(iter(y.values()))
    return y


def _value(y, nested, as_number):
    """The returned value: detached at top level; with only number arguments, scalar
    tensors become Python floats, as Zygote's numbers stay numbers."""
    y = _detached(y, nested)
    if as_number and not nested:
        return fmap(lambda t: t.item() if isinstance(t, torch.Tensor) and t.dim() == 0 else t, y)
    return y


def _all_numbers(prepared):
    return bool(prepared) and all(p.kind == "number" for p in prepared)


def pullback(f: Callable[..., Any], *args: Any) -> Tuple[Any, Callable[..., Any]]:
    """``(y, back)`` where ``back(dy)`` gives the vector-Jacobian product per argument.

    ``back`` can be called more than once. With ``params(...)``, ``back`` returns a :class:`Grads`.

    >>> y, back = pullback(lambda x: x * 3, torch.tensor([1.0, 2.0]))
    >>> back(torch.tensor([1.0, 10.0]))
    (tensor([ 3., 30.]),)
    """
    if len(args) == 1 and isinstance(args[0], Params):
        return _implicit_pullback(f, args[0])
    with _locked(args):
        y, prepared, nested = _run(f, args, fresh=True)

    def back(dy):
        if isinstance(y, torch.Tensor):
            dy = _cotangent(dy, y)
            return _grads_of(y if dy is not None else None, prepared, nested, dy, retain=True)
        outs, cots = _structured_cotangent(dy, y)     # a structure out: a cotangent of its shape
        return _grads_of(outs or None, prepared, nested, cots or None, retain=True)

    return _value(y, nested, _all_numbers(prepared)), back


def _cotangent(dy, y):
    if dy is None or not isinstance(y, torch.Tensor) or not y.requires_grad:
        return None
    dy = torch.as_tensor(dy, dtype=y.dtype, device=y.device)
    if dy.shape != y.shape:
        raise ValueError(f"pullback: the cotangent must have the output's shape {tuple(y.shape)}, "
                         f"but got {tuple(dy.shape)}")
    return dy


def _structured_cotangent(dy, y):
    """The output tensors of ``y`` that need a gradient, with their parts of the cotangent ``dy``
    (a structure shaped like ``y``; ``None`` anywhere means no cotangent there)."""
    outs, cots = [], []

    def pair(a, b):
        if isinstance(a, torch.Tensor) and b is not None:
            c = _cotangent(b, a)
            if c is not None:
                outs.append(a)
                cots.append(c)
        return a
    fmap(pair, y, dy)
    return outs, cots


def _implicit_pullback(f, ps):
    order = list(ps)
    with lock_for(ps):
        held = switch_on(order)
        try:
            with differentiating() as nested:
                y = f()
        finally:
            switch_off(held)

    def back(dy):
        dy = _cotangent(dy, y)
        if dy is None:
            return Grads({id(p): None for p in order}, ps)
        held = switch_on(order)       # the flags are checked when the gradient is taken
        try:
            gs = torch.autograd.grad(y, order, dy, allow_unused=True, retain_graph=True,
                                     create_graph=nested)
        finally:
            switch_off(held)
        return Grads({id(p): g for p, g in zip(order, gs)}, ps)

    return _detached(y, nested), back


def ignore_derivatives(f: Any) -> Any:
    """Run ``f()`` without recording gradients, or cut a value out of the graph
    (``ChainRulesCore.ignore_derivatives``, ``Zygote.ignore``).

    Given a callable, calls it with no arguments under ``torch.no_grad()``; given
    anything else, returns it with every tensor detached.

    >>> gradient(lambda x: x * ignore_derivatives(x), torch.tensor(3.0))
    (tensor(3.),)
    >>> gradient(lambda x: x + ignore_derivatives(lambda: x ** 2), torch.tensor(3.0))
    (tensor(1.),)
    """
    if callable(f) and not isinstance(f, torch.Tensor) and isleaf(f):
        with torch.no_grad():
            return f()
    return fmap(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, f)


ignore = ignore_derivatives     # Zygote's older name
