"""The Jacobian family (Zygote's ``jacobian``, ``withjacobian``, ``hessian``,
``hessian_reverse``, ``diaghessian``), built on ``torch.autograd.grad`` one output
element at a time, as Zygote's reverse-mode Jacobian is."""
import numpy as np
import torch

from .gradient import WithGradient, _run, gradient, pullback
from ._gradient_args import is_number
from .grads import Grads
from .params import Params

__all__ = ["jacobian", "withjacobian", "hessian", "hessian_reverse", "diaghessian"]


def _vec(y, fname):
    if isinstance(y, torch.Tensor):
        if y.is_complex():
            raise ValueError(f"{fname} does not accept complex output")
        return y.reshape(-1)
    if is_number(y):
        return torch.tensor([float(y)], dtype=torch.float64)
    raise TypeError(f"{fname} expected a function which returns a tensor, or a number, "
                    f"but got {type(y).__name__}")


def withjacobian(f, *args):
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
        mat = mat if nested else mat.detach()
        out.append(mat.cpu().numpy() if p.kind == "numpy" else mat)
        j += len(p.leaves)
    return WithGradient(yv if nested else yv.detach(), tuple(out))


def jacobian(f, *args):
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


def hessian(f, x):
    """The Hessian of the scalar ``f(x)`` (``Zygote.hessian``): a number for a number,
    an ``(x.numel(), x.numel())`` matrix for a tensor (row-major flattening).

    >>> hessian(lambda x: x ** 3, 2.0)
    12.0
    >>> hessian(lambda x: x[0] * x[1], torch.randn(2))
    tensor([[0., 1.],
            [1., 0.]])
    """
    h = jacobian(lambda z: gradient(f, z)[0], x)[0]
    if is_number(x):
        return h.reshape(()).item()
    return h


def hessian_reverse(f, x):
    """The same as :func:`hessian` (``Zygote.hessian_reverse``): both are reverse over
    reverse here.

    >>> hessian_reverse(torch.sin, torch.pi / 2)
    -1.0
    """
    return hessian(f, x)


def diaghessian(f, *args):
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

        def grad_n(z, n=n):        # Zygote: gradient(f, spliced args...)[n]
            return gradient(f, *args[:n], z, *args[n + 1:])[n]
        h = jacobian(grad_n, x)[0]
        if is_number(x):
            out.append(h.reshape(()).item())
            continue
        d = torch.as_tensor(h).diagonal()
        shape = np.shape(x) if not isinstance(x, torch.Tensor) else x.shape
        d = d.reshape(tuple(shape))
        out.append(d.numpy() if isinstance(x, np.ndarray) else d)
    return tuple(out)
