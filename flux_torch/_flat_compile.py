"""A recorded walk (``_flat.Flat``) turned into straight-line Python, for the hot path.

:meth:`Flat.fits` and :meth:`Flat.mirror` replay a record with a loop over
getters and builders, a few hundred nanoseconds a slot. A model trained for
thousands of steps replays the same record every step, so once a record has been
replayed a few times it is written out as one Python function per replay (as
``dataclasses`` writes ``__init__``): for a ``Chain`` of two ``Dense``, ``fits``
becomes ``v1 = v0.layers; if v1 is not o1: return False; v2 = v1[0]; ...``.
Both functions compute exactly what the loops compute; the loops stay, for the
first calls and as the reference the tests compare against.
"""
import itertools

from ._nodes import _SCALARS

__all__ = ["compile_fits", "compile_mirror", "compile_read"]

_counter = itertools.count()


def _access(spec, src, env, j):
    """The expression that reads the child described by ``spec`` from the variable ``src``."""
    kind, key = spec[0], spec[-1]
    if kind == "attr" and isinstance(key, str) and key.isidentifier() and not key.startswith("__"):
        return f"{src}.{key}"
    env[f"k{j}"] = key
    if kind == "attr":
        return f"getattr({src}, k{j})"
    if kind == "mod":
        return f"{src}.{spec[1]}[k{j}]"
    return f"{src}[k{j}]"


def _size(kind, src):
    if kind == "mod":
        return f"len({src}._parameters) + len({src}._buffers) + len({src}._modules)"
    if kind == "dict":
        return f"len({src}.__dict__)"
    return f"len({src})"


def _define(name, lines, env):
    code = "\n".join(lines)
    exec(compile(code, f"<flux_torch {name} {next(_counter)}>", "exec"), env)
    return env[name]


def compile_fits(rec):
    """``fits(root)`` for the record ``rec``: :meth:`Flat.fits` as one straight-line function."""
    env = {"S": _SCALARS}
    lines = ["def fits(v0):", "    try:"]
    for j, ((parent, _, _), spec, old) in enumerate(zip(rec.steps, rec.specs, rec.objs[1:]), 1):
        lines.append(f"        v{j} = {_access(spec, f'v{parent}', env, j)}")
        env[f"o{j}"] = old
        if j in rec.loose:
            continue            # a non-trainable part may change freely
        if type(old) in _SCALARS:
            lines.append(f"        if v{j} is not o{j} and not (type(v{j}) in S and v{j} == o{j}): return False")
        else:
            lines.append(f"        if v{j} is not o{j}: return False")
    for slot, kind, n in rec.size_specs:
        lines.append(f"        if {_size(kind, f'v{slot}')} != {n}: return False")
    lines += ["        pass", "    except (LookupError, AttributeError, TypeError):", "        return False",
              "    return True"]
    return _define("fits", lines, env)


def compile_mirror(rec):
    """``mirror(root, grads)`` for ``rec``, ``grads`` in the order of ``rec.tensors``:
    :meth:`Flat.mirror` as one straight-line function."""
    env = {"new": object.__new__}
    lines = ["def mirror(v0, g):"]
    trainable = {id(t): i for i, t in enumerate(rec.tensors)}
    value = {}
    for i in rec.tensor_slots:
        k = trainable.get(id(rec.objs[i]))
        value[i] = "None" if k is None else f"g[{k}]"
    for slot, (kind, arg), kids in zip((n[0] for n in rec.nodes), rec.node_specs,
                                      (n[2] for n in rec.nodes)):
        got = [value.get(k, "None") for k in kids]
        if kind == "dict":
            for pos, key in enumerate(arg):
                env[f"d{slot}_{pos}"] = key
            items = ", ".join(f"d{slot}_{pos}: {g}" for pos, g in enumerate(got))
            lines.append(f"    n{slot} = {{{items}}}")
        elif kind == "tuple":
            lines.append(f"    n{slot} = ({', '.join(got)}{',' if got else ''})")
        elif kind == "list":
            lines.append(f"    n{slot} = [{', '.join(got)}]")
        elif kind == "obj":
            cls, keys = arg
            env[f"c{slot}"], env[f"f{slot}"] = cls, keys
            lines.append(f"    n{slot} = new(c{slot})")
            lines.append(f"    n{slot}.__dict__.update(zip(f{slot}, ({', '.join(got)}{',' if got else ''})))")
        else:       # the handler's own rebuild, with the model's node as template
            env[f"b{slot}"] = arg
            template = "v0" if slot == 0 else f"t{slot}"
            if slot:
                env[f"t{slot}"] = rec.objs[slot]
            lines.append(f"    n{slot} = b{slot}({template}, ({', '.join(got)}{',' if got else ''}))")
        value[slot] = f"n{slot}"
    lines.append(f"    return {value.get(0, 'None')}")
    return _define("mirror", lines, env)


def compile_read(rec, slots):
    """``read(grad)``: the values at ``slots`` of a gradient shaped like the model of ``rec``
    (None below a None), in one straight-line function. A node of another kind than the
    model's (a dict for an object) raises, and the caller reads it the slow way."""
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
        spec = rec.specs[j - 1]
        if spec[0] == "mod":          # an nn.Module's gradient is a dict
            spec = ("item", spec[-1])
        lines.append(f"    v{j} = None if v{parent} is None else {_access(spec, f'v{parent}', env, j)}")
    lines.append(f"    return [{', '.join(f'v{s}' for s in slots)}]")
    return _define("read", lines, env)
