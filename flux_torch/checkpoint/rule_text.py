"""Rules as text and back, without running code: how a checkpoint stores an optimiser's rule.

A rule prints as the call that builds it (``OptimiserChain(ClipGrad(1.0), Adam(0.001,
(0.9, 0.999), 1e-08))``). :func:`rule_text` gives the text :func:`flux_torch.save` stores,
after checking that it reads back as the same rule; :func:`rule_from_text` reads such a
text with Python's parser and builds the rule only from calls of known rule classes
(flux_torch's own, ``DistributedOptimizer``, and those given to :func:`register_rule`)
with literal arguments (numbers, strings, tuples, lists, ``True``/``False``/``None``,
``inf``, ``nan``). Anything else (a name, an attribute, an expression) is refused, so a
checkpoint's metadata can never make ``load`` run code. The text is bounded before it
is parsed: a printed rule is well under 1 kB, so longer or deeper texts are refused.
"""
import ast
import math
import re
import threading

from ..distributed.optimizer import DistributedOptimizer
from ..optimise import adam, mixed_precision, modifiers, rules, schedules
from ..optimise.rule import Rule
from .._types import T

__all__ = ["rule_from_text", "rule_text", "register_rule"]

MAX_CHARS = 4096        # a printed rule (even a long chain) is well under 1 kB
MAX_NESTING = 16        # brackets inside brackets
_CONSTANTS = {"inf": math.inf, "nan": math.nan}
# The tokens a printed rule is made of; strings only with the escapes repr writes. Checking
# them first keeps Python's parser from warning (SyntaxWarning) about what a file holds.
_ESC = r"\\(?:[\\'\"ntr]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})"
_TOKEN = re.compile(r"(?P<space>\s+)|(?P<name>[^\W\d]\w*)"
                    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                    rf"|(?P<string>'(?:[^'\\\n]|{_ESC})*'|\"(?:[^\"\\\n]|{_ESC})*\")"
                    r"|(?P<open>[(\[])|(?P<close>[)\]])|(?P<sign>[-+])|(?P<punct>[,=])")

_registry_lock = threading.Lock()
_registered = {}        # name -> a user's rule class (entries are never replaced)
_builtin = []           # [dict] once computed: flux_torch's own rule classes by printed name


def _builtins():
    with _registry_lock:
        return _builtin[0] if _builtin else _find_builtins()


def _find_builtins():
    """Every rule class flux_torch defines, by its printed name (computed once)."""
    found = {}
    for module in (rules, adam, modifiers, schedules, mixed_precision):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and (issubclass(obj, Rule) or hasattr(obj, "apply")):
                found[name] = obj
    found["DistributedOptimizer"] = DistributedOptimizer
    _builtin.append(found)
    return found


def _lookup(name):
    return _builtins().get(name) or _registered.get(name)


def register_rule(cls: T) -> T:
    """Let :func:`~flux_torch.save` and :func:`~flux_torch.load` store rules of your own class
    ``cls`` by its name; returns ``cls``, so it also works as a class decorator.

    A rule is stored as the text it prints (its ``repr``), which must be a call of the
    class with literal arguments, as :class:`Rule` subclasses print by default. Register
    the class in the program that saves and in the one that loads; a name can be
    registered once (the names of flux_torch's rules are taken).

    >>> from flux_torch.optimise import Rule
    >>> from flux_torch.optimise.rule import nonneg
    >>> @register_rule
    ... class HalfDescent(Rule):
    ...     _spec = (("eta", 0.1, nonneg),)
    ...     def _apply(self, states, xs, dxs):
    ...         return [d * (self.eta / 2) for d in dxs]
    >>> rule_from_text("HalfDescent(0.5)")
    HalfDescent(0.5)
    """
    if not isinstance(cls, type) or not (callable(getattr(cls, "init", None))
                                         and callable(getattr(cls, "apply", None))):
        raise TypeError(f"register_rule expects a rule class (with init and apply methods), "
                        f"but got {cls!r}")
    name = cls.__name__
    if _builtins().get(name) not in (None, cls):
        raise ValueError(f"register_rule: {name} is the name of flux_torch's own rule; "
                         "give your class another name")
    with _registry_lock:
        old = _registered.setdefault(name, cls)
    if old is not cls:
        raise ValueError(f"register_rule: the name {name} is already registered for "
                         f"{old.__module__}.{old.__qualname__}; give {cls.__module__}."
                         f"{cls.__qualname__} another name")
    return cls


def rule_text(rule):
    """The text that a checkpoint stores for ``rule``: a ``TypeError`` saying why when
    :func:`rule_from_text` could not rebuild the same rule from it.

    ``DistributedOptimizer(backend, rule)`` is stored as ``DistributedOptimizer(rule)``:
    it comes back averaging over all the workers of the run that loads it.

    >>> from flux_torch.optimise import Adam
    >>> rule_text(Adam(0.01))
    'Adam(0.01, (0.9, 0.999), 1e-08)'
    """
    if isinstance(rule, DistributedOptimizer):
        if rule.backend is not None and rule.backend.group is not None:
            raise TypeError(f"{rule!r} averages over a process group of its own, which a file "
                            "cannot hold; save the state of DistributedOptimizer(rule) without "
                            "a backend (all the workers), or of the rule itself")
        return f"DistributedOptimizer({rule_text(rule.opt)})"
    text = repr(rule)
    name = type(rule).__name__
    if _lookup(name) is not type(rule):
        raise TypeError(f"the rule {text} is of the class {type(rule).__module__}."
                        f"{type(rule).__qualname__}, which load cannot rebuild until it is "
                        f"registered: call flux_torch.register_rule({name}) before save and load")
    try:
        back = rule_from_text(text)
    except ValueError as e:
        raise TypeError(f"the rule {text[:200]} does not print as a call that load can read "
                        f"back ({e}); its repr must be a call with literal arguments") from None
    if type(back) is not type(rule) or repr(back) != text:
        raise TypeError(f"the rule {text[:200]} reads back as {back!r}, not as itself; its repr "
                        "must be the call that builds it")
    return text


def _check_text(text):
    """Refuse, with bounded work, a text that is not made like a printed rule."""
    if not isinstance(text, str):
        raise ValueError(f"a rule's printed form is a string, but got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"a rule's printed form is well under 1 kB, but this text has "
                         f"{len(text)} characters (at most {MAX_CHARS} are read)")
    pos, depth, last = 0, 0, None
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"a rule's printed form has only names, numbers, strings, brackets, "
                             f"commas, '=' and signs, but {text[:60]!r} has {text[pos]!r}")
        kind = m.lastgroup
        if kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                raise ValueError(f"a rule's printed form nests brackets more than {MAX_NESTING} deep")
        elif kind == "close":
            depth -= 1
        elif kind == "sign" and last == "sign":
            raise ValueError(f"a rule's printed form has no repeated signs, but {text[:60]!r} has "
                             f"{text[m.start()]!r} after a sign")
        elif kind in ("name", "number") and last == "number":
            raise ValueError(f"a rule's printed form has no number run into a name or a number, "
                             f"but {text[:60]!r} has {text[m.start() - 1:m.end()]!r}")
        if kind != "space":
            last = kind
        pos = m.end()


def rule_from_text(text):
    """The rule that ``repr`` printed as ``text``; a ``ValueError`` for anything else.

    >>> from flux_torch.optimise import Adam, ClipGrad, OptimiserChain
    >>> rule_from_text("OptimiserChain(ClipGrad(1.0), Adam(0.01, (0.9, 0.999), 1e-08))")
    OptimiserChain(ClipGrad(1.0), Adam(0.01, (0.9, 0.999), 1e-08))
    >>> rule_from_text("__import__('os').system('true')")
    Traceback (most recent call last):
    ...
    ValueError: a rule's printed form has only names, numbers, ..., but "__import__('os').system('true')" has '.'
    >>> rule_from_text("eval('1')")
    Traceback (most recent call last):
    ...
    ValueError: a rule's text may only call rule classes, but it has eval(...); ...
    """
    _check_text(text)
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise ValueError(f"{text[:200]!r} is not the printed form of a rule") from None
    return _build(tree.body, text)


def _show(node, text):
    return (ast.get_source_segment(text, node) or type(node).__name__)[:80]


def _build(node, text):
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        cls = _lookup(name) if name is not None else None
        if cls is None:
            hint = "" if name is None else (f"; if {name} is your own rule class, call "
                                            f"flux_torch.register_rule({name}) first")
            raise ValueError(f"a rule's text may only call rule classes, but it has "
                             f"{_show(node.func, text)}(...){hint}")
        args = [_build(a, text) for a in node.args]
        kw = {k.arg: _build(k.value, text) for k in node.keywords}     # no ** (no '*' token)
        try:
            return cls(*args, **kw)
        except Exception as e:      # the class's own checks: bad hyperparameters
            raise ValueError(f"{name}(...) refused its arguments: {e}") from None
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _build(node.operand, text)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_build(e, text) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    raise ValueError(f"a rule's text may only hold rule calls and literal values, but it has "
                     f"{_show(node, text)!r}")
