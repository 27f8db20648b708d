"""A :class:`~flux_torch.record.Record` written out as straight-line Python, for the hot path.

A model trained for thousands of steps replays the same record every step, so once a
record has been replayed a few times its replays become one Python function each (as
``dataclasses`` writes ``__init__``): for a ``Chain`` of two ``Dense``, ``fits`` becomes
``v1 = v0.layers; if v1 is not o1: return False; v2 = v1[0]; ...``. Each function computes
exactly what the record's loops compute; its source is attached as ``fn.__source__`` and
registered with ``linecache``, so a traceback through it shows the line.
"""
import itertools
import linecache
import weakref

from .nodes import MODULE, OBJECT, SCALARS, ObjectNode, node_of

__all__ = ["fits", "mirror", "read", "mapper"]

_counter = itertools.count()


def _define(name, lines, env):
    source = "\n".join(lines) + "\n"
    filename = f"<flux_torch {name} {next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), env)
    fn = env[name]
    fn.__source__ = source
    weakref.finalize(fn, linecache.cache.pop, filename, None)   # the source goes with the function
    return fn


def _access(rec, parent_value, j, src, env, for_tree=False):
    """The expression that reads slot ``j``'s child from the variable ``src``."""
    parent, key, node = rec.steps[j - 1]
    kind = node.code(key)[0]
    if kind == "module" and not for_tree:
        for table in ("_parameters", "_buffers", "_modules"):
            if key in getattr(parent_value, table):
                env[f"k{j}"] = key
                return f"{src}.{table}[k{j}]"
    if kind == "attr" and isinstance(key, str) and key.isidentifier() and not key.startswith("__"):
        return f"{src}.{key}"
    env[f"k{j}"] = key
    if kind == "attr":
        return f"getattr({src}, k{j})"
    return f"{src}[k{j}]"


def _value_at(rec, root, slot):
    return root if slot == 0 else rec.objs[slot]


def fits(rec, root):
    """``fits(root)`` for the record ``rec``: :meth:`Record.replay_fits` as one function."""
    env = {"S": SCALARS}
    lines = ["def fits(v0):", "    try:"]
    for j, (parent, _, _) in enumerate(rec.steps, 1):
        lines.append(f"        v{j} = {_access(rec, _value_at(rec, root, parent), j, f'v{parent}', env)}")
        if j in rec.loose:
            continue            # a non-trainable part may change freely
        old = rec.objs[j]
        env[f"o{j}"] = old
        if type(old) in SCALARS:
            lines.append(f"        if v{j} is not o{j} and not (type(v{j}) is type(o{j}) and v{j} == o{j}): "
                         f"return False")
        else:
            lines.append(f"        if v{j} is not o{j}: return False")
    for slot, kind, n in rec.sizes:
        src = f"v{slot}"
        size = {"module": f"len({src}._parameters) + len({src}._buffers) + len({src}._modules)",
                "dict": f"len({src}.__dict__)"}.get(kind, f"len({src})")
        lines.append(f"        if {size} != {n}: return False")
    lines += ["        pass", "    except (LookupError, AttributeError, TypeError):", "        return False",
              "    return True"]
    return _define("fits", lines, env)


def mirror(rec, root):
    """``mirror(root, g)`` for ``rec``, ``g`` in the order of ``rec.tensors``: :meth:`Record.mirror`
    as one function."""
    env = {"new": object.__new__}
    lines = ["def mirror(v0, g):"]
    value = {}
    for i, slots in enumerate(rec.tensor_slots):
        for j in slots:
            value[j] = f"g[{i}]"
    built = {}
    for slot, node, kids in rec.nodes:
        c = rec.canon[slot]
        if c in built:
            value[slot] = built[c]
            continue
        got = ", ".join(_values(kids, value)) + ("," if len(kids) == 1 else "")
        template = _value_at(rec, root, slot)
        name = f"n{slot}"
        if node is MODULE or type(template) is dict:
            keys = node.parts(template)[0]
            env[f"d{slot}"] = keys
            lines.append(f"    {name} = dict(zip(d{slot}, ({got})))")
        elif type(template) is tuple:
            lines.append(f"    {name} = ({got})")
        elif type(template) is list:
            lines.append(f"    {name} = [{got}]")
        elif (node is OBJECT or isinstance(node, ObjectNode) and node.fields is None) and hasattr(template, "__dict__"):
            lines += _new_object(name, slot, template, _values(kids, value), env)
        else:           # the record's rebuild of a gradient node, with the model's node as template
            env[f"b{slot}"] = lambda t, got, node=node: rec.gradient_node(node, t, got)
            if slot:
                env[f"t{slot}"] = template
            lines.append(f"    {name} = b{slot}({'v0' if slot == 0 else f't{slot}'}, ({got}))")
        value[slot] = built[c] = name
    lines.append(f"    return {value.get(0, 'None')}")
    return _define("mirror", lines, env)


def _values(kids, value):
    """The expressions of the children ``kids``: each one's name in the code, or ``None``."""
    return [value.get(k, "None") for k in kids]


def _new_object(name, slot, template, exprs, env):
    """The lines that make ``name``, a new object of ``template``'s class whose fields (in the
    order of its ``__dict__``) are the expressions ``exprs``. They are written into its
    ``__dict__`` one by one: twice as quick as ``update(zip(...))``, and not through the class's
    ``__setattr__`` (a watched class's would bump ``VERSION``, and every record would replay)."""
    env[f"c{slot}"] = type(template)
    return ([f"    {name} = new(c{slot})", f"    d = {name}.__dict__"]
            + [f"    d[{k!r}] = {v}" for k, v in zip(template.__dict__, exprs)])


def read(rec, root, slots):
    """``read(tree)``: the values at ``slots`` of a tree shaped like ``rec``'s model (``None``
    below a ``None``), as one function. A node of another kind than the model's (a dict
    for a layer, say) raises, and the record reads it the general way."""
    env = {}
    need, todo = set(), list(slots)
    while todo:                       # the slots on the way to each wanted one
        s = todo.pop()
        if s and s not in need:
            need.add(s)
            todo.append(rec.steps[s - 1][0])
    lines = ["def read(v0):"]
    for j in sorted(need):
        parent = rec.steps[j - 1][0]
        access = _access(rec, _value_at(rec, root, parent), j, f"v{parent}", env, for_tree=True)
        lines.append(f"    v{j} = None if v{parent} is None else {access}")
    lines.append(f"    return [{', '.join(f'v{s}' for s in slots)}{',' if len(slots) == 1 else ''}]")
    return _define("read", lines, env)


def mapper(rec, root, mode):
    """``mapped(v0, f, run)``: ``fmap(f, root)`` over the record's objects as one function, for a
    model that fits ``rec``; ``mode`` is ``"rebuild"`` (fmap), ``"convert"`` (fmap that gives a
    node back itself when none of its children changed), ``"plain"`` (fmapstructure) or
    ``"keep_types"``. ``f`` is applied to each leaf in walk order, once per mutable object;
    a loose slot (not recorded inside) is mapped by ``run``, the general walk."""
    env = {"new": object.__new__}
    lines = ["def mapped(v0, f, run):"]
    value = {0: "v0"}
    for j in range(1, len(rec.objs)):
        env[f"o{j}"] = rec.objs[j]
        value[j] = f"o{j}"
    kids_of = {slot: kids for slot, _, kids in rec.nodes}
    out, shadowed = {}, set()       # shadowed: inside a shared node met again (mapped once)
    for j in range(1, len(rec.objs)):          # the leaves, in walk order
        parent = rec.steps[j - 1][0]
        if parent in shadowed or (parent and rec.canon[parent] != parent):
            shadowed.add(j)
            continue
        if j in rec.loose:
            parent, _, _ = rec.steps[j - 1]
            holder = "v0" if parent == 0 else f"o{parent}"
            lines.append(f"    m{j} = run({_access(rec, _value_at(rec, root, parent), j, holder, env)}, ())")
            out[j] = f"m{j}"
            continue
        if j in kids_of and not _is_leaf_node(rec.objs[j]):
            continue
        c = rec.canon[j]
        if c != j and c in out:
            out[j] = out[c]
            continue
        lines.append(f"    m{j} = f(o{j})")
        out[j] = f"m{j}"
    for slot, node, kids in rec.nodes:          # the nodes, children first
        if slot in out or slot in shadowed:      # a leaf (() or an empty object), or not met
            continue
        c = rec.canon[slot]
        if c != slot and c in out:
            out[slot] = out[c]
            continue
        template = _value_at(rec, root, slot)
        exprs = [out[k] for k in kids]
        name, src = f"n{slot}", value[slot]
        if mode == "convert" and kids:
            same = " and ".join(f"{out[k]} is {value[k]}" for k in kids)
            lines.append(f"    if {same}:")
            lines.append(f"        {name} = {src}")
            lines.append("    else:")
            lines.extend("    " + ln for ln in _build(node, template, slot, exprs, name, src, env, "rebuild"))
        else:
            lines.extend(_build(node, template, slot, exprs, name, src, env, mode))
        out[slot] = name
    lines.append(f"    return {out.get(0, 'f(v0)')}")
    return _define("mapped", lines, env)


def _is_leaf_node(x):
    return (type(x) is tuple and not x) or (node_of(type(x)) is OBJECT and not x.__dict__)


def _build(node, template, slot, exprs, name, src, env, mode):
    """The lines that make the node ``name`` from its mapped children, the expressions ``exprs``."""
    got = ", ".join(exprs) + ("," if len(exprs) == 1 else "")
    if mode == "plain" or (mode == "keep_types" and node is MODULE):
        if type(template) is list:
            return [f"    {name} = [{got}]"]
        if isinstance(template, tuple) and not hasattr(template, "_fields"):
            return [f"    {name} = ({got})"]
        env[f"d{slot}"] = node.parts(template)[0]
        return [f"    {name} = dict(zip(d{slot}, ({got})))"]
    if type(template) is tuple:
        return [f"    {name} = ({got})"]
    if type(template) is list:
        return [f"    {name} = [{got}]"]
    if type(node) is ObjectNode and node.fields is None and hasattr(template, "__dict__"):
        return _new_object(name, slot, template, exprs, env)
    env[f"b{slot}"] = node.rebuild
    return [f"    {name} = b{slot}({src}, ({got}))"]
