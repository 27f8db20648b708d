"""The oldest torch flux_torch runs on, checked when the package is imported.

flux_torch needs torch 2.13, found by running the test suite on older releases:

- 2.3 brought what the core uses: ``register_pytree_node(..., flatten_with_keys_fn=...)``
  (``_pytree.py``, key paths) and ``torch.compiler.is_compiling()`` (``softmax``);
- 2.11 brought ``torch._dynamo.config.trace_autograd_ops``, without which ``compile_step``
  cannot trace ``torch.autograd.grad`` and always falls back to the eager step;
- 2.12 is the first whose compiled step updates ``BatchNorm``'s running statistics as the
  eager step does (on 2.11 they drift: tests/test_compile.py's BatchNorm test fails);
- 2.13 is the first on which ``torch.compile(fullgraph=True)`` traces ``torch.func.grad`` of a
  flux_torch model through its pytree registration (docs/interop.md; on 2.12.0 and 2.12.1
  dynamo stops with "'Chain' object has no attribute 'layers'").

``setup.cfg`` declares the same floor and the README states it; tests/test_package.py keeps
the three equal.
"""
import re

import torch

__all__ = ["TORCH_FLOOR", "check_torch"]

TORCH_FLOOR = (2, 13)

_CPU_WHEEL = "pip install --upgrade torch --index-url https://download.pytorch.org/whl/cpu"


def check_torch(version: str) -> None:
    """Raise an ``ImportError`` saying what to do when torch ``version`` is older than the floor.

    >>> check_torch("2.13.0+cpu")
    >>> check_torch("2.2.2")
    Traceback (most recent call last):
    ...
    ImportError: flux_torch needs torch >= 2.13, but torch 2.2.2 is installed ...
    """
    found = re.match(r"(\d+)\.(\d+)", str(version))
    if found is None:       # a source build with an unusual version string: let it try
        return
    if (int(found.group(1)), int(found.group(2))) < TORCH_FLOOR:
        floor = ".".join(map(str, TORCH_FLOOR))
        raise ImportError(
            f"flux_torch needs torch >= {floor}, but torch {version} is installed (compiled training "
            f"steps and compiled torch.func code over its models need what torch.compile does from "
            f"{floor} on). "
            f"Upgrade torch first, keeping the build you want: a CPU-only build with "
            f"`{_CPU_WHEEL}`, or the CUDA build of your choice (the README's install step).")


check_torch(torch.__version__)
