"""The small benchmarks: derivatives, and walking a 100-layer model.

Derivatives (column ``a`` is ``torch.func.grad``, ``b`` is ``torch.autograd.grad``):

- the basics page's scalar derivative, of ``3x² + 2x + 1`` at ``2.0``; every
  variant returns a Python float, as ``flux_torch.gradient`` does for a number,
  so ``a`` and ``b`` include making the tensor and ``.item()``;
- ``gradient(f, x, y)`` with ``f(x, y) = sum((x - y)²)`` over two 1000-element vectors.

Model walks over ``Chain`` of 100 ``Dense(10, 10)`` on the device (column ``a`` works on the
``nn.Sequential`` of 100 ``nn.Linear``, ``b`` on a hand-written list of
``(weight, bias)`` pairs):

- moving: ``gpu(m)`` from the CPU when the device is an accelerator; on the CPU,
  where ``gpu`` has nothing to do and returns its argument, ``cpu(m)`` (the same
  walk and rebuild) instead;
- ``params(m)``;
- ``fmap(f, m)`` with ``f`` detaching each tensor (a cheap leaf function, so the
  walk and rebuild are what is timed).
"""
import torch
from torch import nn

import flux_torch
from flux_torch import Chain, Dense, fleaves, fmap, gradient, params

from timing import Variant

TREE_LAYERS = 100


def _tensors(x):
    return [t for t in fleaves(x) if isinstance(t, torch.Tensor)]


def scalar_derivative():
    def f(x):
        return 3 * x ** 2 + 2 * x + 1

    def ft():
        return (lambda: gradient(f, 2.0)[0]), lambda g: [torch.tensor(g)]

    def func():
        df = torch.func.grad(f)
        return (lambda: df(torch.tensor(2.0)).item()), lambda g: [torch.tensor(g)]

    def autograd():
        def step():
            x = torch.tensor(2.0, requires_grad=True)
            return torch.autograd.grad(f(x), x)[0].item()
        return step, lambda g: [torch.tensor(g)]

    return [Variant("ft", ft), Variant("a", func), Variant("b", autograd)]


def vector_gradient(device, n=1000):
    gen = torch.Generator().manual_seed(2)
    x0, y0 = torch.randn(n, generator=gen).to(device), torch.randn(n, generator=gen).to(device)

    def f(x, y):
        return ((x - y) ** 2).sum()

    def ft():
        return (lambda: gradient(f, x0, y0)), list

    def func():
        df = torch.func.grad(f, argnums=(0, 1))
        return (lambda: df(x0, y0)), list

    def autograd():
        def step():
            x, y = x0.detach().requires_grad_(), y0.detach().requires_grad_()
            return torch.autograd.grad(f(x, y), (x, y))
        return step, list

    return [Variant("ft", ft), Variant("a", func), Variant("b", autograd)]


def _tree_models(device):
    gen = torch.Generator().manual_seed(3)
    pairs = [(torch.randn(10, 10, generator=gen).to(device), torch.randn(10, generator=gen).to(device))
             for _ in range(TREE_LAYERS)]
    model = Chain(*[Dense(w.clone(), b.clone()) for w, b in pairs])
    seq = nn.Sequential(*[nn.Linear(10, 10) for _ in pairs]).to(device)
    with torch.no_grad():
        for lin, (w, b) in zip(seq, pairs):
            lin.weight.copy_(w)
            lin.bias.copy_(b)
    return model, seq, pairs


def move(device):
    """``gpu(m)`` (or ``cpu(m)`` on the CPU) and the hand-written equivalents."""
    model, seq, pairs = _tree_models(torch.device("cpu"))     # what is moved starts on the CPU
    flat = [t for wb in pairs for t in wb]
    if device.type == "cpu":
        ft = (lambda: flux_torch.cpu(model)), _tensors
        a = (lambda: seq.cpu()), lambda s: list(s.parameters())
        b = (lambda: [t.cpu() for t in flat]), list
        return [Variant("ft", lambda: ft), Variant("a", lambda: a), Variant("b", lambda: b)]
    # nn.Module.to moves in place (a second call has nothing to do): no fair (a) here
    mover = flux_torch.gpu if device.index in (None, 0) else flux_torch.Device(device)
    ft = (lambda: mover(model)), _tensors
    b = (lambda: [t.to(device, non_blocking=True) for t in flat]), list
    return [Variant("ft", lambda: ft), Variant("b", lambda: b)]


def params_of(device):
    model, seq, pairs = _tree_models(device)
    ft = (lambda: params(model)), list
    a = (lambda: list(seq.parameters())), list
    b = (lambda: [t for wb in pairs for t in wb]), list
    return [Variant("ft", lambda: ft), Variant("a", lambda: a), Variant("b", lambda: b)]


def fmap_over(device):
    model, seq, pairs = _tree_models(device)

    def leaf(x):
        return x.detach() if isinstance(x, torch.Tensor) else x

    ft = (lambda: fmap(leaf, model)), _tensors
    a = (lambda: {k: v.detach() for k, v in seq.named_parameters()}), lambda d: list(d.values())
    b = (lambda: [(w.detach(), b.detach()) for w, b in pairs]), lambda ps: [t for wb in ps for t in wb]
    return [Variant("ft", lambda: ft), Variant("a", lambda: a), Variant("b", lambda: b)]
