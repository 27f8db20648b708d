"""Runtime: Julia's printing, strings, collections, iterators, randomness and files.

>>> println("a", 1, 2.5)
a12.5
>>> show_values(("1 + 1", 2))
1 + 1 = 2
2
>>> sprintf("%5.2f|%d", 3.14159, 7)
' 3.14|7'
>>> list(enumerate(["a", "b"]))
[(1, 'a'), (2, 'b')]
"""
from __future__ import annotations

import builtins
import itertools
import os
import random
import sys
import time as _time

import torch

from .rt_arrays import JRange, tensor, vect

__all__ = ["println", "print_", "show_values", "show", "display", "info", "warn", "error_log",
           "debug", "kv", "printf", "sprintf", "string", "repr_", "error", "throw", "check",
           "push_", "pushfirst_", "append_", "pop_", "popfirst_", "insert_", "deleteat_", "empty_",
           "first", "last", "only", "map", "map_", "filter", "reduce", "foldl", "foldr",
           "enumerate", "keys", "values", "pairs", "haskey", "get", "get_", "delete_", "merge",
           "isempty", "partition", "repeated", "take", "drop", "cycle", "iflatten", "iproduct",
           "countfrom", "peel", "seed_", "shuffle", "shuffle_", "randperm", "rand", "randn",
           "sample", "wsample", "MersenneTwister", "default_rng", "randsubseq", "bitrand",
           "time", "sleep", "elapsed", "now", "isfile", "isdir", "mkpath", "joinpath", "basename",
           "dirname", "abspath", "pwd", "readlines", "read", "readline", "write", "open_", "download",
           "include", "noop", "stdout", "stderr", "ARGS", "ENV", "Regex", "occursin", "startswith",
           "endswith", "split", "join", "strip", "lstrip", "rstrip", "replace", "uppercase",
           "lowercase", "parse", "tryparse", "lpad", "rpad", "chop", "last_of", "flush",
           "nameof", "summary", "Progress", "ones_", "countmap", "statmode", "zscore", "Weights",
           "setdiff", "union", "intersect", "issubset", "sum_", "exit", "readdir", "cp",
           "ntuple", "getproperty", "zip", "cd", "tuple_", "walkdir",
           "mkdir", "rm", "struct2dict", "with_logger", "randn_", "rand_", "GC", "bson_save", "bson_load", "pairs_", "ispath", "untranslated",
           "IOBuffer", "take_", "match", "splitext", "unicode_normalize", "CircularBuffer",
           "toml_parsefile", "toml_parse", "PROGRAM_FILE", "LOAD_PATH", "hasproperty", "Set", "isassigned"]

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
    assert cond
    return None


def push_(xs, *vs):
    xs.extend(vs)
    return xs


def pushfirst_(xs, *vs):
    xs[:0] = list(vs)
    return xs


def append_(xs, ys):
    xs.extend(ys)
    return xs


def pop_(xs, *key):
    return xs.pop(*key) if isinstance(xs, dict) else xs.pop()


def popfirst_(xs):
    return xs.pop(0)


def insert_(xs, i, v):
    xs.insert(i - 1, v)
    return xs


def deleteat_(xs, i):
    del xs[i - 1]
    return xs


def empty_(xs):
    xs.clear()
    return xs


def first(x, n=None):
    if isinstance(x, torch.Tensor):
        flat = x.reshape(-1) if x.ndim != 1 else x
        return flat[0] if n is None else flat[:n]
    if n is not None:
        return list(itertools.islice(x, n))
    if isinstance(x, (list, tuple, str, JRange)):
        return x[0]
    return next(iter(x))


def last(x, n=None):
    if isinstance(x, torch.Tensor):
        flat = x.reshape(-1)
        return flat[-1] if n is None else flat[-n:]
    items = x if isinstance(x, (list, tuple, str)) else list(x)
    return items[-1] if n is None else items[-n:]


def only(x):
    items = list(x) if not isinstance(x, torch.Tensor) else x.reshape(-1)
    if len(items) != 1:
        raise ValueError(f"ArgumentError: collection has {len(items)} elements, must contain exactly 1")
    return items[0]


def map(f, *xs):
    if len(xs) == 1 and isinstance(xs[0], torch.Tensor):
        from .rt_math import broadcast
        return broadcast(f, xs[0])
    if len(xs) == 1 and isinstance(xs[0], dict):
        xs = (list(xs[0].items()),)
    out = [f(*vs) for vs in zip(*xs)]
    if out and builtins.all(isinstance(v, (int, float, bool)) for v in out):
        return vect(*out)
    if isinstance(xs[0], tuple):
        return tuple(out)
    return out


def map_(f, dst, *xs):
    dst[...] = map(f, *xs)
    return dst


def filter(f, xs):
    if isinstance(xs, torch.Tensor):
        return xs[tensor([bool(f(v)) for v in xs.tolist()])]
    if isinstance(xs, dict):
        return {k: v for k, v in xs.items() if f((k, v))}
    return [x for x in xs if f(x)]


def reduce(f, xs, *, init=None):
    import functools
    return functools.reduce(f, xs) if init is None else functools.reduce(f, xs, init)


foldl = reduce


def foldr(f, xs, *, init=None):
    items = list(xs)[::-1]
    g = (lambda acc, x: f(x, acc))
    import functools
    return functools.reduce(g, items) if init is None else functools.reduce(g, items, init)


def enumerate(x):
    return builtins.enumerate(x, start=1)


def keys(x):
    if isinstance(x, dict):
        return list(x.keys())
    return range(1, len(x) + 1)


def values(x):
    return list(x.values()) if isinstance(x, dict) else x


def pairs(x):
    return list(x.items()) if isinstance(x, dict) else list(enumerate(x))


def haskey(d, k):
    return k in d


def get(d, k, default=None):
    if callable(d) and not isinstance(d, dict):         # get(f, d, k) with a do block
        return k.get(default) if default in k else d()
    return d.get(k, default)


def get_(d, k, default=None):
    if callable(d) and not isinstance(d, dict):
        f, d, k = d, k, default
        if k not in d:
            d[k] = f()
        return d[k]
    return d.setdefault(k, default)


def delete_(d, k):
    d.pop(k, None)
    return d


def merge(*ds):
    out = {}
    for d in ds:
        out.update(d)
    return out


def isempty(x):
    return (x.numel() == 0) if isinstance(x, torch.Tensor) else len(x) == 0


def partition(xs, n):
    """Iterators.partition: consecutive chunks of ``n`` (tensors along Julia's last dim)."""
    if isinstance(xs, torch.Tensor):
        return [xs[i:i + n] for i in range(0, xs.shape[0], n)]
    items = list(xs)
    return [items[i:i + n] for i in range(0, len(items), n)]


def repeated(x, n=None):
    return itertools.repeat(x) if n is None else itertools.repeat(x, n)


def take(xs, n):
    return itertools.islice(xs, n)


def drop(xs, n):
    return itertools.islice(xs, n, None)


def cycle(xs):
    return itertools.cycle(xs)


def iflatten(xs):
    return itertools.chain.from_iterable(xs)


def iproduct(*xs):
    return (tuple(reversed(t)) for t in itertools.product(*reversed(xs)))


def countfrom(start=1, step=1):
    return itertools.count(start, step)


def peel(xs):
    it = iter(xs)
    return next(it), it


def seed_(*args):
    seed = args[-1] if args else 0
    if isinstance(seed, torch.Generator):
        return seed
    torch.manual_seed(seed)
    random.seed(seed)
    return None


def MersenneTwister(seed=0):
    return torch.Generator().manual_seed(seed)


def default_rng():
    return torch.default_generator


def _rng(args):
    if args and isinstance(args[0], torch.Generator):
        return args[0], args[1:]
    return None, args


def shuffle(*args):
    rng, (xs,) = _rng(args)
    if isinstance(xs, torch.Tensor):
        return xs[torch.randperm(xs.shape[0], generator=rng)]
    items = list(xs)
    perm = torch.randperm(len(items), generator=rng).tolist()
    out = [items[i] for i in perm]
    return vect(*out) if isinstance(xs, JRange) else out


def shuffle_(*args):
    rng, (xs,) = _rng(args)
    out = shuffle(*(([rng] if rng else []) + [xs]))
    xs[:] = out
    return xs


def randperm(*args):
    rng, (n,) = _rng(args)
    return torch.randperm(n, generator=rng) + 1


def _float_dtype(args):
    from .rt_types import JuliaType
    if args and isinstance(args[0], JuliaType):
        return args[0], args[1:]
    return None, args


def rand(*args):
    """Julia's rand: a Float64 number, an array of sizes, or picks from a collection."""
    rng, args = _rng(args)
    if args and isinstance(args[0], torch.distributions.Distribution):   # rand(Uniform(a, b), dims...)
        shape = tuple(reversed(args[1:]))
        out = args[0].sample(shape).double()
        return builtins.float(out) if not shape else out
    t, args = _float_dtype(args)
    if len(args) == 1 and isinstance(args[0], (tuple, list)) and builtins.all(isinstance(a, int) for a in args[0]):
        args = tuple(args[0]) if isinstance(args[0], tuple) else args
    if args and not isinstance(args[0], int):             # rand(collection[, n])
        items = list(args[0])
        if len(args) == 1:
            return items[int(torch.randint(len(items), (), generator=rng))]
        idx = torch.randint(len(items), tuple(reversed(args[1:])), generator=rng)
        picked = vect(*[items[i] for i in idx.reshape(-1).tolist()])
        return picked.reshape(idx.shape) if isinstance(picked, torch.Tensor) else picked
    dtype = t.dtype if t is not None and t.dtype is not None else torch.float64
    if not args:
        if t is not None and t.name == "Bool":
            return bool(torch.rand((), generator=rng) < 0.5)
        return builtins.float(torch.rand((), generator=rng, dtype=torch.float64))
    if dtype == torch.bool:
        return torch.rand(tuple(reversed(args)), generator=rng) < 0.5
    return torch.rand(tuple(reversed(args)), generator=rng, dtype=dtype)


def randn(*args):
    rng, args = _rng(args)
    t, args = _float_dtype(args)
    if len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    dtype = t.dtype if t is not None and t.dtype is not None else torch.float64
    if not args:
        return builtins.float(torch.randn((), generator=rng, dtype=torch.float64))
    return torch.randn(tuple(reversed(args)), generator=rng, dtype=dtype)


def bitrand(*dims):
    return torch.rand(tuple(reversed(dims))) < 0.5


def randsubseq(xs, p):
    return [x for x in xs if random.random() < p]


def sample(*args, replace=True):
    rng, args = _rng(args)
    items = list(args[0])
    if len(args) == 1:
        return items[int(torch.randint(len(items), (), generator=rng))]
    n = args[1]
    if replace:
        return [items[int(i)] for i in torch.randint(len(items), (n,), generator=rng)]
    return [items[int(i)] for i in torch.randperm(len(items), generator=rng)[:n]]


def wsample(items, weights, n=None):
    w = tensor(weights).double()
    idx = torch.multinomial(w / w.sum(), 1 if n is None else n, replacement=True)
    items = list(items)
    return items[int(idx[0])] if n is None else [items[int(i)] for i in idx]


def Weights(w):
    return w


def countmap(xs):
    out = {}
    for x in (xs.tolist() if isinstance(xs, torch.Tensor) else xs):
        out[x] = out.get(x, 0) + 1
    return out


def statmode(xs):
    counts = countmap(xs)
    return max(counts, key=counts.get)


def zscore(x, *args):
    x = tensor(x).double()
    return (x - x.mean()) / x.std()


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


def Regex(pattern):
    import re
    return re.compile(pattern)


def occursin(needle, hay):
    if hasattr(needle, "search"):
        return needle.search(hay) is not None
    return needle in hay


def startswith(s, p):
    return s.startswith(p)


def endswith(s, p):
    return s.endswith(p)


def split(s, sep=None, *, limit=0, keepempty=True):
    parts = s.split(sep) if sep is not None else s.split()
    return parts


def join(xs, sep=""):
    return sep.join(_str(x) for x in xs)


def strip(s, chars=None):
    return s.strip(chars)


def lstrip(s, chars=None):
    return s.lstrip(chars)


def rstrip(s, chars=None):
    return s.rstrip(chars)


def replace(s, pair, *more, count=None):
    for a, b in (pair,) + more:
        if hasattr(a, "sub"):
            s = a.sub(b, s, count=count or 0)
        else:
            s = s.replace(a, b) if count is None else s.replace(a, b, count)
    return s


def uppercase(s):
    return s.upper()


def lowercase(s):
    return s.lower()


def parse(t, s):
    return t(s)


def tryparse(t, s):
    try:
        return t(s)
    except (ValueError, TypeError):
        return None


def lpad(s, n, c=" "):
    return _str(s).rjust(n, c)


def rpad(s, n, c=" "):
    return _str(s).ljust(n, c)


def chop(s, *, head=0, tail=1):
    return s[head:len(s) - tail]


def last_of(*xs):
    return xs[-1]


def flush(f=None):
    (f or sys.stdout).flush()


def nameof(x):
    return getattr(x, "__name__", type(x).__name__)


def summary(x):
    return f"{'×'.join(map(str, reversed(x.shape)))} {type(x).__name__}" if isinstance(x, torch.Tensor) else repr(x)


class Progress:
    def __init__(self, *args, **kw):
        pass


def ones_(x):
    return x


def setdiff(a, b):
    return [x for x in a if x not in b]


def union(a, b):
    return list(dict.fromkeys(list(a) + list(b)))


def intersect(a, b):
    return [x for x in a if x in b]


def issubset(a, b):
    return all(x in b for x in a)


def sum_(xs):
    return builtins.sum(xs)


def exit(code=0):
    sys.exit(code)


def ntuple(f, n):
    return tuple(f(i) for i in range(1, n + 1))


def getproperty(x, name):
    return getattr(x, name)


def hasproperty(x, name):
    return hasattr(x, name)


def Set(xs=()):
    return set(xs)


def isassigned(xs, i):
    return 1 <= i <= len(xs)


zip = builtins.zip


def cd(path):
    os.chdir(path)


def tuple_(*xs):
    return xs


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


def struct2dict(obj):
    return {k: getattr(obj, k) for k in type(obj)._fields()} if hasattr(type(obj), "_fields") else dict(vars(obj))


def with_logger(f, logger=None):
    """Logging.with_logger: the block runs; its messages go to standard error."""
    return f()


def randn_(*args):
    x = args[-1]
    rng = args[0] if len(args) == 2 else None
    x.copy_(torch.randn(x.shape, generator=rng, dtype=x.dtype))
    return x


def rand_(*args):
    x = args[-1]
    rng = args[0] if len(args) == 2 else None
    x.copy_(torch.rand(x.shape, generator=rng, dtype=x.dtype))
    return x


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


def pairs_(a, b):
    """``a .=> b``: pairs taken elementwise."""
    a = a.tolist() if isinstance(a, torch.Tensor) else list(a)
    b = b.tolist() if isinstance(b, torch.Tensor) else list(b)
    return [(x, y) for x, y in zip(a, b)]


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


class _Match:
    def __init__(self, m):
        self.match = m.group(0)
        self.captures = list(m.groups())
        self.offset = m.start() + 1


def match(regex, s):
    m = regex.search(s)
    return None if m is None else _Match(m)


def splitext(path):
    return os.path.splitext(path)


def unicode_normalize(s, *, casefold=False, stripmark=False, **kw):
    import unicodedata
    if casefold:
        s = s.casefold()
    if stripmark:
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", s)


def CircularBuffer(n):
    """DataStructures' CircularBuffer: the newest n items."""
    import collections
    return collections.deque(maxlen=n)


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
