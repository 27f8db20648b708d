"""Which observations: 0-based observation indices and random orders of them.

Users index observations as Python does (an int, a slice, a ``range``, a list, a numpy
array or a 1-D tensor of 0-based indices; negative ones count from the end). The helpers
here turn such an index into one of three normal forms (an int, a ``range``, or a
non-negative long tensor), check it against the number of observations, compose an index
into a view with the view's own indices, and hand the result to ``getobs`` as an int, a
slice (so arrays give views) or an index tensor. The random helpers draw the orders that
``shuffleobs``, ``splitobs``, ``kfolds`` and ``DataLoader(shuffle=True)`` use, from a
``torch.Generator``, a ``numpy.random.Generator`` or an int seed.
"""
import numpy as np
import torch

__all__ = []


def _index(idx, fname):
    """An observation index as an int, a slice, or a 1-D long tensor (not yet bounds-checked)."""
    if isinstance(idx, (int, np.integer)) and not isinstance(idx, (bool, np.bool_)):
        return int(idx)
    if isinstance(idx, slice):
        return idx
    if isinstance(idx, range):
        return torch.arange(idx.start, idx.stop, idx.step)
    if isinstance(idx, (list, tuple, np.ndarray, torch.Tensor)):
        try:
            t = torch.as_tensor(np.asarray(idx) if isinstance(idx, (list, tuple)) else idx)
        except (TypeError, ValueError, RuntimeError):
            t = torch.zeros(1)  # refused below
        if t.numel() == 0 and t.ndim <= 1:
            return torch.zeros(0, dtype=torch.long)
        if t.ndim == 0 and not t.dtype.is_floating_point and t.dtype != torch.bool:
            return int(t)
        if t.ndim == 1 and not t.dtype.is_floating_point and t.dtype != torch.bool:
            return t.long()
    raise TypeError(f"{fname}: observation indices must be an int, a slice, a range, or a list, "
                    f"array or 1-D tensor of 0-based integer indices, but got {idx!r}")


def _check_int(i, n, fname):
    if not -n <= i < n:
        raise IndexError(f"{fname}: index {i} is out of range for {n} observations "
                         f"(0-based: valid indices are -{n} to {n - 1})")
    return i + n if i < 0 else i


def _wrap(t, n, fname):
    """A long index tensor with negative entries counted from the end, bounds-checked."""
    t = torch.where(t < 0, t + n, t)
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= n):
        bad = t[(t < 0) | (t >= n)][0].item()
        raise IndexError(f"{fname}: index {bad} is out of range for {n} observations "
                         f"(0-based: valid indices are -{n} to {n - 1})")
    return t


def _positions(idx, n, fname):
    """Normalised positions among ``n``: an int, a range (for slices and in-range ranges)
    or a non-negative long tensor."""
    if isinstance(idx, range) and (not idx or (0 <= min(idx[0], idx[-1]) and max(idx[0], idx[-1]) < n)):
        return idx
    idx = _index(idx, fname)
    if isinstance(idx, int):
        return _check_int(idx, n, fname)
    if isinstance(idx, slice):
        return range(*idx.indices(n))
    return _wrap(idx, n, fname)


def _compose(base, sub):
    """``base[sub]`` for normalised positions (``base`` a range or tensor)."""
    if isinstance(sub, int):
        return base[sub] if isinstance(base, range) else int(base[sub])
    if isinstance(base, range):
        if isinstance(sub, range):  # element k: base.start + (sub.start + k*sub.step) * base.step
            return range(base.start + sub.start * base.step, base.start + sub.stop * base.step,
                         sub.step * base.step)
        return base.start + sub * base.step
    if isinstance(sub, range):
        return base[sub.start:sub.stop:sub.step] if sub.step > 0 else base[torch.arange(
            sub.start, sub.stop, sub.step)]
    return base[sub]


def _data_index(pos):
    """Positions as ``_getobs`` takes them: an int, a slice (a view of an array), or a tensor."""
    if isinstance(pos, range):
        return slice(pos.start, pos.stop, pos.step) if pos.step > 0 else torch.arange(
            pos.start, pos.stop, pos.step)
    return pos


def _generator(fname, rng, first=None, numpy=False):
    """``rng`` as a ``torch.Generator`` (or a numpy ``Generator`` where ``numpy`` allows it,
    or None for torch's global one). An int seeds a new generator. Julia's leading-rng
    call form (``shuffleobs(rng, data)``) is refused with the keyword to use instead."""
    if isinstance(first, (torch.Generator, np.random.Generator)):
        raise TypeError(f"{fname} takes the random generator as the keyword rng=, not as its first "
                        f"argument (Julia's {fname}(rng, data, ...)): write {fname}(data, ..., rng=rng)")
    if rng is None or isinstance(rng, torch.Generator):
        return rng
    if numpy and isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return torch.Generator().manual_seed(int(rng))
    kinds = "a torch.Generator, a numpy Generator" if numpy else "a torch.Generator"
    raise TypeError(f"{fname}: rng must be {kinds} or an int seed, but got {type(rng).__name__}")


def _randperm(n, rng):
    """A random order of ``range(n)`` as a long tensor on the CPU, drawn from ``rng``."""
    if isinstance(rng, np.random.Generator):
        return torch.from_numpy(rng.permutation(n).astype(np.int64))
    device = rng.device if rng is not None else torch.device("cpu")
    return torch.randperm(n, generator=rng, device=device).cpu()
