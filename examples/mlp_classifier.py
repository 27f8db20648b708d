"""The Flux model zoo's MLP classifier, on scikit-learn's handwritten digits.

The model zoo trains `Chain(Dense(784 => 32, relu), Dense(32 => 10))` on MNIST with
`logitcrossentropy` and `Adam`. MNIST needs a download; scikit-learn ships a
smaller set of 8×8 digits, so the first layer takes 64 features here.

Run:  pip install -e ".[examples]" && python examples/mlp_classifier.py
Options: --epochs N, --plot PATH (a loss curve, when matplotlib is installed).
"""
import argparse

import numpy as np
import torch

import flux_torch as Flux
from flux_torch import Chain, DataLoader, Dense, onecold, onehotbatch, relu
from flux_torch.losses import logitcrossentropy


def getdata(batchsize, seed=0):
    """The digits as float32 (N, 64) features in [0, 1] and one-hot (N, 10) labels, split 80/20."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)            # batch first: (N, features)
    y = digits.target
    order = np.random.default_rng(seed).permutation(len(y))
    x, y = x[order], y[order]
    n_train = int(0.8 * len(y))
    xtrain, xtest = torch.from_numpy(x[:n_train]), torch.from_numpy(x[n_train:])
    ytrain, ytest = onehotbatch(y[:n_train], range(10)), onehotbatch(y[n_train:], range(10))
    train_loader = DataLoader((xtrain, ytrain), batchsize=batchsize, shuffle=True, rng=seed)
    test_loader = DataLoader((xtest, ytest), batchsize=batchsize)
    return train_loader, test_loader


def build_model(nfeatures=64, nclasses=10):
    return Chain(Dense(nfeatures, 32, relu), Dense(32, nclasses))


def loss_and_accuracy(loader, model):
    """Mean loss and accuracy over a loader, as the model zoo's `loss_and_accuracy`."""
    total, correct, n = 0.0, 0, 0
    for x, y in loader:
        ŷ = model(x)
        total += float(logitcrossentropy(ŷ, y, agg=torch.sum))
        correct += int((onecold(ŷ) == onecold(y)).sum())
        n += x.shape[0]
    return total / n, correct / n


def train(epochs=30, batchsize=32, eta=3e-3, seed=0):
    torch.manual_seed(seed)
    train_loader, test_loader = getdata(batchsize, seed)
    model = build_model()
    opt_state = Flux.setup(Flux.Adam(eta), model)
    curve = []
    for epoch in range(1, epochs + 1):
        Flux.train_(lambda m, x, y: logitcrossentropy(m(x), y), model, train_loader, opt_state)
        train_loss, train_acc = loss_and_accuracy(train_loader, model)
        test_loss, test_acc = loss_and_accuracy(test_loader, model)
        curve.append((train_loss, test_loss))
        print(f"epoch {epoch:3d}  train loss {train_loss:.4f} acc {train_acc:.3f}  "
              f"test loss {test_loss:.4f} acc {test_acc:.3f}")
    return model, test_acc, curve


def plot(curve, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    fig, ax = plt.subplots()
    ax.plot([c[0] for c in curve], label="train")
    ax.plot([c[1] for c in curve], label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("logitcrossentropy")
    ax.legend()
    fig.savefig(path)
    print("loss curve saved to", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--plot", default="mlp_loss.png")
    args = parser.parse_args()
    model, test_acc, curve = train(epochs=args.epochs)
    print(model)
    print(f"test accuracy: {test_acc:.3f}")
    plot(curve, args.plot)


if __name__ == "__main__":
    main()
