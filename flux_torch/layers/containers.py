"""Layers that combine other layers: ``SkipConnection``, ``Parallel``, ``PairwiseFusion``,
``Maxout``, and the ``vcat``/``hcat`` connections Flux code passes to them.

Julia's ``Parallel(vcat, ...)`` concatenates the features of batch-last arrays; here the
batch comes first, so :func:`vcat` concatenates along the last dim (``dim=-1``) and
:func:`hcat` along ``dim=-2``. Julia's ``+`` as a connection is ``operator.add``: Julia's
``+`` takes any number of arguments, so a connection that takes exactly two is folded over
more branches, ``add(add(y1, y2), y3)``; any callable works.
"""
import functools
import inspect
import numbers

import torch

from ..devices import as_tensor
from ..functors import functor
from .._show import Showable, inline
from .basic import NamedLayers, index_layers, named_layer
from .._types import TensorLike

__all__ = ["SkipConnection", "Parallel", "PairwiseFusion", "Maxout", "vcat", "hcat"]   # + ParallelV014


def _tensors(xs, at_least):
    return [at_least(x if isinstance(x, torch.Tensor) else as_tensor(x)) for x in xs]


def vcat(*xs: TensorLike) -> torch.Tensor:
    """Julia's ``vcat`` for batch-first data: concatenate along the feature dim ``dim=-1``.

    ``Parallel(vcat, ...)`` in Flux stacks the branches' features; numbers count as length-1
    vectors. It is ``torch.cat(xs, dim=-1)``.

    >>> vcat(torch.tensor([1, 2]), 3)
    tensor([1, 2, 3])
    >>> vcat(torch.ones(4, 2), torch.zeros(4, 3)).shape   # 4 samples, 2 + 3 features
    torch.Size([4, 5])
    """
    if not xs:
        return torch.zeros(0)
    return torch.cat(_tensors(xs, torch.atleast_1d), dim=-1)


def hcat(*xs: TensorLike) -> torch.Tensor:
    """Julia's ``hcat`` for batch-first data: concatenate along ``dim=-2``.

    A vector of length ``n`` counts as a ``(1, n)`` row (Julia's column), so ``hcat`` of
    vectors stacks them as rows and ``hcat`` of ``(N, f)`` batches joins the batches.

    >>> hcat(torch.tensor([1, 2]), torch.tensor([3, 4]))
    tensor([[1, 2],
            [3, 4]])
    """
    if not xs:
        return torch.zeros(0, 0)
    return torch.cat(_tensors(xs, torch.atleast_2d), dim=-2)


def _join(connection, ys):
    """``connection(*ys)``; a connection taking exactly two arguments (``operator.add``) is
    folded from the left over more, as Julia's n-ary ``+`` is: ``add(add(y1, y2), y3)``."""
    if len(ys) > 2 and _takes_two(connection):
        return functools.reduce(connection, ys)
    return connection(*ys)


def _takes_two(f):
    """Whether ``f``'s signature accepts two positional arguments but not three."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):     # builtins without a signature: call them as given
        return False
    try:
        sig.bind(0, 0, 0)
        return False
    except TypeError:
        pass
    try:
        sig.bind(0, 0)
        return True
    except TypeError:
        return False


def _check_callable(name, layers):
    for layer in layers:
        if not callable(layer):
            raise TypeError(f"{name} expects callables (layers or functions), but got {layer!r}")


def _named_layers(name, layers, named):
    """Positional layers as a tuple, keyword (named) layers as a dict (Flux's NamedTuple).
    One tuple (or dict) of layers is the layers themselves, Flux's ``Parallel(f, (a, b))``."""
    if layers and named:
        raise TypeError(f"{name} takes either layers or named layers (keywords), not both")
    if len(layers) == 1 and type(layers[0]) in (tuple, list, dict, NamedLayers):
        if isinstance(layers[0], dict):
            layers, named = (), dict(layers[0])
        else:
            layers = tuple(layers[0])
    for reserved in ("connection", "layers"):
        if reserved in named:
            raise ValueError(f"a {name} layer cannot have a named sub-layer called {reserved!r}; "
                             "pick another name")
    out = NamedLayers(named) if named else tuple(layers)
    _check_callable(name, out.values() if named else out)
    return out


@functor
class SkipConnection(Showable):
    """``connection(layer(x), x)``: a shortcut around ``layer`` (``Flux.SkipConnection``).

    The simplest ResNet block is ``SkipConnection(layer, operator.add)``.

    >>> import operator
    >>> m = SkipConnection(Dense(3, 3), operator.add)
    >>> x = torch.rand(5, 3)
    >>> torch.allclose(m(x), m.layers(x) + x)
    True
    >>> SkipConnection(Dense(3, 2), vcat)(torch.rand(5, 3)).shape   # Flux's cat(mx, x, dims=1)
    torch.Size([5, 5])
    """

    def __init__(self, layer, connection):
        _check_callable("SkipConnection", (layer, connection))
        self.layers = layer
        self.connection = connection

    def __call__(self, x):
        return self.connection(self.layers(x), x)

    def _show_children(self):
        return [(None, self.layers), (None, self.connection)]

    def _inline(self):
        return f"SkipConnection({inline(self.layers)}, {inline(self.connection)})"


class _Branches(Showable):
    """What ``Parallel`` and ``PairwiseFusion`` share: ``(connection, layers)``, names, indexing."""

    __slots__ = ()

    def _seq(self):
        layers = self.layers
        return tuple(layers.values()) if isinstance(layers, dict) else layers

    def keys(self):
        """The names of the branches (``Base.keys``), or ``range(n)`` when unnamed."""
        layers = self.layers
        return list(layers) if isinstance(layers, dict) else range(len(layers))

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self._seq())

    def __getitem__(self, i):
        cls = type(self)
        return index_layers(self, i, lambda *ls, **named: cls(self.connection, *ls, **named))

    def __getattr__(self, name):
        return named_layer(self, name)

    def _check_count(self, xs):
        n, nx = len(self.layers), len(xs)
        if n != nx:
            raise ValueError(f"{type(self).__name__} with {n} sub-layers can take one input or {n} "
                             f"inputs, but got {nx} inputs")

    def _show_children(self):
        kids = [(None, self.connection)]
        if isinstance(self.layers, dict):
            return kids + list(self.layers.items())
        return kids + [(None, c) for c in self.layers]

    def _inline(self):
        if isinstance(self.layers, dict):
            inner = [f"{k}={inline(v)}" for k, v in self.layers.items()]
        else:
            inner = [inline(v) for v in self.layers]
        return f"{type(self).__name__}({', '.join([inline(self.connection)] + inner)})"


@functor
class Parallel(_Branches):
    """Run branches side by side and join them: ``connection(*[f(x) for f in layers])``
    (``Flux.Parallel``).

    With one input every branch gets it; with several (or one tuple) the i-th branch gets
    the i-th input, ``Parallel(op, f, g)(x, y) == op(f(x), g(y))``. Branches may be named
    with keywords, ``Parallel(operator.add, α=Dense(10, 2, tanh), β=Dense(5, 2))``, and
    indexed 0-based or by name. ``vcat`` joins the features of the branches.

    >>> m = Parallel(vcat, Dense(5, 4), Chain(Dense(5, 7), Dense(7, 4)))
    >>> m(torch.rand(5)).shape
    torch.Size([8])
    >>> import operator
    >>> m2 = Parallel(operator.add, α=Dense(10, 2, tanh), β=Dense(5, 2))
    >>> m2(torch.rand(10), torch.rand(5)).shape
    torch.Size([2])
    >>> m2["β"] is m2[1] is m2.β
    True
    """

    _ALLOW_EMPTY = False           # Flux v0.16 refuses a Parallel without branches

    def __init__(self, connection, /, *layers, **named):
        _check_callable("Parallel", (connection,))
        self.connection = connection
        self.layers = _named_layers("Parallel", layers, named)
        if not self.layers and not self._ALLOW_EMPTY:
            raise ValueError("cannot construct a Parallel layer with no sub-layers; give at least "
                             "one, e.g. Parallel(vcat, Dense(2, 3), Dense(2, 4))")

    def __call__(self, *xs):
        if len(xs) == 1 and type(xs[0]) is tuple:
            xs = xs[0]                 # a tuple is always splatted
        layers = self._seq()
        if not xs:
            raise ValueError(f"{inline(self)} cannot take 0 inputs; call it with one input (given "
                             "to every branch) or one input per branch")
        if len(xs) == 1:
            x = xs[0]
            return _join(self.connection, [f(x) for f in layers])
        if len(layers) == 1:           # one layer, several inputs: applied to each (v0.16)
            f = layers[0]
            return _join(self.connection, [f(x) for x in xs])
        self._check_count(xs)
        return _join(self.connection, [f(x) for f, x in zip(layers, xs)])


@functor
class ParallelV014(Parallel):
    """Flux v0.14's ``Parallel`` (``flux_torch.v014.Parallel``): as :class:`Parallel`, but
    a Parallel without branches is allowed (calling it gives ``connection()``).

    >>> ParallelV014(hcat)(1)
    tensor([], size=(0, 0))
    """

    _ALLOW_EMPTY = True

    def _show_pre_post(self):
        return "Parallel(", ")"

    def _inline(self):
        return "Parallel" + super()._inline()[len("ParallelV014"):]


@functor
class PairwiseFusion(_Branches):
    """Layers in sequence, each fed the previous output fused with a new input
    (``Flux.PairwiseFusion``); returns the tuple of every layer's output.

    With inputs ``(x0, x1, x2)``: ``y0 = layers[0](x0)``, ``y1 = layers[1](connection(y0, x1))``,
    ``y2 = layers[2](connection(y1, x2))``. With one input ``x`` every step fuses that same ``x``.

    >>> m = PairwiseFusion(vcat, lambda x: x + 1, lambda x: x + 2, lambda x: x ** 3)
    >>> m(2, 10, 20)
    (3, tensor([ 5, 12]), tensor([ 125, 1728, 8000]))
    >>> m(7)[2]
    tensor([1000,  729,  343])
    """

    def __init__(self, connection, /, *layers, **named):
        _check_callable("PairwiseFusion", (connection,))
        self.connection = connection
        self.layers = _named_layers("PairwiseFusion", layers, named)

    def __call__(self, *xs):
        if len(xs) == 1 and type(xs[0]) is tuple:
            xs = xs[0]
        layers = self._seq()
        if len(xs) != 1:
            self._check_count(xs)
        get = (lambda i: xs[0]) if len(xs) == 1 else (lambda i: xs[i])
        if not layers:
            return ()
        ys = [layers[0](get(0))]
        for i in range(1, len(layers)):
            ys.append(layers[i](self.connection(ys[-1], get(i))))
        return tuple(ys)


@functor
class Maxout(Showable):
    """The elementwise maximum of several layers' outputs on the same input (``Flux.Maxout``).

    ``Maxout(f, n)`` calls the zero-argument function ``f`` ``n`` times to make the layers.

    >>> m = Maxout(lambda x: x ** 2, lambda x: x * 3)
    >>> m(torch.tensor([-2, -1, 0, 1, 2]))
    tensor([4, 1, 0, 3, 6])
    >>> Maxout(lambda: Dense(5, 7, tanh), 3)(torch.rand(11, 5)).shape
    torch.Size([11, 7])
    """

    def __init__(self, *layers):
        if (len(layers) == 2 and isinstance(layers[1], numbers.Integral)
                and not isinstance(layers[1], bool)):
            f, n = layers
            if not callable(f):
                raise TypeError(f"Maxout(f, n) expects a function f making a layer, but got {f!r}")
            layers = tuple(f() for _ in range(n))
        if not layers:
            raise ValueError("Maxout needs at least one layer, e.g. Maxout(lambda: Dense(5, 7), 3)")
        _check_callable("Maxout", layers)
        self.layers = tuple(layers)

    def __call__(self, x):
        out = None
        for f in self.layers:
            y = f(x)
            y = y if isinstance(y, torch.Tensor) else as_tensor(y)
            out = y if out is None else torch.maximum(out, y)
        return out

    def _show_children(self):
        return [(None, c) for c in self.layers]

    def _inline(self):
        return f"Maxout({', '.join(inline(c) for c in self.layers)})"
