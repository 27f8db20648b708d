"""Setting up data-parallel training (Flux's ``DistributedUtils.initialize``, backends, ranks).

Flux runs its workers under MPI (``mpiexecjl``) with ``MPIBackend`` or ``NCCLBackend``;
flux_torch runs them under ``torchrun`` with ``torch.distributed``: ``GlooBackend`` on CPU
(Flux's ``MPIBackend`` is the same object) and ``NCCLBackend`` on CUDA GPUs. Any process
group made by ``torch.distributed.init_process_group`` works with the rest of this package.
"""
import atexit
import contextlib
import datetime
import math
import numbers
import os

import torch
import torch.distributed as dist

__all__ = ["DistributedBackend", "GlooBackend", "MPIBackend", "NCCLBackend", "initialize",
           "initialized", "get_distributed_backend", "local_rank", "total_workers", "DEFAULT_TIMEOUT"]

#: How long a collective waits for the other workers by default (torch's own default is 30 minutes)
DEFAULT_TIMEOUT = 300.0

_LAUNCH = ("launch the script with torchrun, which sets them for each worker: "
           "torchrun --nproc_per_node=2 script.py")
_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class DistributedBackend:
    """A set of workers that train together (``Flux.AbstractFluxDistributedBackend``).

    Get one with :func:`get_distributed_backend` after :func:`initialize`. It holds a
    ``torch.distributed`` process ``group`` (``None``: all the workers).

    >>> GlooBackend(), NCCLBackend()
    (GlooBackend(), NCCLBackend())
    >>> MPIBackend is GlooBackend      # Flux's CPU backend
    True
    """

    name = None     # the torch.distributed backend string

    def __init__(self, group=None):
        self.group = group

    def __repr__(self):
        return f"{type(self).__name__}({'' if self.group is None else repr(self.group)})"


class GlooBackend(DistributedBackend):
    """torch's gloo collectives, for CPU tensors (also CUDA ones, slowly); Flux's ``MPIBackend``.

    >>> GlooBackend().name
    'gloo'
    """

    name = "gloo"


class NCCLBackend(DistributedBackend):
    """NCCL collectives for CUDA tensors, with gloo for CPU tensors (as Flux's ``NCCLBackend``
    wraps MPI for what is not on the GPU).

    >>> NCCLBackend().name
    'cpu:gloo,cuda:nccl'
    """

    name = "cpu:gloo,cuda:nccl"


MPIBackend = GlooBackend


def _torch_name(backend):
    if backend is None:
        cuda = torch.cuda.is_available() and dist.is_nccl_available()
        return NCCLBackend.name if cuda else GlooBackend.name
    if isinstance(backend, type) and issubclass(backend, DistributedBackend) and backend.name:
        return backend.name
    if isinstance(backend, DistributedBackend):
        raise TypeError(f"initialize expects a backend type such as NCCLBackend, or a name such as "
                        f"'gloo', but got the backend object {backend!r}; pass {type(backend).__name__}")
    if not isinstance(backend, str):
        raise TypeError(f"initialize expects None (automatic), 'gloo', 'nccl', GlooBackend or "
                        f"NCCLBackend, but got {backend!r}")
    return backend


def _timedelta(timeout):
    if isinstance(timeout, datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, numbers.Real) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"initialize: timeout must be a number of seconds or a datetime.timedelta, "
                        f"but got {timeout!r}")
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"initialize: timeout must be a finite number of seconds > 0, but got "
                         f"{seconds}; a worker that waits forever for a frozen peer hangs silently")
    return datetime.timedelta(seconds=seconds)


def initialize(backend=None, *, cuda_devices=None, timeout=DEFAULT_TIMEOUT):
    """Join the other workers of this training run (``DistributedUtils.initialize``).

    Call it once at the start of a script launched by ``torchrun``, which tells each
    worker its place through the environment variables ``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``. ``backend`` is ``None``
    (NCCL when CUDA is available, else gloo), ``"gloo"``, ``"nccl"`` (any name
    ``torch.distributed`` knows), or ``GlooBackend``/``MPIBackend``/``NCCLBackend``.
    With CUDA, the worker uses GPU ``LOCAL_RANK`` (modulo the number of GPUs), or
    ``cuda_devices[LOCAL_RANK]`` when a list is given; ``cuda_devices=False`` leaves
    the current device alone.

    ``timeout`` (seconds, or a ``datetime.timedelta``; 300 by default, where torch's
    default is 30 minutes) bounds how long joining the others, and then every collective
    (the gradient all-reduce of ``DistributedOptimizer``, ``bcast_``, ``synchronize_``...),
    waits for the other workers: a frozen or crashed worker, or one that takes fewer steps,
    becomes a ``RuntimeError`` saying so instead of a silent hang. Make it longer than the
    slowest step between two collectives (a long evaluation on one worker, say). Calling
    ``initialize`` twice is an error.

    >>> initialize()       # not launched by torchrun here
    Traceback (most recent call last):
    ...
    RuntimeError: initialize: the environment variables RANK, WORLD_SIZE, MASTER_ADDR, ...
    """
    name = _torch_name(backend)
    wait = _timedelta(timeout)
    if dist.is_initialized():
        raise RuntimeError(f"initialize: torch.distributed is already initialised (backend "
                           f"{dist.get_backend()!r}, {dist.get_world_size()} workers); call initialize "
                           "once per process, then use get_distributed_backend()")
    missing = [k for k in _ENV if not os.environ.get(k)]
    if missing:
        raise RuntimeError(f"initialize: the environment variables {', '.join(missing)} are not set; "
                           f"they tell each worker its place among the others, so {_LAUNCH}")
    try:
        rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local = int(os.environ.get("LOCAL_RANK") or rank)
    except ValueError:
        raise ValueError("initialize: RANK, WORLD_SIZE and LOCAL_RANK must be integers, but got "
                         + ", ".join(f"{k}={os.environ.get(k)!r}" for k in ("RANK", "WORLD_SIZE",
                                                                             "LOCAL_RANK"))) from None
    if not 0 <= rank < size:
        raise ValueError(f"initialize: RANK must lie in 0..WORLD_SIZE-1, but RANK={rank} and "
                         f"WORLD_SIZE={size}; {_LAUNCH}")
    if "nccl" in name and not torch.cuda.is_available():
        raise RuntimeError(f"initialize({backend!r}): NCCL needs CUDA GPUs, and none is available "
                           "here; use initialize('gloo') (or initialize()) on CPU")
    if torch.cuda.is_available() and cuda_devices is not False:
        torch.cuda.set_device(cuda_devices[local] if cuda_devices is not None
                              else local % torch.cuda.device_count())
    with joined("initialize"):
        dist.init_process_group(name, init_method="env://", rank=rank, world_size=size, timeout=wait)
    atexit.register(_finalize)


@contextlib.contextmanager
def joined(fname):
    """Run a collective; when the other workers do not join it, say why in a clear error."""
    try:
        yield
    except RuntimeError as e:
        msg = str(e)
        low = msg.lower()
        if "timed out" in low or "timeout" in low:
            why = ("waited longer than the timeout for the other workers: one of them is frozen or "
                   "stopped, or takes fewer steps than this one (DistributedDataContainer shares of "
                   "different sizes give different numbers of batches: see its partial= option)")
        elif "connection" in low or "peer" in low or "broken pipe" in low:
            why = ("lost another worker, which has exited or crashed (or took fewer steps and "
                   "finished early)")
        else:
            raise
        raise RuntimeError(f"{fname}: this worker {why}. initialize(timeout=...) sets how long a worker "
                           f"waits (default {DEFAULT_TIMEOUT:.0f} s). The backend said: {msg[:300]}") from e


def _finalize():
    """At exit, leave the group cleanly (Flux's scripts have no finalize step)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def initialized(backend=None):
    """True once :func:`initialize` (or ``torch.distributed.init_process_group``) has run,
    for ``backend`` when one is named (``DistributedUtils.initialized``).

    >>> initialized(), initialized(NCCLBackend)
    (False, False)
    """
    if not dist.is_available() or not dist.is_initialized():
        return False
    return backend is None or _kind(dist.get_backend()) is _torch_type(backend)


def _kind(name):
    return NCCLBackend if "nccl" in name else GlooBackend if "gloo" in name else DistributedBackend


def _torch_type(backend):
    return backend if isinstance(backend, type) else _kind(_torch_name(backend))


def get_distributed_backend(backend=None):
    """The backend of the initialised workers (``DistributedUtils.get_distributed_backend``);
    naming one (``NCCLBackend``, ``"gloo"``) checks it is the one in use.

    >>> import torch.distributed as dist
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> get_distributed_backend()
    GlooBackend()
    >>> dist.destroy_process_group()
    """
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("get_distributed_backend: torch.distributed is not initialised; call "
                           "DistributedUtils.initialize() first, in a script run by torchrun")
    kind = _kind(dist.get_backend())
    if backend is not None and _torch_type(backend) is not kind:
        raise RuntimeError(f"get_distributed_backend({getattr(backend, '__name__', backend)!r}): "
                           f"the workers were initialised with {dist.get_backend()!r}, not this backend")
    if kind is DistributedBackend:
        out = DistributedBackend()
        out.name = dist.get_backend()
        return out
    return kind()


def group_of(backend, fname):
    """The process group of ``backend`` (None: all workers), checking one is initialised."""
    if backend is not None and not isinstance(backend, DistributedBackend):
        raise TypeError(f"{fname} expects a backend from get_distributed_backend(), but got {backend!r}")
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError(f"{fname}: torch.distributed is not initialised; call "
                           "DistributedUtils.initialize() first, in a script run by torchrun "
                           "(torchrun --nproc_per_node=2 script.py)")
    return None if backend is None else backend.group


def local_rank(backend=None):
    """This worker's number, from 0 to ``total_workers() - 1`` (``DistributedUtils.local_rank``).

    As in Flux it counts all the workers (torch's global rank), not those of one machine
    (torchrun's ``LOCAL_RANK``, which picks the GPU).

    >>> import torch.distributed as dist
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> local_rank(), local_rank(get_distributed_backend())
    (0, 0)
    >>> dist.destroy_process_group()
    """
    return dist.get_rank(group_of(backend, "local_rank"))


def total_workers(backend=None):
    """How many workers train together (``DistributedUtils.total_workers``).

    >>> import torch.distributed as dist
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> total_workers()
    1
    >>> dist.destroy_process_group()
    """
    return dist.get_world_size(group_of(backend, "total_workers"))


def split_args(args, n, fname, what):
    """Flux's optional leading backend argument: ``(backend, *rest)`` or ``rest``."""
    backend = None
    if args and isinstance(args[0], DistributedBackend):
        backend, args = args[0], args[1:]
    elif args and isinstance(args[0], type) and issubclass(args[0], DistributedBackend):
        raise TypeError(f"{fname} expects a backend object, get_distributed_backend(), but got the "
                        f"type {args[0].__name__}; or leave it out to use the initialised workers")
    if len(args) != n:
        raise TypeError(f"{fname} expects {what}, optionally after a backend, "
                        f"but got {len(args)} arguments")
    return backend, args
