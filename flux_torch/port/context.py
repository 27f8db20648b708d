"""The state of one translation: the chosen Flux namespace, the scopes, the counts.

>>> cx = Context(flux="0.16")
>>> cx.pyname("update!"), cx.pyname("lambda"), cx.pyname("∇f")
('update_', 'lambda_', 'nabla_f')
"""
from __future__ import annotations

import importlib
import inspect
import keyword
import unicodedata

__all__ = ["Context", "Untranslatable", "Scope"]

_SYMBOLS = {"∇": "nabla_", "′": "_prime", "!": "_", "√": "sqrt_", "∂": "d_", "⊙": "odot_",
            "∑": "sum_", "∏": "prod_", "⋅": "dot_", "∘": "compose_"}


class Untranslatable(Exception):
    """Raised by a rule for Julia it does not translate; the statement becomes a TODO."""


class Scope:
    """One Python function scope: its locals, and what it declares global or nonlocal."""

    def __init__(self, kind, parent=None, assigned=(), params=()):
        self.kind = kind                      # "module" or "function"
        self.parent = parent
        self.locals = set(assigned) | set(params)
        self.params = set(params)
        self.globals: set = set()
        self.declared_local: set = set()
        self.ints: set = set()                # names known to hold Julia integers


class Context:
    """Translation state shared by the rule modules."""

    def __init__(self, flux="0.16", epochs=None, filename="script.jl"):
        self.flux = flux
        self.epochs = epochs
        self.filename = filename
        self.namespace = self._namespace()
        self.scope = Scope("module")
        self.defined: set = set()             # names the script defines anywhere
        self.imported: dict = {}              # Julia package -> selected names (None: all)
        self.unknown: set = set()
        self.structs: dict = {}               # struct name -> its field names
        self.methods: dict = {}               # function name -> number of methods
        self.hoisted: list = []               # defs to place before the current statement
        self.counter = 0
        self.todo_lines = 0
        self.todos = 0
        self.end_value = None                 # what `end` means inside a runtime index
        self.modules: dict = {}
        self.includes: list = []              # files the script includes (their names count as defined)
        self.current_struct = None
        self.raw_fields = False               # True while a field is passed to Flux as itself

    def _namespace(self):
        self.flux_module = "flux_torch"
        if self.flux == "0.14":
            try:
                module = importlib.import_module("flux_torch.v014")
                self.flux_module = "flux_torch.v014"
                return module
            except ImportError:
                # flux_torch.v014 is not built yet: check names against flux_torch meanwhile,
                # and emit `import flux_torch as Flux` so that the script runs
                pass
        return importlib.import_module("flux_torch")

    def has_flux(self, name: str, sub: str = None) -> bool:
        """Whether the namespace (or its submodule ``sub``) has ``name`` now.

        flux_torch's own lower-case submodules (``flux_torch.data``, ``.layers``) are its
        packaging, not Flux's API: ``Flux.data`` is Tracker's function, not a module."""
        obj = self.namespace
        if sub:
            obj = getattr(obj, sub, None)
            if obj is None:
                return False
        value = getattr(obj, name, None)
        if value is None:
            return False
        return not (inspect.ismodule(value) and name[:1].islower())

    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"_{base}{self.counter}"

    @staticmethod
    def pyname(name: str) -> str:
        """A Julia identifier as a valid Python identifier."""
        name = unicodedata.normalize("NFKC", name)
        if name.endswith("!"):
            name = name[:-1] + "_"
        out = []
        for ch in name:
            probe = "a" + ch
            if probe.isidentifier():
                out.append(ch)
            else:
                out.append(_SYMBOLS.get(ch, f"u{ord(ch):04x}_"))
        name = "".join(out)
        if name and not name[0].isidentifier() and not name[0] == "_":
            name = "_" + name
        if keyword.iskeyword(name):
            name += "_"
        return name

    def push(self, scope):
        scope.parent = self.scope
        self.scope = scope
        return scope

    def pop(self):
        self.scope = self.scope.parent

    def is_local(self, py):
        s = self.scope
        while s is not None:
            if py in s.locals:
                return True
            s = s.parent
        return False

    def is_int(self, name):
        s = self.scope
        while s is not None:
            if name in s.ints:
                return True
            if name in s.locals:
                return False
            s = s.parent
        return False
