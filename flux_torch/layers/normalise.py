"""Normalisation layers: ``BatchNorm``, ``InstanceNorm``, ``GroupNorm``, ``LayerNorm``.

Layout is batch first, channels at dim 1: ``(N, C, spatial...)``. Running
statistics ``μ``, ``σ2`` are non-trainable state, updated in place only in
training mode (inside ``gradient``, or forced by ``trainmode_``) with Flux's
convention, which is also torch's: ``μ = (1 - momentum) μ + momentum * mean`` and
the running variance uses the corrected (``m/(m-1)``) batch variance.
"""
import unicodedata
from typing import Any

import torch
import torch.nn.functional as F

from ..devices import as_tensor, match_input
from ..functors import functor
from ..modes import isactive
from .._show import Showable, fn_name, inline
from ..activation import identity
from ..init import ones32, zeros32
from .dropout import _active_arg
from .misc import Scale
from .stateless import normalise_v014

__all__ = ["BatchNorm", "InstanceNorm", "GroupNorm", "LayerNorm", "hasaffine"]   # + LayerNormV014


def _options(name, kw, **spec):
    """Resolve keywords given under Greek or ASCII names: spec maps name -> (aliases, default)."""
    out = {}
    for key, (aliases, default) in spec.items():
        aliases = [unicodedata.normalize("NFKC", a) for a in aliases]   # Python's view of ϵ is ε
        given = [a for a in aliases if a in kw]
        if len(given) > 1:
            raise TypeError(f"{name} got {' and '.join(a + '=' for a in given)}; "
                            "they name the same setting, so pass only one")
        out[key] = kw.pop(given[0]) if given else default
    if kw:
        raise TypeError(f"{name} got unexpected keyword arguments {sorted(kw)}")
    return out


_HALF = (torch.float16, torch.bfloat16)


def _half_in(x, like):
    """The dtype to give back when half-precision data meets float32 parameters (the mixed
    precision of ``f16``/``bf16``: the layer computes in float32), else None."""
    if type(x) is torch.Tensor and x.dtype in _HALF and like is not None and like.dtype == torch.float32:
        return x.dtype
    return None


def _input(layer, x, like):
    """Convert ``x`` for ``layer``: to its parameters' dtype/device when it has any."""
    if like is not None:
        if type(x) is not torch.Tensor or x.dtype != like.dtype or x.device != like.device:
            x = match_input(layer, x, like)
        return x
    x = as_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def _check_channels(layer, x, chs, min_ndim):
    n, shape = x.dim(), tuple(x.shape)
    if n >= min_ndim and shape[1] == chs:
        return
    if n < min_ndim:
        msg = (f"{inline(layer)} expects input of shape (N, C{', spatial...' if min_ndim > 2 else ', ...'}) "
               f"with at least {min_ndim} dims, but got a tensor of shape {shape}")
    else:
        msg = f"{inline(layer)} expects x.shape[1] == {chs} channels, but got a tensor of shape {shape}"
    if n >= 2 and shape[-2] == chs:
        perm = "x.T" if n == 2 else f"x.permute{tuple(reversed(range(n)))}"
        msg += f"; flux_torch puts the batch first, (N, C, ...): did you mean {perm}?"
    elif n >= 3 and shape[-1] == chs:
        msg += "; channels go at dim 1, (N, C, H, W): for channels-last data use x.movedim(-1, 1)"
    raise ValueError(msg)


def _check_size(name, chs):
    if isinstance(chs, bool) or not isinstance(chs, int) or chs < 1:
        raise TypeError(f"{name} expects the number of channels as a positive integer, but got {chs!r}")


class _Norm(Showable):
    """What BatchNorm and InstanceNorm share: fields in Flux's order, printing, trainable."""

    _DEFAULT_AFFINE = True
    _DEFAULT_TRACK = True

    def _setup(self, name, chs, λ, kw):
        _check_size(name, chs)
        o = _options(name, kw, λ=(("λ", "lambda_"), λ), initβ=(("initβ", "initbeta"), zeros32),
                     initγ=(("initγ", "initgamma"), ones32), affine=(("affine",), self._DEFAULT_AFFINE),
                     track_stats=(("track_stats",), self._DEFAULT_TRACK), active=(("active",), None),
                     eps=(("eps", "ϵ", "epsilon"), 1e-5), momentum=(("momentum",), 0.1))
        if not callable(o["λ"]):
            raise TypeError(f"{name} expects an activation function λ, but got {o['λ']!r}")
        affine, track = bool(o["affine"]), bool(o["track_stats"])
        self.λ = o["λ"]
        self.β = o["initβ"](chs) if affine else None
        self.γ = o["initγ"](chs) if affine else None
        self.μ = zeros32(chs) if track else None
        self.σ2 = ones32(chs) if track else None
        self.ϵ = float(o["eps"])
        self.momentum = float(o["momentum"])
        self.affine = affine
        self.track_stats = track
        self.active = _active_arg(name, o["active"])
        self.chs = chs

    def trainable(self):
        return {"β": self.β, "γ": self.γ}

    def _like(self):
        return self.γ if self.γ is not None else self.μ

    def _finish(self, y):
        λ = self.λ
        return y if λ is identity else λ(y)

    def _inline(self):
        s = f"{type(self).__name__}({self.chs}"
        return s + _suffix(self, track=self.track_stats != self._DEFAULT_TRACK) + ")"


def _suffix(layer, track=False):
    s = "" if layer.λ is identity else f", {fn_name(layer.λ)}"
    if layer.affine != type(layer)._DEFAULT_AFFINE:
        s += f", affine={layer.affine}"
    if track:
        s += f", track_stats={layer.track_stats}"
    if layer.ϵ != 1e-5:
        s += f", eps={layer.ϵ!r}"
    if getattr(layer, "momentum", 0.1) != 0.1:
        s += f", momentum={layer.momentum!r}"
    if getattr(layer, "active", None) is not None:
        s += f", active={layer.active}"
    return s


@functor
class BatchNorm(_Norm):
    """Batch normalisation over all dims but the channels, dim 1 (``Flux.BatchNorm``).

    ``BatchNorm(chs, λ=identity, initβ=zeros32, initγ=ones32, affine=True,
    track_stats=True, active=None, eps=1e-5, momentum=0.1)``. Input ``(N, C, ...)``.
    In training (inside ``gradient``, or after ``trainmode_``) it normalises with
    the batch's statistics and updates the running ``μ``, ``σ2`` in place; in test
    mode it uses the running ones (with ``track_stats=False`` always the batch's).
    Then the per-channel affine ``γ * x̂ + β`` and the activation ``λ``.

    >>> m = BatchNorm(64, relu)
    >>> m
    BatchNorm(64, relu)  # 128 parameters, plus 128 non-trainable
    >>> m(torch.rand(8, 64, 5, 5)).shape
    torch.Size([8, 64, 5, 5])
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])   # Flux's 2×3 test matrix
    >>> y = trainmode_(BatchNorm(2))(x)
    >>> y[:, 0]
    tensor([-1.2247,  0.0000,  1.2247])
    """

    def __init__(self, chs, λ=identity, **kw):
        self._setup("BatchNorm", chs, λ, kw)

    def __call__(self, x):
        like = self.γ if self.γ is not None else self.μ
        half = _half_in(x, like)
        x = _input(self, x, like)
        if x.dim() < 2 or x.shape[1] != self.chs:
            _check_channels(self, x, self.chs, 2)
        training = not self.track_stats or isactive(self)
        if training and x.numel() == self.chs:
            raise ValueError(f"{inline(self)} needs more than one value per channel to compute batch "
                             f"statistics in training mode, but got a tensor of shape {tuple(x.shape)}; "
                             "use a larger batch, or testmode_(model) to use the running statistics")
        y = F.batch_norm(x, self.μ, self.σ2, self.γ, self.β, training, self.momentum, self.ϵ)
        y = self._finish(y)
        return y if half is None else y.to(half)


@functor
class InstanceNorm(_Norm):
    """Instance normalisation: each sample and channel over its spatial dims (``Flux.InstanceNorm``).

    ``InstanceNorm(chs, λ=identity, initβ=zeros32, initγ=ones32, affine=False,
    track_stats=False, active=None, eps=1e-5, momentum=0.1)``. Input
    ``(N, C, spatial...)`` with at least one spatial dim. With ``track_stats=True``
    the running statistics (averaged over the batch) are updated in training and
    used in test mode.

    >>> m = InstanceNorm(3)
    >>> m
    InstanceNorm(3)
    >>> y = m(torch.rand(2, 3, 4, 4))
    >>> bool(torch.allclose(y.mean(dim=(2, 3)), torch.zeros(2, 3), atol=1e-5))
    True
    >>> InstanceNorm(3, affine=True)
    InstanceNorm(3, affine=True)  # 6 parameters
    """

    _DEFAULT_AFFINE = False
    _DEFAULT_TRACK = False

    def __init__(self, chs, λ=identity, **kw):
        self._setup("InstanceNorm", chs, λ, kw)

    def __call__(self, x):
        half = _half_in(x, self._like())
        x = _input(self, x, self._like())
        _check_channels(self, x, self.chs, 3)
        use_batch = not self.track_stats or isactive(self)
        if use_batch and x[0, 0].numel() == 1:
            raise ValueError(f"{inline(self)} needs more than one spatial element per channel to "
                             f"compute statistics, but got a tensor of shape {tuple(x.shape)}")
        y = F.instance_norm(x, self.μ, self.σ2, self.γ, self.β, use_batch, self.momentum, self.ϵ)
        y = self._finish(y)
        return y if half is None else y.to(half)


@functor
class GroupNorm(Showable):
    """Group normalisation: each sample over groups of ``chs // G`` channels and the spatial dims (``Flux.GroupNorm``).

    ``GroupNorm(chs, G, λ=identity, initβ=zeros32, initγ=ones32, affine=True,
    active=None, eps=1e-5, momentum=0.1)``. Input ``(N, C, ...)``; ``G`` must divide
    ``chs``. Always uses the batch's statistics (``μ``, ``σ2`` are ``None``, as in Flux).

    >>> m = GroupNorm(4, 2)
    >>> m
    GroupNorm(4, 2)  # 8 parameters
    >>> m(torch.rand(3, 4, 5)).shape
    torch.Size([3, 4, 5])
    """

    _DEFAULT_AFFINE = True

    def __init__(self, chs, G, λ=identity, **kw):
        _check_size("GroupNorm", chs)
        if isinstance(G, bool) or not isinstance(G, int) or G < 1:
            raise TypeError(f"GroupNorm expects the number of groups G as a positive integer, but got {G!r}")
        if chs % G:
            raise ValueError(f"GroupNorm({chs}, {G}): the number of groups ({G}) must divide the number "
                             f"of channels ({chs}); pick G among the divisors of {chs}")
        o = _options("GroupNorm", kw, λ=(("λ", "lambda_"), λ), initβ=(("initβ", "initbeta"), zeros32),
                     initγ=(("initγ", "initgamma"), ones32), affine=(("affine",), True),
                     active=(("active",), None), eps=(("eps", "ϵ", "epsilon"), 1e-5),
                     momentum=(("momentum",), 0.1))
        if not callable(o["λ"]):
            raise TypeError(f"GroupNorm expects an activation function λ, but got {o['λ']!r}")
        affine = bool(o["affine"])
        self.G = G
        self.λ = o["λ"]
        self.β = o["initβ"](chs) if affine else None
        self.γ = o["initγ"](chs) if affine else None
        self.μ = None
        self.σ2 = None
        self.ϵ = float(o["eps"])
        self.momentum = float(o["momentum"])
        self.affine = affine
        self.track_stats = False
        self.active = _active_arg("GroupNorm", o["active"])
        self.chs = chs

    def trainable(self):
        return {"β": self.β, "γ": self.γ}

    def __call__(self, x):
        half = _half_in(x, self.γ)
        x = _input(self, x, self.γ)
        if x.dim() < 2 or x.shape[1] != self.chs:
            _check_channels(self, x, self.chs, 2)
        y = F.group_norm(x, self.G, self.γ, self.β, self.ϵ)
        y = y if self.λ is identity else self.λ(y)
        return y if half is None else y.to(half)

    def _inline(self):
        return f"GroupNorm({self.chs}, {self.G}" + _suffix(self) + ")"


@functor
class LayerNorm(Showable):
    """Normalise each sample over its last dims, then a learnable affine map (``Flux.LayerNorm``).

    ``LayerNorm(size..., λ=identity, affine=True, eps=1e-5)``: ``size`` is the
    trailing shape of the input (an int or a tuple). Flux normalises the *first*
    dims of its batch-last arrays; reversed, those are the *last* dims here, so
    Flux's ``LayerNorm((W, H))`` is ``LayerNorm((H, W))``. As in Flux v0.16 the
    normalisation is ``(x - μ) / sqrt(σ² + eps)`` (``NNlib.normalise``, torch's
    ``layer_norm``); ``flux_torch.v014.LayerNorm`` computes v0.14's ``(x - μ) / (σ + eps)``.
    The affine part is ``diag``, a :class:`Scale` of shape ``size`` (``diag.scale``,
    ``diag.bias``) that also applies ``λ``.

    >>> m = LayerNorm(5)
    >>> m
    LayerNorm(5)  # 10 parameters
    >>> y = m(torch.tensor([[90.0, 100, 110, 130, 70]]))
    >>> y
    tensor([[-0.5000,  0.0000,  0.5000,  1.5000, -1.5000]])
    >>> LayerNorm(3, 4, tanh, affine=False)
    LayerNorm(3, 4, tanh, affine=False)
    """

    def __init__(self, *size_act, affine=True, **kw):
        args = list(size_act)
        λ = args.pop() if args and callable(args[-1]) else identity
        o = _options("LayerNorm", kw, λ=(("λ", "lambda_"), λ), eps=(("eps", "ϵ", "epsilon"), 1e-5))
        size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
        if not size or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size):
            raise TypeError(f"LayerNorm expects the sizes of the normalised (last) dims as positive "
                            f"integers, e.g. LayerNorm(5) or LayerNorm(3, 4), but got {size_act!r}")
        if not callable(o["λ"]):
            raise TypeError(f"LayerNorm expects an activation function λ, but got {o['λ']!r}")
        λ = o["λ"]
        self.λ = λ
        self.diag = Scale(*size, λ) if affine else λ      # as Flux: the affine part is a Scale layer
        self.ϵ = float(o["eps"])
        self.size = size
        self.affine = bool(affine)

    def __call__(self, x):
        x = _input(self, x, self.diag.scale if self.affine else None)
        size = self.size
        k = len(size)
        if x.dim() < k or x.shape[-k:] != size:
            raise ValueError(_layernorm_error(self, x))
        y = self._normalised(x)
        diag = self.diag
        return y if diag is identity else diag(y)

    def _normalised(self, x):
        return F.layer_norm(x, self.size, None, None, self.ϵ)

    def _inline(self):
        s = f"LayerNorm({', '.join(map(str, self.size))}"
        s += "" if self.λ is identity else f", {fn_name(self.λ)}"
        if not self.affine:
            s += ", affine=False"
        if self.ϵ != 1e-5:
            s += f", eps={self.ϵ!r}"
        return s + ")"


class LayerNormV014(LayerNorm):
    """Flux v0.14's ``LayerNorm`` (``flux_torch.v014.LayerNorm``): ``(x - μ) / (σ + eps)``,
    ``eps`` added to the standard deviation rather than the variance; otherwise :class:`LayerNorm`.

    >>> LayerNormV014(2, eps=1.0)(torch.tensor([1.0, 3.0]))
    tensor([-0.5000,  0.5000])
    >>> LayerNorm(2, eps=1.0)(torch.tensor([1.0, 3.0]))
    tensor([-0.7071,  0.7071])
    """

    def _normalised(self, x):
        return normalise_v014(x, dim=tuple(range(-len(self.size), 0)), eps=self.ϵ)


def _layernorm_error(layer, x):
    k, shape = len(layer.size), tuple(x.shape)
    msg = (f"{inline(layer)} expects x.shape[-{k}:] == {layer.size} (it normalises the last dims), "
           f"but got a tensor of shape {shape}")
    if len(shape) >= k and shape[:k] == tuple(reversed(layer.size)) and len(shape) >= 2:
        perm = "x.T" if len(shape) == 2 else f"x.permute{tuple(reversed(range(len(shape))))}"
        msg += (f"; flux_torch puts the batch first, so Flux's first (normalised) dims are the last "
                f"dims here: did you mean {perm}?")
    return msg


def hasaffine(layer: Any) -> bool:
    """Whether a normalisation layer has a trainable shift and scale (``Flux.hasaffine``).

    >>> hasaffine(BatchNorm(3)), hasaffine(InstanceNorm(3))
    (True, False)
    """
    if not isinstance(layer, (BatchNorm, InstanceNorm, GroupNorm, LayerNorm)):
        raise TypeError(f"hasaffine expects a normalisation layer (BatchNorm, InstanceNorm, "
                        f"GroupNorm, LayerNorm), but got {type(layer).__name__}")
    return layer.affine
