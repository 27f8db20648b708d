"""Data-parallel training with DistributedUtils: Flux's guide example (fit y = x³ with
Chain(Dense(1 => 256, tanh), Dense(256 => 1))) on two CPU workers.

Run:  torchrun --nproc_per_node=2 examples/distributed_train.py [--epochs N]    (about 15 s on 2 CPU cores)
(Flux runs it with ``mpiexecjl -n 2 julia file.jl``.) Each worker trains on its half
of the data; the DistributedOptimizer averages the gradients, so every worker takes
the same steps and ends with the same parameters. Worker 0 alone reports: a progress
bar with the global loss, then one summary: the global loss of the first and last
epoch (the mean over every worker's batches), the final model's loss on all the data,
and whether the workers' parameter checksums agree (the script fails if they do not).
"""
import argparse
import operator
import sys

import torch

import flux_torch as Flux
from flux_torch import distributed as DistributedUtils


def main(epochs):
    DistributedUtils.initialize()                  # gloo on CPU, NCCL when CUDA is there
    backend = DistributedUtils.get_distributed_backend()
    rank = DistributedUtils.local_rank(backend)
    workers = DistributedUtils.total_workers(backend)

    torch.manual_seed(0)                           # every worker makes the same data...
    x = torch.rand(16, 1)                          # Flux: rand(Float32, 1, 16), batch last
    y = x ** 3
    data = DistributedUtils.DistributedDataContainer(backend, (x, y))   # ...and keeps its half
    loader = Flux.DataLoader(data, batchsize=4, shuffle=True, rng=rank, collate=True)
    if rank == 0:
        print(f"{workers} workers ({backend}): {len(data)} observations and {len(loader)} "
              f"batches each, {epochs} epochs", flush=True)

    torch.manual_seed(100 + rank)                  # different starting models...
    model = Flux.Chain(Flux.Dense(1, 256, Flux.tanh), Flux.Dense(256, 1))
    model = DistributedUtils.synchronize_(backend, DistributedUtils.FluxDistributedModel(model), root=0)

    opt = DistributedUtils.DistributedOptimizer(backend, Flux.Adam(0.001))
    opt_state = Flux.setup(opt, model)
    opt_state = DistributedUtils.synchronize_(backend, opt_state, root=0)   # ...made equal here

    history = []                                   # the global loss of each epoch
    bar = Flux.progress(range(1, epochs + 1), "epochs", enabled=rank == 0)
    for epoch in bar:
        total = torch.zeros(2)                     # this worker's summed batch losses, batches
        for xb, yb in loader:
            loss, grads = Flux.withgradient(lambda m: Flux.Losses.mse(m(xb), yb), model)
            Flux.update_(opt_state, model, grads[0])
            total += torch.tensor([loss.item(), 1.0])
        DistributedUtils.allreduce_(backend, total, operator.add)   # every worker's batches together
        history.append((total[0] / total[1]).item())
        bar.set_postfix(loss=f"{history[-1]:.6f}", refresh=False)

    # the final model on all the data: squared errors and counts summed over the workers
    sse = torch.zeros(2)
    for xb, yb in loader:
        sse += torch.tensor([((model(xb) - yb) ** 2).sum().item(), xb.shape[0]])
    DistributedUtils.allreduce_(backend, sse, operator.add)
    checksum = sum(t.double().sum().item() for t in Flux.fleaves(model) if isinstance(t, torch.Tensor))
    high = DistributedUtils.allreduce_(backend, torch.tensor([checksum], dtype=torch.float64), max)
    low = DistributedUtils.allreduce_(backend, torch.tensor([checksum], dtype=torch.float64), min)
    agree = high.item() == low.item()
    if rank == 0:
        print(f"global loss: epoch 1 {history[0]:.6f}, epoch {epochs} {history[-1]:.6f}")
        print(f"final model's mse on all {int(sse[1])} observations: {(sse[0] / sse[1]).item():.6f}")
        if agree:
            print(f"parameter checksums agree on all {workers} workers: {checksum!r}")
        else:
            print(f"parameter checksums DISAGREE: from {low.item()!r} to {high.item()!r}")
    return agree


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    torch.set_num_threads(1)       # two workers share the machine's cores
    sys.exit(0 if main(parser.parse_args().epochs) else 1)
