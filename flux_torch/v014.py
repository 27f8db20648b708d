"""Flux v0.14's names: ``import flux_torch.v014 as Flux`` ports code written for Flux v0.14.

``import flux_torch as Flux`` follows Flux v0.16.11 where the two versions disagree; this module
is flux_torch with v0.14's forms of those names, and nothing else changed: a name that means the
same in both is the same object here and there. docs/porting.md's version table lists what
differs and how to choose.

>>> import flux_torch
>>> import flux_torch.v014 as Flux
>>> Flux.__flux_version__, flux_torch.__flux_version__
('0.14.25', '0.16.11')
>>> Flux.Dense is flux_torch.Dense, Flux.Losses is flux_torch.Losses
(True, True)
>>> Flux.LSTM(3, 5)                    # v0.14: a stateful Recur around a cell
Recur(
  LSTMCell(3, 5),                       # 190 parameters
)         # Total: 5 trainable arrays, 190 parameters,
          # plus 2 non-trainable, 10 parameters, summarysize 800 bytes.
>>> flux_torch.LSTM(3, 5)              # v0.16: a sequence layer with explicit state
LSTM(3, 5)  # 180 parameters
>>> Flux.Recurrence
Traceback (most recent call last):
...
AttributeError: Recurrence is Flux v0.16's (v0.15+), not v0.14's: ...
"""
import flux_torch as _flux
from . import *  # noqa: F401,F403  (every name of flux_torch; the rows below replace some)

# ---- The version table's rows (docs/porting.md): v0.14's object for each name whose meaning
# differs. Add a row here and to the table together.
from .callbacks import early_stopping_v014 as early_stopping, plateau_v014 as plateau  # noqa: E402,F811
from .layers.cells import GRUCell, GRUv3Cell, LSTMCell, RNNCell  # noqa: E402,F811
from .layers.containers import ParallelV014 as Parallel  # noqa: E402,F811
from .layers.normalise import LayerNormV014 as LayerNorm  # noqa: E402,F811
from .layers.recur import GRU, LSTM, RNN, GRUv3, Recur, reset_  # noqa: E402,F811
from .layers.stateless import normalise_v014 as normalise  # noqa: E402,F811
from .optimise.v014 import AdamW, ClipValue, Optimiser, WeightDecay  # noqa: E402,F811
from .precision import bf16_v014 as bf16, f16_v014 as f16  # noqa: E402,F811
from .device_objects import get_device_v014 as get_device  # noqa: E402,F811

_V014 = ("RNN", "LSTM", "GRU", "GRUv3", "RNNCell", "LSTMCell", "GRUCell", "GRUv3Cell", "Recur",
         "reset_", "Parallel", "LayerNorm", "normalise", "AdamW", "WeightDecay", "Optimiser",
         "ClipValue", "early_stopping", "plateau", "f16", "bf16", "get_device")

# ---- Names only Flux v0.15+ has, which would mislead here (they expect v0.16's objects):
# name -> what to use instead. They are left out; using one raises AttributeError saying so.
_V016_ONLY = {
    "Recurrence": "it runs v0.16's cells, y, state = cell(x, state); in v0.14 use Recur(cell)",
    "initialstates": "v0.14's cells keep their initial state in cell.state0",
}
# Names only Flux v0.14 has: name -> what v0.16 code uses instead (flux_torch's own
# AttributeError for them reads this).
from ._versions import _V014_ONLY  # noqa: E402,F401


for _name in _V016_ONLY:
    globals().pop(_name, None)

__flux_version__ = "0.14.25"
__version__ = _flux.__version__      # flux_torch's own version, the same package

__all__ = ([n for n in _flux.__all__ if n not in _V016_ONLY]
           + [n for n in _V014 if n not in _flux.__all__])


def __getattr__(name):
    if name in _V016_ONLY:
        raise AttributeError(f"{name} is Flux v0.16's (v0.15+), not v0.14's: {_V016_ONLY[name]}; "
                             "for v0.16 code, import flux_torch as Flux")
    raise AttributeError(f"module 'flux_torch.v014' has no attribute {name!r}")
