"""Parsing Julia with tree-sitter and the pinned ``tree-sitter-julia`` grammar.

The grammar's node names are this package's interface to Julia's syntax, which is
why the ``port`` extra pins its version. tree-sitter is imported here only, and
only when a file is parsed, so ``flux_torch`` and the translated scripts' runtime
never need it.

>>> root = parse("x = 1")                                # doctest: +SKIP
>>> root.children[0].type                               # doctest: +SKIP
'assignment'
"""
from __future__ import annotations

import re
import threading

__all__ = ["PortError", "parse", "prepare", "text", "named", "first_error"]

_local = threading.local()


class PortError(Exception):
    """A file the command cannot translate: not Julia, empty, or not parsable.

    >>> str(PortError("script.jl:3: does not parse"))
    'script.jl:3: does not parse'
    """


def _parser():
    parser = getattr(_local, "parser", None)      # a Parser is not safe to share across threads
    if parser is None:
        try:
            import tree_sitter
            import tree_sitter_julia
        except ImportError as err:
            raise PortError(
                "python -m flux_torch.port needs the Julia parser: "
                'pip install "flux_torch[port]" (tree-sitter and tree-sitter-julia)') from err
        parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_julia.language()))
        _local.parser = parser
    return parser


_END_SYMBOL = re.compile(r"(?<![\w)\]}'\"!.])(:end)\b")


def prepare(source: str) -> str:
    """Work around the grammar: the symbol ``:end`` closes a block in tree-sitter-julia
    0.23.1 (silently, without an error node), so it is written ``Symbol("end")``."""
    return _END_SYMBOL.sub('Symbol("end")', source)


def parse(source: str):
    """Parse Julia source text and return the tree's root node (a ``source_file``)."""
    return _parser().parse(prepare(source).encode("utf-8")).root_node


def text(node) -> str:
    """The source text of a node."""
    return node.text.decode("utf-8")


def named(node) -> list:
    """A node's named children, comments included."""
    return [c for c in node.children if c.is_named]


def first_error(node):
    """Where the first parse error is: the innermost ``ERROR`` or missing node, or ``None``.

    An ``ERROR`` node may span from the file's start; its first child that is not a
    complete statement (or the last one) is where the parser gave up."""
    if not node.has_error:
        return None
    while True:
        if node.is_missing:
            return node
        bad = [c for c in node.children if c.has_error or c.is_missing or c.type == "ERROR"]
        if bad:
            node = bad[0]
            continue
        if node.type == "ERROR":
            leaves = [c for c in node.children if not c.is_named or c.type == "ERROR"]
            return leaves[0] if leaves else node
        return node
