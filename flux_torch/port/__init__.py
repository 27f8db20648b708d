"""``python -m flux_torch.port script.jl``: translate Julia Flux scripts to flux_torch.

``runtime`` (imported by translated scripts as ``jl``) never needs the Julia parser;
the translator imports tree-sitter only when it parses a file.

>>> from flux_torch.port import translate
>>> print(translate("x = rand(Float32, 3, 4)\\ny = x[1, end]").body)
x = torch.rand(4, 3)
y = x[-1, 0]
"""
from .parse import PortError
from .translation import Translation, expression, translate

__all__ = ["translate", "expression", "Translation", "PortError"]
