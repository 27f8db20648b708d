"""The basic layers: ``Dense``, ``Chain`` and function composition."""
from typing import Any, Callable, Tuple

import torch
import torch.nn.functional as F

from ..devices import match_input
from ..functors import functor
from .._show import Showable, fn_name, inline
from ..activation import identity
from ..init import create_bias, glorot_uniform

__all__ = ["Dense", "Chain", "compose", "ComposedFunction", "activations", "NamedLayers"]


@functor
class Dense(Showable):
    """A fully connected layer ``y = σ(x @ weight.T + bias)`` (``Flux.Dense``).

    ``Dense(in, out, σ)`` or ``Dense((in, out), σ)`` (Flux's ``in => out``), or
    ``Dense(weight, bias=True, σ)`` from a ``(out, in)`` weight. Keywords:
    ``bias`` (True, False or a tensor), ``init`` (default ``glorot_uniform``).
    Input is ``(in,)`` or ``(N, in)`` (batch first), or any ``(..., in)``.

    >>> d = Dense(10, 5, σ)
    >>> d
    Dense(10, 5, σ)  # 55 parameters
    >>> d(torch.rand(64, 10)).shape
    torch.Size([64, 5])
    >>> d.weight.shape
    torch.Size([5, 10])
    """

    def __init__(self, in_, out=None, σ=identity, *, bias=True, init=glorot_uniform, **kw):
        σ = _activation_kw(σ, kw, "Dense")
        if isinstance(in_, torch.Tensor):            # Dense(W, b, σ)
            if out is not None and not isinstance(out, (bool, torch.Tensor)):
                σ, out = out, None
            bias = out if out is not None else bias
            if in_.dim() != 2:
                raise ValueError(f"Dense(weight) expects a matrix of shape (out, in), "
                                 f"but got shape {tuple(in_.shape)}")
            weight = in_
        else:
            if isinstance(in_, tuple):               # Dense((in, out), σ)
                if len(in_) != 2:
                    raise ValueError(f"Dense expects a pair (in, out), but got {in_!r}")
                if out is not None:
                    σ = out
                in_, out = in_
            if not (isinstance(in_, int) and isinstance(out, int)) or in_ < 0 or out < 0:
                raise TypeError(f"Dense expects sizes Dense(in, out, σ) with non-negative integers, "
                                f"but got in={in_!r}, out={out!r}")
            weight = init(out, in_)
        self.weight = weight
        self.bias = create_bias(weight, bias, weight.shape[0])
        self.σ = σ

    def __call__(self, x):
        w = self.weight
        try:                        # the hot path: torch checks shapes, dtypes and devices
            y = F.linear(x, w, self.bias)
        except (RuntimeError, TypeError):
            x = match_input(self, x, w)
            if x.dim() == 0 or x.shape[-1] != w.shape[1]:
                raise ValueError(_size_error(self, x)) from None
            y = F.linear(x, w, self.bias)
        σ = self.σ
        return y if σ is identity else σ(y)

    def _inline(self):
        out, in_ = self.weight.shape
        s = f"Dense({in_}, {out}"
        if self.σ is not identity:
            s += f", {fn_name(self.σ)}"
        if self.bias is None:
            s += ", bias=False"
        return s + ")"


def _activation_kw(σ, kw, name):
    for key in ("σ", "sigma", "activation"):
        if key in kw:
            σ = kw.pop(key)
    if kw:
        raise TypeError(f"{name} got unexpected keyword arguments {sorted(kw)}; "
                        "it takes bias= and init=")
    if not callable(σ):
        raise TypeError(f"{name} expects an activation function, but got {σ!r}")
    return σ


def _size_error(layer, x):
    n = layer.weight.shape[1]
    shape = tuple(x.shape)
    msg = f"{inline(layer)} expects x.shape[-1] == {n}, but got a tensor of shape {shape}"
    if x.dim() >= 2 and shape[0] == n:
        msg += "; flux_torch puts the batch first: did you mean x.T?"
    return msg


class NamedLayers(dict):
    """The named layers of a container: a dict whose entries are also attributes, as
    Flux's NamedTuple (``m.layers.enc``, and ``opt_state.layers.enc`` in a state tree).

    >>> NamedLayers(enc=1, dec=2).enc
    1
    """

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no layer named {name!r}; the names are {list(self)}") from None


@functor
class Chain(Showable):
    """Apply layers in sequence: ``Chain(f, g, h)(x) == h(g(f(x)))`` (``Flux.Chain``).

    Layers may be flux_torch layers, ``nn.Module``s or any functions. Named
    layers are given as keywords, ``Chain(enc=..., dec=...)``; a list gives a
    Chain whose layers can be appended to; one tuple (or dict) of layers is Flux's
    ``Chain(layers)``. Indexing is 0-based; slices give Chains. Called with several
    arguments, a Chain passes them on as one tuple (Flux v0.16), which ``Parallel``
    spreads over its branches.

    >>> m = Chain(Dense(10, 5, σ), Dense(5, 2), softmax)
    >>> m(torch.rand(10)).shape
    torch.Size([2])
    >>> Chain(lambda x: x ** 2, lambda x: x + 1)(5)
    26
    >>> m[0]
    Dense(10, 5, σ)  # 55 parameters
    >>> Chain(lambda x: x)(1, 2, 3)
    (1, 2, 3)
    """

    def __init__(self, *layers, **named):
        if layers and named:
            raise TypeError("Chain takes either layers or named layers (keywords), not both")
        if len(layers) == 1 and type(layers[0]) in (tuple, dict, NamedLayers):
            layers, named = ((), dict(layers[0])) if isinstance(layers[0], dict) else (layers[0], {})
        if named:
            if "layers" in named:
                raise ValueError("a Chain cannot have a named layer called 'layers'; pick another name")
            self.layers = NamedLayers(named)
        elif len(layers) == 1 and isinstance(layers[0], list):
            self.layers = layers[0]
        else:
            self.layers = tuple(layers)
        for layer in self._seq():
            if not callable(layer):
                raise TypeError(f"Chain expects callables (layers or functions), but got {layer!r}")

    def _seq(self):
        layers = self.layers
        return layers.values() if isinstance(layers, dict) else layers

    def __call__(self, x, *more):
        if more:
            x = (x,) + more
        for layer in (self.layers.values() if isinstance(self.layers, dict) else self.layers):
            x = layer(x)
        return x

    def __getitem__(self, i):
        return index_layers(self, i, lambda *ls, **named: Chain(*ls, **named))

    def __getattr__(self, name):
        return named_layer(self, name)

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self._seq())

    def _show_children(self):
        if isinstance(self.layers, dict):
            return list(self.layers.items())
        return [(None, c) for c in self.layers]

    def _show_pre_post(self):
        if isinstance(self.layers, list):
            return "Chain([", "])"
        return "Chain(", ")"

    def _inline(self):
        if isinstance(self.layers, dict):
            inner = ", ".join(f"{k}={inline(v)}" for k, v in self.layers.items())
        else:
            inner = ", ".join(inline(v) for v in self.layers)
        return f"Chain([{inner}])" if isinstance(self.layers, list) else f"Chain({inner})"


def index_layers(owner, i, make):
    """``owner[i]`` for a container of ``owner.layers`` (Chain, Parallel...): 0-based, by
    name, or a slice, which ``make(*layers)`` / ``make(**named)`` turns into a container."""
    layers, name = owner.layers, type(owner).__name__
    if isinstance(i, str):
        if not isinstance(layers, dict):
            raise KeyError(f"{name} has no names; index it with a number, not {i!r}")
        return layers[i]
    if isinstance(layers, dict):
        keys = list(layers)
        if isinstance(i, slice):
            return make(**{k: layers[k] for k in keys[i]})
        _check_index(name, i, len(keys))
        return layers[keys[i]]
    if isinstance(i, slice):
        return make(list(layers[i])) if isinstance(layers, list) else make(*layers[i])
    _check_index(name, i, len(layers))
    return layers[i]


def _check_index(name, i, n):
    if isinstance(i, int) and not -n <= i < n:
        last = f"m[{n - 1}]" if n else "none: it is empty"
        raise IndexError(f"{name} has {n} layer{'s' if n != 1 else ''}, indexed from 0, so m[{i}] is "
                         f"out of range; the last is {last} (Julia's m[{n}] is m[{n - 1}] or m[-1] "
                         "here)")


def named_layer(owner, name):
    """``owner.name`` for a container whose layers are named (its ``__getattr__``)."""
    layers = owner.__dict__.get("layers")
    if isinstance(layers, dict) and name in layers:
        return layers[name]
    raise AttributeError(f"{type(owner).__name__!r} object has no attribute {name!r}")


def activations(c: Chain, x: Any) -> Tuple[Any, ...]:
    """The output of every layer of the Chain ``c`` on input ``x``, as a tuple (``Flux.activations``).

    >>> [tuple(a.shape) for a in activations(Chain(Dense(3, 2), Dense(2, 1)), torch.rand(3))]
    [(2,), (1,)]
    """
    out = []
    for layer in c._seq():
        x = layer(x)
        out.append(x)
    return tuple(out)


@functor
class ComposedFunction(Showable):
    """``f ∘ g``: made by :func:`compose`; calling it gives ``outer(inner(x))``."""

    def __init__(self, outer, inner):
        self.outer, self.inner = outer, inner

    def __call__(self, *args, **kw):
        return self.outer(self.inner(*args, **kw))

    def _inline(self):
        return f"compose({inline(self.outer)}, {inline(self.inner)})"


def compose(*fs: Callable[..., Any]) -> ComposedFunction:
    """Function composition, Julia's ``∘``: ``compose(f, g)(x) == f(g(x))``.

    >>> m = compose(Dense(5, 2), Dense(10, 5, σ))
    >>> m(torch.rand(10)).shape
    torch.Size([2])
    """
    if not fs:
        raise TypeError("compose expects at least one function")
    out = fs[-1]
    for f in reversed(fs[:-1]):
        out = ComposedFunction(f, out)
    return out
