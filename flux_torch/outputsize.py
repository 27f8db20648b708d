"""``outputsize`` and ``autosize``: shapes through a model without real data (``Flux.outputsize``).

Flux runs a model on arrays of a do-nothing number type, ``Nil``. Here the model
runs on torch's ``meta`` device: :func:`outputsize` maps a copy of the model to
meta tensors with the one traversal (:func:`~flux_torch.fmap`) and calls it on a
meta input, so no data is allocated and nothing is computed. A layer that refuses
meta tensors runs on real zeros instead, under ``torch.no_grad()``, and the rest of
the model goes on in meta. The model itself is never changed.

Shapes are batch first: Flux's ``outputsize(m, (28, 28, 1, 32))`` (WHCN) is
``outputsize(m, (32, 1, 28, 28))`` here, and ``padbatch=True`` puts the batch of 1
in front.
"""
import types
from typing import Any, Optional, Tuple

import torch

from .devices import as_tensor
from .functors import fleaves, fmap, leaf
from .modes import istraining
from ._show import Showable, inline
from .layers import Bilinear, Chain, Dense, LayerNorm, MultiHeadAttention, Scale
from .layers.recur import Recur
from .layers.recurrence import GRU, LSTM, RNN, GRUv3, Recurrence
from ._types import Model

__all__ = ["outputsize", "autosize", "autosizefor", "LazyLayer", "striplazy"]


def outputsize(model: Model, input_shape: Tuple[int, ...], *more_shapes: Tuple[int, ...],
               padbatch: bool = False, dtype: Optional[torch.dtype] = None) -> Any:
    """The shape of ``model(x)`` for an input ``x`` of shape ``input_shape``, computed without
    allocating data (``Flux.outputsize``): ``outputsize(m, tuple(x.shape)) == tuple(m(x).shape)``.

    Shapes are batch first. ``padbatch=True`` adds a batch of 1 in front of every input
    shape, and the result includes it. Several shapes (or one tuple of shapes) give the
    model one tuple of inputs, as for ``Parallel``. A list or tuple of layers is run like a
    ``Chain``. A model returning a tuple gives a tuple of shapes. ``dtype`` sets the input's
    dtype (default: the model's float dtype; use ``torch.long`` for ``Embedding`` ids).

    >>> m = Chain(Conv((3, 3), 3, 16), Conv((3, 3), 16, 32))
    >>> outputsize(m, (64, 3, 10, 10))          # Flux: outputsize(m, (10, 10, 3, 64))
    (64, 32, 6, 6)
    >>> outputsize(m, (3, 10, 10), padbatch=True)
    (1, 32, 6, 6)
    >>> outputsize(Dense(10, 4), (10,), padbatch=True)
    (1, 4)
    >>> outputsize([Dense(10, 4), Dense(4, 2)], (1, 10))     # a list of layers is a Chain
    (1, 2)
    >>> outputsize(Parallel(vcat, Dense(5, 9), Dense(7, 11)), (64, 5), (64, 7))
    (64, 20)
    """
    shapes = _shapes(input_shape, more_shapes, padbatch)
    if isinstance(model, (list, tuple)):
        model = Chain(*model)
    dtype = dtype if dtype is not None else _float_dtype(model)
    xs = tuple(torch.empty(s, dtype=dtype, device="meta") for s in shapes)
    x = xs[0] if len(xs) == 1 else xs
    if not isinstance(model, Chain):
        return _shape_of(_apply(model, _to_meta(model), x))
    layers = model.layers
    names = list(layers) if isinstance(layers, dict) else range(len(layers))
    meta = _to_meta(model).layers
    for name in names:
        try:
            x = _apply(layers[name], meta[name], x)
        except Exception as err:
            if hasattr(err, "add_note"):
                what = "index" if isinstance(name, int) else "name"
                err.add_note(f"outputsize: layer {inline(layers[name])}, {what} {name!r} in Chain, "
                             f"gave this error with input of shape {_shape_of(x)}")
            raise
    return _shape_of(x)


def _shapes(first, more, padbatch):
    if isinstance(first, (tuple, list)) and first and all(isinstance(s, (tuple, list)) for s in first):
        if more:
            raise TypeError("outputsize takes input shapes as separate arguments or as one tuple "
                            f"of shapes, not both; got {first!r} and {more!r}")
        first, more = first[0], tuple(first[1:])
    out = []
    for s in (first,) + tuple(more):
        if not isinstance(s, (tuple, list)) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in s):
            raise TypeError(f"outputsize expects input shapes as tuples of non-negative integers "
                            f"(batch first, such as (32, 1, 28, 28)), but got {s!r}")
        out.append(((1,) if padbatch else ()) + tuple(s))
    return out


def _float_dtype(model):
    for t in fleaves(model):
        if isinstance(t, torch.Tensor) and t.is_floating_point():
            return t.dtype
    return torch.get_default_dtype()


def _to_meta(model):
    """A copy of ``model`` whose tensors live on the meta device (the originals are untouched)."""
    return fmap(lambda t: t.to("meta") if isinstance(t, torch.Tensor) else t, model)


def _apply(layer, meta_layer, *xs):
    """``meta_layer(*xs)`` on meta input; when the layer refuses meta tensors, ``layer`` on real
    zeros (a rebuilt copy, so kept states such as ``Recur``'s are not touched)."""
    try:
        return meta_layer(*xs)
    except ValueError:      # a shape mismatch: the layer's own error, as it would be for real data
        raise
    except Exception:
        with torch.no_grad():
            y = fmap(lambda t: t, layer)(*_map(lambda t: torch.zeros(t.shape, dtype=t.dtype), xs))
        return _map(lambda t: torch.empty(t.shape, dtype=t.dtype, device="meta"), y)


def _map(f, x):
    if isinstance(x, torch.Tensor):
        return f(x)
    if isinstance(x, (tuple, list)):
        return type(x)(_map(f, v) for v in x) if type(x) in (tuple, list) else x
    return x


def _shape_of(y):
    if isinstance(y, torch.Tensor):
        return tuple(y.shape)
    if isinstance(y, (tuple, list)):
        return tuple(_shape_of(v) for v in y)
    raise TypeError(f"outputsize: the model returned {type(y).__name__}, not a tensor or a tuple "
                    "of tensors, so it has no shape")


_FEATURES_LAST = (Dense, LayerNorm, Scale, Bilinear, Recur, RNN, LSTM, GRU, GRUv3, Recurrence,
                  MultiHeadAttention)


def autosizefor(layer_type, shape):
    """The number an ``_`` stands for when :func:`autosize` builds a ``layer_type`` for input of
    shape ``shape`` (``Flux.autosizefor``).

    Usually the channel dim ``shape[1]`` (Flux's second-last; ``shape[0]`` for 1-D input).
    Layers that read the feature dim, the last (Flux's first), use ``shape[-1]``:
    ``Dense``, ``LayerNorm``, ``Scale``, ``Bilinear``, recurrent layers (``RNN``, ``LSTM``, ``GRU``,
    ``GRUv3``, ``Recurrence``; v0.14's ``Recur``) and ``MultiHeadAttention``. A class may define
    its own ``autosizefor(cls, shape)`` classmethod.

    >>> autosizefor(Conv, (32, 1, 28, 28)), autosizefor(Dense, (5, 4, 3, 2))
    (1, 2)
    """
    own = getattr(layer_type, "autosizefor", None)
    if own is not None:
        return own(shape)
    if isinstance(layer_type, type) and issubclass(layer_type, _FEATURES_LAST):
        return shape[-1]
    return _channels(shape)


def _channels(shape):
    return shape[1] if len(shape) >= 2 else shape[0]


def _tensors(x):
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _tensors(v)]
    return []


def _is_maker(f):
    """A function of one parameter named ``_``: a layer to be built by :func:`autosize`."""
    if not isinstance(f, types.FunctionType):
        return False
    code = f.__code__
    return (code.co_argcount == 1 and code.co_varnames[0] == "_" and code.co_kwonlyargcount == 0
            and not code.co_flags & 0x0C)       # no *args / **kwargs


@leaf
class LazyLayer(Showable):
    """A layer built on its first call from the input's shape (``Flux.LazyLayer``), which
    :func:`autosize` makes from each ``lambda _: ...``. ``make(n)`` returns the layer, with
    ``n = autosizefor(type(layer), x.shape)``. :func:`striplazy` swaps in the built layers.

    >>> ld = LazyLayer(lambda _: Dense(_, 3, relu))
    >>> ld
    LazyLayer(<lambda>)
    >>> ld(torch.ones(2)).shape
    torch.Size([3])
    >>> ld
    LazyLayer(Dense(2, 3, relu))
    """

    def __init__(self, make):
        if not callable(make):
            raise TypeError(f"LazyLayer expects a function making a layer from a size, such as "
                            f"lambda _: Dense(_, 10), but got {make!r}")
        self.make = make
        self.layer = None

    def __call__(self, x, *ys):
        if istraining():
            raise RuntimeError("LazyLayer should never be used within a gradient; build the model "
                               "with autosize(shape, ...) first, or call striplazy(model)")
        tensors = _tensors((x,) + ys)
        made = self.layer
        if made is None:
            shape = tuple((tensors[0] if tensors else as_tensor(x)).shape)
            n = _channels(shape)
            made = self.make(n)
            m = autosizefor(type(made), shape)
            if m != n:          # the layer reads another dim: build it again with that size
                made = self.make(m)
        if any(t.device.type == "meta" for t in tensors):    # inside outputsize
            y = _apply(made, _to_meta(made), x, *ys)
        else:
            y = made(x, *ys)
        self.layer = made                           # kept once the call worked
        return y

    def _inline(self):
        if self.layer is None:
            return f"LazyLayer({getattr(self.make, '__name__', repr(self.make))})"
        return f"LazyLayer({inline(self.layer)})"

    def __repr__(self):
        return self._inline()


def striplazy(model):
    """``model`` with every built :class:`LazyLayer` replaced by its layer (``Flux.striplazy``).

    >>> ld = LazyLayer(lambda _: Dense(_, 3))
    >>> _ = ld(torch.ones(1, 4))
    >>> striplazy(Chain(ld, relu))
    Chain(
      Dense(4, 3),                          # 15 parameters
      relu,
    )
    """
    def strip(leaf):
        if isinstance(leaf, LazyLayer):
            if leaf.layer is None:
                raise RuntimeError("striplazy: a LazyLayer was never called, so its size is unknown; "
                                   "run outputsize(model, shape) first (autosize does this)")
            return leaf.layer
        return leaf
    return fmap(strip, model)


def autosize(input_shape: Tuple[int, ...], *layers: Any, **kw: Any) -> Any:
    """Build a model whose sizes are inferred from the input shape (Flux's ``@autosize``).

    Write each layer that needs a size as ``lambda _: Layer(...)``: ``_`` is the size of that
    layer's input, as in Flux, usually the channel dim (see :func:`autosizefor`). Such
    functions may sit anywhere in the model (inside ``Chain``, ``SkipConnection``, keywords).
    Several layers are put in a ``Chain``. ``input_shape`` is batch first; ``padbatch`` and
    ``dtype`` pass on to :func:`outputsize`. Flux's
    ``@autosize (28, 28, 1, 32) Chain(Conv((3, 3), _ => 5, relu), flatten, Dense(_ => 10))`` is:

    >>> m = autosize((32, 1, 28, 28), lambda _: Conv((3, 3), _, 5, relu), flatten,
    ...              lambda _: Dense(_, 10))
    >>> m
    Chain(
      Conv((3, 3), 1, 5, relu),             # 50 parameters
      flatten,
      Dense(3380, 10),                      # 33_810 parameters
    )                   # Total: 4 arrays, 33_860 parameters, 132.266 KiB.
    >>> autosize((9,), lambda _: Dense(_, _ // 2))      # _ can be computed with
    Dense(9, 4)  # 40 parameters
    """
    if not layers:
        raise TypeError("autosize expects an input shape and at least one layer, such as "
                        "autosize((32, 1, 28, 28), lambda _: Conv((3, 3), _, 5), flatten, "
                        "lambda _: Dense(_, 10))")
    model = layers[0] if len(layers) == 1 else Chain(*layers)
    lazy = fmap(lambda leaf: LazyLayer(leaf) if _is_maker(leaf) else leaf, model)
    outputsize(lazy, input_shape, **kw)
    return striplazy(lazy)
