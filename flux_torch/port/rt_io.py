"""Runtime: printing, logging, files and processes, as Julia's Base does them.

>>> println("a", 1, 2.5)
a12.5
>>> show_values(("1 + 1", 2))
1 + 1 = 2
2
>>> sprintf("%5.2f|%d", 3.14159, 7)
' 3.14|7'
"""
from __future__ import annotations

import builtins
import os
import sys
import time as _time

import torch


__all__ = ["println", "print_", "show_values", "show", "display", "info", "warn", "error_log",
           "debug", "kv", "printf", "sprintf", "string", "repr_", "error", "throw", "check",
           "time", "sleep", "elapsed", "now", "isfile", "isdir", "mkpath", "joinpath", "basename",
           "dirname", "abspath", "pwd", "readlines", "read", "readline", "write", "open_",
           "download", "include", "noop", "stdout", "stderr", "ARGS", "ENV", "flush", "Progress",
           "exit", "readdir", "cp", "cd", "walkdir", "mkdir", "rm", "with_logger", "GC",
           "bson_save", "bson_load", "ispath", "untranslated", "IOBuffer", "take_", "splitext",
           "toml_parsefile", "toml_parse", "PROGRAM_FILE", "LOAD_PATH"]


LOAD_PATH = sys.path


stdout = sys.stdout


stderr = sys.stderr


ARGS = sys.argv[1:]


ENV = os.environ


def _str(x):
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "true" if x else "false"
    if x is None:
        return "nothing"
    if isinstance(x, torch.Tensor) and x.ndim == 0:
        return _str(x.item())
    return str(x)


def println(*xs):
    if xs and hasattr(xs[0], "write") and not isinstance(xs[0], str):
        xs[0].write("".join(_str(x) for x in xs[1:]) + "\n")
        return None
    builtins.print("".join(_str(x) for x in xs))


def print_(*xs):
    if xs and hasattr(xs[0], "write") and not isinstance(xs[0], str):
        xs[0].write("".join(_str(x) for x in xs[1:]))
        return None
    builtins.print("".join(_str(x) for x in xs), end="")


def show_values(*pairs):
    """``@show a b``: print ``a = value`` for each, return the last value."""
    value = None
    for label, value in pairs:
        builtins.print(f"{label} = {_str(value) if not isinstance(value, str) else repr(value)}")
    return value


def show(*xs):
    if len(xs) == 2 and hasattr(xs[0], "write"):
        xs[0].write(repr(xs[1]))
        return None
    builtins.print(repr(xs[0]) if xs else "")


def display(x):
    builtins.print(x)


def kv(label, value):
    return (label, value)


def _log(level, msg, *pairs, **kw):
    lines = [f"[ {level}: {_str(msg)}"]
    items = list(pairs) + list(kw.items())
    for k, v in items:
        lines.append(f"│   {k} = {_str(v)}")
    if items:
        lines.append("└")
        lines[0] = "┌" + lines[0][1:]
    builtins.print("\n".join(lines), file=sys.stderr)


def info(msg="", *pairs, **kw):
    _log("Info", msg, *pairs, **kw)


def warn(msg="", *pairs, **kw):
    _log("Warning", msg, *pairs, **kw)


def error_log(msg="", *pairs, **kw):
    _log("Error", msg, *pairs, **kw)


def debug(msg="", *pairs, **kw):
    return None


def _fmt_args(args):
    return tuple(a.item() if isinstance(a, torch.Tensor) and a.ndim == 0 else a for a in args)


def sprintf(fmt, *args):
    return fmt % _fmt_args(args)


def printf(*args):
    if args and hasattr(args[0], "write") and not isinstance(args[0], str):
        args[0].write(sprintf(*args[1:]))
        return None
    builtins.print(sprintf(*args), end="")


def string(*xs):
    return "".join(_str(x) for x in xs)


def repr_(x):
    return repr(x)


def error(*msg):
    raise RuntimeError("".join(_str(m) for m in msg))


def throw(e):
    raise e if isinstance(e, BaseException) else RuntimeError(_str(e))


def check(cond):
    """Julia's ``@assert cond`` without a message: an ``AssertionError`` when ``cond`` is false
    (raised, not ``assert``, so that ``python -O`` keeps the check)."""
    if not cond:
        raise AssertionError("assertion failed")
    return None


def time():
    return _time.time()


def sleep(s):
    _time.sleep(s)


def elapsed(thunk):
    t0 = _time.perf_counter()
    thunk()
    return _time.perf_counter() - t0


def now():
    import datetime
    return datetime.datetime.now()


def isfile(p):
    return os.path.isfile(p)


def ispath(p):
    return os.path.exists(p)


def isdir(p):
    return os.path.isdir(p)


def mkpath(p):
    os.makedirs(p, exist_ok=True)
    return p


def joinpath(*ps):
    return os.path.join(*ps)


def basename(p):
    return os.path.basename(p)


def dirname(p):
    return os.path.dirname(os.path.abspath(p))


def abspath(p):
    return os.path.abspath(p)


def pwd():
    return os.getcwd()


def readdir(p="."):
    return sorted(os.listdir(p))


def cp(a, b, **kw):
    import shutil
    shutil.copy(a, b)


def readlines(p):
    with open(p, encoding="utf-8") as f:
        return f.read().splitlines()


def read(p, t=None):
    if hasattr(p, "read"):
        return p.read()
    with open(p, "rb") as f:
        data = f.read()
    return data.decode("utf-8") if t is not None else data


def readline(f=None):
    return (f or sys.stdin).readline().rstrip("\n")


def write(f, *xs):
    if isinstance(f, str):
        with open(f, "w", encoding="utf-8") as fh:
            fh.write("".join(_str(x) for x in xs))
        return None
    f.write("".join(_str(x) for x in xs))


def open_(p, mode="r"):
    return open(p, mode, encoding="utf-8")


def download(url, path=None):
    raise RuntimeError(f"download({url!r}): the translated script does not download; "
                       f"fetch the file yourself and place it at {path or os.path.basename(url)!r}")


def include(path, namespace):
    """Julia's include: run the translated sibling file (``path`` with ``.py``) in ``namespace``."""
    py = os.path.splitext(path)[0] + ".py"
    if not os.path.isfile(py):
        raise FileNotFoundError(f"include({path!r}): translate it first: "
                                f"python -m flux_torch.port {path} -o {py}")
    with open(py, encoding="utf-8") as f:
        code = compile(f.read(), py, "exec", dont_inherit=True)
    outer = namespace.get("__file__")
    namespace["__file__"] = os.path.abspath(py)        # @__FILE__ inside it is its own path
    try:
        exec(code, namespace)
    finally:
        namespace["__file__"] = outer


def noop(*args, **kw):
    return None


def flush(f=None):
    (f or sys.stdout).flush()


class Progress:
    def __init__(self, *args, **kw):
        pass


def exit(code=0):
    sys.exit(code)


def cd(path):
    os.chdir(path)


def walkdir(path):
    return os.walk(path)


def mkdir(path):
    os.mkdir(path)
    return path


def rm(path, *, force=False, recursive=False):
    import shutil
    if os.path.isdir(path) and recursive:
        shutil.rmtree(path, ignore_errors=force)
    elif os.path.exists(path) or not force:
        os.remove(path)


def with_logger(f, logger=None):
    """Logging.with_logger: the block runs; its messages go to standard error."""
    return f()


class GC:
    @staticmethod
    def gc(*args):
        import gc
        gc.collect()


def bson_save(path, **objects):
    """BSON.@save path a b: each object's Flux.state, with Flux.save (safetensors, no pickle)."""
    import flux_torch
    flux_torch.save(os.path.splitext(path)[0] + ".safetensors",
                    {k: flux_torch.state(v) for k, v in objects.items()})


def bson_load(path, *names):
    """BSON.@load path a b: what bson_save stored (a model comes back as its Flux.state)."""
    import flux_torch
    data = flux_torch.load(os.path.splitext(path)[0] + ".safetensors")
    return tuple(data[n] for n in names)


def untranslated(julia):
    """Stands for Julia code the translation kept as a TODO; running it raises."""
    raise NotImplementedError(f"TODO(port): this Julia code was not translated: {julia}")


def IOBuffer(*args):
    import io
    return io.StringIO(*args)


def take_(buf):
    """take!(io): the text written so far, and the buffer emptied."""
    value = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return value


def splitext(path):
    return os.path.splitext(path)


def toml_parsefile(path):
    import tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def toml_parse(text):
    import tomllib
    return tomllib.loads(text)


def PROGRAM_FILE():
    """Julia's PROGRAM_FILE: the script Python was asked to run."""
    return os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
