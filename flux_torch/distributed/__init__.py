"""Data-parallel training on ``torch.distributed``: Flux's ``DistributedUtils``.

``from flux_torch import distributed as DistributedUtils`` (``Flux.DistributedUtils``):
``initialize``, ``get_distributed_backend``, ``local_rank``, ``total_workers``,
``synchronize_`` (``synchronize!!``), ``DistributedOptimizer``,
``DistributedDataContainer``, and the collectives ``bcast_``, ``allreduce_``,
``reduce_`` with ``avg``. Launch with ``torchrun --nproc_per_node=N script.py``;
see ``docs/distributed.md``.
"""
from .backend import (DistributedBackend, GlooBackend, MPIBackend, NCCLBackend, get_distributed_backend,
                      initialize, initialized, local_rank, total_workers)
from .collectives import FluxDistributedModel, allreduce_, avg, bcast_, reduce_, synchronize_
from .data import DistributedDataContainer
from .optimizer import DistributedOptimizer

__all__ = ["initialize", "initialized", "get_distributed_backend", "local_rank", "total_workers",
           "DistributedBackend", "GlooBackend", "MPIBackend", "NCCLBackend",
           "synchronize_", "FluxDistributedModel", "bcast_", "allreduce_", "reduce_", "avg",
           "DistributedOptimizer", "DistributedDataContainer"]
