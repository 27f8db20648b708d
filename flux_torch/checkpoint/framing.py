"""The safetensors framing, written and read here with every size checked before it is used.

A safetensors file is an 8-byte little-endian header length ``n``, ``n`` bytes of
JSON (``{name: {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}``,
padded with spaces to a multiple of 8) and the tensors' bytes. :func:`frame` streams
the tensors into an open file (no second copy in memory, no temporary file of its
own). :func:`read` reads from an open regular file: the header only after checking
its length against the file's size, its JSON only after checking its depth, and each
tensor into a buffer of exactly its declared size, after checking that the declared
regions lie inside the file and do not overlap, so the memory a file can ask for is
bounded by its size. Dtypes safetensors has no name for are stored as bytes (``U8``)
by the caller.
"""
import json
import math

import torch

from .bounded_json import loads

__all__ = ["frame", "read", "ST_DTYPES", "MAX_HEADER", "NotSafetensors", "Damaged", "Unsupported"]

MAX_HEADER = 100_000_000        # safetensors' own limit on the JSON header
MAX_DEPTH = 32                  # a header nests 3 deep; flux_torch's structure about 12
MAX_DIMS = 64
ST_DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
             torch.uint64: "U64", torch.uint32: "U32", torch.uint16: "U16", torch.uint8: "U8",
             torch.bool: "BOOL", torch.complex64: "C64",
             torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2"}
_FROM_ST = {v: k for k, v in ST_DTYPES.items()}


class NotSafetensors(ValueError):
    """The file is something else (a pickle, text, ...)."""


class Damaged(ValueError):
    """The file starts as safetensors but its sizes or header do not add up."""


class Unsupported(ValueError):
    """A well-formed file that holds something this flux_torch cannot read."""


def _bytes_of(t):
    return t.reshape(-1).view(torch.uint8).numpy()


def frame(tensors, metadata):
    """The header of a safetensors file holding ``tensors`` (``{name: contiguous CPU tensor}`` of
    the dtypes in ``ST_DTYPES``) and ``metadata`` (``{str: str}``), and a function that writes
    the whole file to a binary file object; a ``ValueError`` when the header is too large.

    >>> import io, safetensors.torch
    >>> buf = io.BytesIO()
    >>> frame({"w": torch.arange(3.0)}, {"format": "pt"})(buf)
    >>> safetensors.torch.load(buf.getvalue())
    {'w': tensor([0., 1., 2.])}
    """
    # largest elements first, so that every tensor starts at a multiple of its element size
    order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header, offset = {"__metadata__": metadata}, 0
    for name in order:
        t = tensors[name]
        size = t.numel() * t.element_size()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    if len(raw) > MAX_HEADER:
        raise ValueError(f"the file's header (the non-tensor part of the state) would be "
                         f"{len(raw) / 1e6:.0f} MB, and safetensors allows {MAX_HEADER / 1e6:.0f} MB; "
                         "keep large data in tensors")

    def write(f):
        f.write(len(raw).to_bytes(8, "little"))
        f.write(raw)
        for name in order:
            if tensors[name].numel():
                f.write(_bytes_of(tensors[name]))
    return write


def _entry(name, info, data_len):
    if type(info) is not dict:
        raise Damaged(f"the header entry {name[:80]!r} is not an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if type(dtype) is not str:
        raise Damaged(f"the tensor {name[:80]!r} has no dtype")
    if dtype not in _FROM_ST:
        raise Unsupported(f"the tensor {name[:80]!r} has the dtype {dtype[:20]!r}, which flux_torch "
                          f"does not read (it reads {', '.join(_FROM_ST)})")
    if (type(shape) is not list or len(shape) > MAX_DIMS
            or any(type(d) is not int or d < 0 for d in shape)):
        raise Damaged(f"the tensor {name[:80]!r} has the shape {str(shape)[:80]}, not a list of "
                      f"at most {MAX_DIMS} sizes >= 0")
    if type(offsets) is not list or len(offsets) != 2 or any(type(o) is not int for o in offsets):
        raise Damaged(f"the tensor {name[:80]!r} has no data_offsets [begin, end]")
    begin, end = offsets
    dt = _FROM_ST[dtype]
    need = math.prod(shape) * torch.empty((), dtype=dt).element_size()
    if not 0 <= begin <= end <= data_len or end - begin != need:
        raise Damaged(f"the tensor {name[:80]!r} of shape {shape} and dtype {dtype} needs {need} "
                      f"bytes but its data_offsets are {offsets} in {data_len} bytes of data")
    return begin, end, dt, shape


def read_header(f, size):
    """The parsed header of the safetensors file ``f`` of ``size`` bytes, and where its data starts."""
    head = f.read(8)
    n = int.from_bytes(head, "little")
    pickled = head[:1] == b"\x80" or head[:4] == b"PK\x03\x04"    # pickle protocol >= 2, zip
    if len(head) < 8:
        raise NotSafetensors(f"it is only {size} bytes long, too short for a safetensors file")
    if n > MAX_HEADER or (pickled and n > size - 8):
        raise NotSafetensors("it looks like a pickle (a file from torch.save or pickle.dump)"
                             if pickled else "it does not start with a safetensors header")
    if n > size - 8:
        raise Damaged(f"its header needs {n} bytes but the file has only {size - 8} after the "
                      "length field")
    raw = f.read(n)
    if len(raw) != n:
        raise Damaged("it became shorter while it was read")
    try:
        header = loads(raw, "its header", MAX_DEPTH)
    except ValueError as e:
        raise NotSafetensors(f"{e}, as a safetensors header is") from None
    if type(header) is not dict:
        raise NotSafetensors("its header is not the JSON object of a safetensors file")
    meta = header.get("__metadata__")
    if meta is not None and (type(meta) is not dict or any(type(v) is not str for v in meta.values())):
        raise Damaged("its __metadata__ is not an object of strings")
    return header, 8 + n


def read(f, size):
    """Read the safetensors file ``f`` (open, binary, ``size`` bytes): ``(metadata, tensors)``,
    the tensors in the header's order, on the CPU.

    >>> import io, safetensors.torch
    >>> data = safetensors.torch.save({"w": torch.ones(2)}, metadata={"k": "v"})
    >>> read(io.BytesIO(data), len(data))
    ({'k': 'v'}, {'w': tensor([1., 1.])})
    """
    header, start = read_header(f, size)
    data_len = size - start
    entries = {k: _entry(k, v, data_len) for k, v in header.items() if k != "__metadata__"}
    by_offset = sorted(entries.items(), key=lambda kv: kv[1][:2])
    last = 0
    for name, (begin, end, _, _) in by_offset:
        if begin < last:
            raise Damaged(f"the data of tensor {name[:80]!r} overlaps another tensor's")
        last = end
    tensors = {}
    for name, (begin, end, dt, shape) in by_offset:      # each read into its own exact buffer
        t = torch.empty(shape, dtype=dt)
        if end > begin:
            f.seek(start + begin)
            view, got = memoryview(_bytes_of(t)), 0
            while got < end - begin:
                k = f.readinto(view[got:])
                if not k:
                    raise Damaged("it became shorter while it was read")
                got += k
        tensors[name] = t
    return header.get("__metadata__") or {}, {k: tensors[k] for k in entries}
