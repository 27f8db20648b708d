"""The oldest torch flux_torch runs on, checked when the package is imported.

flux_torch needs torch 2.3: ``_pytree.py`` registers each ``@functor`` class with
``register_pytree_node(..., flatten_with_keys_fn=...)`` (key paths, new in 2.3), and
``softmax`` asks ``torch.compiler.is_compiling()`` (new in 2.3). ``setup.cfg`` declares
the same floor; a test keeps the two equal.
"""
import re

import torch

__all__ = ["TORCH_FLOOR", "check_torch"]

TORCH_FLOOR = (2, 3)

_CPU_WHEEL = "pip install --upgrade torch --index-url https://download.pytorch.org/whl/cpu"


def check_torch(version: str) -> None:
    """Raise an ``ImportError`` saying what to do when torch ``version`` is older than the floor.

    >>> check_torch("2.13.0+cpu")
    >>> check_torch("2.2.2")
    Traceback (most recent call last):
    ...
    ImportError: flux_torch needs torch >= 2.3, but torch 2.2.2 is installed ...
    """
    found = re.match(r"(\d+)\.(\d+)", str(version))
    if found is None:       # a source build with an unusual version string: let it try
        return
    if (int(found.group(1)), int(found.group(2))) < TORCH_FLOOR:
        floor = ".".join(map(str, TORCH_FLOOR))
        raise ImportError(
            f"flux_torch needs torch >= {floor}, but torch {version} is installed (flux_torch uses "
            f"torch.utils._pytree key paths and torch.compiler.is_compiling, new in {floor}). "
            f"Upgrade torch first, keeping the build you want: a CPU-only build with "
            f"`{_CPU_WHEEL}`, or the CUDA build of your choice (the README's install step).")


check_torch(torch.__version__)
