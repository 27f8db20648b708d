"""The state back from a checkpoint's flat list of nodes (see ``encode.py``), checked as it is built.

Two loops, no recursion: the first checks every entry (its parent is an earlier
container, its depth is bounded, its key is a stored hashable value, what it names
exists) and makes its leaf; the second, from the last entry to the first, builds
each container from its children, which come after it. Every container has one
parent, so the state is a tree as large as the list (only ``Leaf`` objects and tensors
are shared, as tied parameters are). Each optimiser ``Leaf`` is then checked against
its rule's layout (``leaf_state.py``).
"""
import torch

from .rule_text import rule_from_text
from ..optimise.tree import Leaf
from .bounded_json import loads
from .encode import MAX_DEPTH
from .framing import Damaged, Unsupported
from .leaf_state import check_layout
from .values import TORCH_DTYPES, decode_value

__all__ = ["decode"]

_CONTAINERS = ("dict", "list", "tuple")
_JSON_DEPTH = 24


def _int(v, what):
    if type(v) is not int:
        raise Damaged(f"{what} is not an integer")
    return v


class _Builder:
    def __init__(self, rules, tensors, device):
        self.rules, self.tensors, self.device = rules, tensors, device
        self.moved = {}

    def tensor(self, name, as_numpy, dtype, shape):
        if type(name) is not str or name not in self.tensors:
            raise Damaged(f"it names a tensor {str(name)[:80]!r} that the file does not hold")
        t = self.tensors[name]
        if dtype is not None:           # a dtype safetensors has no name for, stored as bytes
            if type(dtype) is not str:
                raise Damaged(f"the tensor {name[:80]!r} has a malformed dtype")
            if dtype not in TORCH_DTYPES:
                raise Unsupported(f"it holds a tensor of dtype {str(dtype)[:20]!r}, which this "
                                  "torch does not have")
            if type(shape) is not list or any(type(d) is not int or d < 0 for d in shape):
                raise Damaged(f"the tensor {name[:80]!r} has a malformed shape")
            try:
                t = t.view(TORCH_DTYPES[dtype]).reshape(shape)
            except RuntimeError:
                raise Damaged(f"the {t.numel()} bytes of tensor {name[:80]!r} do not hold a "
                              f"{dtype} tensor of shape {shape}") from None
        if as_numpy:
            return t.numpy()
        key = (name, dtype)
        if key not in self.moved:
            self.moved[key] = t if self.device is None else t.to(self.device)
        return self.moved[key]

    def generator(self, kind, index, name):
        if type(kind) is not str or not (index is None or type(index) is int):
            raise Damaged("a random generator's device is malformed")
        state = self.tensor(name, False, None, None).cpu()
        try:
            g = torch.Generator(device=torch.device(kind, index) if index is not None else kind)
        except (RuntimeError, TypeError) as e:
            raise Unsupported(f"it holds a random generator on {kind}:{index}, which cannot be "
                              f"made here ({str(e)[:100]})") from None
        try:
            g.set_state(state)
        except (RuntimeError, TypeError):
            raise Damaged(f"the state of a {kind} random generator is malformed") from None
        return g

    def rule(self, i):
        if type(i) is not int or not 0 <= i < len(self.rules):
            raise Damaged("it names a rule it does not hold")
        return self.rules[i]


def _path(i, parents, keys, order):
    out = []
    while parents[i] >= 0:
        out.append(str(keys[i]) if keys[i] is not None else str(order[i]))
        i = parents[i]
    return ".".join(reversed(out)) or "the top level"


def _nodes(structure):
    if type(structure) is not dict or type(structure.get("nodes")) is not list or \
            type(structure.get("rules")) is not list:
        raise Damaged("its structure is not {'rules': [...], 'nodes': [...]}")
    if not structure["nodes"]:
        raise Damaged("its structure is empty")
    return structure["rules"], structure["nodes"]


def _rules(texts):
    out = []
    for text in texts:
        try:
            out.append(rule_from_text(text))
        except ValueError as e:
            raise Unsupported(f"its optimiser state holds a rule that cannot be rebuilt: {e}") from None
    return out


def decode(text, tensors, device):
    """The state stored as the JSON ``text`` (the nodes) over the file's ``tensors``."""
    rules, nodes = _nodes(loads(text.encode("utf-8"), "its structure", _JSON_DEPTH))
    build = _Builder(_rules(rules), tensors, device)
    n = len(nodes)
    kinds, parents, keys, depth = [None] * n, [-1] * n, [None] * n, [0] * n
    order, inleaf, objs, kids = [0] * n, [False] * n, [None] * n, {}
    uses = {}       # tensor name -> whether it is in an optimiser state (changed in place by update_)
    for i, e in enumerate(nodes):
        if type(e) is not list or len(e) < 3 or type(e[0]) is not str:
            raise Damaged(f"node {i} is not [kind, parent, key, ...]")
        kind, parent, key, args = e[0], e[1], e[2], e[3:]
        if i == 0:
            if parent != -1:
                raise Damaged("its first node is not the top")
        else:
            parent = _int(parent, f"the parent of node {i}")
            if not 0 <= parent < i or kinds[parent] not in (*_CONTAINERS, "leaf"):
                raise Damaged(f"node {i} has the parent {parent}, which is not an earlier container")
            if kinds[parent] == "leaf" and kids[parent]:
                raise Damaged(f"the optimiser Leaf at node {parent} has two states")
            depth[i] = depth[parent] + 1
            if depth[i] > MAX_DEPTH:
                raise Damaged(f"its state nests more than {MAX_DEPTH} levels deep")
            inleaf[i] = inleaf[parent] or kinds[parent] == "leaf"
            if kinds[parent] == "dict":
                key = decode_value(key, 1)
                try:
                    hash(key)
                except TypeError:
                    raise Damaged(f"node {i} has an unhashable key") from None
            elif key is not None:
                raise Damaged(f"node {i} has a key, but its parent is not a dict")
            parents[i], keys[i], order[i] = parent, key, len(kids[parent])
            kids[parent].append(i)
        if kind in _CONTAINERS:
            kids[i] = []
        elif kind in ("leaf", "same", "rule", "generator") and inleaf[i]:
            raise Damaged(f"node {i} ({kind}) is inside an optimiser Leaf's state")
        elif kind == "leaf" and len(args) == 2 and type(args[1]) is bool:
            objs[i], kids[i] = Leaf(build.rule(args[0]), None, args[1]), []
        elif kind == "same" and len(args) == 1:
            target = _int(args[0], f"the Leaf node {i} refers to")
            if not 0 <= target < i or kinds[target] != "leaf":
                raise Damaged(f"node {i} refers to node {target}, which is not an optimiser Leaf")
            objs[i] = objs[target]
        elif kind == "tensor" and len(args) == 4 and type(args[1]) is bool:
            objs[i] = build.tensor(*args)
            if args[0] in uses and (inleaf[i] or uses[args[0]]):   # a state's tensors are its own
                raise Damaged(f"the tensor {args[0][:80]!r} of an optimiser state is used twice")
            uses.setdefault(args[0], inleaf[i])
        elif kind == "value" and len(args) == 1:
            objs[i] = decode_value(args[0])
        elif kind == "rule" and len(args) == 1:
            objs[i] = build.rule(args[0])
        elif kind == "generator" and len(args) == 3:
            objs[i] = build.generator(*args)
        else:
            raise Damaged(f"node {i} is a malformed {kind[:20]!r} entry")
        kinds[i] = kind
    layouts = {}
    for i in reversed(range(n)):
        kind = kinds[i]
        if kind in _CONTAINERS:
            vals = [objs[c] for c in kids[i]]
            if kind == "dict":
                objs[i] = {keys[c]: v for c, v in zip(kids[i], vals)}
                if len(objs[i]) != len(vals):
                    raise Damaged(f"the dict at {_path(i, parents, keys, order)} has a key twice")
            else:
                objs[i] = vals if kind == "list" else tuple(vals)
        elif kind == "leaf":
            if len(kids[i]) != 1:
                raise Damaged(f"the optimiser Leaf at {_path(i, parents, keys, order)} has no state")
            leaf = objs[i]
            leaf.state = objs[kids[i][0]]
            why = check_layout(leaf.rule, leaf.state, layouts)
            if why is not None:
                raise Damaged(f"the optimiser state at {_path(i, parents, keys, order)} does not fit "
                              f"its rule: {why}")
    return objs[0]
