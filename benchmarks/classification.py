"""One classification training step as a Flux user writes it, against the same step
written by hand in torch: labels one-hot encoded with ``onehotbatch``, the loss
``Flux.Losses.logitcrossentropy(m(x), y)``, the rule ``Adam()`` (η = 0.001, β = (0.9,
0.999), ϵ = 1e-8, which is ``torch.optim.Adam``'s default step exactly).

Eager variants: ``ft_impl`` (``params`` + ``gradient(() -> loss, ps)`` +
``Flux.Optimise.update_(Adam(), ps, gs)``), ``ft_expl`` (``setup(Adam(), model)`` +
``gradient(m -> loss, model)`` + ``update_``), ``ft_train`` (one ``train_`` step), ``a``
(``nn.Sequential`` + ``F.cross_entropy`` on class indices + ``torch.optim.Adam``), ``b``
(plain tensors + ``F.cross_entropy`` on class indices + ``torch.autograd.grad`` + Adam
written with ``torch._foreach`` ops), and ``b_onehot`` (``b`` with the one-hot labels as
``F.cross_entropy``'s probability targets: the kernel flux_torch's ``logitcrossentropy``
calls, so the gap between ``b`` and ``b_onehot`` is the price of one-hot labels, not of
flux_torch). Compiled variants: ``c`` (``torch.func.grad_and_value`` + a pure Adam step,
its step count a tensor, under ``torch.compile``) and ``ftc`` (``flux_torch.compile_step``
with ``Adam()``). ``variants(..., epoch=n)`` gives ``ft_train`` and ``b_onehot`` taking ``n``
steps a call, for the per-call note.
"""
import math

import torch
import torch.nn.functional as F

import flux_torch
from flux_torch import gradient, onehotbatch, params
from flux_torch.losses import logitcrossentropy
from flux_torch.optimise import Adam, setup, update_

from models import MLP, chain_tensors, load_torch_nn
from timing import Variant
from training import compile_step_hook

LR, B1, B2, EPS = 0.001, 0.9, 0.999, 1e-8


class ForeachAdam:
    """Adam on a list of tensors with ``torch._foreach`` ops, as torch.optim's multi-tensor
    Adam computes it: ``w -= lr/(1-β1ᵗ) * m / (√v/√(1-β2ᵗ) + ϵ)``."""

    def __init__(self, ws):
        self.m = [torch.zeros_like(w) for w in ws]
        self.v = [torch.zeros_like(w) for w in ws]
        self.t = 0

    @torch.no_grad()
    def step(self, ws, gs):
        self.t += 1
        torch._foreach_lerp_(self.m, gs, 1 - B1)
        torch._foreach_mul_(self.v, B2)
        torch._foreach_addcmul_(self.v, gs, gs, value=1 - B2)
        den = torch._foreach_sqrt(self.v)
        torch._foreach_div_(den, math.sqrt(1 - B2 ** self.t))
        torch._foreach_add_(den, EPS)
        torch._foreach_addcdiv_(ws, self.m, den, value=-LR / (1 - B1 ** self.t))


def variants(spec, batch, device, epoch=None):
    """``(eager, compiled)``: the Variants for the classifier ``spec`` (a ``models.MLP``). With
    ``epoch=n``, only two, each taking ``n`` steps a call: ``ft_train`` as one ``train_`` call
    over ``n`` batches and ``b_onehot`` as ``n`` hand-written steps, which shows what
    ``train_``'s per-call work (the lock, the model's record and plan, switching
    ``requires_grad`` on and off) costs when one call takes ``n`` steps."""
    spec = spec if isinstance(spec, MLP) else MLP(spec)
    master = spec.master()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, *spec.in_shape, generator=g).to(device)
    labels = torch.randint(0, spec.out_dim, (batch,), generator=g)
    y = onehotbatch(labels.tolist(), range(spec.out_dim)).to(device)     # the Flux user's labels
    idx = labels.to(device)                                              # the torch user's labels
    forward, flux_model = spec.forward, spec.flux

    def clones():
        return [t.clone().to(device) for t in master]

    def ft_impl():
        model = flux_model(clones())
        ps, opt = params(model), Adam()

        def step():
            gs = gradient(lambda: logitcrossentropy(model(x), y), ps)
            update_(opt, ps, gs)
        return step, lambda _: list(ps)

    def ft_expl():
        model = flux_model(clones())
        state = setup(Adam(), model)

        def step():
            g = gradient(lambda m: logitcrossentropy(m(x), y), model)[0]
            update_(state, model, g)
        return step, lambda _: chain_tensors(model)

    def ft_train():
        model = flux_model(clones())
        state = setup(Adam(), model)
        batches = [(x, y)]

        def loss(m, x, y):
            return logitcrossentropy(m(x), y)

        def step():
            flux_torch.train_(loss, model, batches, state, progress=False)
        return step, lambda _: chain_tensors(model)

    def torch_nn():
        seq = load_torch_nn(spec, clones(), device)
        opt = torch.optim.Adam(seq.parameters(), lr=LR)

        def step():
            opt.zero_grad()
            F.cross_entropy(seq(x), idx).backward()
            opt.step()
        return step, lambda _: list(seq.parameters())

    def plain(target):
        def make():
            ws = [w.requires_grad_() for w in clones()]
            adam = ForeachAdam(ws)

            def step():
                loss = F.cross_entropy(forward(ws, x), target)
                adam.step(ws, torch.autograd.grad(loss, ws))
            return step, lambda _: ws
        return make

    def compiled():
        def loss_fn(ws, x, target):
            return F.cross_entropy(forward(ws, x), target)

        def pure_step(ws, m, v, t, x, target):
            gs, loss = torch.func.grad_and_value(loss_fn)(ws, x, target)
            t = t + 1
            m = [mi + (1 - B1) * (gi - mi) for mi, gi in zip(m, gs)]
            v = [B2 * vi + (1 - B2) * gi * gi for vi, gi in zip(v, gs)]
            step_size, root = LR / (1 - B1 ** t), torch.sqrt(1 - B2 ** t)
            ws = [w - step_size * mi / (vi.sqrt() / root + EPS) for w, mi, vi in zip(ws, m, v)]
            return ws, m, v, t, loss

        cstep = torch.compile(pure_step)
        ws = clones()
        state = [ws, [torch.zeros_like(w) for w in ws], [torch.zeros_like(w) for w in ws],
                 torch.zeros((), device=device)]

        def step():
            *new, loss = cstep(*state, x, idx)
            state[:] = new
            return loss
        return step, lambda _: state[0]

    def ft_compiled():
        model = flux_model(clones())
        step = compile_step_hook()(lambda m, x, y: logitcrossentropy(m(x), y), model,
                                   setup(Adam(), model))
        return (lambda: step(x, y)), lambda _: chain_tensors(model)

    def take(n):
        def ft():       # one train_ call over n batches, as Flux's train! takes an epoch
            model = flux_model(clones())
            state = setup(Adam(), model)
            batches = [(x, y)] * n

            def loss(m, x, y):
                return logitcrossentropy(m(x), y)

            def step():
                flux_torch.train_(loss, model, batches, state, progress=False)
            return step, lambda _: chain_tensors(model)

        def hand():     # the hand-written one-hot step, n times
            step, observe = plain(y)()

            def steps():
                for _ in range(n):
                    step()
            return steps, observe
        return [Variant("ft_train", ft), Variant("b_onehot", hand)]

    eager = [Variant("ft_impl", ft_impl), Variant("ft_expl", ft_expl), Variant("ft_train", ft_train),
             Variant("a", torch_nn), Variant("b", plain(idx)), Variant("b_onehot", plain(y))]
    comp = [Variant("b", plain(idx)), Variant("a_beside", torch_nn), Variant("c", compiled, compiled=True)]
    if compile_step_hook() is not None:
        comp.append(Variant("ftc", ft_compiled, compiled=True))
    if epoch:
        return take(epoch)
    return eager, comp
