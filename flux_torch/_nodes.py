"""The kinds of node the traversal walks into, and how each is taken apart and rebuilt.

A handler is ``(keys(x), values(x), rebuild(x, values), trainable_keys(x))``;
:func:`handler` finds the one for a type (``None`` for a leaf). Tuples, lists,
dicts, namedtuples, dataclass instances, ``@functor`` classes and
``torch.nn.Module`` are nodes; everything else is a leaf.
"""
import copy
import dataclasses

import torch
from torch import nn

_FIELDS = {}      # class -> tuple of child names, or None for "all attributes"
_TRAINABLE = {}   # class -> tuple of trainable child names (from @layer(trainable=...))
_SCALARS = (int, float, complex, bool, str, bytes, type(None))


def _seq(kind):
    return (lambda x: range(len(x)), lambda x: tuple(x),
            lambda x, v: kind(v), None)


def _named(x):
    return x._fields


def _dict_rebuild(x, v):
    try:
        return type(x)(zip(x.keys(), v))
    except TypeError:
        return dict(zip(x.keys(), v))


def _obj_keys(x):
    f = _FIELDS.get(type(x))
    return f if f is not None else tuple(k for k in vars(x))


def _obj_rebuild(x, values):
    new = object.__new__(type(x))
    new.__dict__.update(x.__dict__)
    new.__dict__.update(zip(_obj_keys(x), values))
    return new


def _obj_trainable(x):
    names = _TRAINABLE.get(type(x))
    if names is not None:
        return names
    method = getattr(type(x), "trainable", None)
    if method is None:
        return None
    sub = method(x)
    keys = _obj_keys(x)
    if isinstance(sub, dict):
        return tuple(sub)
    if hasattr(sub, "_fields"):
        return tuple(sub._fields)
    chosen = [k for k in keys if any(getattr(x, k) is s for s in sub)]
    return tuple(chosen)


def _dc_keys(x):
    return tuple(f.name for f in dataclasses.fields(x))


def _dc_rebuild(x, values):
    new = copy.copy(x)
    for k, v in zip(_dc_keys(x), values):
        object.__setattr__(new, k, v)
    return new


def _mod_keys(x):
    return (tuple(k for k, v in x._parameters.items() if v is not None)
            + tuple(k for k, v in x._buffers.items() if v is not None)
            + tuple(x._modules))


def _mod_values(x):
    return tuple(getattr(x, k) if k in x._modules else (x._parameters.get(k) if k in x._parameters
                 else x._buffers[k]) for k in _mod_keys(x))


def _mod_rebuild(x, values):
    new = copy.copy(x)
    new._parameters, new._buffers, new._modules = dict(x._parameters), dict(x._buffers), dict(x._modules)
    for k, v in zip(_mod_keys(x), values):
        if k in x._parameters:
            old = x._parameters[k]
            if isinstance(v, torch.Tensor) and not isinstance(v, nn.Parameter) and v.grad_fn is None:
                # a new tensor becomes a Parameter like the old one; a tensor that is part of a
                # graph (a gradient flows through it) stays as it is, as Parameter() would detach it
                v = nn.Parameter(v, requires_grad=old.requires_grad and v.is_floating_point())
            new._parameters[k] = v
        elif k in x._buffers:
            new._buffers[k] = v
        else:
            new._modules[k] = v
    return new


def _mod_trainable(x):
    return tuple(k for k, v in x._parameters.items() if v is not None) + tuple(x._modules)


_HANDLERS = {
    tuple: _seq(tuple), list: _seq(list),
    dict: (lambda x: tuple(x.keys()), lambda x: tuple(x.values()), _dict_rebuild, None),
}
_OBJ = (_obj_keys, lambda x: tuple(getattr(x, k) for k in _obj_keys(x)), _obj_rebuild, _obj_trainable)
_DC = (_dc_keys, lambda x: tuple(getattr(x, k) for k in _dc_keys(x)), _dc_rebuild, None)
_NT = (_named, tuple, lambda x, v: type(x)(*v), None)
_MOD = (_mod_keys, _mod_values, _mod_rebuild, _mod_trainable)


def handler(t):
    try:
        return _HANDLERS[t]
    except KeyError:
        pass
    if t in _FIELDS or any(b in _FIELDS for b in t.__mro__[1:]):
        if t not in _FIELDS:   # a subclass of a registered class is registered too
            base = next(b for b in t.__mro__[1:] if b in _FIELDS)
            _FIELDS[t] = _FIELDS[base]
            if base in _TRAINABLE:
                _TRAINABLE[t] = _TRAINABLE[base]
        h = _OBJ
    elif issubclass(t, nn.Module):
        h = _MOD
    elif issubclass(t, torch.Tensor) or t in _SCALARS:
        h = None
    elif issubclass(t, tuple) and hasattr(t, "_fields"):
        h = _NT
    elif issubclass(t, dict):
        h = _HANDLERS[dict]
    elif issubclass(t, (tuple, list)):
        h = _seq(t)
    elif dataclasses.is_dataclass(t):
        h = _DC
    else:
        h = None
    _HANDLERS[t] = h
    return h


def _get(y, key):
    """The child ``key`` of a secondary tree ``y`` (None when ``y`` is None)."""
    if y is None:
        return None
    if isinstance(key, str) and hasattr(y, "_fields"):     # a namedtuple, by field name
        return getattr(y, key, None)
    if isinstance(y, (dict, list, tuple)):
        return y[key] if not isinstance(y, dict) or key in y else None
    if isinstance(y, nn.Module) and key in y._parameters:
        return y._parameters[key]
    return getattr(y, key, None)
