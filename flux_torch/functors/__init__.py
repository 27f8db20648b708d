"""The one traversal: how flux_torch walks a model (Functors.jl in Python; ``Flux.Functors``).

One kernel serves every walk of the library:

- ``nodes.py``: the :class:`Node` description of each kind of node and the one registry
  (:func:`node_of`, :func:`register_node`);
- ``keypath.py``: :class:`KeyPath`, the one way a place in a model is named;
- ``walks.py``: walks as values and :func:`execute`, the walk driver;
- ``maps.py``: ``fmap``, ``fmapstructure``, their ``_with_path`` forms, ``fcollect``,
  ``fleaves``, ``modules``; ``functor.py``: ``@functor``/``@leaf``, ``children``; ``record.py``:
  a model's walk recorded once and replayed, with its generated code (``_codegen.py``).

Its clients, each a few lines on it: ``params``/``trainables`` and the training record
(``record.py``: a walk recorded once and replayed), optimiser ``setup`` and the
optimiser plan, ``state``/``loadmodel_``, ``gpu``/``cpu``/``f32``/``f64``/``f16``/``bf16``,
``testmode_``/``trainmode_``, printing (parameter counts), ``outputsize``, ``to_torch``,
``destructure``, the checkpoint encoder of ``save``, the distributed broadcast, and
the torch pytree registration (``_pytree.py``, which flattens a class by its fields).
"""
from .functor import children, functor, isfunctor, isleaf, leaf, rebuild, trainable
from .keypath import KeyPath, getkeypath, haskeypath, keypathstr, setkeypath_
from .maps import fcollect, fleaves, fmap, fmap_with_path, fmapstructure, fmapstructure_with_path, modules
from .nodes import Node, ObjectNode, lookup, node_of, register_leaf, register_node
from .walks import (AbstractWalk, CachedWalk, CachedWalkWithPath, CollectWalk, DefaultWalk,
                    DefaultWalkWithPath, ExcludeWalk, ExcludeWalkWithKeyPath, FlattenWalk, IterateWalk,
                    NoKeyword, StructuralWalk, StructuralWalkWithPath, execute, usecache)

__all__ = ["functor", "leaf", "isleaf", "isfunctor", "children", "rebuild", "trainable",
           "fmap", "fmap_with_path", "fmapstructure", "fmapstructure_with_path", "fcollect", "fleaves",
           "modules", "KeyPath", "keypathstr", "getkeypath", "haskeypath", "setkeypath_",
           "Node", "ObjectNode", "node_of", "register_node", "register_leaf", "lookup",
           "AbstractWalk", "execute", "DefaultWalk", "StructuralWalk", "ExcludeWalk", "CachedWalk",
           "CollectWalk", "FlattenWalk", "IterateWalk", "DefaultWalkWithPath", "StructuralWalkWithPath",
           "ExcludeWalkWithKeyPath", "CachedWalkWithPath", "NoKeyword", "usecache"]
