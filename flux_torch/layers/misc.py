"""Two small parametrised layers: ``Bilinear`` (two inputs, a 3-array of weights) and
``Scale`` (elementwise scale and shift)."""
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from ..devices import as_tensor, match_input
from ..functors import functor
from .._show import Showable, fn_name, inline
from ..activation import identity
from ..init import create_bias, glorot_uniform, ones32

__all__ = ["Bilinear", "Scale"]


def _is_int(n):
    return isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0


def _act(name, σ):
    if not callable(σ):
        raise TypeError(f"{name} expects an activation function, but got {σ!r}")
    return σ


def _bilinear_sizes(in_, out, σ):
    """Flux's ``(in1, in2) => out`` / ``in => out`` in Python forms; returns (in1, in2, out, σ)."""
    if out is None or callable(out):               # Bilinear((in, out), σ): a tuple for `=>`
        if out is not None:
            σ = out
        if not (isinstance(in_, tuple) and len(in_) == 2):
            raise TypeError(f"Bilinear expects sizes Bilinear((in1, in2), out, σ) or "
                            f"Bilinear(in, out, σ), but got {in_!r}")
        in_, out = in_
    if isinstance(in_, tuple) and len(in_) == 2:
        in1, in2 = in_
    else:
        in1 = in2 = in_
    if not all(_is_int(n) for n in (in1, in2, out)):
        raise TypeError(f"Bilinear expects sizes as non-negative integers, like Bilinear((5, 3), 7), "
                        f"but got in={in_!r}, out={out!r}")
    return in1, in2, out, σ


@functor
class Bilinear(Showable):
    """Fully connected between two inputs and the output (``Flux.Bilinear``):
    ``z[..., i] = σ(x @ weight[i] @ y + bias[i])``, i.e. ``torch.nn.functional.bilinear``.

    ``Bilinear((in1, in2), out, σ)``, ``Bilinear(in, out, σ)`` when ``in1 == in2``, or
    ``Bilinear(weight, bias=True, σ)`` from an ``(out, in1, in2)`` weight (Flux's layout,
    also torch's ``nn.Bilinear``). Keywords ``bias`` and ``init`` (``glorot_uniform``).
    Inputs ``x`` of shape ``(N, in1)`` and ``y`` of ``(N, in2)``, or vectors; ``B(x)`` is
    ``B(x, x)`` and ``B((x, y))`` is ``B(x, y)``, so it can follow a layer in a ``Chain``.

    >>> x, y = torch.randn(32, 5), torch.randn(32, 5)
    >>> B = Bilinear((5, 5), 7)
    >>> B
    Bilinear(5, 7)  # 182 parameters
    >>> B(x).shape
    torch.Size([32, 7])
    >>> torch.equal(B(x, y), B((x, y)))
    True
    >>> Bilinear(torch.rand(4, 8, 16), False, tanh)   # the first dim of the weight is the output
    Bilinear((8, 16), 4, tanh, bias=False)  # 512 parameters
    """

    def __init__(self, in_, out=None, σ=identity, *rest, bias=True, init=glorot_uniform):
        if isinstance(in_, (torch.Tensor, np.ndarray)):          # Bilinear(W, bias, σ)
            weight = as_tensor(in_)
            if out is not None:
                if isinstance(out, (bool, np.bool_, torch.Tensor, np.ndarray, list)):
                    bias = out
                else:
                    σ = out
            if weight.dim() != 3:
                raise ValueError(f"Bilinear(weight) expects a 3-dimensional weight of shape "
                                 f"(out, in1, in2), but got shape {tuple(weight.shape)}")
        else:
            if rest or (_is_int(in_) and _is_int(out) and _is_int(σ)):   # Bilinear(in1, in2, out, σ)
                in_, out, σ = (in_, out), σ, (rest[0] if rest else identity)
            in1, in2, out, σ = _bilinear_sizes(in_, out, σ)
            weight = init(out, in1, in2)
        self.weight = weight
        self.bias = create_bias(weight, bias, weight.shape[0])
        self.σ = _act("Bilinear", σ)

    def __call__(self, x, y=None):
        if y is None:
            if type(x) is tuple:
                if len(x) != 2:
                    raise ValueError(f"{inline(self)} takes a pair (x, y), but got a tuple of {len(x)}")
                x, y = x
            else:
                y = x
        w = self.weight
        x = x if type(x) is torch.Tensor and x.dtype == w.dtype else match_input(self, x, w)
        y = y if type(y) is torch.Tensor and y.dtype == w.dtype else match_input(self, y, w)
        _, n1, n2 = w.shape
        if x.dim() == 0 or y.dim() == 0 or x.shape[-1] != n1 or y.shape[-1] != n2:
            raise ValueError(f"{inline(self)} expects x.shape[-1] == {n1} and y.shape[-1] == {n2}, "
                             f"but got shapes {tuple(x.shape)} and {tuple(y.shape)}; the features "
                             "come last, (N, in), batch first")
        if x.shape[:-1] != y.shape[:-1]:
            raise ValueError(f"{inline(self)} expects x and y with the same batch size, but got "
                             f"shapes {tuple(x.shape)} and {tuple(y.shape)}")
        z = F.bilinear(x, y, w, self.bias)
        return z if self.σ is identity else self.σ(z)

    def _inline(self):
        out, in1, in2 = self.weight.shape
        s = f"Bilinear({in1}, {out}" if in1 == in2 else f"Bilinear(({in1}, {in2}), {out}"
        if self.σ is not identity:
            s += f", {fn_name(self.σ)}"
        if self.bias is None:
            s += ", bias=False"
        return s + ")"


@functor
class Scale(Showable):
    """Elementwise ``y = σ(scale * x + bias)`` (``Flux.Scale``), broadcasting over the
    trailing dims of ``x``.

    ``Scale(*size, σ)`` makes ``scale = init(*size)`` (``init=ones32``) and a zero bias
    (``bias=False`` for none); ``Scale(scale, bias=True, σ)`` takes the array. ``size``
    are the trailing dims of the batch-first input: Flux's ``Scale(a, b)`` for
    ``a × b × N`` data is ``Scale(b, a)`` for ``(N, b, a)`` data here.

    >>> a = Scale(2)
    >>> a
    Scale(2)  # 4 parameters
    >>> a([[1, 2], [3, 4], [5, 6]])
    tensor([[1., 2.],
            [3., 4.],
            [5., 6.]])
    >>> b = Scale(torch.tensor([[1.0], [2.0], [3.0], [4.0]]), False, torch.square)
    >>> b
    Scale(4, 1, square, bias=False)  # 4 parameters
    >>> b([1, 10]).int()                   # the transpose of Flux's 2×4 result
    tensor([[   1,  100],
            [   4,  400],
            [   9,  900],
            [  16, 1600]], dtype=torch.int32)
    """

    def __init__(self, *args, bias=True, init=ones32):
        σ = identity
        if args and isinstance(args[0], (torch.Tensor, np.ndarray)):   # Scale(scale, bias, σ)
            if len(args) > 3:
                raise TypeError("Scale(scale, bias, σ) takes at most three arguments")
            scale = as_tensor(args[0])
            if len(args) > 1:
                bias = args[1]
            if len(args) > 2:
                σ = args[2]
        else:
            if args and callable(args[-1]):
                σ, args = args[-1], args[:-1]
            if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)):
                args = tuple(args[0])
            if not args or not all(_is_int(n) for n in args):
                raise TypeError(f"Scale expects sizes as non-negative integers, like Scale(2) or "
                                f"Scale(3, 2, tanh), but got {args!r}")
            scale = init(*args)
        self.scale = scale
        self.bias = create_bias(scale, bias, *scale.shape)
        self.σ = _act("Scale", σ)

    def __call__(self, x):
        s = self.scale
        if type(x) is not torch.Tensor or x.dtype != s.dtype or x.device != s.device:
            x = match_input(self, x, s)
        try:
            y = s * x if self.bias is None else torch.addcmul(self.bias, s, x)
        except RuntimeError as err:
            if "size" not in str(err):
                raise
            raise ValueError(f"{inline(self)} multiplies elementwise over the trailing dims "
                             f"{tuple(s.shape)}, but got a tensor of shape {tuple(x.shape)}, which "
                             "does not broadcast; the batch goes first") from None
        return y if self.σ is identity else self.σ(y)

    def _inline(self):
        s = "Scale(" + ", ".join(str(n) for n in self.scale.shape)
        if self.σ is not identity:
            s += f", {fn_name(self.σ)}"
        if self.bias is None:
            s += ", bias=False"
        return s + ")"
