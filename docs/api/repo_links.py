"""An mkdocs hook for the API reference site: links out of ``docs/`` point at the repository.

The docs pages link to the examples with relative paths (``../examples/char_rnn.py``), which
work on the repository's own pages but name no page of the site. This hook rewrites each such
link to the file in the repository (``repo_url``), so ``mkdocs build --strict`` can keep
treating every other broken link as an error. Loaded by ``mkdocs.yml`` (``hooks``).
"""
import posixpath
import re

_LINK = re.compile(r"\]\((\.\./[^)\s]+)\)")


def repo_links(markdown, page_path, repo_url):
    """``markdown`` (the page at ``page_path`` under ``docs/``) with links out of ``docs/``
    made absolute under ``repo_url``.

    >>> repo_links("[x](../examples/a.py)", "layers.md", "https://example.org/r")
    '[x](https://example.org/r/blob/main/examples/a.py)'
    >>> repo_links("[y](training.md)", "layers.md", "https://example.org/r")
    '[y](training.md)'
    """
    base = posixpath.dirname(posixpath.join("docs", page_path))

    def absolute(match):
        target = posixpath.normpath(posixpath.join(base, match.group(1)))
        if target.startswith("docs/"):      # still inside docs/: mkdocs checks it
            return match.group(0)
        return f"]({repo_url.rstrip('/')}/blob/main/{target})"

    return _LINK.sub(absolute, markdown)


def on_page_markdown(markdown, page, config, files):
    return repo_links(markdown, page.file.src_uri, config["repo_url"])
