"""Checkpoint files: ``save`` a model's :func:`~flux_torch.state.state`, ``load`` it back.

The file is a `safetensors <https://github.com/huggingface/safetensors>`_ file:
each tensor is stored under its dotted key path (``layers.0.weight``) and the
rest of the state (numbers, strings, ``None``, the ``()`` of an activation,
which containers are tuples, lists or dicts) is stored as JSON in the file's
metadata, next to the marker ``"flux_torch": "1"``, so :func:`load` rebuilds the
exact nested state. A tensor used twice (tied) is stored once and comes back tied.

An optimiser state tree (from ``setup``) can be saved too: each ``Leaf`` is
stored as its rule's printed form, its state and its frozen flag, and ``load``
rebuilds the rule from that text with a parser that accepts only flux_torch's
rule classes and literal values (``optimise/rule_text.py``).

Loading never runs code: the file is parsed as safetensors, and anything else
(a ``torch.save`` or ``pickle`` file above all) is refused. Writing is atomic:
the data goes to a temporary file in the same directory, is flushed to disk,
and then replaces the destination, so a crash never leaves a half-written file
in place of a good one. A safetensors file written by other tools (no marker)
loads as a flat dict ``{key: tensor}``.
"""
import json
import numbers
import os
import stat
import uuid

import numpy as np
import safetensors.torch as _st
import torch

from .optimise.rule_text import rule_from_text
from .optimise.tree import Leaf
from .state import state

__all__ = ["save", "load"]

FORMAT = "1"
_MARK, _TREE = "flux_torch", "flux_torch.structure"
_MAX_HEADER = 100_000_000     # safetensors' own limit on the JSON header


# ---------------------------------------------------------------- encoding

class _Tensors:
    """Collects the tensors to write: one entry per distinct tensor, named by its first key path."""

    def __init__(self):
        self.by_id, self.out, self.storages = {}, {}, set()

    def name(self, x, path):
        hit = self.by_id.get(id(x))
        if hit is not None:
            return hit[1]
        where = ".".join(path) or "tensor"
        t = torch.from_numpy(np.ascontiguousarray(x)) if isinstance(x, np.ndarray) else x.detach()
        if t.layout != torch.strided:
            raise TypeError(f"save: the tensor at {where} has layout {t.layout}; only dense tensors "
                            "can be saved: convert it with .to_dense() first")
        t = t.to("cpu").contiguous()
        ptr = t.untyped_storage().data_ptr()
        if ptr in self.storages and t.numel():      # views of one storage are written separately
            t = t.clone()
        self.storages.add(t.untyped_storage().data_ptr())
        name, i = where, 1
        while name in self.out:
            name, i = f"{where}~{i}", i + 1
        self.out[name] = t
        self.by_id[id(x)] = (x, name)    # x is kept alive, so its id stays unique
        return name


def _key(k, path):
    if k is None or isinstance(k, (str, int, float)):
        return k
    if type(k) is tuple:
        return {"u": [_key(v, path) for v in k]}
    raise TypeError(f"save: the dict at {'.'.join(path) or 'the top level'} has the key {k!r}; "
                    "keys must be strings, numbers, None or tuples of these")


def _encode(x, path, tensors):
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return {"t": tensors.name(x, path)}
    if x is None or isinstance(x, (str, bool, int, float)):
        return x
    if isinstance(x, np.generic):
        return _encode(x.item(), path, tensors)
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, numbers.Complex):
        return {"c": [x.real, x.imag]}
    if isinstance(x, Leaf):       # an optimiser's state: its rule as printed, and its state
        return {"leaf": [repr(x.rule), _encode(x.state, path + ("state",), tensors), x.frozen]}
    if isinstance(x, dict):
        return {"d": [[_key(k, path), _encode(v, path + (str(k),), tensors)] for k, v in x.items()]}
    if isinstance(x, (list, tuple)):
        items = [_encode(v, path + (str(i),), tensors) for i, v in enumerate(x)]
        return {"l": items} if isinstance(x, list) else {"u": items}
    raise TypeError(f"save: cannot store {type(x).__name__} at {'.'.join(path) or 'the top level'}; "
                    "a state holds tensors, numbers, strings, None, tuples, lists and dicts")


def _decoder(tensors, path):
    rules = {}      # one rule object per printed rule, as setup gives one rule to every Leaf

    def hook(obj):
        if "t" in obj:
            try:
                return tensors[obj["t"]]
            except KeyError:
                raise _damaged(path, f"its structure names a tensor {obj['t']!r} it does not contain") from None
        if "u" in obj:
            return tuple(obj["u"])
        if "l" in obj:
            return list(obj["l"])
        if "d" in obj:
            return {(tuple(k) if isinstance(k, list) else k): v for k, v in obj["d"]}
        if "c" in obj:
            return complex(*obj["c"])
        if "leaf" in obj:
            text, st, frozen = obj["leaf"]
            if text not in rules:
                try:
                    rules[text] = rule_from_text(text)
                except (ValueError, TypeError) as e:
                    raise _damaged(path, f"an optimiser Leaf holds a rule it cannot rebuild ({e})") from None
            return Leaf(rules[text], st, frozen)
        raise _damaged(path, f"unknown entry {obj!r} in its structure")
    return hook


# ---------------------------------------------------------------- writing

def _atomic_write(path, write):
    """Call ``write(tmp)`` on a temporary file next to ``path``, fsync it, then move it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the folder {directory!r} for {path!r} does not exist; create it first")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))   # permissions from umask
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            f.flush()
            os.fsync(f.fileno())
        if os.path.isfile(path):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    try:                      # make the rename itself durable (POSIX; not possible on Windows)
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(path, x):
    """Write the :func:`~flux_torch.state.state` of ``x`` (a model or a state) to a safetensors file.

    Tensors are stored under their key paths (``layers.0.weight``), on the CPU;
    everything else goes into the file's metadata as JSON. The write is atomic:
    an existing file is replaced only once the new one is completely on disk.

    >>> import tempfile, os
    >>> from flux_torch import Dense
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save(os.path.join(d, "dense.safetensors"), Dense(torch.ones(1, 2), torch.zeros(1)))
    ...     load(os.path.join(d, "dense.safetensors"))
    {'weight': tensor([[1., 1.]]), 'bias': tensor([0.]), 'σ': ()}
    """
    path = os.fspath(path)
    tensors = _Tensors()
    tree = _encode(state(x), (), tensors)         # any error here happens before the disk is touched
    meta = {"format": "pt", _MARK: FORMAT, _TREE: json.dumps(tree, ensure_ascii=False)}
    _atomic_write(path, lambda tmp: _st.save_file(tensors.out, tmp, metadata=meta))


# ---------------------------------------------------------------- reading

_NEVER = ("flux_torch loads only safetensors files and never loads pickles, because unpickling "
          "can run arbitrary code")


def _refused(path, why):
    return ValueError(f"load: {path!r} is not a flux_torch checkpoint: {why}. {_NEVER}. If you made "
                      "the file yourself and trust it, read it with torch.load(path, weights_only=True), "
                      "copy it into a model with loadmodel_, and save that model with flux_torch.save")


def _damaged(path, why):
    return ValueError(f"load: {path!r} is a damaged checkpoint (truncated or corrupted): {why}; "
                      "save the model again, or use an older copy of the file")


def _header(path):
    """The JSON header of a safetensors file, checked without trusting anything in it."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        if head[:1] == b"\x80" or head[:4] == b"PK\x03\x04":
            raise _refused(path, "it looks like a pickle (a file from torch.save or pickle.dump)")
        if len(head) < 8:
            raise _refused(path, f"it is only {size} bytes long, too short for a safetensors file")
        n = int.from_bytes(head, "little")
        if n > _MAX_HEADER:
            raise _refused(path, "it does not start with a safetensors header")
        if n > size - 8:
            raise _damaged(path, f"its header needs {n} bytes but the file has only {size - 8} after "
                                 "the length field")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _refused(path, "its header is not the JSON of a safetensors file") from None
    if not isinstance(header, dict):
        raise _refused(path, "its header is not the JSON of a safetensors file")
    return header


def load(path, device=None, *, map_location=None):
    """Read a file written by :func:`save` back as a state; tensors on the CPU, or on ``device``.

    The result is the nested state, ready for :func:`~flux_torch.state.loadmodel_`.
    ``map_location`` is a synonym of ``device`` (torch's name). A file that is
    not safetensors (for instance a pickle from ``torch.save``) is refused without
    being unpickled; a truncated or corrupted file gives a clear error. A
    safetensors file written by another tool loads as a flat dict ``{key: tensor}``.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "s.safetensors")
    ...     save(p, {"w": torch.ones(2), "n": (1, None, "relu"), "l": [2.5]})
    ...     load(p)
    {'w': tensor([1., 1.]), 'n': (1, None, 'relu'), 'l': [2.5]}
    """
    if map_location is not None:
        if device is not None:
            raise TypeError("load got both device= and map_location=; they name the same setting, "
                            "so pass only one")
        device = map_location
    path = os.fspath(path)
    header = _header(path)
    try:
        tensors = _st.load_file(path, device="cpu")
    except Exception as e:           # safetensors' own checks of sizes, offsets and dtypes
        raise _damaged(path, str(e)) from e
    if device is not None:
        tensors = {k: v.to(device) for k, v in tensors.items()}
    meta = header.get("__metadata__") or {}
    if _MARK not in meta:           # a safetensors file from elsewhere: its flat dict, in file order
        return {k: tensors[k] for k in header if k != "__metadata__"}
    if meta[_MARK] != FORMAT:
        raise ValueError(f"load: {path!r} was written in flux_torch checkpoint format {meta[_MARK]!r}, "
                         f"but this flux_torch reads format {FORMAT!r}; upgrade flux_torch to read it")
    try:
        return json.loads(meta[_TREE], object_hook=_decoder(tensors, path))
    except (KeyError, ValueError, TypeError) as e:
        if isinstance(e, ValueError) and str(e).startswith("load:"):
            raise
        raise _damaged(path, "its flux_torch structure metadata cannot be read") from e
