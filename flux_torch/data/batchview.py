"""A data container seen as a sequence of batches (MLUtils.jl's ``BatchView``, ``batchsize``)
and the observation iterator ``eachobs``, batch first and 0-based."""
import operator
import warnings

import torch

from .batching import batch as _batch
from .dataloader import DataLoader, _summary
from .observations import _getobs, numobs
from .views import _DataContainer, _data_index

__all__ = ["BatchView", "batchsize", "eachobs"]


class BatchView(_DataContainer):
    """``data`` seen as a sequence of batches of ``batchsize`` observations
    (``MLUtils.BatchView``); nothing is fetched until a batch is indexed or iterated.

    - ``len(bv)`` (and ``numobs(bv)``) is the number of batches; ``bv[i]`` (0-based) and
      iteration give batches; ``bv[[0, 2]]`` or ``bv[1:3]`` give ONE batch holding the
      observations of those batches, as MLUtils does for a vector of batch indices.
    - ``partial=False`` drops the last, smaller batch.
    - ``collate``: ``None`` (a batch is ``getobs(data, indices)``), ``False`` (a list of
      single observations), ``True`` (:func:`batch` of that list) or a function of that list.
    - Fewer observations than ``batchsize`` warn and shrink the batch size, as in MLUtils.

    >>> from flux_torch.data.batchview import BatchView
    >>> bv = BatchView(torch.arange(10), batchsize=4); bv
    BatchView(<Tensor (10,) int64>, batchsize=4, partial=True)  # 3 batches
    >>> list(bv)
    [tensor([0, 1, 2, 3]), tensor([4, 5, 6, 7]), tensor([8, 9])]
    >>> len(BatchView(torch.arange(10), batchsize=4, partial=False))
    2
    >>> bv[[0, 2]]
    tensor([0, 1, 2, 3, 8, 9])
    >>> BatchView(([1, 2, 3], [4, 5, 6]), batchsize=2, collate=True)[0]
    (tensor([1, 2]), tensor([4, 5]))
    """

    def __init__(self, data, batchsize=1, partial=True, collate=None):
        try:
            bs = operator.index(batchsize)
        except TypeError:
            raise TypeError(f"BatchView: batchsize must be an int, but got "
                            f"{type(batchsize).__name__}") from None
        if bs < 1:
            raise ValueError(f"BatchView: batchsize must be at least 1, but got {bs}; for single "
                             "observations iterate over the data (or obsview(data)) instead")
        if collate not in (None, True, False) and not callable(collate):
            raise ValueError(f"BatchView: collate must be None, True, False or a function of a "
                             f"list of observations, but got {collate!r}")
        n = numobs(data, "BatchView")
        if 0 < n < bs:
            warnings.warn(f"BatchView: the data has {n} observations, fewer than batchsize={bs}; "
                          f"decreasing the batch size to {n}", stacklevel=2)
            bs = n
        self.data = data
        self.batchsize = bs
        self.partial = bool(partial)
        self.collate = collate
        self.count = -(-n // bs) if self.partial else n // bs
        self._n = n

    def __len__(self):
        return self.count

    def _observations(self, b):
        start = b * self.batchsize
        return range(start, min(start + self.batchsize, self._n))

    def _get(self, pos):
        if isinstance(pos, int):
            return self._collate(self._observations(pos))
        seen = dict.fromkeys(i for b in pos for i in self._observations(int(b)))  # union, in order
        obs = list(seen)
        if obs and obs[-1] - obs[0] + 1 == len(obs) and obs == list(range(obs[0], obs[-1] + 1)):
            return self._collate(range(obs[0], obs[-1] + 1))
        return self._collate(obs)

    def _collate(self, obs):
        if self.collate is None:
            idx = _data_index(obs) if isinstance(obs, range) else torch.tensor(obs, dtype=torch.long)
            return _getobs(self.data, idx)
        items = [_getobs(self.data, i) for i in obs]
        if self.collate is False:
            return items
        return _batch(items) if self.collate is True else self.collate(items)

    def __repr__(self):
        return (f"BatchView({_summary(self.data)}, batchsize={self.batchsize}, "
                f"partial={self.partial})  # {self.count} batches")


def batchsize(x):
    """The fixed number of observations per batch of a :class:`BatchView` (or a
    ``DataLoader``) (``MLUtils.batchsize``).

    >>> from flux_torch.data.batchview import BatchView, batchsize
    >>> batchsize(BatchView(torch.zeros(150, 4), batchsize=30))
    30
    """
    if isinstance(x, (BatchView, DataLoader)):
        return x.batchsize
    raise TypeError(f"batchsize expects a BatchView or a DataLoader, but got {type(x).__name__}")


def eachobs(data, batchsize=-1, **kwargs):
    """Iterate over the observations of ``data`` (``MLUtils.eachobs``): a ``DataLoader``
    whose ``batchsize`` defaults to ``-1``, i.e. single observations (their first dimension
    dropped); ``batchsize=10`` gives batches of 10. The other keywords are
    ``DataLoader``'s: ``shuffle``, ``partial``, ``rng``, ``collate``, ``buffer``, ``parallel``.

    >>> from flux_torch.data.batchview import eachobs
    >>> X = torch.arange(8.0).reshape(4, 2)   # 4 observations of 2 features
    >>> [x.tolist() for x in eachobs(X)]
    [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]
    >>> [x.shape for x in eachobs(X, batchsize=3)]
    [torch.Size([3, 2]), torch.Size([1, 2])]
    """
    if "batch_size" in kwargs:  # torch's name, as DataLoader accepts it
        if batchsize != -1:
            raise TypeError("eachobs got both batchsize= and batch_size=; pass only one")
        batchsize = kwargs.pop("batch_size")
    return DataLoader(data, batchsize=batchsize, **kwargs)
