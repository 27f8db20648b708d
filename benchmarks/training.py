"""One training step of a model, six ways, all with the same math.

Two kinds of model: an MLP ``sizes[0] → sizes[1] → ... → sizes[-1]`` (``Dense``
layers with ``relu`` on the hidden ones, no activation on the last), and
:data:`LENET`, a LeNet-style CNN on ``(N, 1, 28, 28)`` images: ``Conv((5, 5), 1, 6,
relu)``, ``MaxPool((2, 2))``, ``Conv((5, 5), 6, 16, relu)``, ``MaxPool((2, 2))``,
``flatten``, ``Dense(256, 10)``. The loss is the mean
squared error against random targets; the update is plain SGD,
``p -= lr * grad`` (flux_torch's ``Descent(lr)``). Every variant starts from
clones of one set of weights and sees the same batch, so the correctness guard
can compare the parameters after one step.

Variants: ``ft_impl`` (Flux's implicit style: ``params`` + ``gradient(() ->
loss, ps)`` + ``Flux.Optimise.update_``), ``ft_expl`` (explicit style: ``setup``
+ ``gradient(m -> loss, model)`` + ``update_(state, model, g)``), ``a``
(``nn.Sequential`` + ``torch.optim.SGD``), ``b`` (plain tensors +
``torch.autograd.grad`` + ``torch._foreach_add_``), ``ft_train`` (``train_(loss, model, [(x, y)], state)``:
one ``train_`` step), ``c`` (a pure functional step,
``torch.func.grad_and_value`` + ``torch._foreach_add``, under ``torch.compile``)
and ``ftc`` (``flux_torch.compile_step``, when the library has it).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

import flux_torch
from flux_torch import Chain, Conv, Dense, MaxPool, flatten, gradient, params, relu
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


class MLP:
    """The MLP ``sizes[0] → ... → sizes[-1]``: weights ``[W1, b1, W2, b2, ...]``."""

    def __init__(self, sizes):
        self.sizes = tuple(sizes)
        self.name = "→".join(map(str, sizes))
        self.in_shape, self.out_dim = (sizes[0],), sizes[-1]

    def master(self, seed=0):
        """``[W1, b1, W2, b2, ...]`` on the CPU, ``W`` of shape (out, in) as in ``Dense``."""
        g = torch.Generator().manual_seed(seed)
        ws = []
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            ws.append(torch.randn(n_out, n_in, generator=g) / math.sqrt(n_in))
            ws.append(torch.randn(n_out, generator=g) * 0.1)
        return ws

    @staticmethod
    def forward(ws, x):
        """The plain-torch forward pass of the MLP held in the list ``ws``."""
        n = len(ws) // 2
        for i in range(n):
            x = F.linear(x, ws[2 * i], ws[2 * i + 1])
            if i < n - 1:
                x = F.relu(x)
        return x

    @staticmethod
    def flux(ws):
        n = len(ws) // 2
        return Chain(*[Dense(ws[2 * i], ws[2 * i + 1], relu if i < n - 1 else flux_torch.identity)
                       for i in range(n)])

    def torch_nn(self):
        layers = []
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1])


class LeNet:
    """LeNet-style CNN on (N, 1, 28, 28): two conv + max-pool stages, flatten, Dense(256, 10)."""

    name = "LeNet conv 1×28×28"
    in_shape, out_dim = (1, 28, 28), 10
    _shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (10, 256), (10,)]

    def master(self, seed=0):
        g = torch.Generator().manual_seed(seed)
        ws = []
        for shape in self._shapes:          # weights scaled by 1/sqrt(fan-in), biases by 0.1
            scale = 1 / math.sqrt(math.prod(shape[1:])) if len(shape) > 1 else 0.1
            ws.append(torch.randn(*shape, generator=g) * scale)
        return ws

    @staticmethod
    def forward(ws, x):
        x = F.max_pool2d(F.relu(F.conv2d(x, ws[0], ws[1])), 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, ws[2], ws[3])), 2)
        return F.linear(x.flatten(1), ws[4], ws[5])

    @staticmethod
    def flux(ws):
        return Chain(Conv(ws[0], ws[1], relu), MaxPool((2, 2)), Conv(ws[2], ws[3], relu),
                     MaxPool((2, 2)), flatten, Dense(ws[4], ws[5]))

    @staticmethod
    def torch_nn():
        return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10))


LENET = LeNet()


def _chain_tensors(model):
    return [t for layer in model.layers for t in (getattr(layer, "weight", None),
                                                  getattr(layer, "bias", None)) if t is not None]


def variants(model, batch, device, compile_c=True):
    """The Variants for one model (:data:`LENET`, or MLP sizes such as ``(784, 128, 10)``);
    ``compile_c=False`` leaves out both compiled ones."""
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
        return step, lambda _: _chain_tensors(model)

    def ft_train():
        model = flux_model(clones())
        state = setup(Descent(LR), model)
        batches = [(x, y)]

        def loss(m, x, y):
            return mse(m(x), y)

        def step():
            flux_torch.train_(loss, model, batches, state, progress=False)
        return step, lambda _: _chain_tensors(model)

    def torch_nn():
        seq = spec.torch_nn().to(device)
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
        model = flux_model(clones())
        state = setup(Descent(LR), model)
        step = compile_step_hook()(lambda m, x, y: mse(m(x), y), model, state)
        return (lambda: step(x, y)), lambda _: _chain_tensors(model)

    out = [Variant("ft_impl", ft_impl), Variant("ft_expl", ft_expl), Variant("ft_train", ft_train),
           Variant("a", torch_nn), Variant("b", plain)]
    if compile_c:
        out.append(Variant("c", compiled, compiled=True))
        if compile_step_hook() is not None:
            out.append(Variant("ftc", ft_compiled, compiled=True))
    return out
