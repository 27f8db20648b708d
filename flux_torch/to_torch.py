"""``to_torch``: a flux_torch model seen as a ``torch.nn.Module`` that shares its tensors.

The view registers every trainable floating tensor of the model as an ``nn.Parameter``
that *aliases* it (same memory, a different tensor object that autograd tracks), and
every other tensor (``BatchNorm``'s running statistics...) as a buffer, which is the
model's tensor itself. Names are the key paths of the one traversal (``layers.0.weight``),
held by empty sub-modules as ``nn.Sequential`` holds its children. An ``nn.Module``
inside the model is registered as it is, so its own parameters and hooks are used.

``forward`` calls a copy of the model rebuilt (with :func:`~flux_torch.fmap`) around the
registered Parameters, so ``loss.backward()`` fills their ``.grad`` and a ``torch.optim``
step, which writes into their memory, changes the flux_torch model. The copy is made once
and made again only when the Parameters are replaced (``functional_call``, ``.to(...)``).
"""
import copy
import weakref

import torch
from torch import nn

from .functors import fleaves, fmap, fmap_with_path, isleaf
from .modes import testmode_, trainmode_
from ._show import show
from ._types import Model

__all__ = ["to_torch", "TorchView"]


def _is_module(x):
    return isinstance(x, nn.Module)


def _is_param(t):
    return t.is_floating_point() or t.is_complex()


def _key(k):
    """A path key as a name torch accepts (no dots, not empty)."""
    s = str(k).replace(".", "_")
    return s or "_"


class _Node(nn.Module):
    """An empty module holding the tensors of one node of the model under their keys."""

    def forward(self, *args, **kw):
        raise TypeError("this sub-module only holds the tensors of part of a TorchView; "
                        "call the TorchView itself")


class TorchView(nn.Module):
    """An ``nn.Module`` whose parameters and buffers are a flux_torch model's own tensors.

    Made by :func:`to_torch`. ``view.model`` is the flux_torch model. ``train()``/``eval()``
    put the view's copy of the model in training/test mode (``trainmode_``/``testmode_``);
    as any ``nn.Module``, a new view is in training mode. The flux_torch model you hold keeps
    its own (automatic) mode. ``.to(...)``, ``.double()``, ``.cuda()`` convert the model's
    tensors in place, keeping model and view shared.

    >>> view = to_torch(Dense(torch.ones(2, 3), torch.zeros(2)))
    >>> view
    TorchView(Dense(3, 2))  # 8 parameters
    >>> view(torch.ones(1, 3))
    tensor([[3., 3.]], grad_fn=<AddmmBackward0>)
    """

    def __init__(self, model):
        super().__init__()
        object.__setattr__(self, "_flux", model)
        links = []          # (dotted name, the model's tensor, registered as Parameter?)
        trainable_ids = {id(t) for t in fleaves(model, trainable_only=True)}
        done = set()        # a tensor met again (tied), or held by an nn.Module registered already

        def register(keys, c):      # the identity cache brings each tensor and module here once
            if not keys or id(c) in done or not isinstance(c, (torch.Tensor, nn.Module)):
                return c
            done.add(id(c))
            path = tuple(_key(k) for k in keys)
            owner, name = self._owner(path[:-1]), path[-1]
            if isinstance(c, nn.Module):
                owner._modules[name] = c
                done.update(id(t) for t in c.parameters())
                done.update(id(t) for t in c.buffers())
            elif id(c) in trainable_ids and _is_param(c):
                owner._parameters[name] = c if isinstance(c, nn.Parameter) else nn.Parameter(c)
                links.append((".".join(path), c, True))
            else:
                owner._buffers[name] = c
                links.append((".".join(path), c, False))
            return c

        fmap_with_path(register, model, exclude=lambda _, v: _is_module(v) or isleaf(v))
        object.__setattr__(self, "_links", tuple(links))
        self._forget()

    def _owner(self, path):
        node = self
        for k in path:
            sub = node._modules.get(k)
            if sub is None:
                sub = node._modules[k] = _Node()
            node = sub
        return node

    @property
    def model(self):
        """The flux_torch model this view shares its tensors with."""
        return self._flux

    def _forget(self):
        object.__setattr__(self, "_slots", None)      # (dict, name) where each link is held
        object.__setattr__(self, "_slots_of", weakref.ref(self))
        object.__setattr__(self, "_cache", None)      # (tensors used, rebuilt model)

    def _find_slots(self):
        slots = []
        for name, _, is_param in self._links:
            *path, last = name.split(".")
            owner = self.get_submodule(".".join(path))
            slots.append((owner._parameters if is_param else owner._buffers, last))
        object.__setattr__(self, "_slots", slots)
        object.__setattr__(self, "_slots_of", weakref.ref(self))   # a copy finds its own
        return slots

    def _rebuilt(self):
        """The model rebuilt around the tensors registered now (cached)."""
        slots = self._slots
        if slots is None or self._slots_of() is not self:
            slots = self._find_slots()
        now = [held[name] for held, name in slots]
        cache = self._cache
        if cache is not None and all(a is b for a, b in zip(cache[0], now)):
            return cache[1]
        subst = {id(t): new for (_, t, _), new in zip(self._links, now)}
        swapped = fmap(lambda x: subst.get(id(x), x), self._flux, exclude=lambda v: _is_module(v) or isleaf(v))
        (trainmode_ if self.training else testmode_)(swapped)
        object.__setattr__(self, "_cache", (now, swapped))
        return swapped

    def __getstate__(self):
        state = dict(self.__dict__)
        for k in ("_slots", "_slots_of", "_cache"):
            state.pop(k, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._forget()

    def __deepcopy__(self, memo):
        new = object.__new__(type(self))
        memo[id(self)] = new
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        new._sync()          # copies of a Parameter and of its tensor share memory again
        return new

    def forward(self, *args, **kw):
        return self._rebuilt()(*args, **kw)

    def train(self, mode=True):
        super().train(mode)
        cache = self.__dict__.get("_cache")
        if cache is not None:
            (trainmode_ if mode else testmode_)(cache[1])
        return self

    def _sync(self):
        """Make the model's tensors share memory with the registered ones again."""
        for name, t, is_param in self._links:
            new = self.get_parameter(name) if is_param else self.get_buffer(name)
            if new is t:
                continue
            if (new.device != t.device or new.dtype != t.dtype or new.shape != t.shape
                    or new.data_ptr() != t.data_ptr()):
                t.data = new.detach()
            if not is_param:
                *path, last = name.split(".")
                self.get_submodule(".".join(path))._buffers[last] = t
        self._forget()

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self._sync()
        return self

    def load_state_dict(self, state_dict, strict=True, assign=False):
        out = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self._sync()
        return out

    def __repr__(self):
        lines = show(self._flux).split("\n")
        if len(lines) == 1:
            code, sep, comment = lines[0].partition("  #")
            return f"TorchView({code}){sep}{comment}"
        return "TorchView(\n" + "\n".join("  " + line for line in lines) + "\n)"


def to_torch(model: Model) -> TorchView:
    """A ``torch.nn.Module`` view of a flux_torch model, sharing its tensors (a :class:`TorchView`).

    ``view.parameters()`` are the model's trainable tensors (aliases of the same memory),
    named by their key paths; ``loss.backward()`` fills their ``.grad`` and any
    ``torch.optim`` optimiser updates the model. ``state_dict``, hooks, ``torch.compile``,
    ``torch.func.functional_call`` and ``train()``/``eval()`` work as for any module.
    An ``nn.Module`` is returned unchanged.

    >>> model = Chain(Dense(3, 4, relu), Dense(4, 2))
    >>> view = to_torch(model)
    >>> [name for name, _ in view.named_parameters()]
    ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
    >>> view.get_parameter("layers.0.weight").data_ptr() == model[0].weight.data_ptr()
    True
    >>> opt = torch.optim.SGD(view.parameters(), lr=0.1)
    >>> view(torch.rand(5, 3)).sum().backward()
    >>> before = model[1].bias.clone()
    >>> opt.step()
    >>> torch.allclose(model[1].bias, before - 0.1 * 5)   # d(sum)/d(bias) = 5 per output
    True
    """
    if isinstance(model, nn.Module):
        return model
    if not callable(model):
        raise TypeError(f"to_torch expects a model (a layer, a Chain or any callable holding "
                        f"tensors), but got {type(model).__name__}, which cannot be called")
    return TorchView(model)
