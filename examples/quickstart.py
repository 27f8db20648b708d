"""Flux's "A Neural Network in One Minute" (Flux v0.16.11, docs/src/guide/models/quickstart.md),
line by line, with its progress bar and its four plots.

The XOR problem: points in the unit square, labelled true when exactly one coordinate
is above 0.5. Flux's data is `2×1000` (batch last); here it is `(1000, 2)` (batch first),
so the model's output is `(1000, 2)` and "the first row" of Flux's output is column 0.

Run:  python examples/quickstart.py     (Flux's 1000 epochs, 16 000 steps: about 30 s on a
                                          busy 2-core CPU; the progress bar shows the time left)
Options: --epochs N, --seed S, --train (Flux.train_ in place of the explicit loop),
         --plot DIR (where the figures go; matplotlib draws them when it is installed).
"""
import argparse
import time
import warnings

import torch

import flux_torch as Flux
from flux_torch import BatchNorm, Chain, Dense, cpu, softmax
from figures import add_plot_option, pyplot, save


def main(epochs=1000, seed=0, use_train=False, plot=None):
    torch.manual_seed(seed)
    with warnings.catch_warnings():     # without a GPU, gpu_device() warns and gives the CPU;
        warnings.simplefilter("ignore")  # this example says which device it uses instead
        device = Flux.gpu_device()       # function to move data and model to the GPU
    print("device:", device)

    # Generate some data for the XOR problem: vectors of length 2, as rows of a matrix:
    noisy = torch.rand(1000, 2)                                       # (1000, 2) float32
    truth = [bool((row[0] > 0.5) ^ (row[1] > 0.5)) for row in noisy]  # 1000 Python bools

    # Define our model, a multi-layer perceptron with one hidden layer of size 3:
    model = device(Chain(
        Dense(2, 3, torch.tanh),   # activation function inside layer
        BatchNorm(3),
        Dense(3, 2)))              # move model to GPU, if one is available
    print(model)

    # The model encapsulates parameters, randomly initialised. Its initial output is:
    out1 = model(device(noisy))               # (1000, 2)
    probs1 = cpu(softmax(out1))               # normalise to get probabilities (and move off GPU)

    # To train the model, we use batches of 64 samples, and one-hot encoding:
    target = Flux.onehotbatch(truth, [True, False])                   # (1000, 2)
    loader = Flux.DataLoader((noisy, target), batchsize=64, shuffle=True)
    print(f"{len(loader)}-element DataLoader")                        # 16 batches

    opt_state = Flux.setup(Flux.Adam(0.01), model)  # will store optimiser momentum, etc.

    # Training loop, using the whole data set 1000 times (Flux: @showprogress for epoch in 1:1_000):
    losses = []
    start = time.perf_counter()
    if use_train:      # the page's train! form: the same steps, the loss is not kept
        for epoch in Flux.progress(range(epochs)):
            Flux.train_(lambda m, x, y: Flux.logitcrossentropy(m(x), y), model, device(loader),
                        opt_state)
    else:
        for epoch in Flux.progress(range(epochs)):
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
    elapsed = time.perf_counter() - start

    out2 = model(device(noisy))               # column 0 is prob. of true, column 1 p(false)
    probs2 = cpu(softmax(out2))               # normalise to get probabilities
    truth_t = torch.tensor(truth)
    acc_before = ((probs1[:, 0] > 0.5) == truth_t).float().mean().item()
    accuracy = ((probs2[:, 0] > 0.5) == truth_t).float().mean().item()   # 94% on Flux's page
    if losses:
        print(f"loss first batch: {losses[0]:.4f}  last batch: {losses[-1]:.4f}")
    print(f"accuracy before training: {acc_before:.3f}")
    print(f"accuracy: {accuracy:.3f}  ({epochs} epochs in {elapsed:.1f} s)")
    if plot:
        draw(plot, noisy, truth_t, probs1, probs2, losses, len(loader))
    return model, accuracy, losses


def draw(folder, noisy, truth, probs1, probs2, losses, n):
    """The page's figures: three scatter plots side by side, then the loss during training."""
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.3), dpi=80, layout="constrained")
    panels = [("True classification", truth.float()), ("Untrained network", probs1[:, 0]),
              ("Trained network", probs2[:, 0])]
    for ax, (title, colour) in zip(axes, panels):
        dots = ax.scatter(noisy[:, 0], noisy[:, 1], c=colour, cmap="inferno", vmin=0, vmax=1,
                          s=12, edgecolors="k", linewidths=0.3)
        ax.set_title(title)
    fig.colorbar(dots, ax=axes[1])
    save(plt, fig, folder, "quickstart_oneminute.png")
    if not losses:
        print("no loss recorded with --train: loss plot skipped")
        return
    fig, ax = plt.subplots(figsize=(5, 3.75), dpi=80, layout="constrained")
    ax.plot(range(1, len(losses) + 1), losses, lw=0.6, label="per batch")
    epochs = len(losses) // n
    means = [sum(losses[i * n:(i + 1) * n]) / n for i in range(epochs)]
    ax.plot(range(n, n * epochs + 1, n), means, label="epoch mean")
    ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.legend()
    save(plt, fig, folder, "quickstart_loss.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", action="store_true", help="use Flux.train_ for the loop")
    add_plot_option(parser, "quickstart")
    args = parser.parse_args()
    torch.set_num_threads(1)     # tensors this small run fastest on one thread
    main(args.epochs, args.seed, args.train, args.plot)
