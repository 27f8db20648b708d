"""``python -m flux_torch.port script.jl``: translate Julia Flux scripts to flux_torch.

``runtime`` (imported by translated scripts as ``jl``) never needs the Julia parser;
the translator imports tree-sitter only when it parses a file.

>>> from flux_torch.port import translate
>>> translate("y = x[1, end]").body
'y = x[-1, 0]'
"""
from .parse import PortError
from .translate import Translation, expression, translate

__all__ = ["translate", "expression", "Translation", "PortError"]
