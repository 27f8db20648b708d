"""Flux's "Fitting a straight line" (the overview page) and the first part of its
linear-regression tutorial, in Python with flux_torch.

Run:  python examples/linear_regression.py [--steps N] [--plot DIR]     (about 5 s on a 2-core CPU)
N is the number of training epochs of each part (the pages use 200 and 40).
Each part prints what it computes, and one figure shows each part's data and
fitted line (drawn with matplotlib when it is installed). Flux's data is
batch-last (1 × 6); here the batch comes first, (6, 1).
"""
import argparse

import torch

import flux_torch as Flux
from flux_torch import Dense, gradient
from flux_torch import train_
from flux_torch.optimise import Descent
from figures import add_plot_option, pyplot, save


def fitting_a_straight_line(epochs):
    print("== Fitting a straight line: predict 4x + 2")

    def actual(x):
        return 4 * x + 2

    # Julia's hcat(0:5...) is a 1×6 matrix; batch first it is 6×1.
    x_train, x_test = torch.arange(0, 6).reshape(6, 1), torch.arange(6, 11).reshape(5, 1)
    y_train, y_test = actual(x_train), actual(x_test)

    predict = Dense(1, 1)
    print("model:", predict)
    print("weight, bias:", predict.weight.tolist(), predict.bias.tolist())

    def loss(model, x, y):
        return ((model(x) - y) ** 2).mean()

    print("loss before training:", round(float(loss(predict, x_train, y_train)), 4))
    opt = Descent()
    print("opt =", opt)
    data = [(x_train, y_train)]
    train_(loss, predict, data, opt)
    print("loss after one train_:", round(float(loss(predict, x_train, y_train)), 4))
    for epoch in range(epochs):
        train_(loss, predict, data, opt)
    print(f"loss after {epochs} more epochs:", round(float(loss(predict, x_train, y_train)), 6))
    print("weight, bias:", round(predict.weight.item(), 4), round(predict.bias.item(), 4))
    print("predict(x_test):", [round(v, 3) for v in predict(x_test).flatten().tolist()])
    print("y_test:         ", y_test.flatten().tolist())
    return x_train, y_train, x_test, y_test, predict


def custom_linear_regression(epochs):
    print("== Linear regression by hand, then with Flux.Losses.mse")
    x = torch.arange(-30, 31, dtype=torch.float32).reshape(61, 1) / 10   # -3:0.1:3, batch first

    def f(x):
        return 3 * x + 2

    y = f(x)
    x = x * torch.rand(61, 1)         # the tutorial adds noise by scaling each x

    def custom_model(W, b, x):
        return W * x + b

    def custom_loss(W, b, x, y):
        ŷ = custom_model(W, b, x)
        return ((y - ŷ) ** 2).sum() / len(x)

    W, b = torch.rand(1, 1), torch.tensor([0.0])
    flux_model = Dense(1, 1)
    print("flux_model:", flux_model)
    W = flux_model.weight.clone()      # start both models from the same parameters
    print("custom_loss == Flux.Losses.mse:",
          bool(torch.isclose(custom_loss(W, b, x, y), Flux.Losses.mse(flux_model(x), y))))
    print("loss before:", round(float(custom_loss(W, b, x, y)), 4))

    def train_custom_model():
        dLdW, dLdb, _, _ = gradient(custom_loss, W, b, x, y)
        W.sub_(0.1 * dLdW)             # Julia's @. W = W - 0.1 * dLdW
        b.sub_(0.1 * dLdb)

    for epoch in range(epochs):
        train_custom_model()
    print(f"after {epochs} epochs: W = {W.item():.4f}, b = {b.item():.4f}, "
          f"loss = {float(custom_loss(W, b, x, y)):.4f}")
    return x, y, W, b


def draw(folder, line, regression):
    """Each part's data and the line it fitted (the tutorial's "Simple Linear Regression" plot)."""
    plt = pyplot()
    if plt is None:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=80, layout="constrained")
    x_train, y_train, x_test, y_test, predict = line
    grid = torch.linspace(0, 10, 50).reshape(50, 1)
    left.scatter(x_train.flatten(), y_train.flatten(), label="training data")
    left.scatter(x_test.flatten(), y_test.flatten(), marker="s", label="test data")
    left.plot(grid.flatten(), predict(grid).detach().flatten(), color="k", lw=1,
              label=f"predict: {predict.weight.item():.3f}x + {predict.bias.item():.3f}")
    left.set(title="Fitting a straight line: 4x + 2", xlabel="x", ylabel="y")
    left.legend()
    x, y, W, b = regression
    right.scatter(x.flatten(), y.flatten(), s=12)
    ends = torch.tensor([-3.0, 3.0])
    right.plot(ends, W.item() * ends + b.item(), color="C1", lw=2, label="Custom model")
    right.set(title="Simple Linear Regression", xlabel="x", ylabel="y")
    right.legend()
    save(plt, fig, folder, "linear_regression.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="training epochs of each part (default: the pages' 200 and 40)")
    add_plot_option(parser, "linear_regression")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)     # tensors this small run fastest on one thread
    torch.manual_seed(0)
    line = fitting_a_straight_line(200 if args.steps is None else args.steps)
    regression = custom_linear_regression(40 if args.steps is None else args.steps)
    if args.plot:
        draw(args.plot, line, regression)


if __name__ == "__main__":
    main()
