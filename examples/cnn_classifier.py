"""The Flux model zoo's LeNet-style CNN (conv_mnist), on scikit-learn's handwritten digits.

The model zoo's LeNet5 for 28×28 MNIST is
`Chain(Conv((5, 5), 1 => 6, relu), MaxPool((2, 2)), Conv((5, 5), 6 => 16, relu), MaxPool((2, 2)),
flatten, Dense(256 => 120, relu), Dense(120 => 84, relu), Dense(84 => 10))`.
scikit-learn's digits are 8×8, so here the kernels are 3×3 with padding, and each
convolution is followed by a `BatchNorm`; a `Dropout` guards the dense part. Images are
batch first, `(N, 1, 8, 8)` (Flux's `8×8×1×N` reversed). `BatchNorm` and `Dropout` are in
training mode only inside the gradient, so evaluation needs no `testmode_`.

Run:  pip install -e ".[examples]" && python examples/cnn_classifier.py
Options: --epochs N.
"""
import argparse
import time

import numpy as np
import torch

import flux_torch as Flux
from flux_torch import (BatchNorm, Chain, Conv, DataLoader, Dense, Dropout, MaxPool, flatten,
                        onecold, onehotbatch, relu)
from flux_torch.losses import logitcrossentropy
from flux_torch.outputsize import outputsize


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
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        Flux.train_(lambda m, x, y: logitcrossentropy(m(x), y), model, train_loader, opt_state)
        test_loss, test_acc = loss_and_accuracy(test_loader, model)
        print(f"epoch {epoch:3d}  test loss {test_loss:.4f} acc {test_acc:.3f}  "
              f"({time.perf_counter() - start:.1f} s)")
    return model, test_acc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)     # tensors this small run fastest on one thread
    model, test_acc = train(epochs=args.epochs)
    print(model)
    print(f"test accuracy: {test_acc:.3f}")


if __name__ == "__main__":
    main()
