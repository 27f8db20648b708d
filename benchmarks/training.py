"""One training step of an MLP, six ways, all with the same math.

The model is ``sizes[0] → sizes[1] → ... → sizes[-1]``: ``Dense`` layers with
``relu`` on the hidden ones, no activation on the last; the loss is the mean
squared error against random targets; the update is plain SGD,
``p -= lr * grad`` (flux_torch's ``Descent(lr)``). Every variant starts from
clones of one set of weights and sees the same batch, so the correctness guard
can compare the parameters after one step.

Variants: ``ft_impl`` (Flux's implicit style: ``params`` + ``gradient(() ->
loss, ps)`` + ``Flux.Optimise.update_``), ``ft_expl`` (explicit style: ``setup``
+ ``gradient(m -> loss, model)`` + ``update_(state, model, g)``), ``a``
(``nn.Sequential`` + ``torch.optim.SGD``), ``b`` (plain tensors +
``torch.autograd.grad`` + ``torch._foreach_add_``), ``c`` (a pure functional step,
``torch.func.grad_and_value`` + ``torch._foreach_add``, under ``torch.compile``)
and ``ftc`` (``flux_torch.compile_step``, when the library has it).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

import flux_torch
from flux_torch import Chain, Dense, gradient, params, relu
from flux_torch.losses import mse
from flux_torch.optimise import Descent, setup, update_

from timing import Variant

LR = 0.01


def compile_step_hook():
    """``flux_torch.compile_step`` if the library has it (added later), else None."""
    f = getattr(flux_torch, "compile_step", None)
    if f is None:
        f = getattr(flux_torch.optimise, "compile_step", None)
    return f


def master_weights(sizes, seed=0):
    """``[W1, b1, W2, b2, ...]`` on the CPU, ``W`` of shape (out, in) as in ``Dense``."""
    g = torch.Generator().manual_seed(seed)
    ws = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        ws.append(torch.randn(n_out, n_in, generator=g) / math.sqrt(n_in))
        ws.append(torch.randn(n_out, generator=g) * 0.1)
    return ws


def forward(ws, x):
    """The plain-torch forward pass of the MLP held in the list ``ws``."""
    n = len(ws) // 2
    for i in range(n):
        x = F.linear(x, ws[2 * i], ws[2 * i + 1])
        if i < n - 1:
            x = F.relu(x)
    return x


def _flux_chain(ws):
    n = len(ws) // 2
    return Chain(*[Dense(ws[2 * i], ws[2 * i + 1], relu if i < n - 1 else flux_torch.identity)
                   for i in range(n)])


def _chain_tensors(model):
    return [t for d in model.layers for t in (d.weight, d.bias)]


def variants(sizes, batch, device, compile_c=True):
    """The Variants for one model; ``compile_c=False`` leaves out both compiled ones."""
    master = master_weights(sizes)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, sizes[0], generator=g).to(device)
    y = torch.randn(batch, sizes[-1], generator=g).to(device)

    def clones():
        return [t.clone().to(device) for t in master]

    def ft_impl():
        model = _flux_chain(clones())
        ps, opt = params(model), Descent(LR)

        def step():
            gs = gradient(lambda: mse(model(x), y), ps)
            update_(opt, ps, gs)
        return step, lambda _: list(ps)

    def ft_expl():
        model = _flux_chain(clones())
        state = setup(Descent(LR), model)

        def step():
            g = gradient(lambda m: mse(m(x), y), model)[0]
            update_(state, model, g)
        return step, lambda _: _chain_tensors(model)

    def torch_nn():
        layers = []
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        seq = nn.Sequential(*layers[:-1]).to(device)
        with torch.no_grad():
            for p, w in zip(seq.parameters(), clones()):
                p.copy_(w)
        opt = torch.optim.SGD(seq.parameters(), lr=LR)

        def step():
            opt.zero_grad()
            loss = F.mse_loss(seq(x), y)
            loss.backward()
            opt.step()
        return step, lambda _: list(seq.parameters())

    def plain():
        ws = [w.requires_grad_() for w in clones()]

        def step():
            loss = F.mse_loss(forward(ws, x), y)
            gs = torch.autograd.grad(loss, ws)
            with torch.no_grad():
                torch._foreach_add_(ws, gs, alpha=-LR)
        return step, lambda _: ws

    def compiled():
        def loss_fn(ws, x, y):
            return F.mse_loss(forward(ws, x), y)

        def pure_step(ws, x, y):
            gs, loss = torch.func.grad_and_value(loss_fn)(ws, x, y)
            return torch._foreach_add(ws, gs, alpha=-LR), loss

        cstep = torch.compile(pure_step)
        ws = [clones()]

        def step():
            new, loss = cstep(ws[0], x, y)
            ws[0] = list(new)
            return loss
        return step, lambda _: ws[0]

    def ft_compiled():
        model = _flux_chain(clones())
        state = setup(Descent(LR), model)
        step = compile_step_hook()(lambda m, x, y: mse(m(x), y), model, state)
        return (lambda: step(x, y)), lambda _: _chain_tensors(model)

    out = [Variant("ft_impl", ft_impl), Variant("ft_expl", ft_expl),
           Variant("a", torch_nn), Variant("b", plain)]
    if compile_c:
        out.append(Variant("c", compiled, compiled=True))
        if compile_step_hook() is not None:
            out.append(Variant("ftc", ft_compiled, compiled=True))
    return out
