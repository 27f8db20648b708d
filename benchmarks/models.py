"""The models the training benchmarks step, each in three forms from one set of weights.

An MLP ``sizes[0] → sizes[1] → ... → sizes[-1]`` (``Dense`` layers, the hidden ones with
``relu`` or ``σ``, none on the last), and :data:`LENET`, a LeNet-style CNN on
``(N, 1, 28, 28)`` images: ``Conv((5, 5), 1, 6, relu)``, ``MaxPool((2, 2))``,
``Conv((5, 5), 6, 16, relu)``, ``MaxPool((2, 2))``, ``flatten``, ``Dense(256, 10)``.

Each spec gives ``master()`` (the weights as a list of CPU tensors), ``forward(ws, x)``
(the plain-torch forward pass on such a list), ``flux(ws)`` (the flux_torch model holding
those tensors) and ``torch_nn()`` (the ``nn.Sequential`` twin, to be loaded with them).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

import flux_torch
from flux_torch import Chain, Conv, Dense, MaxPool, flatten, relu, σ

ACTIVATIONS = {"relu": (relu, F.relu, nn.ReLU), "σ": (σ, torch.sigmoid, nn.Sigmoid)}


class MLP:
    """The MLP ``sizes[0] → ... → sizes[-1]``: weights ``[W1, b1, W2, b2, ...]``, ``act``
    (``"relu"`` or ``"σ"``) on the hidden layers."""

    def __init__(self, sizes, act="relu"):
        self.sizes, self.act = tuple(sizes), act
        self.name = "→".join(map(str, sizes)) + ("" if act == "relu" else f" {act}")
        self.in_shape, self.out_dim = (sizes[0],), sizes[-1]

    def master(self, seed=0):
        """``[W1, b1, W2, b2, ...]`` on the CPU, ``W`` of shape (out, in) as in ``Dense``."""
        g = torch.Generator().manual_seed(seed)
        ws = []
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            ws.append(torch.randn(n_out, n_in, generator=g) / math.sqrt(n_in))
            ws.append(torch.randn(n_out, generator=g) * 0.1)
        return ws

    def forward(self, ws, x):
        """The plain-torch forward pass of the MLP held in the list ``ws``."""
        act = ACTIVATIONS[self.act][1]
        n = len(ws) // 2
        for i in range(n):
            x = F.linear(x, ws[2 * i], ws[2 * i + 1])
            if i < n - 1:
                x = act(x)
        return x

    def flux(self, ws):
        act = ACTIVATIONS[self.act][0]
        n = len(ws) // 2
        return Chain(*[Dense(ws[2 * i], ws[2 * i + 1], act if i < n - 1 else flux_torch.identity)
                       for i in range(n)])

    def torch_nn(self):
        layers = []
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            layers += [nn.Linear(n_in, n_out), ACTIVATIONS[self.act][2]()]
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


def chain_tensors(model):
    """The weights and biases of a flux_torch ``Chain``, in layer order (what the guard compares)."""
    return [t for layer in model.layers for t in (getattr(layer, "weight", None),
                                                  getattr(layer, "bias", None)) if t is not None]


def load_torch_nn(spec, ws, device):
    """``spec.torch_nn()`` on ``device`` holding copies of ``ws``."""
    seq = spec.torch_nn().to(device)
    with torch.no_grad():
        for p, w in zip(seq.parameters(), ws):
            p.copy_(w)
    return seq
