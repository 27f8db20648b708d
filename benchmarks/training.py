"""One regression training step (forward, MSE against random targets, backward, plain SGD
``p -= lr * grad``, flux_torch's ``Descent(lr)``) of a model from :mod:`models`, several
ways, all with the same math. Every variant starts from clones of one set of weights and
sees the same batch, so the correctness guard can compare the parameters after one step.

Eager variants: ``ft_impl`` (Flux's implicit style: ``params`` + ``gradient(() -> loss,
ps)`` + ``Flux.Optimise.update_``), ``ft_expl`` (explicit style: ``setup`` +
``gradient(m -> loss, model)`` + ``update_(state, model, g)``), ``ft_train`` (one
``train_(loss, model, [(x, y)], state)`` step), ``a`` (``nn.Sequential`` +
``torch.optim.SGD``), ``b`` (plain tensors + ``torch.autograd.grad`` +
``torch._foreach_add_``). Compiled variants: ``c`` (a pure functional step,
``torch.func.grad_and_value`` + ``torch._foreach_add``, under ``torch.compile``) and
``ftc`` (``flux_torch.compile_step``, when the library has it).
"""
import torch
import torch.nn.functional as F

import flux_torch
from flux_torch import gradient, params
from flux_torch.losses import mse
from flux_torch.optimise import Descent, setup, update_

from models import MLP, chain_tensors, load_torch_nn
from timing import Variant

LR = 0.01


def compile_step_hook():
    """``flux_torch.compile_step`` if the library has it (added later), else None."""
    f = getattr(flux_torch, "compile_step", None)
    if f is None:
        f = getattr(flux_torch.optimise, "compile_step", None)
    return f


def variants(model, batch, device):
    """``(eager, compiled)``: the Variants for one model (``models.LENET``, or MLP sizes
    such as ``(784, 128, 10)``). Each list is timed on its own (the compiled ones after
    every eager case, so that no eager time is taken in a process that has compiled)."""
    spec = model if hasattr(model, "forward") else MLP(model)
    master = spec.master()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, *spec.in_shape, generator=g).to(device)
    y = torch.randn(batch, spec.out_dim, generator=g).to(device)
    forward, flux_model = spec.forward, spec.flux

    def clones():
        return [t.clone().to(device) for t in master]

    def ft_impl():
        model = flux_model(clones())
        ps, opt = params(model), Descent(LR)

        def step():
            gs = gradient(lambda: mse(model(x), y), ps)
            update_(opt, ps, gs)
        return step, lambda _: list(ps)

    def ft_expl():
        model = flux_model(clones())
        state = setup(Descent(LR), model)

        def step():
            g = gradient(lambda m: mse(m(x), y), model)[0]
            update_(state, model, g)
        return step, lambda _: chain_tensors(model)

    def ft_train():
        model = flux_model(clones())
        state = setup(Descent(LR), model)
        batches = [(x, y)]

        def loss(m, x, y):
            return mse(m(x), y)

        def step():
            flux_torch.train_(loss, model, batches, state, progress=False)
        return step, lambda _: chain_tensors(model)

    def torch_nn():
        seq = load_torch_nn(spec, clones(), device)
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
        model = flux_model(clones())
        state = setup(Descent(LR), model)
        step = compile_step_hook()(lambda m, x, y: mse(m(x), y), model, state)
        return (lambda: step(x, y)), lambda _: chain_tensors(model)

    eager = [Variant("ft_impl", ft_impl), Variant("ft_expl", ft_expl), Variant("ft_train", ft_train),
             Variant("a", torch_nn), Variant("b", plain)]
    comp = [Variant("b", plain), Variant("a_beside", torch_nn), Variant("c", compiled, compiled=True)]
    if compile_step_hook() is not None:
        comp.append(Variant("ftc", ft_compiled, compiled=True))
    return eager, comp
