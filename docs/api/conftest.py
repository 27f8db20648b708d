"""The API reference's build extensions import mkdocs and griffe (the ``docs`` extra), which the
test environment need not have: pytest's doctest collection skips them, and
tests/test_api_reference.py runs their examples when the extra is installed."""
collect_ignore = ["doctest_blocks.py", "repo_links.py"]
