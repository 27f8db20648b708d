"""``Flux.NNlib``: the NNlib functions flux_torch has, for code that writes ``NNlib.softmax`` or
``Flux.NNlib.relu`` (Flux re-exports NNlib). The functions themselves live with their concepts
(``activation.py``, ``softmax.py``, ``layers/dropout.py``, ``layers/attention.py``...).

>>> import flux_torch as Flux
>>> Flux.NNlib.relu(torch.tensor([-1.0, 2.0])), Flux.NNlib.within_gradient()
(tensor([0., 2.]), False)
"""
from .activation import *  # noqa: F401,F403
from .activation import __all__ as _activations
from .layers.attention import dot_product_attention, make_causal_mask
from .layers.dropout import dropout, dropout_
from .losses.ctc import ctc_loss
from .modes import istraining as within_gradient
from .softmax import logsoftmax, logsumexp, softmax

__all__ = list(_activations) + ["softmax", "logsoftmax", "logsumexp", "dropout", "dropout_",
                                "dot_product_attention", "make_causal_mask", "ctc_loss",
                                "within_gradient"]
