"""Flux's "A Neural Network in One Minute" (docs/src/models/quickstart.md), line by line.

The XOR problem: points in the unit square, labelled true when exactly one coordinate
is above 0.5. Flux's data is `2×1000` (batch last); here it is `(1000, 2)` (batch first),
so the model's output is `(1000, 2)` and "the first row" of Flux's output is column 0.

Run:  python examples/quickstart.py            (Flux's 1000 epochs; about a minute)
Options: --epochs N, --seed S, --train (use Flux.train_ in place of the explicit loop).
"""
import argparse
import time

import torch

import flux_torch as Flux
from flux_torch import BatchNorm, Chain, Dense, cpu, gpu, softmax


def main(epochs=1000, seed=0, use_train=False):
    torch.manual_seed(seed)

    # Generate some data for the XOR problem: vectors of length 2, as rows of a matrix:
    noisy = torch.rand(1000, 2)                                       # (1000, 2) float32
    truth = [bool((row[0] > 0.5) ^ (row[1] > 0.5)) for row in noisy]  # 1000 Python bools

    # Define our model, a multi-layer perceptron with one hidden layer of size 3:
    model = gpu(Chain(
        Dense(2, 3, torch.tanh),   # activation function inside layer
        BatchNorm(3),
        Dense(3, 2),
        softmax))                  # move model to GPU, if available
    print(model)

    # The model encapsulates parameters, randomly initialised. Its initial output is:
    out1 = cpu(model(gpu(noisy)))                                     # (1000, 2)

    # To train the model, we use batches of 64 samples, and one-hot encoding:
    target = Flux.onehotbatch(truth, [True, False])                   # (1000, 2)
    loader = Flux.DataLoader(gpu((noisy, target)), batchsize=64, shuffle=True)
    print(f"{len(loader)}-element DataLoader")                        # 16 batches

    optim = Flux.setup(Flux.Adam(0.01), model)  # will store optimiser momentum, etc.

    # Training loop, using the whole data set `epochs` times:
    losses = []
    start = time.perf_counter()
    for epoch in range(epochs):
        if use_train:
            Flux.train_(lambda m, x, y: Flux.crossentropy(m(x), y), model, loader, optim)
            continue
        for x, y in loader:
            def objective(m):
                # Evaluate model and loss inside gradient context:
                y_hat = m(x)
                return Flux.crossentropy(y_hat, y)
            loss, grads = Flux.withgradient(objective, model)
            Flux.update_(optim, model, grads[0])
            losses.append(float(loss))  # logging, outside gradient context
    elapsed = time.perf_counter() - start

    out2 = cpu(model(gpu(noisy)))  # column 0 is prob. of true, column 1 p(false)
    truth_t = torch.tensor(truth)
    acc_before = ((out1[:, 0] > 0.5) == truth_t).float().mean().item()
    accuracy = ((out2[:, 0] > 0.5) == truth_t).float().mean().item()
    if losses:
        print(f"loss first batch: {losses[0]:.4f}  last batch: {losses[-1]:.4f}")
    print(f"accuracy before training: {acc_before:.3f}")
    print(f"accuracy: {accuracy:.3f}  ({epochs} epochs in {elapsed:.1f} s)")
    return model, accuracy, losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", action="store_true", help="use Flux.train_ for the loop")
    args = parser.parse_args()
    main(args.epochs, args.seed, args.train)
