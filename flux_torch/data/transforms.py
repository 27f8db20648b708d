"""Lazy transforms of data containers (MLUtils.jl's ``mapobs``, ``filterobs``, ``groupobs``,
``joinobs``), batch first and 0-based. The results are data containers: ``len``/``numobs``,
``c[i]``/``getobs(c, i)``, iteration, ``DataLoader``, ``obsview`` all work on them.
"""
from typing import Any, Callable, Optional, Union

import numpy as np
import torch

from .dataloader import DataLoader
from .indices import _data_index
from .observations import _count_obs, _getobs, _summary
from .views import _DataContainer, obsview

__all__ = ["mapobs", "filterobs", "groupobs", "joinobs", "MappedData", "JoinedData"]

_BATCHED = ("auto", "never", "always")


def _name(f):
    return getattr(f, "__name__", None) or repr(f)


class MappedData(_DataContainer):
    """``f`` applied lazily to the observations of ``data``: what ``mapobs`` returns
    (``MLUtils.MappedData``). See :func:`mapobs` for ``batched``.

    >>> from flux_torch.data.transforms import MappedData
    >>> MappedData(abs, [-1, 2, -3])
    mapobs(abs, <list of 3>, batched='auto')
    """

    def __init__(self, f, data, batched="auto"):
        if batched not in _BATCHED:
            raise ValueError(f"mapobs: batched must be one of 'auto', 'never' or 'always' (Julia's "
                             f":auto, :never, :always), but got {batched!r}")
        if not callable(f):
            raise TypeError(f"mapobs: f must be a function, or a tuple or dict of functions, "
                            f"but got {type(f).__name__}")
        _count_obs(data, "mapobs")
        self.f, self.data, self.batched = f, data, batched

    def __len__(self):
        return _count_obs(self.data, "mapobs")

    def _get(self, pos):
        f, data = self.f, self.data
        if isinstance(pos, int):
            if self.batched == "always":  # f sees a batch of one; take its only observation
                return _getobs(f(_getobs(data, slice(pos, pos + 1))), 0)
            return f(_getobs(data, pos))
        if self.batched == "never":
            return [f(_getobs(data, int(i))) for i in pos]
        return f(_getobs(data, _data_index(pos)))

    def __repr__(self):
        return f"mapobs({_name(self.f)}, {_summary(self.data)}, batched={self.batched!r})"


class _NamedMappedData(MappedData):
    """``mapobs`` of a dict of functions: observations are dicts, ``c.name`` (or
    ``c["name"]``) is the container of one function."""

    def __init__(self, fs, data):
        for f in fs.values():
            if not callable(f):
                raise TypeError(f"mapobs: every value of a dict of functions must be a function, "
                                f"but got {type(f).__name__}")
        self.fs = dict(fs)
        super().__init__(self._apply, data)

    def _apply(self, x):
        return {k: f(x) for k, f in self.fs.items()}

    def __getitem__(self, idx):
        if isinstance(idx, str):
            if idx not in self.fs:
                raise KeyError(f"mapobs: no function named {idx!r}; the names are {list(self.fs)}")
            return mapobs(self.fs[idx], self.data)
        return super().__getitem__(idx)

    def __getattr__(self, name):
        fs = self.__dict__.get("fs")
        if fs is not None and name in fs:
            return mapobs(fs[name], self.__dict__["data"])
        raise AttributeError(f"mapobs container has no attribute {name!r}")

    def __repr__(self):
        fs = ", ".join(f"{k!r}: {_name(f)}" for k, f in self.fs.items())
        return f"mapobs({{{fs}}}, {_summary(self.data)})"


def mapobs(f: Callable[..., Any], data: Any, batched: Union[str, bool] = "auto") -> Any:
    """Lazily apply ``f`` to the observations of ``data`` (``MLUtils.mapobs``): ``f`` runs when
    observations are fetched. ``batched`` says what ``f`` receives: ``"auto"`` (the default)
    calls ``f(getobs(data, i))`` for one observation and ``f(getobs(data, idxs))`` for a batch;
    ``"never"`` calls ``f`` on single observations only (a batch is a list of results);
    ``"always"`` calls ``f`` on batches only (a single observation is a batch of one).
    A tuple of functions gives a tuple of containers; a dict of functions (Julia's named
    tuple) gives observations that are dicts, with ``c.name`` the container of one function.

    >>> data = {"a": torch.tensor([1, 2, 3]), "b": torch.tensor([1, 2, 3])}
    >>> m = mapobs(lambda x: {"c": x["a"] + x["b"], "d": x["a"] - x["b"]}, data)
    >>> m[0]
    {'c': tensor(2), 'd': tensor(0)}
    >>> m[0:2]
    {'c': tensor([2, 4]), 'd': tensor([0, 0])}
    >>> mapobs(lambda x: -x, range(1, 11))[7]
    -8
    >>> named = mapobs({"x": lambda v: v * v, "y": str}, [1, 2, 3])
    >>> named[2], named.y[0]
    ({'x': 9, 'y': '3'}, '1')

    ``mapobs(f, loader)`` of a ``DataLoader`` gives the loader whose batches are ``f(batch)``,
    computed where the batch is made (in the worker processes of a parallel loader).

    >>> [b.tolist() for b in mapobs(lambda b: b * 10, DataLoader(torch.arange(4), batchsize=2))]
    [[0, 10], [20, 30]]
    """
    if isinstance(data, DataLoader) and callable(f) and not isinstance(f, (dict, tuple)):
        return data._mapped(f)
    if isinstance(f, dict):
        return _NamedMappedData(f, data)
    if isinstance(f, tuple):
        return tuple(mapobs(g, data, batched) for g in f)
    return MappedData(f, data, batched)


def _truth(fname, v):
    try:
        return bool(v)
    except (RuntimeError, ValueError):
        raise TypeError(f"{fname}: f must return True or False for each observation, but it "
                        f"returned {type(v).__name__} of shape {tuple(v.shape)}") from None


def filterobs(f: Callable[[Any], bool], data: Any, iterfn: Optional[Callable[..., Any]] = None) -> Any:
    """The observations ``x`` of ``data`` for which ``f(x)`` is true, as an ``obsview``
    (``MLUtils.filterobs``). ``iterfn(data)``, if given, yields the observations to test
    (instead of ``getobs(data, i)`` for each ``i``).

    >>> filterobs(lambda x: x > 5, torch.arange(1, 11))
    tensor([ 6,  7,  8,  9, 10])
    >>> numobs(filterobs(lambda x: x > 5, range(1, 11)))
    5
    """
    n = _count_obs(data, "filterobs")
    obs = iterfn(data) if iterfn is not None else (_getobs(data, i) for i in range(n))
    return obsview(data, [i for i, x in enumerate(obs) if _truth("filterobs", f(x))])


def _key(k):
    if isinstance(k, torch.Tensor) and k.numel() == 1 or isinstance(k, (np.generic, np.ndarray)) \
            and np.size(k) == 1:
        return k.item()  # tensors hash by identity: group by their value
    return k


def groupobs(f: Callable[[Any], Any], data: Any) -> Any:
    """Split ``data`` into a dict ``{f(x): obsview of the observations x with that key}``
    (``MLUtils.groupobs``), keys in order of first appearance. A one-element tensor or
    numpy key is taken by its Python value (tensors would hash by identity).

    >>> groupobs(lambda x: x > 0, torch.arange(-3, 4))
    {False: tensor([-3, -2, -1,  0]), True: tensor([1, 2, 3])}
    """
    groups = {}
    for i in range(_count_obs(data, "groupobs")):
        k = _key(f(_getobs(data, i)))
        try:
            groups.setdefault(k, []).append(i)
        except TypeError:
            raise TypeError(f"groupobs: f must return a hashable key (a number, string, tuple...), "
                            f"but it returned {type(k).__name__}") from None
    return {k: obsview(data, idxs) for k, idxs in groups.items()}


class JoinedData(_DataContainer):
    """The observations of several containers one after the other: what ``joinobs``
    returns (``MLUtils.JoinedData``). A batch is a list of observations.

    >>> from flux_torch.data.transforms import JoinedData
    >>> j = JoinedData(([1, 2], torch.tensor([3, 4, 5])))
    >>> len(j), j[3]
    (5, tensor(4))
    """

    def __init__(self, datas):
        self.datas = tuple(datas)
        self.ns = tuple(_count_obs(d, "joinobs") for d in self.datas)

    def __len__(self):
        return sum(self.ns)

    def _get(self, pos):
        if not isinstance(pos, int):
            return [self._get(int(i)) for i in pos]
        for d, n in zip(self.datas, self.ns):
            if pos < n:
                return _getobs(d, pos)
            pos -= n
        raise IndexError(f"joinobs: position {pos} is past the end")  # positions are checked

    def __repr__(self):
        return f"joinobs({', '.join(_summary(d) for d in self.datas)})  # {len(self)} observations"


def joinobs(*datas: Any) -> Any:
    """Concatenate the observations of the containers ``datas`` lazily
    (``MLUtils.joinobs``); joining a joined container flattens it.

    >>> j = joinobs(range(0, 10), range(10, 20))
    >>> getobs(j, 14), len(j)
    (14, 20)
    >>> getobs(j, [9, 10])
    [9, 10]
    """
    flat = []
    for d in datas:
        flat.extend(d.datas if isinstance(d, JoinedData) else (d,))
    return JoinedData(flat)
