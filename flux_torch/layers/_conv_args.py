"""Arguments shared by the convolution and pooling layers: ``SamePad``, tuple
expansion, Flux's padding forms, option printing and the input check.

Spatial tuples are in data order, the reverse of Julia's: a kernel ``(kH, kW)``
here is Flux's ``(kW, kH)``. Padding comes in Flux's forms:

- an int: the same padding on every side;
- a tuple of ``N`` ints, one per spatial dim in data order ``(pH, pW)``, symmetric;
- a tuple of ``2N`` ints in ``F.pad`` order, last dim first:
  ``(left, right, top, bottom)`` for images. This is Flux's tuple unchanged,
  since Julia's first dim (W) is torch's last;
- ``SamePad()``.
"""

import numpy as np
import torch

from ..devices import as_tensor, match_input
from .._show import fn_name, inline
from ..activation import identity

__all__ = ["SamePad"]


class SamePad:
    """Padding that keeps ``output size == ceil(input size / stride)`` (``Flux.SamePad``).

    When the total padding of a dim is odd, the extra element goes at the start,
    as in Flux (torch's ``padding="same"`` puts it at the end).

    >>> from flux_torch.layers.conv import Conv
    >>> Conv((2, 2), 3, 7, pad=SamePad())
    Conv((2, 2), 3, 7, pad=(1, 0, 1, 0))  # 91 parameters
    >>> Conv((2, 2), 3, 7, pad=SamePad())(torch.rand(50, 3, 100, 100)).shape
    torch.Size([50, 7, 100, 100])
    """

    def __repr__(self):
        return "SamePad()"

    def __eq__(self, other):
        return isinstance(other, SamePad)

    def __hash__(self):
        return hash(SamePad)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def int_tuple(v, name, what):
    """``v`` (a tuple or list of ints) as a tuple; a TypeError naming ``name`` otherwise."""
    if isinstance(v, (tuple, list, torch.Size)) and len(v) > 0 and all(_is_int(i) for i in v):
        return tuple(v)
    raise TypeError(f"{name} expects {what} as a tuple of integers, like (3, 3), but got {v!r}")


_LEAST = {"stride": 1, "dilation": 0, "outpad": 0}   # NNlib accepts dilation 0 (see collapse_dilation)


def expand(n, v, name, key):
    """An int or an ``n``-tuple (Flux's ``expand``) as an ``n``-tuple."""
    if _is_int(v):
        v = (v,) * n
    else:
        v = int_tuple(v, name, key)
        if len(v) != n:
            raise ValueError(f"{name} has {n} spatial dims, so {key}= must be an int or a tuple "
                             f"of {n} ints, but got {v!r}")
    least = _LEAST.get(key, 0)
    if min(v) < least:
        raise ValueError(f"{name} expects {key}= of at least {least} in every dim, but got {v!r}")
    return v


def collapse_dilation(w, dilation):
    """``(weight, dilation)`` with each dim of dilation 0 made a dilation-1 dim of size 1.

    NNlib accepts dilation 0 (Flux's tests build it as ``k ÷ 2`` for ``k = 1``): every tap of
    that dim reads the same input element, so the kernel acts as its sum along the dim.
    torch refuses dilation 0, so the kernel is summed (``keepdim``) and the dilation set to 1.
    """
    dims = [2 + i for i, d in enumerate(dilation) if d == 0]
    return w.sum(dim=dims, keepdim=True), tuple(d or 1 for d in dilation)


def calc_padding(pad, k, dilation, stride, name):
    """Flux's ``calc_padding``: the stored padding (an ``N`` or ``2N`` tuple)."""
    n = len(k)
    if isinstance(pad, SamePad):
        out = []
        for kk, d in zip(reversed(k), reversed(dilation)):    # F.pad order: last dim first
            amt = kk + (kk - 1) * (d - 1) - 1
            out += [-(-amt // 2), amt // 2]
        return tuple(out)
    if _is_int(pad):
        return (pad,) * (2 * n)
    pad = int_tuple(pad, name, "pad")
    if len(pad) not in (n, 2 * n):
        raise ValueError(
            f"{name} has {n} spatial dims, so pad= must be an int, {n} ints (one per dim, in "
            f"data order), {2 * n} ints (F.pad order: last dim first, as (left, right, top, "
            f"bottom) for images) or SamePad(), but got {pad!r}")
    return pad


def pad_pairs(pad, n):
    """(start pads, end pads) of a stored pad, each a tuple in data order."""
    if len(pad) == n:
        return tuple(pad), tuple(pad)
    return (tuple(pad[2 * (n - 1 - i)] for i in range(n)),
            tuple(pad[2 * (n - 1 - i) + 1] for i in range(n)))


def torch_padding(pad, n):
    """(padding for torch's ``padding=``, list for ``F.pad`` or None) of a stored pad.
    Layers keep the answer in their own caches of call settings."""
    lo, hi = pad_pairs(pad, n)
    if lo == hi and min(lo) >= 0:
        return lo, None
    return (0,) * n, [p for i in reversed(range(n)) for p in (lo[i], hi[i])]


def torch_arg(t):
    """A stride/padding/dilation tuple for torch: one int when its entries agree (torch parses
    an int faster than a tuple, and reads it as the same value on every dim)."""
    if not isinstance(t, tuple):
        return t
    return t[0] if all(v == t[0] for v in t) else t


def tuple_string(t):
    """Flux's ``_maybetuple_string``: one int when all entries agree."""
    return str(t[0]) if all(v == t[0] for v in t) else str(tuple(t))


def conv_options(layer):
    """The optional part of a conv layer's printed form (Flux's ``_print_conv_opt``)."""
    s = ""
    if layer.σ is not identity:
        s += f", {fn_name(layer.σ)}"
    if any(p != 0 for p in layer.pad):
        s += f", pad={tuple_string(layer.pad)}"
    if any(v != 1 for v in layer.stride):
        s += f", stride={tuple_string(layer.stride)}"
    if any(v != 1 for v in layer.dilation):
        s += f", dilation={tuple_string(layer.dilation)}"
    if getattr(layer, "groups", 1) != 1:
        s += f", groups={layer.groups}"
    if layer.bias is None:
        s += ", bias=False"
    return s


def _is_activation(v):
    return callable(v) and not isinstance(v, (torch.Tensor, np.ndarray, bool))


def conv_args(name, k, args, bias, kw):
    """Parse a conv layer's positional forms: ``(k, in, out[, σ])``, ``(k, (in, out)[, σ])``
    or ``(weight[, bias][, σ])``. Returns (weight or None, (in, out) or None, bias, σ)."""
    if isinstance(k, (torch.Tensor, np.ndarray)):
        w = as_tensor(k)
        if not w.is_floating_point():
            w = w.to(torch.float32)
        if not 3 <= w.dim() <= 5:
            raise ValueError(f"{name}(weight) expects a weight with 1 to 3 spatial dims, like "
                             f"(out, in, kH, kW), but got shape {tuple(w.shape)}")
        if len(args) > 2:
            raise TypeError(f"{name}(weight, bias, σ) takes at most 3 positional arguments, "
                            f"but got {1 + len(args)}")
        σ = identity
        if args and _is_activation(args[0]):
            σ, args = args[0], args[1:]
        if args:
            bias = args[0]
            σ = args[1] if len(args) > 1 else σ
        return w, None, bias, activation_kw(σ, kw, name)
    if _is_int(k):
        raise TypeError(f"{name} expects the kernel size as a tuple, like {name}(({k}, {k}), ...) "
                        f"for images or {name}(({k},), ...) for sequences, but got the int {k}")
    k = int_tuple(k, name, "the kernel size")
    if isinstance(args[0] if args else None, (tuple, list)):
        ch, rest = tuple(args[0]), args[1:]
    else:
        ch, rest = tuple(args[:2]), args[2:]
    if len(ch) != 2 or not all(_is_int(c) and c > 0 for c in ch) or len(rest) > 1:
        raise TypeError(f"{name} expects {name}(kernel, in, out, σ) or {name}(kernel, (in, out), σ) "
                        f"(Flux's in => out) with positive integer channels, but got "
                        f"{name}{(k,) + tuple(args)!r}")
    σ = rest[0] if rest else identity
    return None, ch, bias, activation_kw(σ, kw, name)


def init_weight(name, init, *shape):
    """``init(*shape)`` as a tensor, refused unless it has that shape (Flux's ``_sizecheck``)."""
    w = init(*shape)
    w = w if isinstance(w, torch.Tensor) else as_tensor(w)
    if tuple(w.shape) != shape:
        raise ValueError(f"{name}: init{shape} returned an array of shape {tuple(w.shape)}; an "
                         "initialiser must return an array of the shape it is given")
    return w


def activation_kw(σ, kw, name):
    """The activation, also given as keyword ``σ``, ``sigma`` or ``activation``."""
    for key in ("σ", "sigma", "activation"):
        if key in kw:
            σ = kw.pop(key)
    if kw:
        raise TypeError(f"{name} got unexpected keyword arguments {sorted(kw)}")
    if not callable(σ):
        raise TypeError(f"{name} expects an activation function, but got {σ!r}")
    return σ


_LAYOUT = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def input_error(layer, x, n, channels=None):
    """A ValueError for input ``x`` of the wrong shape for ``layer`` with ``n`` spatial dims."""
    nd = n + 2
    shape = tuple(x.shape)
    want = f"a {nd}-dimensional input {_LAYOUT.get(n, '(N, C, spatial...)')}"
    if channels is not None:
        want += f" with {channels} channel{'s' if channels != 1 else ''} (x.shape[1] == {channels})"
    msg = f"{inline(layer)} expects {want}, but got a tensor of shape {shape}"
    reverse = ", ".join(str(i) for i in reversed(range(nd)))
    if x.dim() == nd and channels is not None and shape[-2] == channels:
        msg += (f"; flux_torch puts the batch first and the channels second (Flux's WHCN is "
                f"NCHW here): did you mean x.permute({reverse})?")
    elif x.dim() == nd and channels is not None and shape[-1] == channels:
        last = ", ".join(str(i) for i in range(1, nd - 1))
        msg += f"; channels come second, not last: did you mean x.permute(0, {nd - 1}, {last})?"
    elif x.dim() == nd - 1 and (channels is None or shape[0] == channels):
        msg += "; the batch dim comes first: for a single sample use x.unsqueeze(0)"
    elif x.dim() == nd:
        msg += "; check the number of channels the previous layer gives"
    else:
        msg += "; flux_torch puts the batch first: Flux's size (W, H, C, N) is shape (N, C, H, W) here"
    return ValueError(msg)


def float_input(x):
    """Data for a layer without parameters: a tensor, integers promoted to float."""
    if type(x) is not torch.Tensor:
        x = as_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.get_default_dtype())
    return x


def guarded_call(layer, x, op, channels):
    """``op(x, weight)`` for a conv-like layer, straight to torch on the hot path; only when
    torch refuses is the input converted (dtype, device, numpy...) or the shape explained,
    naming the layer and the ``channels`` it expects at dim 1."""
    w = layer.weight
    if type(x) is torch.Tensor and x.dim() == w.dim():
        try:
            return op(x, w)
        except RuntimeError:
            pass            # convert the input or say what is wrong, below
    if type(x) is not torch.Tensor or x.dtype != w.dtype or x.device != w.device:
        x = match_input(layer, x, w)
    n = w.dim() - 2
    if x.dim() != n + 2 or x.shape[1] != channels:
        raise input_error(layer, x, n, channels)
    try:
        return op(x, w)
    except RuntimeError as err:
        if "size" not in str(err):
            raise
        k = tuple(w.shape[2:])
        raise ValueError(f"{inline(layer)} cannot slide its kernel {k} (dilation "
                         f"{getattr(layer, 'dilation', None)}) over input of shape {tuple(x.shape)} "
                         f"padded by {getattr(layer, 'pad', None)}: the input is too small "
                         f"(torch: {err})") from None
