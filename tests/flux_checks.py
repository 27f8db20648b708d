"""Helpers for the translated Flux test files (Flux's test/test_module.jl, in Python).

``check_gradients`` is Flux's ``test_gradients``: the gradient flux_torch computes for a model
(and its inputs) against central finite differences, both in float64, the reference Flux uses
(``AutoFiniteDifferences``). ``leaves_close`` is ``check_equal_leaves``.
"""
import importlib
import types

import torch

import flux_torch as Flux
from flux_torch.functors import DefaultWalkWithPath, children, fmap_with_path


def _at(tree, path):
    """The node of ``tree`` at a key path of the functor walk, or None where a subtree is None."""
    for key in path:
        if tree is None:
            return None
        tree = children(tree).get(key)
    return tree


def _trainable_leaves(model):
    found, seen = [], set()

    def visit(path, x):
        if isinstance(x, torch.Tensor) and x.is_floating_point() and id(x) not in seen:
            seen.add(id(x))
            found.append((path, x))
        return x
    fmap_with_path(visit, model, walk=DefaultWalkWithPath(trainable=True))
    return found


def _finite_difference(loss, t, h=1e-6):
    """d loss / d t by central differences, perturbing ``t`` in place (then restoring it)."""
    g = torch.zeros_like(t)
    flat, gflat = t.data.view(-1), g.view(-1)
    with torch.no_grad():
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + h
            up = float(loss())
            flat[i] = old - h
            down = float(loss())
            flat[i] = old
            gflat[i] = (up - down) / (2 * h)
    return g


def check_gradients(f, *xs, loss=None, rtol=1e-4, atol=1e-4, test_mode=False):
    """Flux's ``test_gradients(f, xs...)``: the gradients of ``loss(f, xs...)`` (default the
    mean of ``f(xs...)``) with respect to the model's trainable tensors and the floating
    inputs, from ``flux_torch.gradient``, agree with finite differences in float64."""
    loss = loss or (lambda m, *a: m(*a).mean())
    m = Flux.f64(f)
    (Flux.testmode_ if test_mode else Flux.trainmode_)(m)
    xs = tuple(x.double() if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in xs)
    diff = [i for i, x in enumerate(xs) if isinstance(x, torch.Tensor) and x.is_floating_point()]

    def with_inputs(m, *d):       # integer data (ids) is closed over, not differentiated
        a = list(xs)
        for i, x in zip(diff, d):
            a[i] = x
        return loss(m, *a)
    grads = Flux.gradient(with_inputs, m, *[xs[i] for i in diff])
    checked = 0
    for path, t in _trainable_leaves(m):
        g = _at(grads[0], path)
        fd = _finite_difference(lambda: loss(m, *xs), t)
        if g is None:
            assert torch.allclose(fd, torch.zeros_like(fd), atol=atol), f"no gradient at {path}"
        else:
            torch.testing.assert_close(g, fd, rtol=rtol, atol=atol, msg=lambda s: f"at {path}: {s}")
        checked += 1
    for k, i in enumerate(diff):
        fd = _finite_difference(lambda: loss(m, *xs), xs[i])
        torch.testing.assert_close(grads[1 + k], fd, rtol=rtol, atol=atol)
        checked += 1
    assert checked, "nothing was differentiated"
    return True


def leaves_close(a, b, rtol=1e-4, atol=1e-4):
    """Flux's ``check_equal_leaves``: where both gradients hold a float tensor, they agree."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol)
        return True
    if a is None or b is None:
        return True
    ka, kb = children(a), children(b)
    for k in ka:
        if k in kb:
            leaves_close(ka[k], kb[k], rtol, atol)
    return True


def v014_namespace():
    """``flux_torch.v014`` (Flux v0.14's forms) where it exists; until then flux_torch with the
    layer module's v0.14 variants (``ParallelV014``, ``LayerNormV014``, ``normalise_v014``)."""
    try:
        return importlib.import_module("flux_torch.v014")
    except ImportError:
        from flux_torch.layers import LayerNormV014, ParallelV014, normalise_v014
        ns = types.SimpleNamespace(**{name: getattr(Flux, name) for name in Flux.__all__})
        ns.Parallel, ns.LayerNorm, ns.normalise = ParallelV014, LayerNormV014, normalise_v014
        return ns
