"""The reverse pass of a gradient call: the gradient of one real scalar, by torch's autograd.

Every gradient call of flux_torch differentiates one real 0-d tensor (``gradient._check_scalar``
has made sure of it) with respect to a list of tensors. ``torch.autograd.grad`` would first
normalise its arguments (outputs and inputs as tuples, ``GradientEdge``\\ s, dispatch to
``__torch_function__`` overrides, the implicit ``ones`` of a scalar output, checks of the
shapes of ``grad_outputs``): several hundred lines of Python a call, a tenth of a small
model's whole training step. :func:`scalar_grad` makes the ``ones`` itself and hands the
rest to the function ``grad`` ends in (``torch.autograd.graph._engine_run_backward``, which
keeps torch's own logging hooks and context), and leaves anything unusual to ``grad``: a
tensor subclass with ``__torch_function__``, or a torch without that function.

>>> w = torch.tensor([1.0, 2.0], requires_grad=True)
>>> scalar_grad((w ** 2).sum(), [w])
(tensor([2., 4.]),)
>>> scalar_grad(w.sum() * 0 + 1, [w, torch.ones(1, requires_grad=True)])   # an unused input: None
(tensor([0., 0.]), None)
"""
import torch

__all__ = ["scalar_grad"]


def _found_engine():
    """torch's ``_engine_run_backward`` when it is there and takes the call :func:`scalar_grad`
    makes (it is private: a torch that changed it leaves everything to ``grad``), else None."""
    try:
        from torch.autograd.graph import _engine_run_backward as engine
        x = torch.ones((), requires_grad=True)
        (g,) = engine((x * 3,), (torch.ones(()),), False, False, (x,), True, accumulate_grad=False)
    except (ImportError, TypeError, RuntimeError):
        return None
    return engine if type(g) is torch.Tensor and g.item() == 3.0 else None


_engine = _found_engine()

_overridden = torch._C._has_torch_function


def scalar_grad(val, tensors, nested=False, retain=False):
    """``torch.autograd.grad(val, tensors, allow_unused=True, create_graph=nested,
    retain_graph=retain or nested)`` for a real 0-d tensor ``val`` that requires grad: the
    gradient of each of ``tensors`` (None for one ``val`` does not use), with a graph of its
    own when ``nested`` (a gradient call inside another); ``retain`` keeps ``val``'s graph for
    another backward pass."""
    tensors = tuple(tensors)
    keep = retain or nested
    if _engine is None or type(val) is not torch.Tensor or _overridden(tensors):
        return torch.autograd.grad(val, tensors, allow_unused=True, create_graph=nested,
                                   retain_graph=keep)
    return _engine((val,), (torch.ones_like(val),), keep, nested, tensors, True,
                   accumulate_grad=False)
