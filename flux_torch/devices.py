"""Devices and dtypes: the one place where data and models are converted.

Every function and layer that takes data calls :func:`as_tensor` (for plain data)
or :func:`match_input` (for data entering a layer with parameters), so numpy
arrays, Python lists and numbers are accepted everywhere and the float64
warning is issued from a single place.
"""
import numbers
import warnings

import numpy as np
import torch

from ._show import inline
from .functors.maps import fmap_converting
from ._types import T

__all__ = ["as_tensor", "match_input", "gpu", "cpu"]

_warned_f64 = False


def as_tensor(x, dtype=None):
    """Return ``x`` as a tensor: tensors pass through, numpy arrays are shared
    (``torch.from_numpy``), Python numbers and lists are copied.

    Integer and bool data is promoted to the default float dtype only when
    ``dtype`` asks for it; ``dtype=None`` keeps the natural dtype.

    >>> as_tensor([1.0, 2.0])
    tensor([1., 2.])
    >>> as_tensor(np.zeros(2, dtype=np.float32)).dtype
    torch.float32
    """
    if isinstance(x, torch.Tensor):
        return x if dtype is None else x.to(dtype)
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x)) if x.dtype != np.object_ else torch.tensor(x.tolist())
        return t if dtype is None else t.to(dtype)
    if isinstance(x, range):      # Julia's 1:n, written range(1, n + 1)
        return torch.tensor(list(x), dtype=dtype)
    if isinstance(x, (numbers.Number, list, tuple, np.generic)):
        return torch.tensor(x, dtype=dtype)
    raise TypeError(
        f"expected a tensor, numpy array, list or number, but got {type(x).__name__}; "
        "convert it with torch.as_tensor first"
    )


def _label(layer):
    """How an error names a layer: its one-line form (strings pass through)."""
    if isinstance(layer, str):
        return layer
    return inline(layer)


def match_input(layer, x, like):
    """Convert ``x`` for a layer whose parameters look like ``like``.

    Float64 input to a float32 layer is converted with a warning issued once per
    process (as Flux >= 0.13 does); integer and bool input is converted silently;
    a tensor on another device is refused with a message naming ``layer``.

    >>> w = torch.zeros(2, 3)
    >>> match_input("Dense(3, 2)", [1, 2, 3], w)
    tensor([1., 2., 3.])
    """
    global _warned_f64
    if not isinstance(x, torch.Tensor):
        x = as_tensor(x)
    if x.dtype != like.dtype:
        if x.is_complex() and not like.is_complex():
            raise TypeError(f"{_label(layer)} has real {str(like.dtype).replace('torch.', '')} parameters "
                            f"but got complex input of dtype {x.dtype}; pass x.real or x.abs(), "
                            "or build the layer with complex parameters")
        if not (x.is_floating_point() or x.is_complex()):
            x = x.to(like.dtype)
        elif x.dtype == torch.float64 and like.dtype != torch.float64:
            if not _warned_f64:
                _warned_f64 = True
                warnings.warn(
                    f"{_label(layer)} has {str(like.dtype).replace('torch.', '')} parameters but got "
                    "float64 input; converting it (this warning is shown once). "
                    "Use f32(x) on the data, or f64(model) to compute in float64.",
                    UserWarning, stacklevel=3,
                )
            x = x.to(like.dtype)
        else:
            x = x.to(like.dtype)
    if x.device != like.device:
        raise RuntimeError(
            f"{_label(layer)} has parameters on {like.device} but got input on {x.device}; "
            f"move the data with {'gpu(x)' if like.device.type != 'cpu' else 'cpu(x)'} "
            "or the model with gpu(model)/cpu(model)"
        )
    return x


# ------------------------------------------------------------ moving whole models

_warned_no_gpu = False
_ACCEL = []   # the accelerator found by the first gpu() call: [device or None]


def _accelerator():
    if not _ACCEL:
        dev = None
        if torch.cuda.is_available():
            dev = torch.device("cuda")
        else:
            mps = getattr(torch.backends, "mps", None)
            if mps is not None and mps.is_available():
                dev = torch.device("mps")
        _ACCEL.append(dev)
    return _ACCEL[0]


def _adapt(x, leaf):
    """Apply ``leaf`` to every tensor and numpy array in ``x``: models, containers,
    ``nn.Module``s; a DataLoader-like object (with ``with_transform``) converts each batch.
    A part whose tensors all stay as they are is given back itself (as ``tensor.to`` does)."""
    if hasattr(x, "with_transform") and not isinstance(x, torch.Tensor):
        return x.with_transform(lambda batch: _adapt(batch, leaf))

    def each(t):
        if type(t) is torch.Tensor:
            return leaf(t)
        if isinstance(t, (torch.Tensor, np.ndarray)):
            return _convert(leaf, t)
        return t
    return fmap_converting(each, x)


def _convert(leaf, t):
    if type(t) is not torch.Tensor and isinstance(t, torch.nn.Parameter):   # a module's parameter
        with torch.no_grad():
            return leaf(t)
    return leaf(t)


def gpu(x: T) -> T:
    """Move ``x`` to the accelerator (CUDA, else MPS), float64 becoming float32 (``Flux.gpu``).

    Works on tensors, numpy arrays, models, ``nn.Module``s, dicts, lists, tuples and
    DataLoaders; tied tensors stay tied. Without an accelerator ``x`` comes back
    unchanged, with a warning shown once.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     y = gpu(torch.ones(2))
    >>> y.device.type in ("cpu", "cuda", "mps")
    True
    """
    global _warned_no_gpu
    dev = _accelerator()
    if dev is None:
        if not _warned_no_gpu:
            _warned_no_gpu = True
            warnings.warn("gpu: no CUDA or MPS device is available, so the model stays on the CPU "
                          "(this warning is shown once)", UserWarning, stacklevel=2)
        return x

    return _adapt(x, _mover(dev))


def _mover(dev):
    def move(t):
        t = as_tensor(t) if isinstance(t, np.ndarray) else t
        dtype = torch.float32 if t.dtype == torch.float64 else None
        return t.to(device=dev, dtype=dtype, non_blocking=True)
    return move


def cpu(x: T) -> T:
    """Move ``x`` back to the CPU (``Flux.cpu``); numpy arrays are left alone.

    >>> cpu({"w": torch.ones(2)})["w"].device
    device(type='cpu')
    """
    return _adapt(x, lambda t: t.cpu() if isinstance(t, torch.Tensor) else t)
