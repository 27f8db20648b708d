"""When one of torch's loss kernels computes Flux's formula exactly.

Several Flux losses have a torch twin that does the same arithmetic in one call
(one C++ call instead of several Python-level ops, and one or a few autograd
nodes): ``logitcrossentropy`` is ``F.cross_entropy`` with class-probability
targets, ``logitbinarycrossentropy`` is ``F.binary_cross_entropy_with_logits``,
``huber_loss`` is ``F.huber_loss``, ``kldivergence`` is ``F.kl_div`` on
``log(ŷ + ϵ)``, ``mse`` and ``mae`` are ``F.mse_loss`` and ``F.l1_loss``. The twin
is only the same formula on some arguments: tensors of one shape (torch does not
broadcast a label the way Flux's size rule allows), one real floating dtype (Flux
would promote a mixed pair), and a reduction torch knows. Each loss asks the
helpers here, and evaluates Flux's formula as written whenever they say no.
"""
import torch

from flux_torch.losses._checks import prepare

__all__ = ["operands", "same_operands", "reduction", "class_dim"]

_REDUCTIONS = {id(torch.mean): "mean", id(torch.sum): "sum"}


def same_operands(ŷ, y):
    """True when ``ŷ`` and ``y`` are real floating tensors of one shape, dtype and
    device, with at least one element: what every fused kernel needs to see the
    operands Flux's formula sees.

    >>> same_operands(torch.zeros(2, 3), torch.ones(2, 3))
    True
    >>> same_operands(torch.zeros(2, 3), torch.ones(1, 3))        # Flux broadcasts this
    False
    >>> same_operands(torch.zeros(3), torch.ones(3, dtype=torch.float64))
    False
    """
    return (ŷ.shape == y.shape and ŷ.dtype == y.dtype and ŷ.is_floating_point()
            and ŷ.device == y.device and ŷ.numel() > 0)


def operands(fname, ŷ, y):
    """``(ŷ, y, same)``: the operands as :func:`~flux_torch.losses._checks.prepare` gives them,
    and whether they are :func:`same_operands` (checked first: then there is nothing to prepare).

    >>> operands("mse", torch.zeros(2), [1, 2])
    (tensor([0., 0.]), tensor([1., 2.]), True)
    """
    if isinstance(ŷ, torch.Tensor) and isinstance(y, torch.Tensor) and same_operands(ŷ, y):
        return ŷ, y, True
    ŷ, y = prepare(fname, ŷ, y)
    return ŷ, y, same_operands(ŷ, y)


def reduction(agg):
    """torch's ``reduction=`` name for the aggregation ``agg`` (already mapped by
    :func:`~flux_torch.losses._checks.aggregator`): ``"mean"`` or ``"sum"``, else ``None``
    (then the loss asks for ``reduction="none"`` and applies ``agg`` itself).

    >>> reduction(torch.mean), reduction(torch.sum), reduction(lambda x: x)
    ('mean', 'sum', None)
    """
    return _REDUCTIONS.get(id(agg))


def class_dim(x, dim):
    """``dim`` as a non-negative index into ``x``'s shape when it names one class
    dimension there, else ``None`` (a tuple of dims, or one out of range: the formula
    path handles those, or raises torch's own error).

    >>> class_dim(torch.zeros(4, 3), -1), class_dim(torch.zeros(3), 0), class_dim(torch.zeros(3), 1)
    (1, 0, None)
    """
    if isinstance(dim, bool) or not isinstance(dim, int):
        return None
    n = x.dim()
    return dim % n if -n <= dim < n else None
