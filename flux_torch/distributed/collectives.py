"""Moving tensors between the workers: ``bcast_``, ``allreduce_``, ``reduce_`` and
``synchronize_`` (Flux's ``bcast!``, ``allreduce!``, ``reduce!``, ``synchronize!!``).

Each works in place on tensors. ``synchronize_`` walks a model or an optimiser state
tree with the one traversal and broadcasts all its tensors in a few flat buffers.
"""
import numbers
import operator

import torch
import torch.distributed as dist

from ..functors import fcollect
from ..optimise.tree import Leaf
from .backend import group_of, joined, split_args

__all__ = ["avg", "bcast_", "allreduce_", "reduce_", "synchronize_", "FluxDistributedModel"]


def avg(*xs):
    """The mean of its arguments; as the ``op`` of :func:`allreduce_` or :func:`reduce_` it
    averages over the workers (``DistributedUtils.avg``).

    >>> avg(1.0, 2.0, 6.0)
    3.0
    """
    return sum(xs) / len(xs)


_OPS = {operator.add: dist.ReduceOp.SUM, operator.mul: dist.ReduceOp.PRODUCT,
        max: dist.ReduceOp.MAX, min: dist.ReduceOp.MIN, avg: dist.ReduceOp.SUM}


def _op(op, fname):
    if isinstance(op, (dist.ReduceOp, type(dist.ReduceOp.SUM))):
        return op
    try:
        return _OPS[op]
    except (KeyError, TypeError):
        raise TypeError(f"{fname}: op must be avg, operator.add, operator.mul, max, min or a "
                        f"torch.distributed.ReduceOp, but got {op!r}") from None


def _buffer(x, fname):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fname} works in place on a tensor, but got {type(x).__name__}; "
                        f"convert it first, e.g. torch.as_tensor(x)")
    return x


def _root(root, group, fname):
    n = dist.get_world_size(group)
    if isinstance(root, bool) or not isinstance(root, numbers.Integral) or not 0 <= root < n:
        raise ValueError(f"{fname}: root must be a worker number from 0 to {n - 1}, but got {root!r}")
    return root if group is None else dist.get_global_rank(group, root)


def bcast_(*args, root=0):
    """Copy tensor ``buf`` from worker ``root`` to every worker, in place, and return it
    (``DistributedUtils.bcast!``): ``bcast_(buf)`` or ``bcast_(backend, buf)``.

    >>> import torch.distributed as dist
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> bcast_(torch.tensor([1.0, 2.0]), root=0)
    tensor([1., 2.])
    >>> dist.destroy_process_group()
    """
    backend, (buf,) = split_args(args, 1, "bcast_", "a tensor")
    group = group_of(backend, "bcast_")
    src = _root(root, group, "bcast_")
    with joined("bcast_"):
        dist.broadcast(_buffer(buf, "bcast_"), src, group=group)
    return buf


def allreduce_(*args):
    """Combine tensor ``buf`` over the workers with ``op`` and give every worker the result,
    in place (``DistributedUtils.allreduce!``): ``allreduce_(buf, op)`` or
    ``allreduce_(backend, buf, op)``; ``op`` is :func:`avg`, ``operator.add``,
    ``operator.mul``, ``max`` or ``min``.

    >>> import torch.distributed as dist, operator
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> allreduce_(torch.tensor([1.0, 2.0]), operator.add)
    tensor([1., 2.])
    >>> dist.destroy_process_group()
    """
    backend, (buf, op) = split_args(args, 2, "allreduce_", "a tensor and an op")
    group = group_of(backend, "allreduce_")
    reduce_op = _op(op, "allreduce_")
    with joined("allreduce_"):
        dist.all_reduce(_buffer(buf, "allreduce_"), reduce_op, group=group)
    if op is avg:
        buf.div_(dist.get_world_size(group))
    return buf


def reduce_(*args, root=0):
    """Like :func:`allreduce_`, but only worker ``root`` gets the result
    (``DistributedUtils.reduce!``).

    >>> import torch.distributed as dist
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> reduce_(torch.tensor([4.0]), avg)
    tensor([4.])
    >>> dist.destroy_process_group()
    """
    backend, (buf, op) = split_args(args, 2, "reduce_", "a tensor and an op")
    group = group_of(backend, "reduce_")
    dst = _root(root, group, "reduce_")
    reduce_op = _op(op, "reduce_")
    with joined("reduce_"):
        dist.reduce(_buffer(buf, "reduce_"), dst, reduce_op, group=group)
    if op is avg and dist.get_rank() == dst:
        buf.div_(dist.get_world_size(group))
    return buf


def coalesced_(tensors, collective):
    """Run ``collective(flat)`` in place on one flat buffer per (device, dtype) holding
    ``tensors`` (one call, not one per tensor), then copy the results back."""
    groups = {}
    for t in tensors:
        groups.setdefault((t.device, t.dtype), []).append(t)
    with torch.no_grad():
        for ts in groups.values():
            if len(ts) == 1 and ts[0].is_contiguous():
                collective(ts[0])
                continue
            flat = torch.cat([t.reshape(-1) for t in ts])
            collective(flat)
            parts = flat.split([t.numel() for t in ts])
            torch._foreach_copy_(ts, [p.view(t.shape) for p, t in zip(parts, ts)])


class FluxDistributedModel:
    """Flux's wrapper marking a model for ``synchronize!!``; :func:`synchronize_` accepts a
    model with or without it and returns the model itself.

    >>> FluxDistributedModel([torch.zeros(1)]).model
    [tensor([0.])]
    """

    def __init__(self, model):
        self.model = model

    def __repr__(self):
        return f"FluxDistributedModel({self.model!r})"


def _contents(tree):
    """The tensors of ``tree`` (also inside optimiser ``Leaf`` states) and the lists and
    dicts holding Python numbers (Adam's βᵗ, step counts), each once."""
    tensors, holders, seen = [], [], set()
    todo = [tree]
    while todo:
        for node in fcollect(todo.pop()):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, Leaf):
                todo.append(node.state)
            elif isinstance(node, torch.Tensor):
                tensors.append(node)
            elif type(node) in (list, dict):
                holders.append(node)
    return tensors, holders


def _numbers(holders):
    for h in holders:
        for k in (h.keys() if isinstance(h, dict) else range(len(h))):
            v = h[k]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                yield h, k, type(v)


def synchronize_(*args, root=0):
    """Give every worker worker ``root``'s values, in place (``DistributedUtils.synchronize!!``):
    ``synchronize_(model)`` or ``synchronize_(backend, model)``; returns its argument
    (unwrapped from :class:`FluxDistributedModel`).

    Every tensor is sent, trainable or not (BatchNorm statistics too); on an optimiser
    state tree from ``setup``, the rule's state (momenta, Adam's βᵗ, step counts) is.
    Call it after building the model and the optimiser state, before training.

    >>> import torch.distributed as dist
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    >>> model = Dense(torch.ones(1, 2), torch.zeros(1))
    >>> synchronize_(FluxDistributedModel(model)) is model
    True
    >>> opt_state = synchronize_(setup(Adam(), model))
    >>> dist.destroy_process_group()
    """
    backend, (tree,) = split_args(args, 1, "synchronize_", "a model or an optimiser state tree")
    group = group_of(backend, "synchronize_")
    src = _root(root, group, "synchronize_")
    if isinstance(tree, FluxDistributedModel):
        tree = tree.model
    tensors, holders = _contents(tree)
    nums = list(_numbers(holders))
    with joined("synchronize_"):
        coalesced_(tensors, lambda flat: dist.broadcast(flat, src, group=group))
        if nums:
            floats = torch.tensor([h[k] if t is float else 0.0 for h, k, t in nums], dtype=torch.float64)
            ints = torch.tensor([h[k] if t is int else 0 for h, k, t in nums], dtype=torch.int64)
            coalesced_([floats, ints], lambda flat: dist.broadcast(flat, src, group=group))
    if nums:
        for (h, k, t), f, i in zip(nums, floats.tolist(), ints.tolist()):
            h[k] = i if t is int else f
    return tree
