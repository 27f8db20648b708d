"""Names every doctest in the package can use without importing them."""
import numpy as np
import pytest
import torch

import flux_torch


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace, request):
    doctest_namespace.update({name: getattr(flux_torch, name) for name in flux_torch.__all__})
    own = getattr(getattr(request.node, "dtest", None), "globs", {})
    for name, value in own.items():     # a module's own names win (flux_torch.v014's layers)
        if doctest_namespace.get(name, value) is not value:
            del doctest_namespace[name]
    doctest_namespace.update(torch=torch, np=np, Flux=flux_torch, flux_torch=flux_torch)


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs a CUDA device (skipped without one); "
                                       "`pytest -m cuda tests` runs just these")


def pytest_collection_modifyitems(items):
    """Mark ``cuda`` every test that is skipped without a CUDA device, whatever its file calls
    the condition, so that one command on a GPU machine runs them all."""
    for item in items:
        if any("CUDA" in str(m.kwargs.get("reason", "")) for m in item.iter_markers("skipif")):
            item.add_marker(pytest.mark.cuda)


def pytest_unconfigure(config):
    """Let torch.compile's caches go while the interpreter is whole: torch's own weak-reference
    callbacks otherwise print 'Exception ignored ... KeyError' tracebacks at exit. What they
    raise while being dropped here is torch-internal bookkeeping, so it is silenced."""
    import gc
    import sys

    import torch._dynamo
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        torch._dynamo.reset()
        gc.collect()
    finally:
        sys.unraisablehook = hook
