"""The Flux model zoo's LeNet-style CNN (conv_mnist), on scikit-learn's handwritten digits.

The model zoo's LeNet5 for 28×28 MNIST is
`Chain(Conv((5, 5), 1 => 6, relu), MaxPool((2, 2)), Conv((5, 5), 6 => 16, relu), MaxPool((2, 2)),
flatten, Dense(256 => 120, relu), Dense(120 => 84, relu), Dense(84 => 10))`.
scikit-learn's digits are 8×8, so here the kernels are 3×3 with padding, and each
convolution is followed by a `BatchNorm`; a `Dropout` guards the dense part. Images are
batch first, `(N, 1, 8, 8)` (Flux's `8×8×1×N` reversed). `BatchNorm` and `Dropout` are in
training mode only inside the gradient, so evaluation needs no `testmode_`.

A progress bar counts the epochs (and, on the line under it, each `train_` call's
batches); after each epoch the loss and accuracy on the training and test sets are
printed, and at the end drawn as curves (with matplotlib, when it is installed).

Run:  pip install -e ".[examples]" && python examples/cnn_classifier.py    (about 20 s on a 2-core CPU)
Options: --epochs N, --plot DIR (where the figure goes).
"""
import argparse

import numpy as np
import torch

import flux_torch as Flux
from flux_torch import (BatchNorm, Chain, Conv, DataLoader, Dense, Dropout, MaxPool, flatten,
                        onecold, onehotbatch, relu)
from flux_torch.losses import logitcrossentropy
from flux_torch.outputsize import outputsize
from figures import add_plot_option, pyplot, save


def getdata(batchsize, seed=0):
    """The digits as float32 (N, 1, 8, 8) images in [0, 1] and one-hot (N, 10) labels, split 80/20."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]   # (N, 8, 8) -> (N, C=1, H, W)
    y = digits.target
    order = np.random.default_rng(seed).permutation(len(y))
    x, y = x[order], y[order]
    n_train = int(0.8 * len(y))
    xtrain, xtest = torch.from_numpy(x[:n_train]), torch.from_numpy(x[n_train:])
    ytrain, ytest = onehotbatch(y[:n_train], range(10)), onehotbatch(y[n_train:], range(10))
    train_loader = DataLoader((xtrain, ytrain), batchsize=batchsize, shuffle=True, rng=seed)
    test_loader = DataLoader((xtest, ytest), batchsize=256)
    return train_loader, test_loader


def build_model(imgsize=(1, 8, 8), nclasses=10):
    """LeNet's shape for 8×8 images; `outputsize` finds the size of the flattened features."""
    features = Chain(
        Conv((3, 3), imgsize[0], 16, pad=1), BatchNorm(16, relu), MaxPool((2, 2)),   # 16×4×4
        Conv((3, 3), 16, 32, pad=1), BatchNorm(32, relu), MaxPool((2, 2)),           # 32×2×2
        flatten,
    )
    nflat = outputsize(features, imgsize, padbatch=True)[-1]                         # 128
    return Chain(*features, Dropout(0.3), Dense(nflat, 64, relu), Dense(64, nclasses))


def loss_and_accuracy(loader, model):
    """Mean loss and accuracy over a loader, as the model zoo's `loss_and_accuracy`."""
    total, correct, n = 0.0, 0, 0
    for x, y in loader:
        ŷ = model(x)
        total += float(logitcrossentropy(ŷ, y, agg=torch.sum))
        correct += int((onecold(ŷ) == onecold(y)).sum())
        n += x.shape[0]
    return total / n, correct / n


def train(epochs=15, batchsize=32, eta=3e-3, seed=0):
    torch.manual_seed(seed)
    train_loader, test_loader = getdata(batchsize, seed)
    model = build_model()
    opt_state = Flux.setup(Flux.Adam(eta), model)
    history = []         # (train loss, train accuracy, test loss, test accuracy) per epoch
    epochs_bar = Flux.progress(range(1, epochs + 1), "epochs")
    for epoch in epochs_bar:
        Flux.train_(lambda m, x, y: logitcrossentropy(m(x), y), model, train_loader, opt_state)
        history.append(loss_and_accuracy(train_loader, model) + loss_and_accuracy(test_loader, model))
        epochs_bar.write("epoch {:3d}  train loss {:.4f} acc {:.3f}  test loss {:.4f} acc {:.3f}"
                         .format(epoch, *history[-1]))
    return model, history


def draw(folder, history):
    """Loss and accuracy per epoch, on the training and the test set."""
    plt = pyplot()
    if plt is None:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=80, layout="constrained")
    epochs = range(1, len(history) + 1)
    for ax, column, what in ((left, 0, "logitcrossentropy"), (right, 1, "accuracy")):
        ax.plot(epochs, [h[column] for h in history], marker=".", label="train")
        ax.plot(epochs, [h[column + 2] for h in history], marker=".", label="test")
        ax.set(xlabel="epoch", ylabel=what)
        ax.legend()
    save(plt, fig, folder, "cnn_classifier.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    add_plot_option(parser, "cnn_classifier")
    args = parser.parse_args()
    torch.set_num_threads(1)     # tensors this small run fastest on one thread
    model, history = train(epochs=args.epochs)
    print(model)
    print(f"test accuracy: {history[-1][3]:.3f}")
    if args.plot:
        draw(args.plot, history)


if __name__ == "__main__":
    main()
