"""Helpers for the port tests: translate a Julia project folder and run a script on stand-ins.

A run happens in this process (torch is imported once) inside a scratch folder,
with ``FLUX_TORCH_PORT_STANDIN=1`` so MLDatasets' loaders give small deterministic
data, the stand-in files a script reads (``housing.data``, ``input.txt``) written
there first, and every loss differentiated recorded: flux_torch's gradients go
through ``torch.autograd.grad`` or the engine call it ends in (``flux_torch._backward``),
whose scalar outputs are the losses.
"""
from __future__ import annotations

import contextlib
import io
import os
import runpy
import sys
import warnings

import torch

from flux_torch import _backward
from flux_torch.port import translate


def standin_files(folder):
    """Small deterministic versions of the files model-zoo scripts download."""
    g = torch.Generator().manual_seed(3)
    x = torch.rand(120, 13, generator=g, dtype=torch.float64) * 10
    w = torch.linspace(-2, 2, 13, dtype=torch.float64)
    y = x @ w / 10 + 20 + torch.randn(120, generator=g, dtype=torch.float64) * 0.1
    rows = torch.cat([x, y[:, None]], dim=1)
    with open(os.path.join(folder, "housing.data"), "w") as f:
        f.write("\n".join(" ".join(f"{v:.4f}" for v in r.tolist()) for r in rows) + "\n")
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "it"]
    idx = torch.randint(len(words), (1200,), generator=g).tolist()
    with open(os.path.join(folder, "input.txt"), "w") as f:
        f.write(" ".join(words[i] for i in idx) + "\n")
    os.makedirs(os.path.join(folder, "corpus"), exist_ok=True)
    for lang, vocab in (("en", ["the", "cat", "and", "dog"]), ("it", ["il", "gatto", "e", "cane"])):
        sentences = [" ".join(vocab[j] for j in torch.randint(4, (5,), generator=g).tolist())
                     for _ in range(120)]
        with open(os.path.join(folder, "corpus", lang + ".txt"), "w") as f:
            f.write(". ".join(sentences) + ".")


def translate_folder(src_dir, dst_dir, epochs=1, flux=None):
    """Translate every .jl file of ``src_dir`` into ``dst_dir``; returns {name: Translation}."""
    out = {}
    for name in sorted(os.listdir(src_dir)):
        if name.endswith(".jl"):
            path = os.path.join(src_dir, name)
            with open(path, encoding="utf-8") as f:
                result = translate(f.read(), name, flux=flux, epochs=epochs, path=path)
            with open(os.path.join(dst_dir, name[:-3] + ".py"), "w", encoding="utf-8") as f:
                f.write(result.python)
            out[name] = result
    return out


class LossRecorder:
    """Records the value of every scalar that torch.autograd.grad (or flux_torch's direct call
    of autograd's engine) differentiates, outside nested gradient calls."""

    def __init__(self):
        self.losses = []
        self._grad, self._engine = torch.autograd.grad, _backward._engine

    def _record(self, out, nested):
        if isinstance(out, torch.Tensor) and out.numel() == 1 and not nested:
            self.losses.append(float(out.detach()))

    def __enter__(self):
        def grad(outputs, *args, **kw):
            self._record(outputs, kw.get("create_graph"))
            return self._grad(outputs, *args, **kw)

        def engine(outputs, grads, keep_graph, create_graph, *args, **kw):
            self._record(outputs[0], create_graph)
            return self._engine(outputs, grads, keep_graph, create_graph, *args, **kw)
        torch.autograd.grad = grad
        if self._engine is not None:
            _backward._engine = engine
        return self

    def __exit__(self, *exc):
        torch.autograd.grad, _backward._engine = self._grad, self._engine

    def fell(self):
        """Whether the loss fell: the last quarter's mean under the first quarter's."""
        n = len(self.losses)
        if n < 2:
            return False
        k = max(1, n // 4)
        first, last = self.losses[:k], self.losses[-k:]
        return sum(last) / k < sum(first) / k


def run(py_path, cwd):
    """Run a translated script in ``cwd``; returns (LossRecorder, printed output)."""
    old_cwd, old_env = os.getcwd(), os.environ.get("FLUX_TORCH_PORT_STANDIN")
    old_argv = sys.argv
    buf = io.StringIO()
    os.chdir(cwd)
    os.environ["FLUX_TORCH_PORT_STANDIN"] = "1"
    sys.argv = [py_path]
    torch.manual_seed(0)
    try:
        with LossRecorder() as rec, warnings.catch_warnings(), contextlib.redirect_stdout(buf), \
                contextlib.redirect_stderr(buf):
            warnings.simplefilter("ignore")
            runpy.run_path(py_path, run_name="__main__")
    finally:
        os.chdir(old_cwd)
        sys.argv = old_argv
        if old_env is None:
            os.environ.pop("FLUX_TORCH_PORT_STANDIN", None)
        else:
            os.environ["FLUX_TORCH_PORT_STANDIN"] = old_env
    return rec, buf.getvalue()
