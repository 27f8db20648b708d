"""Checkpoint files: ``save`` a model's state (or any state), ``load`` it back.

The file is a `safetensors <https://github.com/huggingface/safetensors>`_ file: each
tensor under its dotted key path (``layers.0.weight``), and the rest of the state as
JSON in the file's metadata (marked ``"flux_torch": "2"``), so that :func:`load` gives
back the exact nested state. The parts live in ``flux_torch/checkpoint/``.

What ``save`` writes, ``load`` reads back: tensors (tied ones stay tied), numpy arrays,
numbers, strings, ``None``, bytes, sets, ranges, fractions, decimals, dates and times,
paths, enum members, torch dtypes, devices and random generators, optimiser rules and
``Leaf`` objects, in tuples, lists, dicts and layers (which come back as dicts of their
fields). Functions and classes, such as a layer's activation, are not state: they are
stored as ``()``, as ``Flux.state`` does. Anything else is refused at save time with a
``TypeError`` naming its key path.

A checkpoint is one consistent step: ``save`` copies every tensor while it holds the
locks of the model and its layers (which ``train_`` holds too), then writes outside
them, to one temporary file that replaces the destination only once it is complete.

Loading never runs code: only regular files are read, as safetensors, with every size
checked against the file's before it is used; a pickle is refused, a damaged file is
reported as such, and the optimiser rules are rebuilt by a parser that accepts only
rule classes and literal values. Time and memory are bounded by the file's size.
"""
import os
from typing import Any

from .checkpoint import framing
from .checkpoint.decode import decode
from .checkpoint.encode import FORMAT, MARK, NODES, snapshot
from .checkpoint.files import atomic_write, destination, open_regular
from ._types import PathLike

__all__ = ["save", "load"]


def save(path: PathLike, x: Any) -> None:
    """Write ``x`` (a model, its :func:`~flux_torch.state.state`, an optimiser state tree from
    ``setup``, or a dict of these with numbers and strings) to the safetensors file ``path``.

    Tensors are stored under their key paths (``layers.0.weight``), copied to the CPU;
    everything else goes into the file's metadata as JSON. Functions and classes become
    ``()``; a value that cannot be stored is a ``TypeError`` naming its key path, before
    the disk is touched. The write is atomic: the file at ``path`` (the target of a
    symbolic link) is replaced only once the new one is completely on disk.

    >>> import tempfile, os
    >>> from flux_torch import Dense
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save(os.path.join(d, "dense.safetensors"), Dense(torch.ones(1, 2), torch.zeros(1)))
    ...     load(os.path.join(d, "dense.safetensors"))
    {'weight': tensor([[1., 1.]]), 'bias': tensor([0.]), 'σ': ()}
    """
    real = destination(path)
    snap = snapshot(x)                 # under the model's locks; errors here leave the disk alone
    write = framing.frame(snap.tensors, snap.metadata())
    atomic_write(real, write)


_NEVER = ("flux_torch loads only safetensors files and never loads pickles, because unpickling "
          "can run arbitrary code")


def _refused(path, why):
    return ValueError(f"load: {path!r} is not a flux_torch checkpoint: {why}. {_NEVER}. If you made "
                      "the file yourself and trust it, read it with torch.load(path, weights_only=True), "
                      "copy it into a model with loadmodel_, and save that model with flux_torch.save")


def _damaged(path, why):
    return ValueError(f"load: {path!r} is a damaged checkpoint (truncated or corrupted): {why}; "
                      "save the model again, or use an older copy of the file")


def load(path: PathLike, device: Any = None, *, map_location: Any = None) -> Any:
    """Read a file written by :func:`save` back as a state; tensors on the CPU, or on ``device``.

    The result is the nested state, ready for :func:`~flux_torch.state.loadmodel_`;
    an optimiser state comes back as plain containers holding ``Leaf`` objects, ready
    for ``update_`` and ``train_``. ``map_location`` is a synonym of ``device`` (torch's
    name). A file that is not safetensors (for instance a pickle from ``torch.save``) is
    refused without being unpickled, and a truncated or corrupted one is reported as
    such (a ``ValueError``). A safetensors file written by another tool loads as a flat
    dict ``{key: tensor}``.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "s.safetensors")
    ...     save(p, {"w": torch.ones(2), "n": (1, None, "relu"), "l": [2.5], "s": {3}})
    ...     load(p)
    {'w': tensor([1., 1.]), 'n': (1, None, 'relu'), 'l': [2.5], 's': {3}}
    """
    if map_location is not None:
        if device is not None:
            raise TypeError("load got both device= and map_location=; they name the same setting, "
                            "so pass only one")
        device = map_location
    path = os.fspath(path)
    f, size = open_regular(path)
    with f:
        try:
            meta, tensors = framing.read(f, size)
        except framing.NotSafetensors as e:
            raise _refused(path, e) from None
        except framing.Damaged as e:
            raise _damaged(path, e) from None
        except framing.Unsupported as e:
            raise ValueError(f"load: {path!r}: {e}") from None
    if MARK not in meta:               # a safetensors file from elsewhere: its flat dict
        return tensors if device is None else {k: v.to(device) for k, v in tensors.items()}
    if meta[MARK] == FORMAT and NODES not in meta:
        raise _damaged(path, f"its metadata has no {NODES!r} entry")
    if meta[MARK] != FORMAT:
        fmt = meta[MARK]
        how = ("upgrade flux_torch to read it" if fmt.isdigit() and int(fmt) > int(FORMAT) else
               "load it with the development version of flux_torch that wrote it and save it again"
               if fmt == "1" else "it was not written by flux_torch's save")
        raise ValueError(f"load: {path!r} was written in flux_torch checkpoint format {fmt[:20]!r}, "
                         f"but this flux_torch reads format {FORMAT!r}; {how}")
    try:
        return decode(meta[NODES], tensors, device)
    except framing.Damaged as e:
        raise _damaged(path, e) from None
    except (framing.Unsupported, LookupError) as e:
        raise ValueError(f"load: {path!r} holds something this process cannot rebuild: "
                         f"{e.args[0] if e.args else e}") from None
    except ValueError as e:            # a malformed value or structure (values.py, bounded_json.py)
        raise _damaged(path, e) from None
