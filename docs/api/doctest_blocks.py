"""A griffe extension for the API reference: docstrings written for doctest read as Markdown.

flux_torch's docstrings are plain text with doctest examples (``>>>`` lines) and Sphinx
roles (``:func:`name```). Rendered as Markdown, a ``>>>`` line would be a nested quote, so
each run of example lines becomes a fenced ``pycon`` block, and each role becomes inline
code. Loaded by ``mkdocs.yml`` (mkdocstrings' ``extensions`` option); not part of the package.
"""
import re

import griffe

_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):`~?([^`]+)`")


def doctest_to_markdown(text):
    r"""``text`` with each run of doctest lines fenced as ``pycon`` and Sphinx roles as code.

    >>> doctest_to_markdown("Add.\n\n>>> 1 + 1\n2\n\nSee :func:`gradient`.").split("\n")
    ['Add.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'See `gradient`.']
    """
    out, indent, in_example, in_fence = [], "", False, False
    for line in text.split("\n"):
        stripped = line.lstrip()
        if in_example and not stripped:
            out.append(indent + "```")
            in_example = False
        elif not in_example and stripped.startswith("```"):
            in_fence = not in_fence
        elif not in_example and not in_fence and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(indent + "```pycon")
            in_example = True
        out.append(line if in_example or in_fence else _ROLE.sub(r"`\1`", line))
    if in_example:
        out.append(indent + "```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Rewrite every loaded object's docstring with :func:`doctest_to_markdown`."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = doctest_to_markdown(obj.docstring.value)
