"""flux_torch: Flux.jl's user API in Python, running on PyTorch.

``import flux_torch as Flux`` and port a Flux tutorial line by line: see
``docs/porting.md`` for the rules.
"""
from . import _torch_floor  # noqa: F401  (first: an older torch is refused with a clear message)
from ._versions import missing_in_v016
from . import data as Data
from . import distributed as DistributedUtils
from . import losses as Losses
from .device_objects import (AMDGPUDevice, CPUDevice, CUDADevice, Device, MetalDevice, cpu_device,
                             default_device_rng, get_device, get_device_type, gpu_device,
                             oneAPIDevice, supported_devices, supported_gpu_backends)
from .devices import cpu, gpu
from .precision import bf16, f16, f32, f64
from .functors import (KeyPath, children, fcollect, fleaves, fmap, fmap_with_path, fmapstructure,
                       fmapstructure_with_path, functor, getkeypath, haskeypath, isleaf, modules,
                       trainable)
from .gradient import WithGradient, gradient, ignore_derivatives, pullback, withgradient
from .grads import Grads
from .jacobian import diaghessian, hessian, hessian_reverse, jacobian, withjacobian
from .modes import istraining, testmode_, trainmode_
from .params import Params, params, trainables
from .activation import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .init import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .layers.macro import layer
from .losses import *  # noqa: F401,F403
from .compile import CompiledStep, compile_step
from .destructure import Restructure, destructure
from .distributed import MPIBackend, NCCLBackend
from .from_torch import from_torch, swap_batch_time
from .io import load, save
from .outputsize import LazyLayer, autosize, autosizefor, outputsize, striplazy
from .optimise import *  # noqa: F401,F403
from .softmax import logsoftmax, logsumexp, softmax
from .state import loadmodel_, state
from .to_torch import TorchView, to_torch
from .training import train_
from .trainstep import trainstep_, trainstep_withgradient_
from .adtypes import (AbstractADType, AutoEnzyme, AutoFiniteDifferences, AutoForwardDiff, AutoMooncake,
                      AutoReverseDiff, AutoZygote)
from .progress import progress  # after .training, which imports the module of the same name

from . import functors as Functors  # noqa: E402  (Flux.Functors.fmap)
from . import zygote as Zygote  # noqa: E402  (Flux.Zygote.gradient)
from . import nnlib as NNlib  # noqa: E402  (Flux.NNlib.softmax)
from . import optimisers as Optimise  # noqa: E402  (Flux.Optimise.train_, .Adam)
from . import optimisers as Optimisers  # noqa: E402  (Flux.Optimisers.Adam, .setup)
from .checkpoint.rule_text import register_rule  # noqa: E402
from . import activation, data, init, layers, losses, optimise  # noqa: E402,F811  (the submodules by name)

__version__ = "0.1.0"
__flux_version__ = "0.16.11"    # the Flux this namespace follows; flux_torch.v014 follows 0.14.25


def __getattr__(name):          # flux_torch.v014 on first use; v0.14-only names say where they are
    if name == "v014":
        import importlib
        return importlib.import_module(".v014", __name__)
    if name.startswith("__"):
        raise AttributeError(f"module 'flux_torch' has no attribute {name!r}")
    if name + "_" in globals():        # Julia's train! is train_ here
        raise AttributeError(f"module 'flux_torch' has no attribute {name!r}: Julia's {name}! is "
                             f"{name}_ in flux_torch (a trailing ! becomes _), e.g. Flux.{name}_(...)")
    raise missing_in_v016(name)


__all__ = list(dict.fromkeys(
    ["gradient", "withgradient", "pullback", "jacobian", "hessian", "WithGradient",
     "withjacobian", "hessian_reverse", "diaghessian", "ignore_derivatives",
     "params", "Params", "Grads", "trainables",
     "functor", "layer", "children", "trainable", "fmap", "fmapstructure", "fleaves", "fcollect",
     "fmap_with_path", "fmapstructure_with_path", "KeyPath", "getkeypath", "haskeypath",
     "modules", "isleaf",
     "gpu", "cpu", "f16", "f32", "f64", "bf16", "Device", "gpu_device", "cpu_device",
     "CPUDevice", "CUDADevice", "MetalDevice", "oneAPIDevice", "AMDGPUDevice", "get_device_type",
     "get_device", "supported_devices", "supported_gpu_backends", "default_device_rng",
     "istraining", "testmode_", "trainmode_",
     "softmax", "logsoftmax", "logsumexp", "Losses", "Data",
     "state", "loadmodel_", "save", "load", "Optimise", "Optimisers", "Zygote", "Functors", "NNlib",
     "to_torch", "TorchView", "from_torch", "swap_batch_time", "destructure", "Restructure",
     "compile_step", "CompiledStep", "trainstep_", "trainstep_withgradient_", "AbstractADType",
     "AutoZygote", "AutoEnzyme", "AutoMooncake", "AutoFiniteDifferences", "AutoForwardDiff",
     "AutoReverseDiff", "DistributedUtils", "MPIBackend", "NCCLBackend",
     "outputsize", "autosize", "progress", "train_"]
    + list(activation.__all__) + list(init.__all__) + list(layers.__all__)
    + list(losses.__all__) + list(data.__all__)
    + list(optimise.__all__) + ["register_rule"]
))
