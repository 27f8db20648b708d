"""Making a loader's batches in worker processes: ``DataLoader(parallel=...)`` on the
engine of ``torch.utils.data.DataLoader``.

The loader decides the batches of an epoch (their indices into the data, in its own
order) in this process; torch's loader sends each index to a worker process, which makes
the batch with the loader's own ``getobs`` and ``collate`` and sends it back, in order.
torch's ``DataLoader`` seeds its workers from a generator it is given; were that seed drawn
from the loader's ``rng`` (or torch's global generator) every later shuffle would differ
from the serial loader's, so it is derived from the seeds in use and the epoch instead.
"""
import numbers
import os

import numpy as np
import torch
import torch.utils.data as tud

__all__ = []


def _cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _nworkers(parallel):
    """Worker processes for ``parallel``: ``True`` one per usable CPU, an int that many,
    ``False``/``0`` (or less) none."""
    if isinstance(parallel, (bool, np.bool_)):
        return _cpu_count() if parallel else 0
    if not isinstance(parallel, numbers.Integral):
        raise TypeError(f"DataLoader: parallel must be True, False or a number of worker "
                        f"processes, but got {parallel!r}")
    return max(int(parallel), 0)


class _Batches(tud.Dataset):
    """A loader's batches as a map-style torch ``Dataset`` keyed by batch indices: what
    the worker processes call to make a batch."""

    def __init__(self, loader):
        self.loader = loader

    def __getitem__(self, key):
        return self.loader._fetch(key)


def _as_is(batch):  # torch's collate_fn: the batch is already made
    return batch


def _in_workers(loader, keys):
    """The batches ``keys`` of ``loader``, made by ``loader._workers`` worker processes."""
    own = loader.rng.initial_seed() if isinstance(loader.rng, torch.Generator) else 0
    base = hash((torch.initial_seed(), own, next(loader._epochs))) & (2**63 - 1)
    engine = tud.DataLoader(_Batches(loader), batch_size=None, sampler=keys, collate_fn=_as_is,
                            num_workers=loader._workers,
                            generator=torch.Generator().manual_seed(base))
    yield from engine
