"""``gradient`` and friends: Zygote's semantics on ``torch.autograd.grad``.

Each argument is turned into something torch can differentiate (see
:class:`_Arg`), the function runs with the train-mode depth raised, and
``torch.autograd.grad`` computes the result, which is turned back into the
kind of thing the argument was. Nested calls keep the graph; top-level calls
do not.
"""
from collections import namedtuple
import numbers

import numpy as np
import torch

from . import _mode
from ._flat import flat
from ._functor import fmap, fmapstructure, isleaf
from ._grads import Grads
from ._params import Params

__all__ = ["gradient", "withgradient", "pullback", "jacobian", "withjacobian", "hessian",
           "hessian_reverse", "diaghessian", "ignore_derivatives", "WithGradient"]

WithGradient = namedtuple("WithGradient", ["val", "grad"])
WithGradient.__doc__ = "The result of :func:`withgradient`: the value ``val`` and the gradient ``grad``."

_NUMBER_KINDS = (int, float)


class _IntNumber(torch.Tensor):
    """A differentiable float64 scalar made from a Python ``int`` argument that can also
    serve as an index (``x.shape[d]``, ``range(n)``), as Zygote lets an ``Int`` be both:
    ``gradient(f, [7, 11], 0, 0)`` gives ``None`` for an argument used only as an index."""

    __torch_function__ = torch._C._disabled_torch_function_impl   # results are plain tensors

    def __index__(self):
        v = self.item()
        if v != int(v):
            raise TypeError(f"a number argument of gradient was used as an index but it is {v}")
        return int(v)

    def __repr__(self, **kwargs):
        return repr(self.detach().as_subclass(torch.Tensor))


def _is_number(x):
    """A real number other than ``bool`` (Python's or numpy's scalars): Zygote's ``Real``."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_, torch.Tensor))


class _Arg:
    """One argument of a differentiated function.

    ``value`` is what the function receives, ``leaves`` the tensors to
    differentiate with respect to, ``toggled`` the tensors whose
    ``requires_grad`` was switched on for the call, and ``finish`` turns the
    leaves' gradients back into the argument's kind.
    """

    __slots__ = ("value", "leaves", "toggled", "kind", "orig", "flat")

    def __init__(self, x, nested, fresh):
        self.orig, self.toggled = x, ()
        if _is_number(x):
            self.kind = "number"
            v = torch.tensor(float(x), dtype=torch.float64)
            if isinstance(x, numbers.Integral):
                self.value = torch.Tensor._make_subclass(_IntNumber, v, True)
            else:
                self.value = v.requires_grad_()
            self.leaves = (self.value,)
        elif isinstance(x, torch.Tensor):
            self.kind = "tensor"
            self.value = _alias(x, nested)
            self.leaves = (self.value,) if self.value.requires_grad else ()
        elif isinstance(x, (np.ndarray, range)) or _is_numeric_list(x):
            self.kind = "numpy" if isinstance(x, np.ndarray) else "tensor"
            self.value = _alias(torch.as_tensor(list(x) if isinstance(x, range) else x), nested)
            self.leaves = (self.value,) if self.value.requires_grad else ()
        elif isleaf(x):
            self.kind, self.value, self.leaves = "constant", x, ()
        else:
            self.kind = "structure"
            self._structure(x, nested, fresh)
            if not isinstance(x, (list, tuple)):     # the kind of such an object follows its type
                _STRUCTURES.add(type(x))

    def _structure(self, x, nested, fresh):
        self.flat = flat(x)
        tensors = self.flat.tensors
        if fresh:   # a pullback must not depend on requires_grad flags that are restored later
            new = {id(t): t.detach().requires_grad_() for t in tensors}
            self.value = fmap(lambda t: new.get(id(t), t), x, trainable_only=True)
            self.leaves = tuple(new.values())
            self.orig, self.flat = self.value, None
            return
        toggled = [t for t in tensors if not t.requires_grad]
        for t in toggled:
            t.requires_grad_(True)
        self.value, self.leaves, self.toggled = x, tuple(tensors), toggled

    def restore(self):
        for t in self.toggled:
            t.requires_grad_(False)

    def finish(self, grads):
        kind = self.kind
        if kind == "number":
            g = grads[0]
            return None if g is None else g.item()
        if kind == "constant":
            return None
        if kind in ("tensor", "numpy"):
            g = grads[0] if grads else None
            if g is None or kind == "tensor":
                return g
            return g.detach().cpu().numpy()
        if self.flat is None:      # rebuilt with fresh leaves (pullback)
            by_id = {id(t): g for t, g in zip(self.leaves, grads)}
            return fmapstructure(lambda leaf: by_id.get(id(leaf)), self.orig)
        return self.flat.mirror(self.orig, grads)     # leaves are flat.tensors, in order


_STRUCTURES = set()     # types whose objects are models (structures), seen by _Arg


def _model_gradient(f, x, first):
    """``gradient(f, x)`` for one model argument ``x``: the value of ``f(x)`` and the
    model-shaped gradient of ``first(f(x))``, on the model's recorded walk.

    This is what ``_run`` and ``_grads_of`` do for a single structure argument, with
    nothing else: a training step calls it every batch.
    """
    rec = flat(x)
    tensors = rec.tensors
    toggled = [t for t in tensors if not t.requires_grad]
    for t in toggled:
        t.requires_grad_(True)
    nested = _mode._depth[0] > 0
    _mode._depth[0] += 1
    try:
        y = f(x)
        val = _check_scalar(first(y))
        if val is None or not tensors:
            gs = (None,) * len(tensors)
        else:
            gs = torch.autograd.grad(val, tensors, allow_unused=True,
                                     create_graph=nested, retain_graph=nested)
    finally:
        _mode._depth[0] -= 1
        for t in toggled:
            t.requires_grad_(False)
    return y, rec.mirror(x, gs), nested


def _alias(x, nested):
    """A fresh tensor to differentiate with respect to, sharing ``x``'s memory.

    Inside an outer gradient an input that is part of the outer graph is aliased
    with ``view_as``, so the inner derivative is with respect to the alias alone
    (no perturbation confusion) while the outer one still flows through it.
    """
    if not (x.is_floating_point() or x.is_complex()):
        if x.dtype == torch.bool:
            return x
        x = x.to(torch.get_default_dtype())
    if nested and x.requires_grad:
        return x.view_as(x)
    return x.detach().requires_grad_()


def _is_numeric_list(x):
    if not isinstance(x, (list, tuple)) or not x or hasattr(x, "_fields"):
        return False
    first = x[0]
    if isinstance(first, numbers.Number):
        return all(isinstance(v, numbers.Number) for v in x)
    return _is_numeric_list(first)


def _check_scalar(y):
    """The differentiable scalar of an output, or ``None`` when it is constant."""
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


def _run(f, args, fresh=False):
    """Call ``f`` on prepared arguments. Returns ``(y, prepared, nested)``; flags are restored by the caller."""
    nested = _mode._depth[0] > 0
    prepared = [_Arg(a, nested, fresh) for a in args]
    _mode._depth[0] += 1
    try:
        y = f(*[p.value for p in prepared])
    except BaseException:
        for p in prepared:
            p.restore()
        raise
    finally:
        _mode._depth[0] -= 1
    return y, prepared, nested


def _grads_of(y, prepared, nested, grad_output=None, retain=False):
    leaves = [t for p in prepared for t in p.leaves]
    if y is None or not leaves:
        gs = [None] * len(leaves)
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
    toggled = [p for p in ps if not p.requires_grad and p.is_leaf]
    for p in toggled:
        p.requires_grad_(True)
    nested = _mode._depth[0] > 0
    _mode._depth[0] += 1
    try:
        y = f()
        target = _check_scalar(grad_value(y))
        order = list(ps)
        if target is None:
            gs = [None] * len(order)
        else:
            gs = torch.autograd.grad(target, order, allow_unused=True, create_graph=nested)
    finally:
        _mode._depth[0] -= 1
        for p in toggled:
            p.requires_grad_(False)
    return y, Grads({id(p): g for p, g in zip(order, gs)}, ps), nested


def gradient(f, *args):
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
    """
    if len(args) == 1:
        if type(args[0]) in _STRUCTURES:        # a model: the training loop's case
            return (_model_gradient(f, args[0], _same)[1],)
        if isinstance(args[0], Params):
            return _implicit(f, args[0], _same)[1]
    y, prepared, nested = _run(f, args)
    try:
        return _grads_of(_check_scalar(y), prepared, nested)
    finally:
        for p in prepared:
            p.restore()


def withgradient(f, *args):
    """Both the value and the gradient: ``(val, grad)`` (``Zygote.withgradient``).

    When ``f`` returns a tuple, the gradient is of its first element and ``val``
    is the whole tuple.

    >>> r = withgradient(lambda x: x ** 2, 3.0)
    >>> r.val, r.grad
    (9.0, (6.0,))
    """
    if len(args) == 1:
        if type(args[0]) in _STRUCTURES:
            y, g, nested = _model_gradient(f, args[0], _first)
            return WithGradient(_detached(y, nested), (g,))
        if isinstance(args[0], Params):
            y, gs, nested = _implicit(f, args[0], _first)
            return WithGradient(_value(y, nested, False), gs)
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


def pullback(f, *args):
    """``(y, back)`` where ``back(dy)`` gives the vector-Jacobian product per argument.

    ``back`` can be called more than once. With ``params(...)``, ``back`` returns a :class:`Grads`.

    >>> y, back = pullback(lambda x: x * 3, torch.tensor([1.0, 2.0]))
    >>> back(torch.tensor([1.0, 10.0]))
    (tensor([ 3., 30.]),)
    """
    if len(args) == 1 and isinstance(args[0], Params):
        return _implicit_pullback(f, args[0])
    y, prepared, nested = _run(f, args, fresh=True)

    def back(dy):
        dy = _cotangent(dy, y)
        return _grads_of(y if dy is not None else None, prepared, nested, dy, retain=True)

    return _value(y, nested, _all_numbers(prepared)), back


def _cotangent(dy, y):
    if dy is None or not isinstance(y, torch.Tensor) or not y.requires_grad:
        return None
    dy = torch.as_tensor(dy, dtype=y.dtype, device=y.device)
    if dy.shape != y.shape:
        raise ValueError(f"pullback: the cotangent must have the output's shape {tuple(y.shape)}, "
                         f"but got {tuple(dy.shape)}")
    return dy


def _implicit_pullback(f, ps):
    order = [p for p in ps]
    fresh = [p for p in order if not p.requires_grad and p.is_leaf]
    for p in fresh:
        p.requires_grad_(True)
    nested = _mode._depth[0] > 0
    _mode._depth[0] += 1
    try:
        y = f()
    finally:
        _mode._depth[0] -= 1
        for p in fresh:
            p.requires_grad_(False)

    def back(dy):
        dy = _cotangent(dy, y)
        if dy is None:
            return Grads({id(p): None for p in order}, ps)
        for p in fresh:
            p.requires_grad_(True)
        try:
            gs = torch.autograd.grad(y, order, dy, allow_unused=True, retain_graph=True,
                                     create_graph=nested)
        finally:
            for p in fresh:
                p.requires_grad_(False)
        return Grads({id(p): g for p, g in zip(order, gs)}, ps)

    return _detached(y, nested), back


# The Jacobian family lives in its own module; it is imported here so that
# ``from flux_torch._grad import jacobian, hessian`` keeps working.
from ._jacobian import diaghessian, hessian, hessian_reverse, jacobian, withjacobian  # noqa: E402


def ignore_derivatives(f):
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
