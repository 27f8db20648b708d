"""The function a compiled training step hands to ``torch.compile``.

:func:`compiled_step_fn` makes ``step(batch, numbers)``: the loss, its gradient with respect
to the model's trainable tensors and, given a :class:`~flux_torch.optimise.graph.GraphUpdate`,
the new parameters and optimiser state. It holds the model weakly and gets its own code
object, so that torch.compile's cache of one model's step is not shared with (and does not
fill up with) the steps of other models.

The gradient is :func:`_grads`, which dynamo puts into the graph as one call
(``torch._dynamo.allow_in_graph``) and AOT autograd then traces through: forward and backward
end up in one graph without dynamo's ``trace_autograd_ops`` switch, which is read whenever a
graph is traced (any call may trace again, when a guard fails) and costs several µs a call to
set and put back.
"""
import functools
import weakref

import torch

from .gradient import _check_scalar, _first
from .trainstep import _detached

__all__ = ["compiled_step_fn", "compile_options"]


def compiled_step_fn(loss, model, params, update, in_place=False):
    """``step(batch, numbers) -> (loss value, new values or gradients, head)``.

    With ``update`` (a :class:`~flux_torch.optimise.graph.GraphUpdate`), the second entry is
    the new parameters and state tensors and ``head`` the states' new numbers followed by the
    loss as float64 (one vector: one read of the device); without, the second entry is the
    gradients and the update is the caller's. A loss that does not depend on the parameters
    gives ``(value, None, None)``.

    With ``in_place``, the graph writes the new values into the parameters and state tensors
    itself, each as ``where(loss is finite, new, old)`` (so a refused step leaves them as they
    were), and the second entry is None: inductor fuses the write into the update's kernels,
    where copying the returned values in would be one more pass. Not for CUDA graphs, which
    do not replay a graph that writes into its inputs."""
    model_ref = _ref(model)
    grads_of = _grads_in_graph()
    apply, tensors, rules = (None, None, None) if update is None else (update.fn, update.tensors,
                                                                       update.rules)
    dests = update.dests if in_place and update is not None else None

    def step(batch, numbers):
        out = loss(model_ref(), *batch)
        val = _check_scalar(_first(out))
        if val is None:
            return _detached(out), None, None
        grads = grads_of(val, params)
        if apply is None:
            return _detached(out), grads, None
        with torch.no_grad():
            new, nums = apply(grads, numbers, params, tensors, rules)
            head = val.detach().reshape(1).to(torch.float64)
            if nums is not None:
                head = torch.cat([nums, head])
            if dests is not None:
                ok = torch.isfinite(val)
                for d, n in zip(dests, new):
                    d.copy_(torch.where(ok, n, d))
                new = None
        return _detached(out), new, head

    step.__code__ = step.__code__.replace()
    return step


# Guards that dynamo checks on every call and that can fail only if flux_torch, torch or Python
# itself were patched while training: which function, module or builtin a name of theirs is.
_IDENTITY = frozenset({"CLOSURE_MATCH", "FUNCTION_MATCH", "MODULE_MATCH", "BUILTIN_MATCH", "CLASS_MATCH",
                       "ID_MATCH", "DUPLICATE_INPUT"})
_LIBRARY = ("G['__import_flux_torch_dot_", "G['__import_torch_dot_", "G['__import_torch']",
            "G['__builtins_dict")


# The step's own lists of the model's tensors (parameters, optimiser state, where new values go):
# dynamo checks on each call that each entry is the very tensor the model holds, which the
# plan already makes sure of (a model whose tensors change gets a new plan and a new step)
_OWN_LISTS = ("params[", "tensors[", "dests[")


def _ours(name):
    """True for a guard's source that is a library's global (flux_torch's, torch's, a builtin, or
    a global of this module, where the traced ``step`` lives), not one of the user's."""
    if name.startswith(_LIBRARY):
        return True
    return name.startswith("G['") and name[3:].split("']", 1)[0] in _OWN_GLOBALS


def keep_guard(entries):
    """dynamo's ``guard_filter_fn``: every guard but those on which function, module or builtin
    a name of flux_torch's, torch's or Python's is (about half of a training step's guards, a
    few µs a step), and those on the identity of the tensors in the step's own lists. Guards on
    values, on tensors' shapes and types, on the model and on the user's own globals (their
    loss function, a global number it reads) are all kept.

    >>> from types import SimpleNamespace as E
    >>> keep_guard([E(is_global=True, guard_type="CLOSURE_MATCH", name="G['__import_flux_torch_dot_losses'].mse"),
    ...             E(is_global=True, guard_type="CLOSURE_MATCH", name="G['__import___main__'].my_loss"),
    ...             E(is_global=True, guard_type="CONSTANT_MATCH", name="G['__import_torch_dot_nn'].x")])
    [False, True, True]
    """
    return [not (e.guard_type in _IDENTITY and (_ours(e.name) if e.is_global else e.name.startswith(_OWN_LISTS)))
            for e in entries]


# What inductor's generated code does around the kernels by default that a training step does
# without (each a few µs a step, as much as the rest of flux_torch's own work around the graph):
# ``size_asserts`` checks every input's sizes and strides, which dynamo's guards have just
# checked; on the CPU, ``cpp_wrapper`` makes the function that calls the kernels C++ in place of
# Python (a few hundred bytecodes a step; a second or two more to compile)
_LEAN = {"size_asserts": False}
_LEAN_CPU = {"size_asserts": False, "cpp_wrapper": True}


def compile_options(mode, cpu=False):
    """``torch.compile``'s ``options`` for ``mode`` (None for its default) with :func:`keep_guard`
    and, for a step on the ``cpu``, inductor's C++ wrapper, or None for a mode torch's inductor
    does not list (passed on as ``mode`` then).

    >>> sorted(compile_options(None, cpu=True))
    ['cpp_wrapper', 'guard_filter_fn', 'size_asserts']
    """
    import torch._inductor
    try:
        options = dict(torch._inductor.list_mode_options(mode or "default"))
    except (KeyError, RuntimeError):
        return None
    options.update(_LEAN_CPU if cpu else _LEAN)
    options["guard_filter_fn"] = keep_guard
    return options


def _ref(model):
    """A weak reference to ``model`` (a plain container, which takes none, is held)."""
    try:
        return weakref.ref(model)
    except TypeError:
        return lambda: model


def _grads(val, params):
    """``torch.autograd.grad(val, params)``, ``None`` for a parameter ``val`` does not use."""
    return torch.autograd.grad(val, params, allow_unused=True)


@functools.cache
def _grads_in_graph():
    """:func:`_grads` marked for dynamo to put into the graph as one call, on the first
    compiled step (importing ``torch._dynamo`` at ``import flux_torch`` would add most of a
    second to every start-up)."""
    return torch._dynamo.allow_in_graph(_grads)


# every name this module defines, above: the globals the traced ``step`` itself reads are among them
_OWN_GLOBALS = frozenset(globals())
