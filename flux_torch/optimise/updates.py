"""``update_``: one optimisation step, in Flux's explicit and implicit styles.

Explicit (Optimisers.jl): ``update_(opt_state, model, grad)`` with
``opt_state = setup(rule, model)`` and ``grad = gradient(loss, model)[0]``.
Implicit (Flux.Optimise): ``update_(rule, ps, gs)`` with ``ps = params(model)``
and ``gs = gradient(() -> ..., ps)``, or ``update_(rule, x, dx)`` for one tensor;
the rule then keeps each tensor's state itself, keyed by the tensor's identity.

Both styles work alike: gradients are copied into buffers the step owns (the
caller's gradients are never changed) and each rule gets the lists of all its
tensors at once. With one rule (the usual case) its fused ``apply_`` updates in
one pass, after every check has passed; with several, every rule's ``apply``
runs first and a single ``torch._foreach_sub_`` at the end changes the
parameters, so an error part-way leaves the model as it was.
"""
from collections.abc import Mapping
import operator
import warnings
import weakref
from typing import Any, Optional, Tuple

import torch

from ..devices import as_tensor
from ..functors import fleaves
from ..grads import Grads
from ..params import Params
from .plan import plan_for
from .tree import Leaf, check_rule, is_rule

__all__ = ["update_"]

_set_grad_enabled = torch._C._set_grad_enabled

_INVALID = ("Invalid input to update_.\n"
            "  * For the implicit style, this needs update_(rule, ps, gs) with ps = params(model) "
            "and gs = gradient(lambda: loss(...), ps).\n"
            "  * For the explicit style, update_(opt_state, model, grad) needs "
            "opt_state = setup(rule, model) and grad = gradient(loss, model)[0].")


_NO_GRAD = object()
_DTYPE, _DEVICE = operator.attrgetter("dtype"), operator.attrgetter("device")
_SHAPE = operator.attrgetter("shape")


def _plain_shapes(gs):
    """The shapes of ``gs`` when each is a plain tensor (the usual gradient), else None; by
    C-level maps, as a training step reads them every batch."""
    if list(map(type, gs)).count(torch.Tensor) != len(gs):
        return None
    return list(map(_SHAPE, gs))


def update_(opt: Any, model: Any, grad: Any = _NO_GRAD, *higher: Any) -> Optional[Tuple[Any, Any]]:
    """Update the parameters of ``model`` (and the optimiser state) in place with ``grad``.

    Explicit style (``Flux.update!(opt_state, model, grad)``): ``opt`` is the state
    tree from :func:`setup`, ``grad`` the gradient of the model, shaped like it
    (``gradient(loss, model)[0]``); ``None`` anywhere in it means no change there.
    Tied tensors (one ``Leaf``) are updated once; frozen parts are skipped. Returns
    ``(opt_state, model)``, the same objects, as ``Optimisers.update!`` does.

    >>> from flux_torch.optimise import Descent, setup
    >>> model = {"w": torch.tensor([1.0, 2.0]), "scale": 3}
    >>> opt_state = setup(Descent(0.1), model)
    >>> opt_state, model = update_(opt_state, model, {"w": torch.tensor([10.0, 10.0]), "scale": None})
    >>> model["w"]
    tensor([0., 1.])

    Implicit style (``Flux.Optimise.update!(opt, ps, gs)``): ``opt`` is the rule,
    ``ps`` a :class:`Params` and ``gs`` the :class:`Grads` from ``gradient(f, ps)``,
    or one tensor and its gradient.

    >>> W = torch.tensor([1.0, 2.0])
    >>> ps = params(W)
    >>> gs = gradient(lambda: (W ** 2).sum(), ps)
    >>> update_(Descent(0.25), ps, gs)
    >>> W
    tensor([0.5000, 1.0000])

    Extra gradients after ``grad`` (Optimisers.jl's ``update!(tree, model, grad, grad2)``)
    go to rules whose ``apply`` takes them and are ignored by the others; Flux ≤ 0.12's
    ``update!(x, x̄)`` is ``x -= x̄`` in place.

    >>> x = torch.tensor([1.0, 2.0])
    >>> update_(x, torch.tensor([0.5, 0.5]))
    tensor([0.5000, 1.5000])
    """
    if grad is _NO_GRAD:
        if isinstance(opt, torch.Tensor) and isinstance(model, (torch.Tensor, int, float)):
            with torch.no_grad():       # Flux.Optimise.update!(x, x̄): x .-= x̄
                return opt.sub_(model)
        raise TypeError(_INVALID)
    if isinstance(model, Params):
        if not is_rule(opt):
            if _is_state(opt):
                raise TypeError("update_: can't mix implicit Params with explicit state! With "
                                "params(model) the first argument must be the rule itself, as in "
                                "update_(Adam(), ps, gs); but better to use the explicit style, "
                                "update_(opt_state, model, grad) with opt_state = setup(rule, model).")
            check_rule(opt, "update_")
        if isinstance(grad, Grads) and grad.params is model and _implicit_fast(opt, model, grad):
            return None
        return _implicit(opt, list(model), _grads_of(model, grad), "", model)
    if is_rule(opt):
        if isinstance(model, torch.Tensor):
            return _implicit(opt, [model], [grad], " for one tensor")
        raise TypeError(_INVALID)
    if isinstance(opt, type):
        check_rule(opt, "update_")     # a rule class: say what was expected
    if isinstance(grad, Grads):
        raise TypeError("update_(opt_state, model, grad) wants the gradient of the model, "
                        "gradient(loss, model)[0], not the Grads of the implicit style; with Grads "
                        "use update_(rule, ps, gs)")
    if higher:
        _explicit_higher(opt, model, _unwrap(model, grad), higher)
    else:
        _explicit(opt, model, _unwrap(model, grad))
    return opt, model


def _explicit_higher(state, model, grad, higher):
    """``update_`` with extra gradients: a rule whose ``apply`` takes them gets them, in order,
    read at the same places as ``grad``; any other rule ignores them (Optimisers.jl)."""
    plan = plan_for(state, model)
    rec = plan.record
    slots = [it[1] if it[1] >= 0 else it[4][0] for it in plan.items]
    trees = [rec.read(t, slots, missing=True) for t in (grad,) + tuple(higher)]
    groups = {}
    for i, (p, _, leaf, buf, _) in enumerate(plan.items):
        if leaf.frozen or trees[0][i] is None:
            continue
        group = groups.setdefault(id(leaf.rule), (leaf.rule, [], [], [[] for _ in trees]))
        group[1].append(leaf.state)
        group[2].append(p)
        for lst, tree in zip(group[3], trees):
            g = tree[i]
            lst.append(torch.zeros_like(p) if g is None else
                       _check(g, p, lambda: f"at {rec.path(slots[i])}").to(dtype=p.dtype, copy=True))
    with torch.no_grad():
        for rule, states, xs, gs in groups.values():
            ups = rule._apply_higher(states, xs, gs[0], gs[1:])
            torch._foreach_sub_(xs, list(ups))


def _is_state(x):
    return isinstance(x, Leaf) or any(isinstance(v, Leaf) for v in fleaves(x))


def _unwrap(model, grad):
    """Flux's friendly catch: the whole tuple from gradient(loss, model) instead of its [0]."""
    if (type(grad) is tuple and grad and not isinstance(model, (tuple, list))
            and type(grad[0]) in (type(model), dict)):
        warnings.warn("update_(opt_state, model, grad) wants the gradient of the model alone, not "
                      "the whole tuple from gradient(loss, model, ...): you probably want grads[0]",
                      stacklevel=3)
        return grad[0]
    return grad


def _grads_of(ps, gs):
    if isinstance(gs, Grads) or (isinstance(gs, Mapping) and not isinstance(gs, dict)):
        return [gs[p] for p in ps]
    if isinstance(gs, dict) and all(isinstance(k, torch.Tensor) for k in gs):
        return [gs.get(p) for p in ps]
    raise TypeError("update_: can't mix implicit Params with explicit gradients! With params(model) "
                    "the gradient must be the Grads from gradient(lambda: loss(...), ps), but got "
                    f"{type(gs).__name__}. For the explicit style use update_(opt_state, model, grad) "
                    "with the model itself and opt_state = setup(rule, model).")


# ----------------------------------------------------------------------- explicit

def _explicit(state, model, grad):
    if grad is None:
        return
    plan = plan_for(state, model)
    rec = plan.record
    groups = plan.groups()
    if len(groups) == 1 and -1 not in groups[0][5]:     # the usual case: one rule, nothing tied
        rule, states, xs, _, bufs, slots, shapes, dtypes, devices = groups[0]
        try:
            gs = rec.read(grad, slots)
        except LookupError:
            gs = None       # not shaped like the model: the general way below says where
        if gs is not None and _plain_shapes(gs) == shapes:
            _step_one(rule, states, xs, gs, bufs, dtypes, devices)
            return
    every = [s for it in plan.items for s in it[4]]
    try:
        found = rec.read(grad, every)
    except LookupError as err:
        raise TypeError(f"update_: the gradient does not match the model: {err}; pass the "
                        "gradient of the model itself, gradient(loss, model)[0]") from None
    vals = dict(zip(every, found))
    Tensor = torch.Tensor
    rules, states, xs, gs, bufs = [], [], [], [], []
    for p, slot, leaf, buf, slots in plan.items:
        if leaf.frozen:
            continue
        g = vals[slot] if slot >= 0 else _tied(vals, slots)
        if g is None:
            continue
        if type(g) is not Tensor or g.shape != p.shape:
            g = _check(g, p, lambda: f"at {rec.path(slots[0])}")
        rules.append(leaf.rule)
        states.append(leaf.state)
        xs.append(p)
        gs.append(g)
        bufs.append(buf)
    if not rules:
        return
    if all(r is rules[0] for r in rules):     # one rule for all (the usual case)
        _step([(rules[0], states, xs, gs, bufs)])
        return
    groups = {}
    for item in zip(rules, states, xs, gs, bufs):
        group = groups.get(id(item[0]))
        if group is None:
            group = groups[id(item[0])] = (item[0], [], [], [], [])
        for lst, v in zip(group[1:], item[1:]):
            lst.append(v)
    _step(groups.values())


def _tied(vals, slots):
    """The gradient of a tied tensor: one object wherever it appears, or partial ones to add."""
    found = []
    for s in slots:
        g = vals[s]
        if g is not None and not any(g is f for f in found):
            found.append(g)
    if len(found) <= 1:
        return found[0] if found else None
    return sum(found[1:], found[0])


def _check(g, p, where):
    if not isinstance(g, torch.Tensor):
        try:
            g = as_tensor(g)
        except TypeError:
            raise TypeError(f"update_: the gradient {where()} should be a tensor of shape "
                            f"{tuple(p.shape)}, but got {type(g).__name__}; pass the gradient of the "
                            f"model itself, gradient(loss, model)[0]") from None
    if g.shape != p.shape:
        raise ValueError(f"update_: the gradient {where()} has shape {tuple(g.shape)}, but the "
                         f"parameter has shape {tuple(p.shape)}; was the gradient taken for "
                         f"another model?")
    return g


def _step(groups):
    """Apply each rule to its lists, then subtract every update at once.

    The gradients are first copied into buffers the step owns (kept from one step
    to the next), as ``apply`` may overwrite them and the caller's stay intact.
    """
    groups = [g for g in groups if g[2]]
    if len(groups) == 1:
        _step_one(*groups[0])
        return
    xs, updates = [], []
    grad_was = torch.is_grad_enabled()
    _set_grad_enabled(False)     # no_grad, for nn.Parameter objects too, at a fifth of its cost
    try:
        for rule, states, ps, gs, dxs in groups:
            torch._foreach_copy_(dxs, gs)
            ups = rule.apply(states, ps, dxs)
            xs += ps
            updates += ups
        if xs:
            torch._foreach_sub_(xs, updates)
    finally:
        _set_grad_enabled(grad_was)


def _step_one(rule, states, ps, gs, dxs, dtypes=None, devices=None, matched=False):
    """One rule for every tensor: its fused update, apply and subtract in one pass. ``dtypes``
    and ``devices`` are the parameters' (of ``dxs``), when known; ``matched`` says that the
    gradients are autograd's of ``ps`` themselves, which have their dtypes and devices."""
    grad_was = torch.is_grad_enabled()
    _set_grad_enabled(False)
    try:
        if rule.apply_writes_dx:
            torch._foreach_copy_(dxs, gs)
            gs = dxs
        elif not matched and (dtypes is None or list(map(_DTYPE, gs)) != dtypes
                              or list(map(_DEVICE, gs)) != devices):
            # the rule only reads the gradient: convert only those of another dtype or device
            # (the lists of dtypes and devices compared first, which is quicker than this loop)
            gs = [g if g.dtype == d.dtype and g.device == d.device else d.copy_(g)
                  for g, d in zip(gs, dxs)]
        rule.apply_(states, ps, gs)
    finally:
        _set_grad_enabled(grad_was)


# ----------------------------------------------------------------------- implicit

def _implicit(rule, ps, gs, what, order=None):
    table = _implicit_states(rule)
    states, xs, gs_, dxs = [], [], [], []
    for i, (p, g) in enumerate(zip(ps, gs)):
        if g is None:
            continue
        if type(g) is not torch.Tensor or g.shape != p.shape:
            g = _check(g, p, lambda: f"{what} of parameter {i} (of {len(ps)})")
        entry = table.get(id(p))
        if entry is None or entry[0]() is not p:
            entry = table[id(p)] = (weakref.ref(p, _forget(table, id(p))), rule.init(p),
                                    torch.empty_like(p))
        states.append(entry[1])
        xs.append(p)
        gs_.append(g)
        dxs.append(entry[2])
    if order is not None and len(xs) == len(order.order):     # every parameter had a gradient
        try:
            ref = weakref.ref(rule)
        except TypeError:        # a rule that takes no weak reference: not remembered
            ref = None
        if ref is not None:
            order._fast = (ref, states, dxs, [p.shape for p in xs])
    _step([(rule, states, xs, gs_, dxs)])


def _implicit_fast(rule, ps, gs):
    """The step of the last call with these ``Params`` and this rule (the same tensors, all with
    gradients of their shapes), without looking each tensor up again; False when this call is
    not like it."""
    fast = ps._fast
    if fast is None or fast[0]() is not rule:
        return False
    _, states, dxs, shapes = fast
    xs = ps.order
    g = list(map(gs.grads.get, map(id, xs)))
    if _plain_shapes(g) != shapes:
        return False
    _step_one(rule, states, xs, g, dxs)
    return True


def _forget(table, key):
    return lambda ref: table.pop(key, None) if table.get(key, (None,))[0] is ref else None


def _implicit_states(rule):
    """The rule's own table of per-tensor states (old Flux.Optimise keeps an IdDict in the rule),
    holding each tensor weakly: a tensor that is dropped drops its state."""
    table = getattr(rule, "_implicit_state", None)
    if table is None:
        table = {}
        object.__setattr__(rule, "_implicit_state", table)
    return table
