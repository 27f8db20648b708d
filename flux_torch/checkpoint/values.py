"""Plain values in a checkpoint: how a leaf that is not a tensor is written as JSON and read back.

``None``, ``bool``, ``int``, ``float`` (``nan`` and ``inf`` too) and ``str`` are JSON
themselves (big integers as hexadecimal text, any string, lone surrogates included);
every other value is a list ``[tag, ...]``:

=================  ======================================================
``complex``        ``["complex", re, im]``
``bytes``          ``["bytes", base64]`` (``bytearray`` likewise)
``set``            ``["set", [values]]`` (``frozenset`` likewise; values hashable)
``tuple``          ``["tuple", [values]]``, inside a set or as a dict key
``range``          ``["range", start, stop, step]``
Fraction, Decimal  ``["fraction", n, d]``, ``["decimal", text]``
datetime & co.     ``["datetime", y, m, d, H, M, S, us, fold, tz]``, ``date``,
                   ``time``, ``timedelta``; ``tz`` is None or a fixed offset
paths              ``["path", "PosixPath", text]`` (the four pathlib classes)
Enum members       ``["enum", module, qualname, member]``
torch              ``["dtype", "float32"]``, ``["device", "cuda", 0]``
numpy              ``["np", "float32", value]`` (scalars), ``["np.dtype", "int64"]``
=================  ======================================================

Reading never imports a module or calls code named by the file: classes come from
fixed tables, and an enum only from a module this process has already imported.
Nesting (tuples in sets in keys) is bounded, so the JSON stays shallow.
"""
import base64
import datetime as dt
import decimal
import enum
import fractions
import pathlib
import sys

import numpy as np
import torch

__all__ = ["encode_value", "decode_value", "Unstorable", "MAX_NESTING", "TORCH_DTYPES"]

MAX_NESTING = 6
_SMALL = 1 << 63
_PATHS = {c.__name__: c for c in (pathlib.PurePosixPath, pathlib.PureWindowsPath,
                                  pathlib.PosixPath, pathlib.WindowsPath)}
_PURE = {"PosixPath": pathlib.PurePosixPath, "WindowsPath": pathlib.PureWindowsPath}
TORCH_DTYPES = {str(d)[len("torch."):]: d for d in vars(torch).values() if isinstance(d, torch.dtype)}
_NP_SCALARS = {np.dtype(n).name: np.dtype(n) for n in
               ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "float16", "float32", "float64", "complex64", "complex128")}


class Unstorable(TypeError):
    """A value that a checkpoint cannot hold; the message says why (the caller adds where)."""


def _int(x):
    return int(x) if -_SMALL < x < _SMALL else ["int", format(x, "x")]


def _tz(tz):
    if tz is None:
        return None
    if type(tz) is not dt.timezone:
        raise Unstorable(f"a time zone of type {type(tz).__name__} cannot be stored (only fixed "
                         "offsets, datetime.timezone); convert first, e.g. with "
                         ".astimezone(datetime.timezone.utc)")
    off = tz.utcoffset(None)
    plain = dt.timezone(off)
    name = tz.tzname(None)
    return [_int(off // dt.timedelta(microseconds=1)), None if name == plain.tzname(None) else name]


def _enum(x):
    cls = type(x)
    where = f"{cls.__module__}.{cls.__qualname__}"
    if "<locals>" in cls.__qualname__ or _find_enum(cls.__module__, cls.__qualname__) is not cls:
        raise Unstorable(f"the enum class {where} cannot be found by its name when loading "
                         "(define it at the top level of a module)")
    if cls.__members__.get(x.name) is not x:
        raise Unstorable(f"{x!r} is not a named member of {where} (a combination of flags?)")
    return ["enum", cls.__module__, cls.__qualname__, x.name]


def encode_value(x, nesting=0):
    """The JSON form of the plain value ``x``; ``Unstorable`` when it has none.

    >>> import fractions
    >>> encode_value(fractions.Fraction(1, 3)), encode_value({2, 1}), encode_value(b"hi")
    (['fraction', 1, 3], ['set', [1, 2]], ['bytes', 'aGk='])
    >>> decode_value(encode_value(torch.float16)), decode_value(encode_value(range(1, 9, 2)))
    (torch.float16, range(1, 9, 2))
    """
    if nesting > MAX_NESTING:
        raise Unstorable(f"values may nest at most {MAX_NESTING} deep inside a set or a dict key")
    t = type(x)
    if x is None or t in (bool, str, float):
        return x
    if t is int:
        return _int(x)
    if isinstance(x, enum.Enum):        # before int: IntEnum members are ints too
        return _enum(x)
    if t is complex:
        return ["complex", x.real, x.imag]
    if t in (bytes, bytearray):
        return [t.__name__, base64.b64encode(x).decode("ascii")]
    if t in (set, frozenset, tuple):
        try:
            items = sorted(x) if t is not tuple else x
        except TypeError:
            items = x
        return [t.__name__, [encode_value(v, nesting + 1) for v in items]]
    if t is range:
        return ["range", _int(x.start), _int(x.stop), _int(x.step)]
    if t is fractions.Fraction:
        return ["fraction", _int(x.numerator), _int(x.denominator)]
    if t is decimal.Decimal:
        return ["decimal", str(x)]
    if t is dt.datetime:
        return ["datetime", x.year, x.month, x.day, x.hour, x.minute, x.second, x.microsecond,
                x.fold, _tz(x.tzinfo)]
    if t is dt.date:
        return ["date", x.year, x.month, x.day]
    if t is dt.time:
        return ["time", x.hour, x.minute, x.second, x.microsecond, x.fold, _tz(x.tzinfo)]
    if t is dt.timedelta:
        return ["timedelta", x.days, x.seconds, x.microseconds]
    if t.__name__ in _PATHS and _PATHS[t.__name__] is t:
        return ["path", t.__name__, str(x)]
    if t is torch.dtype:
        return ["dtype", str(x)[len("torch."):]]
    if t is torch.device:
        return ["device", x.type, x.index]
    if isinstance(x, np.dtype) and x.name in _NP_SCALARS and x == _NP_SCALARS[x.name]:
        return ["np.dtype", x.name]
    if isinstance(x, np.generic) and x.dtype.name in _NP_SCALARS and x.dtype == _NP_SCALARS[x.dtype.name]:
        return ["np", x.dtype.name, encode_value(x.item(), nesting + 1)]
    raise Unstorable(f"a {t.__module__}.{t.__qualname__} is not a value a checkpoint stores")


# ---------------------------------------------------------------- reading

class _Bad(ValueError):
    pass


class _Missing(LookupError):
    """A well-formed value that cannot be made in this process (its module is not imported...)."""


def _find_enum(module, qualname):
    """The enum class ``module.qualname`` if that module is already imported (never imports)."""
    obj = sys.modules.get(module) if isinstance(module, str) else None
    if obj is None or not isinstance(qualname, str):
        return None
    for part in qualname.split("."):
        obj = vars(obj).get(part) if hasattr(obj, "__dict__") else None
    return obj if isinstance(obj, type) and issubclass(obj, enum.Enum) else None


def _dec_int(v):
    if type(v) is int:
        return v
    if type(v) is list and len(v) == 2 and v[0] == "int" and type(v[1]) is str and len(v[1]) < 1 << 20:
        try:
            return int(v[1], 16)
        except ValueError:
            pass
    raise _Bad(f"expected an integer, got {str(v)[:60]}")


def _dec_tz(v):
    if v is None:
        return None
    off, name = v
    off = dt.timedelta(microseconds=_dec_int(off))
    return dt.timezone(off) if name is None else dt.timezone(off, _str(name))


def _str(v):
    if type(v) is not str:
        raise _Bad(f"expected a string, got {str(v)[:60]}")
    return v


def _float(v):
    if type(v) not in (int, float):
        raise _Bad(f"expected a number, got {str(v)[:60]}")
    return float(v)


def _member(tag, args, nesting):
    if tag == "int":
        return _dec_int([tag, *args])
    if tag == "complex":
        re_, im = args
        return complex(_float(re_), _float(im))
    if tag in ("bytes", "bytearray"):
        (text,) = args
        data = base64.b64decode(_str(text), validate=True)
        return data if tag == "bytes" else bytearray(data)
    if tag in ("set", "frozenset", "tuple"):
        (items,) = args
        if type(items) is not list:
            raise _Bad(f"a {tag} holds a list of values")
        vals = [decode_value(v, nesting + 1) for v in items]
        return {"set": set, "frozenset": frozenset, "tuple": tuple}[tag](vals)
    if tag == "range":
        return range(*(_dec_int(a) for a in args))
    if tag == "fraction":
        n, d = args
        return fractions.Fraction(_dec_int(n), _dec_int(d))
    if tag == "decimal":
        (text,) = args
        return decimal.Decimal(_str(text))
    if tag == "datetime":
        *parts, fold, tz = args
        return dt.datetime(*(_dec_int(p) for p in parts), tzinfo=_dec_tz(tz), fold=_dec_int(fold))
    if tag == "date":
        return dt.date(*(_dec_int(p) for p in args))
    if tag == "time":
        *parts, fold, tz = args
        return dt.time(*(_dec_int(p) for p in parts), tzinfo=_dec_tz(tz), fold=_dec_int(fold))
    if tag == "timedelta":
        return dt.timedelta(*(_dec_int(p) for p in args))
    if tag == "path":
        kind, text = args
        cls = _PATHS.get(_str(kind))
        if cls is None:
            raise _Bad(f"unknown path class {kind!r}")
        try:
            return cls(_str(text))
        except NotImplementedError:         # a PosixPath read on Windows, or the reverse
            return _PURE[kind](text)
    if tag == "enum":
        module, qualname, name = (_str(a) for a in args)
        cls = _find_enum(module, qualname)
        if cls is None:
            raise _Missing(f"it holds a member of the enum {module}.{qualname}, which this "
                              f"process has not imported; import {module} before load")
        member = cls.__members__.get(name)
        if member is None:
            raise _Bad(f"the enum {module}.{qualname} has no member {name!r}")
        return member
    if tag == "dtype":
        (name,) = args
        if _str(name) not in TORCH_DTYPES:
            raise _Missing(f"it holds the torch dtype {name!r}, which this torch does not have")
        return TORCH_DTYPES[name]
    if tag == "device":
        kind, index = args
        if index is not None:
            index = _dec_int(index)
        return torch.device(_str(kind), index) if index is not None else torch.device(_str(kind))
    if tag == "np.dtype":
        (name,) = args
        return _NP_SCALARS[_str(name)]
    if tag == "np":
        name, value = args
        return _NP_SCALARS[_str(name)].type(decode_value(value, nesting + 1))
    raise _Bad(f"unknown value tag {str(tag)[:40]!r}")


def decode_value(v, nesting=0):
    """The value whose JSON form is ``v``; a ``ValueError`` saying what is wrong, or a
    ``LookupError`` when the value is well formed but cannot be made in this process."""
    if v is None or type(v) in (bool, str, int, float):
        return v
    if type(v) is not list or not v or type(v[0]) is not str or nesting > MAX_NESTING:
        raise _Bad(f"not a stored value: {str(v)[:60]}")
    try:
        return _member(v[0], v[1:], nesting)
    except (_Bad, _Missing):
        raise
    except (ValueError, TypeError, LookupError, ArithmeticError, RuntimeError) as e:
        raise _Bad(f"a stored {v[0]} is malformed ({str(e)[:100]})") from None
