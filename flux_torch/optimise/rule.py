"""The base class of every optimisation rule: hyperparameter binding, validation,
``adjust``, ``repr``.

A rule holds hyperparameters only. Its per-parameter state is made by
``rule.init(x)`` and advanced by ``rule.apply(states, xs, dxs)``, which works on
lists of parameters at once with ``torch._foreach_*`` multi-tensor ops and returns
the updates; the caller then does ``x -= update`` (Optimisers.jl's ``x .-= dx′``).
``rule.apply_(states, xs, dxs)`` does both, fused where the rule allows (Descent,
Momentum, RMSProp, AdaGrad, Adam, AdamW, and a chain ending in one of them or in
WeightDecay), so that a step costs what ``torch.optim``'s foreach code costs. A rule
may make no step for some parameters (``AccumGrad`` while it accumulates): its
``_apply`` gives ``None`` there, which stops the rules after it in a chain.

Rules compare by value (``Nesterov(0.1, 0.8) == Nesterov(0.1, 0.8)``, as Julia's ``==``
on structs) and hash by identity, so they still work as dict keys.

Subclasses declare their hyperparameters in ``_spec`` (positional, in Flux's order)
and ``_kwonly`` as ``(name, default, check)`` triples; keywords are accepted under
the ASCII name and under the Greek letter Flux uses (``η``/``eta``, ``β``/``beta``,
``ρ``/``rho``, ``ϵ``/``epsilon``, ``λ``/``lambda_``, ``γ``/``gamma``, ``δ``/``delta``,
``ω``/``omega``).
"""
import inspect
import math
import numbers

import torch

from ..functors import leaf

__all__ = ["Rule"]

# Python folds identifiers to NFKC, so a keyword typed as ϵ (U+03F5) arrives as ε.
_GREEK = {"η": "eta", "β": "beta", "ρ": "rho", "ε": "epsilon", "ϵ": "epsilon",
          "λ": "lambda_", "lambda": "lambda_", "γ": "gamma", "δ": "delta", "ω": "omega"}
_LETTER = {"eta": "η", "beta": "β", "rho": "ρ", "epsilon": "ϵ", "lambda_": "λ",
           "gamma": "γ", "delta": "δ", "omega": "ω"}


def _number(rule, name, value):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, torch.Tensor)):
        raise TypeError(f"{rule}: {name} must be a real number, got {value!r}")
    if isinstance(value, torch.Tensor) and value.numel() != 1:
        raise TypeError(f"{rule}: {name} must be a number, "
                        f"got a tensor of shape {tuple(value.shape)}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{rule}: {name} must be a finite number, got an integer too large "
                         "for a float") from None


# Clipping thresholds where infinity means "no clipping" (ClipGrad's δ, ClipNorm's ω)
_MAY_BE_INFINITE = ("delta", "omega")


def nonneg(rule, name, value):
    """Check ``value >= 0`` and finite (learning rates, epsilons, penalties); a clipping
    threshold (``delta``, ``omega``) may also be ``inf``, which clips nothing.

    >>> nonneg("Adam", "eta", float("inf"))
    Traceback (most recent call last):
    ValueError: Adam: the learning rate eta must be a finite number, got inf
    """
    v = _number(rule, name, value)
    what = "the learning rate " if name == "eta" else ""
    if not v >= 0:
        raise ValueError(f"{rule}: {what}{name} must be >= 0, got {v}")
    if v == math.inf and name not in _MAY_BE_INFINITE:
        raise ValueError(f"{rule}: {what}{name} must be a finite number, got {v}")
    return v


def unit(rule, name, value, closed=False):
    """Check ``0 <= value < 1`` (decay factors ρ, β); ``closed`` allows 1."""
    v = _number(rule, name, value)
    if not (0 <= v <= 1 if closed else 0 <= v < 1):
        bound = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{rule}: {name} must lie in {bound}, got {v}")
    return v


def betas(rule, name, value, closed=False):
    """Check a pair ``(β1, β2)`` of decay factors, each in ``[0, 1)``."""
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{rule}: {name} must be a pair (β1, β2) such as (0.9, 0.999), "
                        f"got {value!r}")
    return tuple(unit(rule, f"{name}[{i}]", b, closed) for i, b in enumerate(value))


def flag(rule, name, value):
    """Check a bool option."""
    if not isinstance(value, bool):
        raise TypeError(f"{rule}: {name} must be True or False, got {value!r}")
    return value


def count(rule, name, value, least=0):
    """Check an integer ``>= least``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{rule}: {name} must be an integer, got {value!r}")
    if value < least:
        raise ValueError(f"{rule}: {name} must be >= {least}, got {value}")
    return int(value)


def abs2(dxs):
    """The second factor for ``torch._foreach_addcmul_(acc, dxs, abs2(dxs))``:
    ``dxs`` itself for real tensors, their conjugates for complex ones (``|dx|²``)."""
    if not any(map(_is_complex, dxs)):      # real (the usual case): no loop in Python
        return dxs
    return [d.conj() if d.is_complex() else d for d in dxs]


_is_complex = torch.Tensor.is_complex


def pair(rule, name, value, check, example):
    """Check a pair of numbers, each with ``check(rule, name, v)``; ``example`` is shown on error."""
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{rule}: {name} must be a pair such as {example}, got {value!r}")
    return tuple(check(rule, f"{name}[{i}]", v) for i, v in enumerate(value))


#: Optimisers.jl's smallest ϵ for Float16 parameters, ``Float16(1e-7)``
F16_EPS = 1.1920928955078125e-07


def eps(xs, epsilon):
    """ϵ for each parameter of ``xs``, as Optimisers.jl's ``_eps``: ``epsilon`` itself, but
    at least ``Float16(1e-7)`` for float16 parameters unless it is 0 (a smaller ϵ vanishes
    in half precision and the update divides by zero). One scalar when all agree."""
    if not epsilon or torch.float16 not in [x.dtype for x in xs]:     # the usual case
        return epsilon
    return scalar([max(epsilon, F16_EPS) if x.dtype == torch.float16 else epsilon for x in xs])


def scalar(values):
    """One scalar when every leaf agrees (the usual case), else the per-leaf list,
    for the ``torch._foreach_*`` ops that take a scalar or a list of scalars."""
    return values[0] if values.count(values[0]) == len(values) else values


@leaf
class Rule:
    """Base class of the optimisation rules (≙ ``Optimisers.AbstractRule``).

    Hyperparameters are plain attributes, checked on construction and assignment;
    ``adjust`` returns a changed copy. ``init(x)`` gives the state of one parameter,
    ``apply(states, xs, dxs)`` advances the states of a list of parameters in place
    and returns their updates (the caller subtracts them); ``apply_`` does both at
    once. They may overwrite the gradient tensors ``dxs`` (the caller passes gradients
    it owns), and ``apply`` never returns a tensor that aliases a state. Call them
    under ``torch.no_grad()``.

    >>> from flux_torch.optimise.rules import Descent
    >>> rule = Descent(0.5)
    >>> x = torch.tensor([1.0, 2.0])
    >>> x -= rule.apply([rule.init(x)], [x], [torch.tensor([2.0, 4.0])])[0]
    >>> x
    tensor([0., 0.])
    >>> rule.adjust(0.1)
    Descent(0.1)
    >>> rule.adjust(0.1) == Descent(0.1), rule.adjust(0.1) is Descent(0.1)
    (True, False)
    """

    _spec = ()      # (name, default, check) in Flux's positional order
    _kwonly = ()    # (name, default, check), keyword-only and printed as keywords
    _aliases = {}   # extra keyword spellings for this rule -> attribute name
    _fixed = ()     # attributes that adjust refuses (they change the state's layout)
    _keywords = False   # print every hyperparameter as a keyword (Optimisers.jl's RMSProp, AdamW)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        P = inspect.Parameter
        cls.__signature__ = inspect.Signature(
            [P(n, P.POSITIONAL_OR_KEYWORD, default=d) for n, d, _ in cls._spec]
            + [P(n, P.KEYWORD_ONLY, default=d) for n, d, _ in cls._kwonly])

    def __init__(self, *args, **kwargs):
        spec = self._spec + self._kwonly
        if len(args) > len(self._spec):
            raise TypeError(f"{self._name()} takes at most {len(self._spec)} positional arguments "
                            f"({', '.join(n for n, _, _ in self._spec)}), got {len(args)}")
        given = dict(zip((n for n, _, _ in self._spec), args))
        for key, value in kwargs.items():
            name = self._canonical(key)
            if name in given:
                raise TypeError(f"{self._name()} got two values for {name} (the keyword {key!r})")
            given[name] = value
        for name, default, _ in spec:
            setattr(self, name, given.get(name, default))

    def __setattr__(self, name, value):
        for n, _, check in self._spec + self._kwonly:
            if n == name:
                value = check(self._name(), name, value)
                break
        object.__setattr__(self, name, value)

    @classmethod
    def _name(cls):
        return cls.__name__

    @classmethod
    def _fields(cls):
        """The hyperparameter names, ASCII, in positional order."""
        return tuple(n for n, _, _ in cls._spec + cls._kwonly)

    @classmethod
    def _describe(cls):
        names = [f"{n} ({_LETTER[n]})" if n in _LETTER else n for n in cls._fields()]
        return ", ".join(names) or "none"

    @classmethod
    def _knows(cls, key):
        name = cls._aliases.get(key, _GREEK.get(key, key))
        return name if name in cls._fields() else None

    def _canonical(self, key):
        name = self._knows(key)
        if name is None:
            raise TypeError(f"{self._name()} got an unexpected keyword {key!r}; "
                            f"its hyperparameters are {self._describe()}")
        return name

    # The optimisation interface --------------------------------------------------------
    def init(self, x):
        """The state for parameter ``x``: a tuple, ``()`` when the rule keeps none."""
        return ()

    def apply(self, states, xs, dxs):
        """Advance ``states`` in place and return the updates for ``xs`` given the
        gradients ``dxs`` (equal-length lists); the caller does ``x -= update``. A
        parameter the rule leaves alone this step (``AccumGrad`` still accumulating)
        gets a zero update."""
        if not dxs:
            return []
        out = list(self._apply(states, xs, dxs))
        for i, u in enumerate(out):
            if u is None:
                out[i] = dxs[i].zero_()
        return out

    #: False when ``apply_`` only reads ``dxs``: ``update_`` then skips copying the gradients
    apply_writes_dx = True

    def apply_(self, states, xs, dxs):
        """``apply`` fused with the subtraction: advances ``states`` and does
        ``x -= update`` for each of ``xs`` in place, saving a pass over memory where the
        rule can (``torch._foreach_addcdiv_`` for Adam, as ``torch.optim`` does)."""
        if dxs:
            live = [(x, u) for x, u in zip(xs, self._updates(states, xs, dxs)) if u is not None]
            if live:
                torch._foreach_sub_([x for x, _ in live], [u for _, u in live])

    def _updates(self, states, xs, dxs):
        """The updates, with ``None`` where this rule makes no step: what chains and
        wrappers call. A rule written against the public ``apply`` (overriding it, not
        ``_apply``) is called through it."""
        if type(self).apply is not Rule.apply:
            return self.apply(states, xs, dxs)
        return list(self._apply(states, xs, dxs))

    def _apply_higher(self, states, xs, dxs, higher):
        """``apply`` with extra gradients (``update_(state, model, g, g2, ...)``, ``higher`` the
        lists of the extra ones): a rule whose ``apply`` takes more than ``dxs`` gets them, in
        order; any other rule ignores them, as Optimisers.jl's first-order rules do."""
        if higher and len(inspect.signature(self.apply).parameters) > 3:
            return self.apply(states, xs, dxs, *higher)
        return self.apply(states, xs, dxs)

    def _takes_higher(self):
        """Whether extra gradients mean anything to this rule (its ``apply`` takes them, or it
        passes them on, as a chain does)."""
        return (type(self)._apply_higher is not Rule._apply_higher
                or len(inspect.signature(self.apply).parameters) > 3)

    def _apply(self, states, xs, dxs):
        """``apply`` as the rules write it: the list of updates, where ``None`` means no
        update for that parameter this step (Optimisers.jl's ``nothing``), which also stops
        the rules after it in an ``OptimiserChain``."""
        raise NotImplementedError(f"{self._name()} does not define _apply(states, xs, dxs)")

    # Hyperparameters ---------------------------------------------------------------------
    def adjust(self, eta=None, **kw):
        """A copy with some hyperparameters changed (≙ ``Optimisers.adjust``):
        ``rule.adjust(0.01)`` sets the learning rate, ``rule.adjust(beta=(0.8, 0.9))``
        others. The state made by ``init`` stays valid for the copy."""
        if eta is not None:
            if "eta" not in self._fields():
                raise TypeError(f"{self._name()} has no learning rate eta to adjust; "
                                f"its hyperparameters are {self._describe()}")
            kw = {"eta": eta, **kw}
        if not kw:
            raise TypeError(f"{self._name()}.adjust must be given something to change: "
                            f"a learning rate, or keywords among {self._describe()}")
        new = {}
        for key, value in kw.items():
            name = self._canonical(key)
            if name in self._fixed:
                raise TypeError(f"{self._name()}.adjust cannot change {name}, as that changes "
                                f"the layout of the state; make a new rule and call setup again")
            if name in new:
                raise TypeError(f"{self._name()}.adjust got two values for {name}")
            new[name] = value
        return self._rebuild(new)

    def _rebuild(self, new):
        out = object.__new__(type(self))
        for name in self._fields():
            setattr(out, name, new.get(name, getattr(self, name)))
        return out

    def _adjust_some(self, eta=None, **kw):
        """Like ``adjust``, but skipping what this rule does not have (for chains and
        state trees, as Optimisers.jl does)."""
        keep = {k: v for k, v in kw.items() if self._knows(k)}
        if eta is not None and "eta" in self._fields():
            keep["eta"] = eta
        return self.adjust(**keep) if keep else self

    # Value equality, as Julia's == on immutable structs ---------------------------------
    def _key(self):
        """What ``==`` compares: the public attributes (the hyperparameters, or the wrapped
        rules), not private ones such as the implicit style's per-tensor table."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __eq__(self, other):
        if not isinstance(other, Rule):
            return NotImplemented
        return type(self) is type(other) and self._key() == other._key()

    __hash__ = object.__hash__      # identity, so that rules stay usable as dict keys

    def __repr__(self):
        spec, kwonly = (((), self._spec + self._kwonly) if self._keywords
                        else (self._spec, self._kwonly))
        pos = ", ".join(repr(getattr(self, n)) for n, _, _ in spec)
        kws = ", ".join(f"{n}={getattr(self, n)!r}" for n, _, _ in kwonly)
        return f"{self._name()}({', '.join(s for s in (pos, kws) if s)})"
