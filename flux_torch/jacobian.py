"""The Jacobian family (Zygote's ``jacobian``, ``withjacobian``, ``hessian``,
``hessian_reverse``, ``diaghessian``).

Where it can, each runs the function once under ``torch.func``: ``vjp``, then one
``vmap`` of the pullback over the output basis (reverse mode, as Zygote's
``jacobian``, with every row in one batched backward pass); the Hessian is ``jacfwd``
of ``grad`` (forward over reverse, as Zygote's ``hessian``) or ``vjp`` of ``grad``
(``hessian_reverse``). The general path takes the rest: one ``torch.autograd.grad``
per output element on the graph of one call, as Zygote's loop does. It serves
implicit ``Params``, ``int`` and complex arguments, and functions ``torch.func``
refuses: in-place updates of tensors the function closes over, ``.numpy()`` on an
input, a ``gradient`` call inside, or (under ``jacfwd``) Python branches on tensor
values. A refused function is called again on the general path. Both paths give the
same shapes, dtypes and types, and keep the graph when nested in a gradient.
"""
import numbers

import numpy as np
import torch
from torch.func import grad, jacfwd, vjp, vmap

from .gradient import WithGradient, _run, gradient, pullback
from ._gradient_args import _is_numeric_list, is_number
from .grads import Grads
from .modes import differentiating
from .params import Params
from typing import Any, Callable, Tuple

__all__ = ["jacobian", "withjacobian", "hessian", "hessian_reverse", "diaghessian"]

# Basis rows given to one vmap call are capped at this many elements in all, so a
# long output is pulled back in chunks instead of through one huge identity matrix.
_CHUNK_ELEMENTS = 1 << 22


def _vec(y, fname):
    if isinstance(y, torch.Tensor):
        if y.is_complex():
            raise ValueError(f"{fname} does not accept complex output")
        return y.reshape(-1)
    if is_number(y):
        return torch.tensor([float(y)], dtype=torch.float64)
    raise TypeError(f"{fname} expected a function which returns a tensor, or a number, "
                    f"but got {type(y).__name__}")


# ---------------------------------------------------------------- the torch.func path

def _func_args(args, nested):
    """``(values, kinds)``: the arguments as ``f`` receives them, and for each the kind of its
    derivative (``"number"``, ``"tensor"``, ``"numpy"``, or ``None`` for no derivative); or
    ``None`` when an argument needs the general path."""
    values, kinds = [], []
    for x in args:
        if is_number(x):
            if isinstance(x, numbers.Integral):        # may serve as an index: general path
                return None
            values.append(torch.tensor(float(x), dtype=torch.float64))
            kinds.append("number")
            continue
        kind = "tensor"
        if isinstance(x, (np.ndarray, range)) or _is_numeric_list(x):
            kind = "numpy" if isinstance(x, np.ndarray) else "tensor"
            x = torch.as_tensor(list(x) if isinstance(x, range) else x)
        elif not isinstance(x, torch.Tensor):           # a model, a string...: no derivative
            values.append(x)
            kinds.append(None)
            continue
        if x.is_complex():
            return None
        if x.dtype == torch.bool:
            values.append(x)
            kinds.append(None)
            continue
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        values.append(x if nested else x.detach())
        kinds.append(kind)
    return values, kinds


def _splice(values, slots, ts):
    out = list(values)
    for i, t in zip(slots, ts):
        out[i] = t
    return out


def _pull_rows(back, out):
    """Every row of the Jacobian of ``out``: ``back`` (a ``vjp`` pullback) applied to each
    basis vector of ``out``'s shape, in vmapped chunks; one stacked tensor per primal."""
    m = out.numel()
    step = max(1, _CHUNK_ELEMENTS // max(m, 1))
    chunks = []
    for start in range(0, m, step):
        k = min(step, m - start)
        basis = out.new_zeros(k, m)
        basis[torch.arange(k), torch.arange(start, start + k)] = 1
        chunks.append(vmap(back)(basis.reshape((k,) + tuple(out.shape))))
    return [torch.cat(parts) for parts in zip(*chunks)]


def _finish(mat, kind, nested):
    mat = mat if nested else mat.detach()
    return mat.cpu().numpy() if kind == "numpy" else mat


def _func_withjacobian(f, args):
    """``withjacobian`` by ``vjp`` and one ``vmap``; ``None`` where it does not apply."""
    with differentiating() as nested:
        prepared = _func_args(args, nested)
        if prepared is None:
            return None
        values, kinds = prepared
        slots = [i for i, k in enumerate(kinds) if k is not None]
        if not slots:
            return None

        def flat_f(*ts):
            y = f(*_splice(values, slots, ts))
            if not isinstance(y, torch.Tensor) or y.is_complex():
                raise TypeError("the general path handles this output")
            return y.reshape(-1)
        try:
            y, back = vjp(flat_f, *[values[i] for i in slots])
            if y.numel() == 0:
                return None
            rows = _pull_rows(back, y)
        except Exception:       # torch.func refused the function (or it failed): general path
            return None
    out = [None] * len(args)
    for i, r in zip(slots, rows):
        shape = (y.numel(),) if kinds[i] == "number" else (y.numel(), values[i].numel())
        out[i] = _finish(r.reshape(shape), kinds[i], nested)
    return WithGradient(y if nested else y.detach(), tuple(out))


def _func_hessian(f, args, n, reverse):
    """The Hessian of the scalar ``f(*args)`` in argument ``n`` as an ``(N, N)`` matrix, with
    ``torch.func``; ``None`` where it does not apply."""
    with differentiating() as nested:
        prepared = _func_args(args, nested)
        if prepared is None or prepared[1][n] is None:
            return None
        values, kinds = prepared
        x = values[n]

        def scalar_f(t):
            return f(*_splice(values, [n], [t]))
        try:
            if reverse:
                g, back = vjp(grad(scalar_f), x)
                (h,) = _pull_rows(back, g)
            else:
                chunk = max(1, _CHUNK_ELEMENTS // max(x.numel(), 1))
                h = jacfwd(grad(scalar_f), chunk_size=chunk)(x)
        except Exception:
            return None
    return _finish(h.reshape(x.numel(), x.numel()), kinds[n], nested)


# ---------------------------------------------------------------- the general path

def _autograd_withjacobian(f, args):
    y, prepared, nested = _run(f, args, fresh=True)
    yv = _vec(y, "jacobian")
    leaves = [t for p in prepared for t in p.leaves]
    rows = []
    for i in range(yv.numel()):
        if yv.requires_grad and leaves:
            rows.append(torch.autograd.grad(yv[i], leaves, allow_unused=True, retain_graph=True,
                                            create_graph=nested))
        else:
            rows.append((None,) * len(leaves))
    out, j = [], 0
    for p in prepared:
        if p.kind in ("structure", "constant") or not p.leaves:   # Zygote: nothing
            out.append(None)
            j += len(p.leaves)
            continue
        t = p.leaves[0]
        cols = [r[j] if r[j] is not None else torch.zeros_like(t) for r in rows]
        mat = torch.stack([c.reshape(-1) for c in cols]) if cols else t.new_zeros(0, t.numel())
        if p.kind == "number":
            mat = mat.reshape(-1)
        out.append(_finish(mat, p.kind, nested))
        j += len(p.leaves)
    return WithGradient(yv if nested else yv.detach(), tuple(out))


def _implicit_withjacobian(f, ps):
    y, back = pullback(f, ps)
    yv = _vec(y, "jacobian")
    rows = []
    for i in range(yv.numel()):
        dy = torch.zeros_like(yv)
        dy[i] = 1
        rows.append(back(dy.reshape(y.shape)))
    return WithGradient(yv, Grads({id(p): torch.stack([
        (r[p] if r[p] is not None else torch.zeros_like(p)).reshape(-1) for r in rows])
        for p in ps}, ps))


def _autograd_hessian(f, args, n):
    def grad_n(z):        # Zygote: gradient(f, spliced args...)[n]
        return gradient(f, *args[:n], z, *args[n + 1:])[n]
    return _autograd_withjacobian(grad_n, (args[n],)).grad[0]


# ---------------------------------------------------------------- the public functions

def withjacobian(f: Callable[..., Any], *args: Any) -> WithGradient:
    """The value and the Jacobian: ``(val, grad)`` (``Zygote.withjacobian``).

    ``val`` is the output flattened to a vector (Zygote's ``vec``), ``grad`` is what
    :func:`jacobian` returns.

    >>> withjacobian(lambda x: torch.cumsum(x, 0), [1.0, 2.0, 3.0])
    WithGradient(val=tensor([1., 3., 6.]), grad=(tensor([[1., 0., 0.],
            [1., 1., 0.],
            [1., 1., 1.]]),))
    """
    if len(args) == 1 and isinstance(args[0], Params):
        return _implicit_withjacobian(f, args[0])
    result = _func_withjacobian(f, args)
    return result if result is not None else _autograd_withjacobian(f, args)


def jacobian(f: Callable[..., Any], *args: Any) -> Tuple[Any, ...]:
    """The Jacobian of ``f(*args)`` with respect to each argument (``Zygote.jacobian``).

    For an argument ``x`` the result has shape ``(y.numel(), x.numel())`` (rows are
    outputs, both flattened in row-major order); a number argument gives a vector;
    other arguments give ``None``. With ``params(...)``, a :class:`Grads` of Jacobians.

    >>> jacobian(lambda a, x: a ** 2 * x, torch.tensor([1.0, 2.0, 3.0]), 1)
    (tensor([[2., 0., 0.],
            [0., 4., 0.],
            [0., 0., 6.]]), tensor([1., 4., 9.], dtype=torch.float64))
    """
    return withjacobian(f, *args).grad


def _hessian(f, x, reverse):
    h = _func_hessian(f, (x,), 0, reverse)
    if h is None:
        h = _autograd_hessian(f, (x,), 0)
    if is_number(x):
        return h.reshape(()).item()
    return h


def hessian(f: Callable[..., Any], x: Any) -> Any:
    """The Hessian of the scalar ``f(x)`` (``Zygote.hessian``, forward over reverse): a
    number for a number, an ``(x.numel(), x.numel())`` matrix for a tensor (row-major
    flattening).

    >>> hessian(lambda x: x ** 3, 2.0)
    12.0
    >>> hessian(lambda x: x[0] * x[1], torch.randn(2))
    tensor([[0., 1.],
            [1., 0.]])
    """
    return _hessian(f, x, reverse=False)


def hessian_reverse(f: Callable[..., Any], x: Any) -> Any:
    """The same as :func:`hessian` (``Zygote.hessian_reverse``), reverse over reverse.

    >>> hessian_reverse(torch.sin, torch.pi / 2)
    -1.0
    """
    return _hessian(f, x, reverse=True)


def diaghessian(f: Callable[..., Any], *args: Any) -> Tuple[Any, ...]:
    """The diagonal of the Hessian for each argument (``Zygote.diaghessian``): of the
    argument's shape, ``h[i] = ∂²y/∂x[i]²``; a number for a number, ``None`` otherwise.

    >>> diaghessian(lambda x: (x ** 3).sum(), torch.tensor([[1.0, 3.0], [2.0, 4.0]]))[0]
    tensor([[ 6., 18.],
            [12., 24.]])
    >>> diaghessian(lambda x, y: x ** 2 * y ** 3, 1.0, 2.0)
    (16.0, 12.0)
    """
    out = []
    for n, x in enumerate(args):
        if not (is_number(x) or isinstance(x, (torch.Tensor, np.ndarray, list, range))):
            out.append(None)
            continue
        h = _func_hessian(f, args, n, reverse=False)
        if h is None:
            h = _autograd_hessian(f, args, n)
        if is_number(x):
            out.append(h.reshape(()).item())
            continue
        d = torch.as_tensor(h).diagonal()
        shape = np.shape(x) if not isinstance(x, torch.Tensor) else x.shape
        d = d.reshape(tuple(shape))
        out.append(d.numpy() if isinstance(x, np.ndarray) else d)
    return tuple(out)
