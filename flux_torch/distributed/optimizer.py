"""``DistributedOptimizer``: a rule that first averages the gradients over the workers
(``DistributedUtils.DistributedOptimizer``)."""
import inspect

import torch.distributed as dist

from ..optimise.rule import Rule
from .backend import group_of, joined, split_args
from .collectives import coalesced_

__all__ = ["DistributedOptimizer"]


class DistributedOptimizer(Rule):
    """``DistributedOptimizer(rule)`` or ``DistributedOptimizer(backend, rule)``: before each
    step, the gradients are averaged over all the workers (one all-reduce per step on a flat
    buffer), then ``rule`` updates as usual. Every worker thus takes the same step, that of
    the gradient of the mean loss over all their batches when the batches are equally large.

    Use it wherever a rule goes, in both styles: ``setup(DistributedOptimizer(Adam()), model)``
    with ``update_``/``train_``, or ``update_(opt, ps, gs)`` with ``params``. Every worker must
    call the step with gradients for the same parameters, the same number of times. ``adjust``
    and ``adjust_`` change the wrapped rule; ``opt.opt`` is the rule (Flux's field name).
    Without a backend it uses the workers that :func:`initialize` joined.

    >>> from flux_torch.optimise import Adam
    >>> opt = DistributedOptimizer(Adam(0.01))
    >>> opt
    DistributedOptimizer(Adam(0.01, (0.9, 0.999), 1e-08))
    >>> opt.adjust(0.001).opt
    Adam(0.001, (0.9, 0.999), 1e-08)
    """

    def __init__(self, *args):
        backend, (opt,) = split_args(args, 1, "DistributedOptimizer", "a rule such as Adam()")
        if isinstance(opt, type) and issubclass(opt, Rule):
            raise TypeError(f"DistributedOptimizer expects a rule, but got the class "
                            f"{opt.__name__}; did you mean {opt.__name__}()?")
        if not isinstance(opt, Rule):
            raise TypeError(f"DistributedOptimizer expects a rule such as Adam() or Descent(0.1), "
                            f"but got {opt!r}")
        if isinstance(opt, DistributedOptimizer):
            raise TypeError(f"DistributedOptimizer: {opt!r} already averages the gradients; "
                            f"wrap the rule only once")
        object.__setattr__(self, "backend", backend)
        object.__setattr__(self, "opt", opt)

    def init(self, x):
        return self.opt.init(x)

    def _average(self, dxs):
        group = group_of(self.backend, "DistributedOptimizer")
        n = dist.get_world_size(group)
        if n > 1 and dxs:
            def mean(flat):
                dist.all_reduce(flat, group=group)
                flat.div_(n)
            with joined("DistributedOptimizer (averaging the gradients)"):
                coalesced_(dxs, mean)

    def apply(self, states, xs, dxs):
        self._average(dxs)
        return self.opt.apply(states, xs, dxs)

    def apply_(self, states, xs, dxs):
        self._average(dxs)
        self.opt.apply_(states, xs, dxs)

    def _fields(self):
        return self.opt._fields()

    def _describe(self):
        return self.opt._describe()

    def _knows(self, key):
        return self.opt._knows(key)

    def _wrap(self, opt):
        if opt is self.opt:
            return self
        return DistributedOptimizer(opt) if self.backend is None else DistributedOptimizer(self.backend, opt)

    def adjust(self, eta=None, **kw):
        """A copy whose wrapped rule has the hyperparameters changed, as ``rule.adjust``."""
        return self._wrap(self.opt.adjust(eta, **kw))

    def _adjust_some(self, eta=None, **kw):
        return self._wrap(self.opt._adjust_some(eta, **kw))

    def __repr__(self):
        backend = "" if self.backend is None else f"{self.backend!r}, "
        return f"DistributedOptimizer({backend}{self.opt!r})"


DistributedOptimizer.__signature__ = inspect.Signature(
    [inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL)])
