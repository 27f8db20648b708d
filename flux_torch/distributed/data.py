"""``DistributedDataContainer``: each worker's share of the data
(``DistributedUtils.DistributedDataContainer``)."""
import math

import numpy as np
import torch

from ..data.dataloader import DataLoader
from ..data.observations import _getobs, _summary
from .backend import local_rank, split_args, total_workers

__all__ = ["DistributedDataContainer"]


class DistributedDataContainer:
    """This worker's share of ``data``: ``DistributedDataContainer(data)`` or
    ``DistributedDataContainer(backend, data)``.

    ``data`` is what :class:`DataLoader` takes: a tensor, numpy array or list with the
    observations along the first dimension, or a tuple or dict of them. As in Flux, the
    observations are cut into ``total_workers()`` consecutive blocks of
    ``ceil(n / total_workers())``; worker ``r`` gets block ``r``, so the last may be
    shorter (give every worker equally many, so that all take the same number of steps).
    ``len`` is the number of this worker's observations, ``c[i]`` its ``i``-th
    (``c[i:j]`` or ``c[index_tensor]`` a batch, of the same kind as ``data``);
    ``c.data`` is the whole data and ``c.idxs`` the range of this worker's indices.

    ``DataLoader(c, batchsize=b, collate=True)`` gives batches of the same kind as
    ``DataLoader(data, batchsize=b)`` does (``collate=True`` stacks the observations).

    >>> import torch.distributed as dist
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> X, Y = torch.arange(8.0).reshape(4, 2), torch.arange(4)
    >>> c = DistributedDataContainer((X, Y))     # one worker: all of it
    >>> c
    DistributedDataContainer((<Tensor (4, 2) float32>, <Tensor (4,) int64>), range(0, 4))
    >>> len(c), c[1]
    (4, (tensor([2., 3.]), tensor(1)))
    >>> [y.tolist() for x, y in DataLoader(c, batchsize=3, collate=True)]
    [[0, 1, 2], [3]]
    >>> dist.destroy_process_group()
    """

    def __init__(self, *args):
        backend, (data,) = split_args(args, 1, "DistributedDataContainer", "the data")
        rank, workers = local_rank(backend), total_workers(backend)
        n = DataLoader._count(data)
        per = math.ceil(n / workers)
        start, stop = min(rank * per, n), min((rank + 1) * per, n)
        if start >= stop:
            raise ValueError(f"DistributedDataContainer: {n} observations cut into blocks of "
                             f"{per} leave none for worker {rank} of {workers}; give at least "
                             f"{(workers - 1) * per + 1} observations, ideally a multiple of {workers}")
        self.data, self.idxs = data, range(start, stop)

    def __len__(self):
        return len(self.idxs)

    def __getitem__(self, i):
        """Observation ``i`` of this worker's share; a slice, list or tensor of indices gives
        a batch of them, of the same kind as ``data`` (MLUtils' ``getobs``)."""
        if isinstance(i, slice):
            r = self.idxs[i]
            return _getobs(self.data, slice(r.start, r.stop, r.step))
        if isinstance(i, (list, tuple, torch.Tensor, np.ndarray)):
            idx = torch.as_tensor(i, dtype=torch.long)
            if idx.dim() != 1:
                raise IndexError(f"DistributedDataContainer: index with one list of indices, "
                                 f"but got shape {tuple(idx.shape)}")
            return _getobs(self.data, torch.arange(self.idxs.start, self.idxs.stop)[idx])
        return _getobs(self.data, self.idxs[i])

    getobs = __getitem__

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"DistributedDataContainer({_summary(self.data)}, {self.idxs!r})"
