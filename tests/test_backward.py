"""``_backward.scalar_grad``: the gradient of a scalar by autograd's engine, checked against
``torch.autograd.grad`` (the oracle) and finite differences, in float64."""
import pytest
import torch

from flux_torch import _backward, gradient
from flux_torch._backward import scalar_grad


def _inputs():
    g = torch.Generator().manual_seed(0)
    return [torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)]


def _f(w, b):
    return torch.tanh(w @ b).pow(2).sum() + b.exp().mean()


def test_matches_autograd_grad_and_finite_differences():
    w, b = _inputs()
    got = scalar_grad(_f(w, b), [w, b])
    want = torch.autograd.grad(_f(w, b), [w, b])
    assert all(torch.equal(x, y) for x, y in zip(got, want))
    h = 1e-6
    e = torch.zeros_like(b)
    e[2] = h
    with torch.no_grad():
        fd = (_f(w, b + e) - _f(w, b - e)) / (2 * h)
    assert got[1][2].item() == pytest.approx(fd.item(), rel=1e-6)


def test_an_unused_input_gets_none_and_the_graph_is_freed():
    w, b = _inputs()
    unused = torch.ones(2, dtype=torch.float64, requires_grad=True)
    y = _f(w, b)
    gw, gu = scalar_grad(y, [w, unused])
    assert gu is None and gw.shape == w.shape
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        scalar_grad(y, [w])


def test_retain_keeps_the_graph_and_nested_builds_one():
    w, b = _inputs()
    y = _f(w, b)
    first = scalar_grad(y, [b], retain=True)[0]
    again = scalar_grad(y, [b])[0]
    assert torch.equal(first, again) and not first.requires_grad
    gb = scalar_grad(_f(w, b), [b], nested=True)[0]      # a graph of its own: differentiable again
    assert gb.requires_grad
    hess_row = scalar_grad(gb[0], [b])[0]
    want = torch.autograd.functional.hessian(lambda b_: _f(w.detach(), b_), b.detach())[0]
    assert torch.allclose(hess_row, want)


def test_hooks_on_the_graph_run():
    w, b = _inputs()
    seen = []
    h = torch.tanh(w @ b)
    h.register_hook(lambda g: seen.append(g.shape))
    scalar_grad(h.sum(), [w])
    assert seen == [torch.Size([3])]


class _Logged(torch.Tensor):
    calls = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.calls.append(getattr(func, "__name__", str(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


def test_a_tensor_subclass_goes_through_autograd_grad():
    """A subclass with ``__torch_function__`` sees torch.autograd.grad, as it would without
    flux_torch (grad dispatches to it)."""
    w = torch.randn(3, dtype=torch.float64).as_subclass(_Logged).requires_grad_()
    _Logged.calls.clear()
    (g,) = scalar_grad((w * w).sum(), [w])
    assert "grad" in _Logged.calls
    assert torch.allclose(g.as_subclass(torch.Tensor), 2 * w.detach().as_subclass(torch.Tensor))
    with torch._C.DisableTorchFunctionSubclass():       # a plain loss of a subclass input
        y = (w * w).sum()
    assert type(y) is torch.Tensor
    _Logged.calls.clear()
    scalar_grad(y, [w])
    assert "grad" in _Logged.calls


def test_without_the_engine_function_grad_does_it(monkeypatch):
    """A torch without ``_engine_run_backward``: every call goes through torch.autograd.grad,
    with the same results."""
    calls = []
    real = torch.autograd.grad

    def counting(*args, **kw):
        calls.append(kw.get("retain_graph"))
        return real(*args, **kw)
    monkeypatch.setattr(_backward, "_engine", None)
    monkeypatch.setattr(torch.autograd, "grad", counting)
    w, b = _inputs()
    want = real(_f(w, b), [w, b])
    got = gradient(_f, w, b)
    assert calls == [False] and all(torch.allclose(x, y) for x, y in zip(got, want))


def test_an_engine_function_that_changed_is_not_used(monkeypatch):
    """The engine function is private to torch: one that no longer takes scalar_grad's call (or
    gives another result) is found out when flux_torch is imported, and grad does the work."""
    import torch.autograd.graph as graph
    monkeypatch.setattr(graph, "_engine_run_backward", lambda outputs, grads, keep: None)
    assert _backward._found_engine() is None
    monkeypatch.setattr(graph, "_engine_run_backward", lambda *args, **kw: (torch.tensor(1.0),))
    assert _backward._found_engine() is None
    monkeypatch.undo()
    assert _backward._found_engine() is graph._engine_run_backward
