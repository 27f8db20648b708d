"""Devices as objects (MLDataDevices, which Flux v0.16 re-exports): ``gpu_device()``, ``cpu_device()``.

A device object moves whatever it is called on, as ``gpu``/``cpu`` do (``devices.py`` holds
that one conversion): ``model = device(model)``, ``x = device(x)``, and a data loader
called with it yields its batches on the device. ``get_device_type(x)`` says where a
model or tensor lives. Flux's older ``get_device()`` and ``supported_devices()`` still
work, with Flux's deprecation warnings (``flux_torch.v014.get_device`` without one).

>>> dev = cpu_device()
>>> dev, dev(torch.ones(1)).device
(CPUDevice(), device(type='cpu'))
>>> get_device_type(Dense(2, 3)) is CPUDevice
True
"""
import warnings
from typing import Any, Optional, Tuple, Union

import numpy as np
import torch

from .devices import _accelerator, _adapt, _mover, cpu, gpu
from .functors import fleaves, leaf

__all__ = ["Device", "CPUDevice", "CUDADevice", "MetalDevice", "oneAPIDevice", "AMDGPUDevice",
           "gpu_device", "cpu_device", "get_device_type", "get_device", "supported_devices",
           "supported_gpu_backends", "default_device_rng"]


@leaf
class Device:
    """A device as a callable (MLDataDevices' device objects): ``model = device(model)``.

    ``Device("cuda:1")`` gives the object of that kind (here a :class:`CUDADevice`).

    >>> Device("cpu")
    CPUDevice()
    """

    kind = None      # the torch device type of the subclass

    def __new__(cls, device=None):
        if cls is Device:
            dev = torch.device(device)
            cls = _KINDS.get(dev.type)
            if cls is None:
                raise ValueError(f"Device: no device object for torch device type {dev.type!r}; "
                                 f"the kinds are {sorted(_KINDS)}")
            return cls(dev.index)
        return object.__new__(cls)

    def __init__(self, device=None):
        if isinstance(device, str):
            device = torch.device(device)
        index = device.index if isinstance(device, torch.device) else device
        self.device = torch.device(self.kind if index is None else f"{self.kind}:{index}")

    def __call__(self, x):
        if self.device.type == "cpu":
            return cpu(x)
        return _adapt(x, _mover(self.device))

    def __eq__(self, other):
        return isinstance(other, Device) and other.device == self.device

    def __hash__(self):
        return hash(self.device)

    def __repr__(self):
        index = self.device.index
        return f"{type(self).__name__}({'' if index is None else index})"


class CPUDevice(Device):
    """The CPU (``MLDataDevices.CPUDevice``).

    >>> CPUDevice()(np.ones(2)).dtype
    dtype('float64')
    """

    kind = "cpu"


class CUDADevice(Device):
    """An NVIDIA GPU (``MLDataDevices.CUDADevice``); ``CUDADevice(1)`` for the second one."""

    kind = "cuda"


class MetalDevice(Device):
    """An Apple GPU through torch's MPS backend (``MLDataDevices.MetalDevice``)."""

    kind = "mps"


class oneAPIDevice(Device):  # noqa: N801  (MLDataDevices' name)
    """An Intel GPU through torch's XPU backend (``MLDataDevices.oneAPIDevice``)."""

    kind = "xpu"


class AMDGPUDevice(CUDADevice):
    """An AMD GPU (``MLDataDevices.AMDGPUDevice``): torch's ROCm build calls it ``cuda``."""


_KINDS = {"cpu": CPUDevice, "cuda": CUDADevice, "mps": MetalDevice, "xpu": oneAPIDevice}


def cpu_device() -> CPUDevice:
    """The CPU as a device object (``MLDataDevices.cpu_device``).

    >>> cpu_device()
    CPUDevice()
    """
    return CPUDevice()


def gpu_device(device_id: Optional[int] = None, *, force: bool = False) -> Device:
    """The accelerator as a device object (``MLDataDevices.gpu_device``): CUDA, else MPS.

    ``device_id`` counts from 0, as torch does (``gpu_device(1)`` is ``cuda:1``, the second
    GPU, which Julia's MLDataDevices calls ``gpu_device(2)``: the porting rule for 1-based
    numbers). Without an accelerator it gives :func:`cpu_device` with a warning shown once,
    or raises with ``force=True``.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     d = gpu_device()
    >>> isinstance(d, Device)
    True
    """
    dev = _accelerator()
    if dev is None:
        if force:
            raise RuntimeError("gpu_device(force=True): no CUDA or MPS device is available")
        gpu(None)     # the shared one-time warning
        return cpu_device()
    if device_id is None:
        return Device(dev)
    if not isinstance(device_id, int) or isinstance(device_id, bool) or device_id < 0:
        raise ValueError(f"gpu_device expects a device number counting from 0 (torch's; Julia's "
                         f"gpu_device(1) is gpu_device(0) here), but got {device_id!r}")
    return Device(torch.device(dev.type, device_id))


def get_device_type(x: Any) -> Optional[type]:
    """The class of device that ``x`` (a tensor, array or model) lives on
    (``MLDataDevices.get_device_type``): ``CPUDevice`` for numpy arrays and CPU tensors;
    ``None`` when ``x`` holds no array at all.

    >>> get_device_type(torch.zeros(1)) is CPUDevice, get_device_type(3) is None
    (True, True)
    """
    kinds = {type(Device(t.device)) for t in _arrays(x) if isinstance(t, torch.Tensor)}
    if any(isinstance(t, np.ndarray) for t in _arrays(x)):
        kinds.add(CPUDevice)
    if not kinds:
        return None
    if len(kinds) > 1:
        raise ValueError(f"get_device_type: the arrays of this object live on different kinds of "
                         f"device ({sorted(k.__name__ for k in kinds)}); move them with one device "
                         "object first")
    return kinds.pop()


def _arrays(x):
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return [x]
    return [t for t in fleaves(x) if isinstance(t, (torch.Tensor, np.ndarray))]


def get_device(*args: Any, verbose: bool = False) -> Device:
    """Flux v0.14's ``get_device()``, deprecated in v0.16 for :func:`gpu_device`, with its warning.
    ``get_device("CUDA", i)`` (0-based ``i``, as in Flux) is ``gpu_device(i)``; ``get_device("CPU")``
    the CPU.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     d = get_device("CPU")
    >>> d, w[0].category.__name__
    (CPUDevice(), 'DeprecationWarning')
    """
    if not args:
        warnings.warn("get_device() is deprecated. Use `gpu_device()` instead.", DeprecationWarning,
                      stacklevel=2)
    else:
        warnings.warn("get_device(backend::String, idx::Int) is deprecated. Use `gpu_device(idx)` "
                      "instead.", DeprecationWarning, stacklevel=2)
    return get_device_v014(*args)


def get_device_v014(backend=None, idx=0):
    """Flux v0.14's ``get_device`` (``flux_torch.v014.get_device``): the accelerator's device object,
    or that of ``backend`` (``"CUDA"``, ``"Metal"``, ``"CPU"``...) and device ``idx`` (0-based).

    >>> get_device_v014("CPU")
    CPUDevice()
    """
    if backend is None:
        return gpu_device()
    name = {"AMD": "AMDGPU"}.get(backend, backend)
    if name == "CPU":
        return cpu_device()
    if name not in supported_gpu_backends():
        raise ValueError(f"get_device: unknown backend {backend!r}; the backends are "
                         f"{supported_gpu_backends()} and 'CPU'")
    return gpu_device(idx, force=True)


def supported_gpu_backends() -> Tuple[str, ...]:
    """The names of the GPU backends (``MLDataDevices.supported_gpu_backends``).

    >>> supported_gpu_backends()
    ('CUDA', 'AMDGPU', 'Metal', 'oneAPI')
    """
    return ("CUDA", "AMDGPU", "Metal", "oneAPI")


def supported_devices() -> Tuple[str, ...]:
    """Flux's ``supported_devices()``, deprecated for :func:`supported_gpu_backends` (with its warning).

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     names = supported_devices()
    >>> "CUDA" in names
    True
    """
    warnings.warn("`supported_devices()` is deprecated. Use `supported_gpu_backends()` instead.",
                  DeprecationWarning, stacklevel=2)
    return supported_gpu_backends()


def default_device_rng(device: Union[Device, torch.device, str]) -> torch.Generator:
    """A new random generator on ``device`` (``MLDataDevices.default_device_rng``).

    >>> default_device_rng(cpu_device()).device
    device(type='cpu')
    """
    return torch.Generator(device=device.device if isinstance(device, Device) else device)
