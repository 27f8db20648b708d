"""Flux v0.16's "A Neural Network in One Minute" (guide/models/quickstart.md), line by line.

`quickstart.py` is the page as Flux v0.14 had it (`softmax` inside the model and
`crossentropy`); since v0.15 the model ends with `Dense(3 => 2)`, the loss is
`logitcrossentropy`, and data and model move with a device object, `gpu_device()`.

The XOR problem: points in the unit square, labelled true when exactly one coordinate
is above 0.5. Flux's data is `2×1000` (batch last); here it is `(1000, 2)` (batch first),
so "the first row" of Flux's output is column 0 here.

Run:  python examples/quickstart_v016.py           (the page's 1000 epochs: a minute or so)
Options: --epochs N, --seed S, --train (the page's `train!` loop),
--trainstep (its `trainstep!` loop: needs `Flux.trainstep_`, not in flux_torch yet),
--plot DIR (the page's two figures, with matplotlib).
"""
import argparse
import os
import warnings

import torch
from tqdm import tqdm

import flux_torch as Flux
from flux_torch import BatchNorm, Chain, Dense, cpu, softmax


def main(epochs=1000, seed=0, loop="withgradient", plot_dir=None):
    torch.manual_seed(seed)
    with warnings.catch_warnings():      # without a GPU, gpu_device() warns and gives the CPU
        warnings.simplefilter("ignore", UserWarning)
        device = Flux.gpu_device()       # function to move data and model to the GPU
    print("device:", device)

    # Generate some data for the XOR problem: vectors of length 2, as rows of a matrix:
    noisy = torch.rand(1000, 2)                                         # (1000, 2) float32
    truth = [bool((row[0] > 0.5) ^ (row[1] > 0.5)) for row in noisy]    # 1000 Python bools

    # Define our model, a multi-layer perceptron with one hidden layer of size 3:
    model = device(Chain(
        Dense(2, 3, torch.tanh),   # activation function inside layer
        BatchNorm(3),
        Dense(3, 2)))              # move model to GPU, if one is available
    print(model)

    # The model encapsulates parameters, randomly initialised. Its initial output is:
    out1 = model(device(noisy))     # (1000, 2), on the device
    probs1 = cpu(softmax(out1))     # normalise to get probabilities (and move off GPU)

    # To train the model, we use batches of 64 samples, and one-hot encoding:
    target = Flux.onehotbatch(truth, [True, False])                     # (1000, 2)
    loader = Flux.DataLoader((noisy, target), batchsize=64, shuffle=True)
    print(f"{len(loader)}-element DataLoader")                          # 16 batches

    opt_state = Flux.setup(Flux.Adam(0.01), model)  # will store optimiser momentum, etc.

    def loss_fn(m, x, y):
        y_hat = m(x)
        return Flux.logitcrossentropy(y_hat, y)

    # Training loop, using the whole data set `epochs` times (ProgressMeter's @showprogress: tqdm):
    losses = []
    if loop == "train":
        # The convenience function: no logging, the same steps.
        for epoch in tqdm(range(epochs), disable=None):
            Flux.train_(loss_fn, model, device(loader), opt_state)
    elif loop == "trainstep":
        # The per-step primitive train! is built on: loss, gradient and update in one call.
        for epoch in tqdm(range(epochs), disable=None):
            for xy_cpu in loader:
                x, y = device(xy_cpu)
                loss = Flux.trainstep_(loss_fn, model, (x, y), opt_state)
                losses.append(float(loss))
    else:
        for epoch in tqdm(range(epochs), disable=None):
            for xy_cpu in loader:
                # Unpack batch of data, and move to GPU:
                x, y = device(xy_cpu)

                def objective(m):
                    # Evaluate model and loss inside gradient context:
                    y_hat = m(x)
                    return Flux.logitcrossentropy(y_hat, y)
                loss, grads = Flux.withgradient(objective, model)
                Flux.update_(opt_state, model, grads[0])
                losses.append(float(loss))  # logging, outside gradient context

    # opt_state: parameters, momenta and output have all changed
    out2 = model(device(noisy))     # column 0 is the logit of true, column 1 of false
    probs2 = cpu(softmax(out2))     # normalise to get probabilities
    truth_t = torch.tensor(truth)
    acc_before = ((probs1[:, 0] > 0.5) == truth_t).float().mean().item()
    accuracy = ((probs2[:, 0] > 0.5) == truth_t).float().mean().item()   # 94% so far!
    if losses:
        print(f"loss first batch: {losses[0]:.4f}  last batch: {losses[-1]:.4f}")
    print(f"accuracy before training: {acc_before:.3f}")
    print(f"accuracy: {accuracy:.3f}")
    if plot_dir is not None:
        plot(plot_dir, noisy, truth_t, probs1, probs2, losses, len(loader))
    return model, accuracy, losses


def plot(folder, noisy, truth, probs1, probs2, losses, n):
    """The page's two figures (Plots.jl there, matplotlib here, when installed)."""
    try:
        from matplotlib.figure import Figure     # no pyplot: no global figure state
    except ImportError:
        print("matplotlib is not installed: no plots")
        return
    fig = Figure(figsize=(10, 3.3))
    for ax, colour, title in zip(fig.subplots(1, 3), (truth, probs1[:, 0], probs2[:, 0]),
                                 ("True classification", "Untrained network", "Trained network")):
        ax.scatter(noisy[:, 0], noisy[:, 1], c=colour.float(), vmin=0, vmax=1, s=8)
        ax.set_title(title)
    fig.savefig(os.path.join(folder, "oneminute.png"))
    fig = Figure()
    ax = fig.subplots()
    ax.plot(range(1, len(losses) + 1), losses, label="per batch")
    epoch_means = [sum(losses[i:i + n]) / len(losses[i:i + n]) for i in range(0, len(losses), n)]
    ax.plot(range(n, n * len(epoch_means) + 1, n), epoch_means, label="epoch mean")
    ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.legend()
    fig.savefig(os.path.join(folder, "loss.png"), dpi=200)
    print("figures saved in", folder)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--train", action="store_const", dest="loop", const="train",
                       help="the page's Flux.train! loop")
    group.add_argument("--trainstep", action="store_const", dest="loop", const="trainstep",
                       help="the page's Flux.trainstep! loop")
    parser.add_argument("--plot", metavar="DIR", help="write the page's figures into DIR")
    args = parser.parse_args()
    main(args.epochs, args.seed, args.loop or "withgradient", args.plot)
