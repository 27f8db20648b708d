"""MLUtils.jl's ``DataLoader`` (re-exported by Flux) and ``eachobs``, batch first.

A loader draws the batches of an epoch as indices into its data (in order, or in a random
order drawn at the start of every epoch) and fetches each with ``getobs`` and its
``collate``. It fetches them in the calling process, into a reused buffer with
``buffer=True``, or in worker processes with ``parallel=``, through torch's own
``torch.utils.data.DataLoader`` machinery; the batches and their order are the same
either way.
"""
import itertools
import warnings
from typing import Any

import numpy as np
import torch

from .batching import _collated
from .indices import _generator, _randperm
from .observations import _count_obs, _getobs, _summary, getobs_
from .workers import _in_workers, _nworkers

__all__ = ["DataLoader", "eachobs"]


def _clone(x):
    """A copy of a batch that owns its memory, to fill again and again (``buffer=True``)."""
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return x.clone() if isinstance(x, torch.Tensor) else x.copy()
    if isinstance(x, dict):
        return {k: _clone(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clone(v) for v in x]
    if isinstance(x, tuple):
        parts = [_clone(v) for v in x]
        return type(x)(*parts) if hasattr(x, "_fields") else tuple(parts)
    return x


def _ids(key):
    return key.tolist() if isinstance(key, torch.Tensor) else range(key.start, key.stop)


class DataLoader:
    """Iterate over ``data`` in mini-batches of ``batchsize`` observations
    (the last batch may be smaller unless ``partial=False``).

    ``data`` is a tensor, numpy array or list (observations along the FIRST
    dimension: batch first), a torch map-style ``Dataset``, or a tuple, named tuple
    or dict of them, which must all hold the same number of observations. Batches
    have the same structure and kind as ``data``: numpy arrays give numpy batches,
    tensors give tensors (on their device), lists give lists, a ``TensorDataset``
    gives tuples of tensors. Unshuffled tensor and numpy batches are views of ``data``.

    - ``batchsize``: observations per batch; ``batchsize <= 0`` iterates over
      single observations (their first dimension dropped), as in MLUtils.
    - ``shuffle``: draw a new random order at the start of every epoch (every ``iter()``).
    - ``partial``: keep the last, smaller batch; ``len(loader)`` is the number of batches.
    - ``rng``: a ``torch.Generator``, a ``numpy.random.Generator``, or an int
      seed (a generator seeded once, so epochs still differ); ``None`` uses
      torch's global generator (``torch.manual_seed`` makes it repeatable).
    - ``collate``: ``None`` (index the data), ``False`` (a list of single
      observations), ``True`` (:func:`batch` of that list), or a function of that list.
    - ``buffer``: ``True`` fetches every batch into one reused buffer (``getobs_``), so a
      batch is valid only until the next one; or a buffer of your own. The last, smaller
      batch is fetched anew.
    - ``parallel``: ``True`` (one worker process per CPU) or a number of worker processes
      that fetch batches ahead, through ``torch.utils.data.DataLoader`` (``num_workers`` is
      the same, under torch's and MLUtils' name). The batches and their order are those of
      the serial loader; the data and ``collate`` must work in a forked process (a
      picklable module-level function where processes are spawned: macOS, Windows).
      ``buffer`` has no effect with workers, which send every batch as new memory.

    torch's names ``batch_size``, ``drop_last`` and ``generator`` are accepted
    as aliases. ``loader.data`` is the original data. ``with_transform(fn)``
    gives a loader whose batches are ``fn(batch)`` (``gpu(loader)`` uses it).

    >>> X = torch.arange(20.0).reshape(10, 2)   # 10 observations of 2 features
    >>> Y = torch.arange(10)
    >>> loader = DataLoader((X, Y), batchsize=4)
    >>> len(loader)
    3
    >>> [(x.shape, y.tolist()) for (x, y) in loader]
    [(torch.Size([4, 2]), [0, 1, 2, 3]), (torch.Size([4, 2]), [4, 5, 6, 7]), (torch.Size([2, 2]), [8, 9])]
    >>> len(DataLoader(X, batchsize=4, partial=False))
    2
    >>> next(iter(DataLoader({"x": X, "y": Y}, batchsize=3, shuffle=True, rng=0)))["x"].shape
    torch.Size([3, 2])
    """

    def __init__(self, data, batchsize=1, shuffle=False, partial=True, rng=None, collate=None,
                 *, buffer=False, parallel=False, num_workers=None, batch_size=None,
                 drop_last=None, generator=None, **kwargs):
        if kwargs:
            name = next(iter(kwargs))
            raise TypeError(f"DataLoader got an unexpected keyword argument {name!r}; it takes "
                            "batchsize, shuffle, partial, rng, collate, buffer, parallel (or torch's "
                            "batch_size, drop_last, generator, num_workers)")
        for ours, given, default, torch_name, alias in (
                ("batchsize", batchsize, 1, "batch_size", batch_size),
                ("partial", partial, True, "drop_last", drop_last),
                ("rng", rng, None, "generator", generator),
                ("parallel", parallel, False, "num_workers", num_workers)):
            if alias is not None and given is not default and given != default:
                raise TypeError(f"DataLoader got both {ours}= and {torch_name}=; pass only one")
        batchsize = batchsize if batch_size is None else batch_size
        partial = partial if drop_last is None else not drop_last
        rng = rng if generator is None else generator
        parallel = parallel if num_workers is None else num_workers
        if collate not in (None, True, False) and not callable(collate):
            raise ValueError(f"DataLoader: collate must be None, True, False or a function of a "
                             f"list of observations, but got {collate!r}")
        self.data = data
        self.batchsize = int(batchsize)
        self.shuffle = bool(shuffle)
        self.partial = bool(partial)
        self.rng = _generator("DataLoader", rng, numpy=True)
        self.collate = collate
        self.buffer = buffer
        self.parallel = parallel
        self._workers = _nworkers(parallel)
        self._transform = None
        self._maps = ()  # mapobs(f, loader): functions of each batch, in order
        self._epochs = itertools.count()  # worker seeds differ from epoch to epoch
        self._n = self._count(data)
        if self._workers and buffer is not False:
            warnings.warn("DataLoader: buffer has no effect with parallel loading: the worker "
                          "processes send every batch as new memory; pass buffer=False (or "
                          "parallel=False to fill a buffer in this process)", stacklevel=2)

    @staticmethod
    def _count(data):
        return _count_obs(data, "DataLoader")

    def with_transform(self, fn):
        """A new loader over the same data and settings whose batches are
        ``fn(batch)``, applied after any earlier transform, in this process. This is
        how ``gpu(loader)`` moves each batch to the accelerator as it is drawn.

        >>> loader = DataLoader(torch.ones(6, 2), batchsize=3).with_transform(lambda x: 2 * x)
        >>> [b.sum().item() for b in loader]
        [12.0, 12.0]
        """
        new = self._copy()
        old = self._transform
        new._transform = fn if old is None else (lambda b: fn(old(b)))
        return new

    def _mapped(self, f):
        """This loader with ``f`` applied to every batch as it is made (in the worker
        processes, if any): ``mapobs(f, loader)``."""
        new = self._copy()
        new._maps = self._maps + (f,)
        return new

    def _copy(self):
        new = object.__new__(DataLoader)
        new.__dict__.update(self.__dict__)
        new._epochs = itertools.count()
        return new

    def __len__(self):
        bs = self.batchsize
        if bs <= 0:
            return self._n
        return -(-self._n // bs) if self.partial else self._n // bs

    def _keys(self):
        """The batches of one epoch as indices into the data: ints (single observations),
        slices (in order) or index tensors (shuffled)."""
        perm = _randperm(self._n, self.rng) if self.shuffle else None
        bs, n = self.batchsize, self._n
        if bs <= 0:
            return perm.tolist() if perm is not None else list(range(n))
        spans = [(i, min(i + bs, n)) for i in range(0, len(self) * bs, bs)]
        return [perm[a:b] if perm is not None else slice(a, b) for a, b in spans]

    def _fetch(self, key, buf=None):
        """The batch ``key`` (filled into ``buf``, if given), before any transform."""
        if self.collate is None or isinstance(key, int):
            batch = _getobs(self.data, key) if buf is None else getobs_(buf, self.data, key)
        else:
            ids = _ids(key)
            bufs = (None,) * len(ids) if buf is None else buf
            batch = _collated(self.collate, [_getobs(self.data, i) if b is None else
                                             getobs_(b, self.data, i) for b, i in zip(bufs, ids)])
        for f in self._maps:
            batch = f(batch)
        return batch

    def _buffered(self, keys):
        buf = None if self.buffer is True else self.buffer
        for key in keys:
            if buf is None:  # the first batch makes the buffer: the batch, or its observations
                whole = self.collate is None or isinstance(key, int)
                buf = (_clone(_getobs(self.data, key)) if whole
                       else [_clone(_getobs(self.data, i)) for i in _ids(key)])
            full = isinstance(key, int) or len(_ids(key)) == self.batchsize
            yield self._fetch(key, buf if full else None)  # the last, smaller batch: anew

    def __iter__(self):
        keys = self._keys()
        if self._workers:
            batches = _in_workers(self, keys)
        elif self.buffer is not False:
            batches = self._buffered(keys)
        else:
            batches = map(self._fetch, keys)
        return batches if self._transform is None else map(self._transform, batches)

    def __repr__(self):
        parts = [_summary(self.data)]
        if self.batchsize != 1:
            parts.append(f"batchsize={self.batchsize}")
        if self.shuffle:
            parts.append("shuffle=True")
        if not self.partial:
            parts.append("partial=False")
        if self.collate is not None:
            parts.append(f"collate={self.collate!r}")
        if self.buffer is not False:
            parts.append("buffer=True" if self.buffer is True else "buffer=...")
        if self.parallel is not False and self.parallel != 0:
            parts.append(f"parallel={self.parallel!r}")
        return f"DataLoader({', '.join(parts)})  # {len(self)} batches"


def eachobs(data: Any, batchsize: int = -1, **kwargs: Any) -> DataLoader:
    """Iterate over the observations of ``data`` (``MLUtils.eachobs``): a ``DataLoader``
    whose ``batchsize`` defaults to ``-1``, i.e. single observations (their first dimension
    dropped); ``batchsize=10`` gives batches of 10. The other keywords are
    ``DataLoader``'s: ``shuffle``, ``partial``, ``rng``, ``collate``, ``buffer``, ``parallel``.

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
