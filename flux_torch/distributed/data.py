"""``DistributedDataContainer``: each worker's share of the data
(``DistributedUtils.DistributedDataContainer``)."""
import math
import warnings

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
    shorter. Shares of different sizes can give the workers different numbers of batches,
    and a worker with a batch more then waits at the gradient all-reduce for the others,
    which never join it (until ``initialize``'s timeout). So when ``n`` is not a multiple
    of the number of workers, this warns, and ``partial`` chooses what to do:
    ``"drop"`` gives every worker ``n // workers`` observations (the last ``n % workers``
    are left out), ``"pad"`` gives every worker ``ceil(n / workers)`` by reusing
    observations from the start (as torch's ``DistributedSampler`` pads), and ``"keep"``
    keeps Flux's split without the warning.

    ``len`` is the number of this worker's observations, ``c[i]`` its ``i``-th
    (``c[i:j]`` or ``c[index_tensor]`` a batch, of the same kind as ``data``);
    ``c.data`` is the whole data and ``c.idxs`` the range of this worker's indices
    (with ``partial="pad"`` an index ``j >= n`` stands for observation ``j - n``).

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

    def __init__(self, *args, partial=None):
        if partial not in (None, "keep", "drop", "pad"):
            raise ValueError(f"DistributedDataContainer: partial must be 'drop', 'pad' or 'keep', "
                             f"but got {partial!r}")
        backend, (data,) = split_args(args, 1, "DistributedDataContainer", "the data")
        rank, workers = local_rank(backend), total_workers(backend)
        n = DataLoader._count(data)
        per = math.ceil(n / workers)
        if partial == "drop":
            per = n // workers
            start, stop = rank * per, (rank + 1) * per
        elif partial == "pad":
            start, stop = rank * per, (rank + 1) * per     # indices from n on wrap around
        else:
            start, stop = min(rank * per, n), min((rank + 1) * per, n)
        if start >= stop:
            raise ValueError(f"DistributedDataContainer: {n} observations for {workers} workers "
                             f"leave none for worker {rank}; give at least {workers} observations, "
                             "or pass partial='pad' to share them by repeating some")
        if partial is None and n % workers:
            warnings.warn(f"DistributedDataContainer: {n} observations on {workers} workers give "
                          f"shares of {per} and {n - (workers - 1) * per}, so the workers may take "
                          "different numbers of steps, and one with a step more waits for the others "
                          f"until initialize's timeout; pass partial='drop' (every worker gets "
                          f"{n // workers}) or partial='pad' (every worker gets {per}, reusing "
                          f"{workers * per - n} observations), or partial='keep' to keep this split",
                          stacklevel=2)
        self.data, self.idxs, self._n = data, range(start, stop), n

    def __len__(self):
        return len(self.idxs)

    def __getitem__(self, i):
        """Observation ``i`` of this worker's share; a slice, list or tensor of indices gives
        a batch of them, of the same kind as ``data`` (MLUtils' ``getobs``)."""
        if isinstance(i, slice):
            r = self.idxs[i]
            if not r or max(r[0], r[-1]) < self._n:
                return _getobs(self.data, slice(r.start, r.stop, r.step))
            return _getobs(self.data, torch.arange(r.start, r.stop, r.step) % self._n)
        if isinstance(i, (list, tuple, torch.Tensor, np.ndarray)):
            idx = torch.as_tensor(i, dtype=torch.long)
            if idx.dim() != 1:
                raise IndexError(f"DistributedDataContainer: index with one list of indices, "
                                 f"but got shape {tuple(idx.shape)}")
            return _getobs(self.data, torch.arange(self.idxs.start, self.idxs.stop)[idx] % self._n)
        return _getobs(self.data, self.idxs[i] % self._n)

    getobs = __getitem__

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"DistributedDataContainer({_summary(self.data)}, {self.idxs!r})"
