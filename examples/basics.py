"""Flux's "Basics" page, end to end, in Python with flux_torch.

Run:  python examples/basics.py     (about 5 s on a 2-core CPU, startup included)
Each section prints what it computes; docs/basics.md walks through the same code.
"""
from functools import reduce

import torch

import flux_torch as Flux
from flux_torch import Chain, Dense, compose, functor, gradient, params, softmax, σ


def taking_gradients():
    print("== Taking gradients")

    def f(x):
        return 3 * x ** 2 + 2 * x + 1

    def df(x):
        return gradient(f, x)[0]

    def d2f(x):
        return gradient(df, x)[0]

    print("df(2)  =", df(2), "  (6x + 2)")
    print("d2f(2) =", d2f(2), "  (6)")

    def g(x, y):
        return ((x - y) ** 2).sum()

    print("gradient(g, [2, 1], [2, 0]) =", gradient(g, [2, 1], [2, 0]))
    x, y = torch.tensor([2.0, 1.0]), torch.tensor([2.0, 0.0])
    gs = gradient(lambda: g(x, y), params(x, y))
    print("implicit:", gs, "gs[x] =", gs[x], "gs[y] =", gs[y])


def simple_models():
    print("== Building simple models")
    W, b = torch.rand(2, 5), torch.rand(2)

    def loss(x, y):
        return ((y - (W @ x + b)) ** 2).sum()

    x, y = torch.rand(5), torch.rand(2)
    print("loss before:", float(loss(x, y)))
    gs = gradient(lambda: loss(x, y), params(W, b))
    W -= 0.1 * gs[W]
    print("loss after one step of W .-= 0.1 .* W̄:", float(loss(x, y)))


class Affine:
    """The page's affine layer; @functor lets flux_torch see its tensors."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x):
        return self.W @ x + self.b


functor(Affine)


def building_layers():
    print("== Building layers")
    W1, b1, W2, b2 = torch.rand(3, 5), torch.rand(3), torch.rand(2, 3), torch.rand(2)
    model = lambda x: W2 @ σ(W1 @ x + b1) + b2  # noqa: E731
    print("two hand-written layers:", model(torch.rand(5)))

    def linear(in_, out):
        W, b = torch.randn(out, in_), torch.randn(out)
        return lambda x: W @ x + b

    linear1, linear2 = linear(5, 3), linear(3, 2)
    print("closures:", linear2(σ(linear1(torch.rand(5)))))
    a = Affine(torch.randn(5, 10), torch.randn(5))
    print("Affine(10, 5) on rand(10):", a(torch.rand(10)))
    print("its params:", [tuple(p.shape) for p in params(a)])
    print(Dense(10, 5, σ))


def stacking_it_up():
    print("== Stacking it up")
    layers = [Dense(10, 5, σ), Dense(5, 2), softmax]
    model = lambda x: reduce(lambda x, m: m(x), layers, x)  # noqa: E731
    print("foldl over layers:", model(torch.rand(10)))
    model2 = Chain(Dense(10, 5, σ), Dense(5, 2), softmax)
    print(model2)
    print("model2(rand(10)):", model2(torch.rand(10)))
    m = compose(Dense(5, 2), Dense(10, 5, σ))
    print("Dense(5, 2) ∘ Dense(10, 5, σ):", m(torch.rand(10)))
    print("Chain(x -> x^2, x -> x+1)(5) =", Chain(lambda x: x ** 2, lambda x: x + 1)(5))


def main():
    torch.manual_seed(0)
    print("flux_torch", Flux.__version__, "on torch", torch.__version__)
    taking_gradients()
    simple_models()
    building_layers()
    stacking_it_up()


if __name__ == "__main__":
    main()
