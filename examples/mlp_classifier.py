"""The Flux model zoo's MLP classifier, on scikit-learn's handwritten digits.

The model zoo trains `Chain(Dense(784 => 32, relu), Dense(32 => 10))` on MNIST with
`logitcrossentropy` and `Adam`. MNIST needs a download; scikit-learn ships a
smaller set of 8×8 digits, so the first layer takes 64 features here.

A progress bar counts the epochs; each epoch's losses and accuracies are printed,
and the loss curves drawn at the end (with matplotlib, when it is installed).

Run:  pip install -e ".[examples]" && python examples/mlp_classifier.py    (about 15 s on a 2-core CPU)
Options: --epochs N, --plot DIR (where the figure goes).
"""
import argparse

import numpy as np
import torch

import flux_torch as Flux
from flux_torch import Chain, DataLoader, Dense, onecold, onehotbatch, relu
from flux_torch.losses import logitcrossentropy
from figures import add_plot_option, pyplot, save


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
    epochs_bar = Flux.progress(range(1, epochs + 1), "epochs")
    for epoch in epochs_bar:
        Flux.train_(lambda m, x, y: logitcrossentropy(m(x), y), model, train_loader, opt_state)
        train_loss, train_acc = loss_and_accuracy(train_loader, model)
        test_loss, test_acc = loss_and_accuracy(test_loader, model)
        curve.append((train_loss, test_loss))
        epochs_bar.write(f"epoch {epoch:3d}  train loss {train_loss:.4f} acc {train_acc:.3f}  "
                         f"test loss {test_loss:.4f} acc {test_acc:.3f}")
    return model, test_acc, curve


def draw(folder, curve):
    """The loss per epoch on the training and the test set."""
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(5, 3.6), dpi=80, layout="constrained")
    epochs = range(1, len(curve) + 1)
    ax.plot(epochs, [c[0] for c in curve], label="train")
    ax.plot(epochs, [c[1] for c in curve], label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("logitcrossentropy")
    ax.legend()
    save(plt, fig, folder, "mlp_classifier.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    add_plot_option(parser, "mlp_classifier")
    args = parser.parse_args()
    torch.set_num_threads(1)     # tensors this small run fastest on one thread
    model, test_acc, curve = train(epochs=args.epochs)
    print(model)
    print(f"test accuracy: {test_acc:.3f}")
    if args.plot:
        draw(args.plot, curve)


if __name__ == "__main__":
    main()
