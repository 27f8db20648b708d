"""``MixedPrecision``: another rule's step taken on a higher-precision copy of each
parameter (Optimisers.jl v0.4's rule for mixed-precision training, after Micikevicius et
al. 2017, "Mixed Precision Training").

The state of each parameter ``x`` is ``(xT, inner)``: ``xT`` a copy of ``x`` in the
precision ``T`` (float32 unless given) and ``inner`` the wrapped rule's state for
``xT``. A step converts the gradient to ``T``, lets the wrapped rule update ``xT``, then
copies ``xT`` back into ``x``. The small updates that vanish when added to a float16
``x`` thus accumulate in ``xT``.
"""
import torch

from flux_torch.optimise.rule import Rule

__all__ = ["MixedPrecision"]

_FLOATS = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
           "float64": torch.float64}


def _dtype(value):
    if isinstance(value, torch.dtype) and value.is_floating_point:
        return value
    if isinstance(value, str) and value.replace("torch.", "") in _FLOATS:
        return _FLOATS[value.replace("torch.", "")]
    raise TypeError(f"MixedPrecision: the precision T must be a floating torch dtype such as "
                    f"torch.float32 (Julia's Float32), or its name 'float32'; got {value!r}")


class MixedPrecision(Rule):
    """``MixedPrecision([T=torch.float32,] rule)``: ``rule`` updates a copy of each
    parameter kept in precision ``T`` (a torch dtype, or its name such as ``'float64'``),
    which is then copied into the parameter. Wrap the whole rule: it cannot go inside an
    ``OptimiserChain``. ``opt.rule`` is the wrapped rule and ``opt.dtype`` the precision;
    ``adjust`` changes the wrapped rule. It prints the precision by name.

    >>> from flux_torch.optimise import Descent
    >>> rule = MixedPrecision(Descent(0.1))
    >>> rule
    MixedPrecision('float32', Descent(0.1))
    >>> x = torch.tensor([1.0], dtype=torch.float16)
    >>> state = rule.init(x)
    >>> state[0].dtype
    torch.float32
    >>> for _ in range(10):     # 10 steps of 1e-4 each, which float16 alone would lose
    ...     rule.apply_([state], [x], [torch.tensor([1e-3], dtype=torch.float16)])
    >>> x, state[0]
    (tensor([0.9990], dtype=torch.float16), tensor([0.9990]))
    """

    def __init__(self, *args):
        if len(args) == 1:
            dtype, rule = torch.float32, args[0]
        elif len(args) == 2:
            dtype, rule = args
        else:
            raise TypeError(f"MixedPrecision takes a rule, optionally after a precision: "
                            f"MixedPrecision(Adam()) or MixedPrecision(torch.float64, Adam()); "
                            f"got {len(args)} arguments")
        if isinstance(rule, type) and issubclass(rule, Rule):
            raise TypeError(f"MixedPrecision expects a rule, got the class {rule.__name__}; "
                            f"did you mean {rule.__name__}()?")
        if not isinstance(rule, Rule):
            raise TypeError(f"MixedPrecision expects a rule such as Adam(), got {rule!r}")
        self.dtype = _dtype(dtype)
        self.rule = rule

    def init(self, x):
        xT = x.detach().to(self.dtype, copy=True)
        return (xT, self.rule.init(xT))

    def _inner_step(self, states, dxs):
        """Let the wrapped rule update each ``xT`` with the gradient in precision ``T``."""
        xTs = [s[0] for s in states]
        dxTs = [d.to(self.dtype) for d in dxs]
        ups = self.rule._updates([s[1] for s in states], xTs, dxTs)
        live = [(xT, u) for xT, u in zip(xTs, ups) if u is not None]
        if live:
            torch._foreach_sub_([xT for xT, _ in live], [u for _, u in live])
        return xTs

    def _apply(self, states, xs, dxs):
        xTs = self._inner_step(states, dxs)
        torch._foreach_copy_(dxs, xTs)      # the update x - xT, in x's precision
        torch._foreach_neg_(dxs)
        torch._foreach_add_(dxs, xs)
        return dxs

    def apply_(self, states, xs, dxs):
        if dxs:
            torch._foreach_copy_(xs, self._inner_step(states, dxs))     # x .= xT, exactly

    # hyperparameters are the wrapped rule's
    def _fields(self):
        return self.rule._fields()

    def _describe(self):
        return self.rule._describe()

    def _knows(self, key):
        return self.rule._knows(key)

    def adjust(self, eta=None, **kw):
        """A copy whose wrapped rule has the given hyperparameters (``rule.adjust``)."""
        return MixedPrecision(self.dtype, self.rule.adjust(eta, **kw))

    def _adjust_some(self, eta=None, **kw):
        new = self.rule._adjust_some(eta, **kw)
        return self if new is self.rule else MixedPrecision(self.dtype, new)

    def __repr__(self):
        return f"MixedPrecision({str(self.dtype).replace('torch.', '')!r}, {self.rule!r})"
