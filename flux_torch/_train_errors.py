"""What ``train_`` says when the loss cannot be called with what it was given.

Two Julia habits meet Python's bare ``TypeError`` first: data given as one bare tuple
``(X, Y)`` (``train_`` steps over the data, so it meets ``X`` alone), and a loss of the data
only in the explicit style (which calls ``loss(model, x, y)``). When the loss's signature
shows that the call itself was the trouble, :func:`explain_call` says what ``train_``
expected, what it got and the fix; otherwise it says nothing and the error stands.
"""
import inspect

import torch

__all__ = ["explain_call"]


def _binds(loss, args):
    try:
        inspect.signature(loss).bind(*args)
        return True
    except TypeError:
        return False
    except ValueError:     # no signature (a builtin): cannot say
        return None


def _shape(x):
    return f"a tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__


def explain_call(loss, model, data, err):
    """A message for a ``TypeError`` raised by ``train_``'s call of ``loss``, or None.

    ``model`` is None in the implicit style (the loss takes only the data).
    """
    if not callable(loss) or not isinstance(data, (tuple, list)) or not data:
        return None
    first = data[0]
    batch = tuple(first) if isinstance(first, (tuple, list)) else (first,)
    lead = () if model is None else (model,)
    if _binds(loss, lead + batch) is not False:
        return None          # the loss itself raised: its own error is the right one
    style = "train_(loss, ps, data, rule)" if model is None else "train_(loss, model, data, opt_state)"
    if isinstance(data, tuple) and all(isinstance(d, torch.Tensor) for d in data) and len(data) > 1 \
            and _binds(loss, lead + tuple(data)):
        return (f"train_ steps over the data one item at a time, and got a bare tuple of "
                f"{len(data)} tensors, so its first item was {_shape(data[0])} alone, not a batch "
                f"({err}); give one batch as a list, [(X, Y)], or batches with DataLoader((X, Y), "
                "batchsize=...)")
    if model is not None and _binds(loss, batch):
        return (f"{style} calls loss(model, *batch), with the model first, but this loss takes only "
                f"the data ({err}); write it as loss(m, x, y) using m, or use the implicit style, "
                "train_(loss, params(model), data, rule)")
    if model is None and _binds(loss, (None,) + batch):
        return (f"{style} calls loss(*batch) with the data only, but this loss takes the model too "
                f"({err}); use the explicit style, train_(loss, model, data, setup(rule, model))")
    got = ", ".join(_shape(b) for b in batch)
    return (f"{style} calls loss({'model, ' if model is not None else ''}*batch) for each item of the "
            f"data, and the first item gave ({got}), which this loss does not accept ({err})")
