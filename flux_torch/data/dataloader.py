"""MLUtils.jl's ``DataLoader`` (re-exported by Flux), batch first."""
import numpy as np
import torch

from .batching import batch as _batch
from .observations import _getobs, _is_array, _is_namedtuple, numobs

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over ``data`` in mini-batches of ``batchsize`` observations
    (the last batch may be smaller unless ``partial=False``).

    ``data`` is a tensor, numpy array or list (observations along the FIRST
    dimension: batch first), or a tuple, named tuple or dict of them, which
    must all hold the same number of observations. Batches have the same
    structure and kind as ``data``: numpy arrays give numpy batches, tensors
    give tensors (on their device), lists give lists. Unshuffled tensor and
    numpy batches are views of ``data``.

    - ``batchsize``: observations per batch; ``batchsize <= 0`` iterates over
      single observations (their first dimension dropped), as in MLUtils.
    - ``shuffle``: draw a new random order at the start of every epoch
      (every ``iter()``).
    - ``partial``: keep the last, smaller batch; ``len(loader)`` is the number
      of batches either way.
    - ``rng``: a ``torch.Generator``, a ``numpy.random.Generator``, or an int
      seed (a generator seeded once, so epochs still differ); ``None`` uses
      torch's global generator (``torch.manual_seed`` makes it repeatable).
    - ``collate``: ``None`` (index the arrays), ``False`` (a list of single
      observations), ``True`` (:func:`batch` of that list), or a function of
      that list.

    - ``buffer``, ``parallel``: MLUtils' performance options, accepted so that Flux code
      runs; batches are the same without them (loading happens in the calling thread).

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
                 *, buffer=False, parallel=False, batch_size=None, drop_last=None,
                 generator=None, **kwargs):
        if kwargs:
            name = next(iter(kwargs))
            raise TypeError(f"DataLoader got an unexpected keyword argument {name!r}; it takes "
                            "batchsize, shuffle, partial, rng, collate, buffer, parallel (or torch's "
                            "batch_size, drop_last, generator)")
        if batch_size is not None:
            if batchsize != 1:
                raise TypeError("DataLoader got both batchsize= and batch_size=; pass only one")
            batchsize = batch_size
        if drop_last is not None:
            if partial is not True:
                raise TypeError("DataLoader got both partial= and drop_last=; pass only one")
            partial = not drop_last
        if generator is not None:
            if rng is not None:
                raise TypeError("DataLoader got both rng= and generator=; pass only one")
            rng = generator
        if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            rng = torch.Generator().manual_seed(int(rng))
        elif rng is not None and not isinstance(rng, (torch.Generator, np.random.Generator)):
            raise TypeError(f"DataLoader: rng must be a torch.Generator, a numpy Generator or an "
                            f"int seed, but got {type(rng).__name__}")
        self.data = data
        self.batchsize = int(batchsize)
        self.shuffle = bool(shuffle)
        self.partial = bool(partial)
        self.rng = rng
        self.collate = collate
        self.buffer = buffer
        self.parallel = bool(parallel)
        self._transform = None
        self._n = self._count(data)

    @staticmethod
    def _count(data):
        return numobs(data, "DataLoader")

    def with_transform(self, fn):
        """A new loader over the same data and settings whose batches are
        ``fn(batch)``, applied after any earlier transform. This is how
        ``gpu(loader)`` moves each batch to the accelerator as it is drawn.

        >>> loader = DataLoader(torch.ones(6, 2), batchsize=3).with_transform(lambda x: 2 * x)
        >>> [b.sum().item() for b in loader]
        [12.0, 12.0]
        """
        new = object.__new__(DataLoader)
        new.__dict__.update(self.__dict__)
        old = self._transform
        new._transform = fn if old is None else (lambda b: fn(old(b)))
        return new

    def __len__(self):
        bs = self.batchsize
        if bs <= 0:
            return self._n
        return -(-self._n // bs) if self.partial else self._n // bs

    def _order(self):
        n = self._n
        if isinstance(self.rng, np.random.Generator):
            return torch.from_numpy(self.rng.permutation(n))
        return torch.randperm(n, generator=self.rng)

    def __iter__(self):
        perm = self._order() if self.shuffle else None
        bs, n = self.batchsize, self._n
        if bs <= 0:
            spans = ((i, i + 1) for i in range(n))
        else:
            spans = ((i, min(i + bs, n)) for i in range(0, len(self) * bs, bs))
        for start, stop in spans:
            if bs <= 0:
                idx = int(perm[start]) if perm is not None else start
            else:
                idx = perm[start:stop] if perm is not None else slice(start, stop)
            yield self._make(idx)

    def _make(self, idx):
        if self.collate is None or isinstance(idx, int):
            b = _getobs(self.data, idx)
        else:
            ids = idx.tolist() if isinstance(idx, torch.Tensor) else range(idx.start, idx.stop)
            obs = [_getobs(self.data, i) for i in ids]
            b = obs if self.collate is False else (_batch(obs) if self.collate is True
                                                   else self.collate(obs))
        return b if self._transform is None else self._transform(b)

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
        return f"DataLoader({', '.join(parts)})  # {len(self)} batches"


def _summary(x):
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_summary(v)}" for k, v in x.items()) + "}"
    if _is_namedtuple(x):
        return f"{type(x).__name__}(" + ", ".join(
            f"{k}={_summary(v)}" for k, v in zip(x._fields, x)) + ")"
    if isinstance(x, tuple):
        return "(" + ", ".join(_summary(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if _is_array(x):
        kind = "Tensor" if isinstance(x, torch.Tensor) else "ndarray"
        return f"<{kind} {tuple(x.shape)} {str(x.dtype).replace('torch.', '')}>"
    return f"<{type(x).__name__} of {len(x)}>" if hasattr(x, "__len__") else f"<{type(x).__name__}>"
