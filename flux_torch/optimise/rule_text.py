"""Rules from their printed form, without running code: what :func:`flux_torch.load` needs
to bring back an optimiser state tree.

A rule prints as the call that builds it (``OptimiserChain(ClipGrad(1.0), Adam(0.001,
(0.9, 0.999), 1e-08))``). :func:`rule_from_text` reads such a text with Python's parser
and builds the rule only from calls of flux_torch's own rule classes with literal
arguments (numbers, strings, tuples, lists, ``True``/``False``/``None``, ``inf``,
``nan``); anything else (a name, an attribute, an expression) is refused, so a
checkpoint's metadata can never make ``load`` run code.
"""
import ast
import math

from . import adam, mixed_precision, modifiers, rules, schedules
from .rule import Rule

__all__ = ["rule_from_text"]

_CONSTANTS = {"inf": math.inf, "nan": math.nan}


def _classes():
    """Every rule class flux_torch defines, by its printed name."""
    found = {}
    for module in (rules, adam, modifiers, schedules, mixed_precision):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and (issubclass(obj, Rule) or hasattr(obj, "apply")):
                found[name] = obj
    return found


def rule_from_text(text):
    """The rule that ``repr`` printed as ``text``; a ``ValueError`` for anything else.

    >>> from flux_torch.optimise import Adam, ClipGrad, OptimiserChain
    >>> rule_from_text("OptimiserChain(ClipGrad(1.0), Adam(0.01, (0.9, 0.999), 1e-08))")
    OptimiserChain(ClipGrad(1.0), Adam(0.01, (0.9, 0.999), 1e-08))
    >>> rule_from_text("__import__('os').system('true')")
    Traceback (most recent call last):
    ...
    ValueError: a rule's text may only call flux_torch's rule classes, but it has __import__('os').system(...)
    """
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ValueError(f"{text!r} is not the printed form of a rule") from None
    return _build(tree.body, _classes())


def _build(node, classes):
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in classes:
            raise ValueError(f"a rule's text may only call flux_torch's rule classes, but it has "
                             f"{ast.unparse(node.func)}(...)")
        args = [_build(a, classes) for a in node.args]
        kw = {k.arg: _build(k.value, classes) for k in node.keywords if k.arg is not None}
        if len(kw) != len(node.keywords):
            raise ValueError("a rule's text may not spread keyword arguments (**)")
        return classes[name](*args, **kw)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _build(node.operand, classes)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_build(e, classes) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    raise ValueError(f"a rule's text may only hold rule calls and literal values, but it has "
                     f"{ast.unparse(node)!r}")
