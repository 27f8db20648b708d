"""Data-parallel training with DistributedUtils: Flux's guide example (fit y = x³ with
Chain(Dense(1 => 256, tanh), Dense(256 => 1))) on two CPU workers.

Run:  torchrun --nproc_per_node=2 examples/distributed_train.py [--epochs N]
(Flux runs it with ``mpiexecjl -n 2 julia file.jl``.) Each worker trains on its half
of the data; the DistributedOptimizer averages the gradients, so every worker takes
the same steps and ends with the same parameters: each prints its loss per epoch and
a checksum of its final parameters, which agree.
"""
import argparse

import torch

import flux_torch as Flux
from flux_torch import distributed as DistributedUtils


def main(epochs):
    DistributedUtils.initialize()                  # gloo on CPU, NCCL when CUDA is there
    backend = DistributedUtils.get_distributed_backend()
    rank = DistributedUtils.local_rank(backend)
    print(f"rank {rank} of {DistributedUtils.total_workers(backend)} workers, {backend}", flush=True)

    torch.manual_seed(0)                           # every worker makes the same data...
    x = torch.rand(16, 1)                          # Flux: rand(Float32, 1, 16), batch last
    y = x ** 3
    data = DistributedUtils.DistributedDataContainer(backend, (x, y))   # ...and keeps its half
    loader = Flux.DataLoader(data, batchsize=4, shuffle=True, rng=rank, collate=True)

    torch.manual_seed(100 + rank)                  # different starting models...
    model = Flux.Chain(Flux.Dense(1, 256, Flux.tanh), Flux.Dense(256, 1))
    model = DistributedUtils.synchronize_(backend, DistributedUtils.FluxDistributedModel(model), root=0)

    opt = DistributedUtils.DistributedOptimizer(backend, Flux.Adam(0.001))
    opt_state = Flux.setup(opt, model)
    opt_state = DistributedUtils.synchronize_(backend, opt_state, root=0)   # ...made equal here

    for epoch in range(1, epochs + 1):
        losses = []
        for xb, yb in loader:
            loss, grads = Flux.withgradient(lambda m: Flux.Losses.mse(m(xb), yb), model)
            Flux.update_(opt_state, model, grads[0])
            losses.append(loss.item())
        print(f"rank {rank} epoch {epoch} loss {sum(losses) / len(losses):.6f}", flush=True)

    checksum = sum(t.double().sum().item() for t in Flux.fleaves(model) if isinstance(t, torch.Tensor))
    print(f"rank {rank} checksum: {checksum!r}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    main(parser.parse_args().epochs)
