"""``ConvTranspose`` (Flux's), on ``torch.nn.functional.conv_transpose{1,2,3}d``."""
import torch.nn.functional as F

from ..functors import functor
from .._show import Showable
from ..activation import identity
from ..init import create_bias, glorot_uniform
from ._conv_args import (SamePad, calc_padding, collapse_dilation, conv_args, conv_options, expand,
                         guarded_call, init_weight, pad_pairs, torch_arg, torch_padding)
from .conv import _groups

__all__ = ["ConvTranspose"]

_CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


@functor
class ConvTranspose(Showable):
    """A transposed convolution (``Flux.ConvTranspose``), as ``torch.nn.ConvTranspose{1,2,3}d``.

    ``ConvTranspose(kernel, in, out, σ)`` or ``ConvTranspose(kernel, (in, out), σ)``,
    or ``ConvTranspose(weight, bias=True, σ)`` from torch's ``(in, out/groups, k...)``
    weight (Flux's ``(k..., out/groups, in)`` reversed). Keywords as :class:`Conv`,
    plus ``outpad`` (extra output at the end of each dim). ``pad=SamePad()`` aims at
    ``output size == input size * stride``. Padding may be asymmetric and ``outpad``
    as large as wanted (torch's own limits are worked around with ``F.pad``).

    Flux's ConvTranspose is the adjoint of its true convolution; this one is the
    adjoint of torch's cross-correlation, so Flux weights load through
    ``from_flux_weight(w, ConvTranspose)``.

    >>> x = torch.rand(50, 3, 100, 100)
    >>> layer = ConvTranspose((5, 5), 3, 7, relu)
    >>> layer
    ConvTranspose((5, 5), 3, 7, relu)  # 532 parameters
    >>> layer(x).shape
    torch.Size([50, 7, 104, 104])
    >>> ConvTranspose((5, 5), 3, 7, stride=2)(x).shape
    torch.Size([50, 7, 203, 203])
    >>> ConvTranspose((5, 5), 3, 7, stride=2, outpad=1)(x).shape
    torch.Size([50, 7, 204, 204])
    >>> ConvTranspose((5, 5), 3, 7, stride=3, pad=SamePad())(x).shape
    torch.Size([50, 7, 300, 300])
    """

    def __init__(self, k, *args, stride=1, pad=0, outpad=0, dilation=1, groups=1, bias=True,
                 init=glorot_uniform, **kw):
        w, ch, bias, σ = conv_args("ConvTranspose", k, args, bias, kw)
        if w is None:
            _groups("ConvTranspose", groups, *ch)
            w = init_weight("ConvTranspose", init, ch[0], ch[1] // groups, *k)
        else:
            _groups("ConvTranspose", groups, w.shape[0], w.shape[1] * groups)
        n = w.dim() - 2
        k = tuple(w.shape[2:])
        self.σ = σ
        self.weight = w
        self.bias = create_bias(w, bias, w.shape[1] * groups)
        self.stride = expand(n, stride, "ConvTranspose", "stride")
        dilation = expand(n, dilation, "ConvTranspose", "dilation")
        kp = tuple(a - s + 1 for a, s in zip(k, self.stride)) if isinstance(pad, SamePad) else k
        self.pad = calc_padding(pad, kp, dilation, self.stride, "ConvTranspose")
        self.outpad = expand(n, outpad, "ConvTranspose", "outpad")
        self.dilation = dilation
        self.groups = groups

    def __call__(self, x):
        y = guarded_call(self, x, self._transpose, self.weight.shape[0])
        σ = self.σ
        return y if σ is identity else σ(y)

    def _transpose(self, x, w):
        n = w.dim() - 2
        outpad, stride, dilation = self.outpad, self.stride, self.dilation
        if 0 in dilation:
            w, dilation = collapse_dilation(w, dilation)
        args = _direct(self.pad, outpad, stride, dilation, n)
        if args is not None:
            return _CONVT[n](x, w, self.bias, args[0], args[1], args[2], self.groups, args[3])
        # torch refuses this padding: transpose unpadded, then crop/extend the output
        y = _CONVT[n](x, w, None, stride, 0, 0, self.groups, dilation)
        lo, hi = pad_pairs(self.pad, n)
        y = F.pad(y, [p for i in reversed(range(n)) for p in (-lo[i], outpad[i] - hi[i])])
        if self.bias is not None:
            y = y + self.bias.reshape(-1, *(1,) * n)
        return y

    def _inline(self):
        w = self.weight
        s = (f"ConvTranspose({tuple(w.shape[2:])}, {w.shape[0]}, {w.shape[1] * self.groups}"
             f"{conv_options(self)}")
        if any(self.outpad):
            s += f", outpad={self.outpad}"
        return s + ")"


_DIRECT = {}   # (pad, outpad, stride, dilation, n) -> _direct's answer (a plain dict: compile traces it)


def _direct(pad, outpad, stride, dilation, n):
    """(stride, padding, output padding, dilation) for torch's ``conv_transpose`` when it takes
    these settings as they are, else None. A tuple whose entries agree is given as one int,
    which torch parses faster."""
    key = (pad, outpad, stride, dilation, n)
    hit = _DIRECT.get(key, False)
    if hit is False:
        sym, fpad = torch_padding(pad, n)
        hit = None
        if fpad is None and all(o < max(s, d) for o, s, d in zip(outpad, stride, dilation)):
            hit = torch_arg(stride), torch_arg(sym), torch_arg(outpad), torch_arg(dilation)
        if len(_DIRECT) < 1024:
            _DIRECT[key] = hit
    return hit
