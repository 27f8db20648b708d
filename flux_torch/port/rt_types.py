"""Runtime: Julia's types, structs, methods and dispatch for translated scripts.

>>> class Affine(Struct):
...     W: "Matrix"
...     b: "Vector"
>>> Affine(1, 2)
Affine(1, 2)
>>> @method(Integer, Integer)
... def Affine(i, o):
...     return Affine([0] * o, i)
>>> Affine(2, 3).W, Affine("w", "b").W
([0, 0, 0], 'w')
"""
from __future__ import annotations

import collections
import numbers

import torch

__all__ = ["JuliaType", "Float16", "Float32", "Float64", "Int", "Int8", "Int16", "Int32", "Int64",
           "UInt8", "UInt16", "UInt32", "UInt64", "Bool", "String", "Char", "Symbol", "Any",
           "Number", "Real", "Integer", "AbstractFloat", "AbstractArray", "AbstractVector",
           "AbstractMatrix", "Array", "Vector", "Matrix", "Tuple", "Dict", "Nothing", "Function",
           "AbstractString", "AbstractDict", "AbstractRange", "UnitRange", "BitArray", "Pair",
           "Struct", "method", "extend", "new", "isa", "typeof", "convert", "NamedTuple",
           "getfield", "setfield_", "fieldnames", "undef", "Colon", "DataType", "IO", "isnothing",
           "something", "issubtype", "AbstractRNG", "Val", "Ref", "Generic", "eltype"]


class JuliaType:
    """A Julia type name: callable as a conversion, usable with ``isa`` and dispatch."""

    def __init__(self, name, check, convert=None, dtype=None):
        self.name, self._check, self._convert, self.dtype = name, check, convert, dtype
        self.elementwise = dtype is not None          # Float32.(x) converts the whole array

    def check(self, x):
        return self._check(x)

    def __call__(self, *args):
        if self._convert is None:
            raise TypeError(f"{self.name}(...) has no conversion in flux_torch.port's runtime")
        return self._convert(*args)

    def __getitem__(self, params):        # Vector{Float32} written Vector[Float32]
        return self

    def __repr__(self):
        return self.name


def _is_array(x):
    return isinstance(x, (torch.Tensor, list)) or type(x).__name__ in ("ndarray", "JRange")


def _num(py, dtype):
    def conv(*args):
        if len(args) == 2:              # Float32(undef, n) style is rare; value conversion only
            raise TypeError("conversion takes one value")
        x = args[0]
        if isinstance(x, torch.Tensor):
            return x.to(dtype) if x.ndim else (py(x.item()))
        if isinstance(x, str):
            return py(float(x)) if py is not int else int(x)
        if py is int and isinstance(x, float) and not x.is_integer():
            raise ValueError(f"InexactError: Int({x})")
        return py(x)
    return conv


def _isfloat(x):
    return isinstance(x, float) or (isinstance(x, torch.Tensor) and x.is_floating_point())


Float16 = JuliaType("Float16", _isfloat, _num(float, torch.float16), torch.float16)
Float32 = JuliaType("Float32", _isfloat, _num(float, torch.float32), torch.float32)
Float64 = JuliaType("Float64", _isfloat, _num(float, torch.float64), torch.float64)
_isint = (lambda x: isinstance(x, numbers.Integral) and not isinstance(x, bool))
Int = JuliaType("Int", _isint, _num(int, torch.int64), torch.int64)
Int64 = JuliaType("Int64", _isint, _num(int, torch.int64), torch.int64)
Int32 = JuliaType("Int32", _isint, _num(int, torch.int32), torch.int32)
Int16 = JuliaType("Int16", _isint, _num(int, torch.int16), torch.int16)
Int8 = JuliaType("Int8", _isint, _num(int, torch.int8), torch.int8)
UInt8 = JuliaType("UInt8", _isint, _num(int, torch.uint8), torch.uint8)
UInt16 = JuliaType("UInt16", _isint, _num(int, torch.int32), torch.int32)
UInt32 = JuliaType("UInt32", _isint, _num(int, torch.int64), torch.int64)
UInt64 = JuliaType("UInt64", _isint, _num(int, torch.int64), torch.int64)
Bool = JuliaType("Bool", lambda x: isinstance(x, bool), _num(bool, torch.bool), torch.bool)
String = JuliaType("String", lambda x: isinstance(x, str),
                   lambda *a: "".join(x if isinstance(x, str) else (
                       bytes(x).decode() if isinstance(x, (bytes, bytearray)) else "".join(x)) for x in a))
AbstractString = String
Char = JuliaType("Char", lambda x: isinstance(x, str) and len(x) == 1,
                 lambda x: chr(x) if isinstance(x, int) else str(x))
Symbol = JuliaType("Symbol", lambda x: isinstance(x, str), lambda *a: "".join(map(str, a)))
Any = JuliaType("Any", lambda x: True, lambda x: x)
Number = JuliaType("Number", lambda x: isinstance(x, numbers.Number) or (
    isinstance(x, torch.Tensor) and x.ndim == 0), lambda x: x)
Real = Number
Integer = JuliaType("Integer", _isint, _num(int, torch.int64), torch.int64)
AbstractFloat = JuliaType("AbstractFloat", _isfloat, _num(float, torch.float32), torch.float32)
AbstractArray = JuliaType("AbstractArray", _is_array, lambda x: x)
Array = AbstractArray
AbstractVector = JuliaType("AbstractVector", lambda x: _is_array(x) and (
    not isinstance(x, torch.Tensor) or x.ndim == 1), lambda x: x)
Vector = AbstractVector
AbstractMatrix = JuliaType("AbstractMatrix", lambda x: isinstance(x, torch.Tensor) and x.ndim == 2,
                           lambda x: x)
Matrix = AbstractMatrix
BitArray = AbstractArray
AbstractRange = JuliaType("AbstractRange", lambda x: type(x).__name__ in ("JRange", "range"),
                          lambda x: x)
UnitRange = AbstractRange
Tuple = JuliaType("Tuple", lambda x: isinstance(x, tuple), lambda x: tuple(x))
Dict = JuliaType("Dict", lambda x: isinstance(x, dict), lambda *pairs: dict(
    p for arg in pairs for p in ([arg] if isinstance(arg, tuple) else (
        arg.items() if isinstance(arg, dict) else arg))))
AbstractDict = Dict
Nothing = JuliaType("Nothing", lambda x: x is None)
Function = JuliaType("Function", callable)
DataType = JuliaType("DataType", lambda x: isinstance(x, (type, JuliaType)))
IO = JuliaType("IO", lambda x: hasattr(x, "write"))
AbstractRNG = JuliaType("AbstractRNG", lambda x: isinstance(x, torch.Generator))
Pair = JuliaType("Pair", lambda x: isinstance(x, tuple) and len(x) == 2, lambda a, b: (a, b))
Val = JuliaType("Val", lambda x: True, lambda x: x)
Ref = JuliaType("Ref", lambda x: True, lambda x: (x,))
undef = None


class _Colon:
    def __repr__(self):
        return "Colon()"

    def __call__(self):
        return self


Colon = _Colon()


def _matches(t, x):
    if t is None:
        return True
    if isinstance(t, JuliaType):
        return t.check(x)
    if isinstance(t, type):
        return isinstance(x, t)
    return True


class Generic:
    """A function of several methods, chosen by arity and argument types (last defined first)."""

    def __init__(self, name, fallback=None):
        self.__name__ = name
        self.methods = []
        self.fallback = fallback

    def add(self, fn, types):
        self.methods.insert(0, (fn, types))
        return self

    def find(self, args):
        """The most specific method that accepts ``args``: fixed arity before varargs, declared
        types before untyped, the latest definition first (Julia's specificity, roughly)."""
        fits = []
        for order, (fn, types) in enumerate(self.methods):
            code = fn.__code__
            npos = code.co_argcount
            has_var = bool(code.co_flags & 0x04)
            required = npos - len(fn.__defaults__ or ())
            if len(args) < required or (len(args) > npos and not has_var):
                continue
            if all(_matches(t, a) for t, a in zip(types, args)):
                typed = sum(t is not None for t in types)
                fits.append((has_var, -typed, order, fn))
        return min(fits, key=lambda f: f[:3])[3] if fits else None

    def __call__(self, *args, **kw):
        fn = self.find(args)
        if fn is None:
            if self.fallback is not None:
                return self.fallback(*args, **kw)
            raise TypeError(f"MethodError: no method of {self.__name__} matches "
                            f"{tuple(type(a).__name__ for a in args)}")
        return fn(*args, **kw)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return lambda *a, **kw: self(obj, *a, **kw)


def _field_type(annotation):
    """The JuliaType a field annotation names ("Vector{Float32}" -> Vector), or None."""
    name = str(annotation).strip("'\"").split("{")[0].strip()
    if name == "NamedTuple":
        return JuliaType("NamedTuple", lambda x: isinstance(x, tuple) and hasattr(x, "_fields"))
    t = globals().get(name)
    return t if isinstance(t, JuliaType) and name != "Any" else None


class _StructMeta(type):
    def __call__(cls, *args, **kw):
        ctors = cls.__dict__.get("_jl_ctors")
        if ctors is not None and not kw:
            typed = Generic(ctors.__name__)
            typed.methods = [m for m in ctors.methods if any(t is not None for t in m[1])]
            fn = typed.find(args)
            if fn is None and not cls._default_fits(args):   # Julia: the typed default is more specific
                fn = ctors.find(args)
                if fn is not None and len(args) == len(cls._fields()) and (
                        fn.__code__.co_flags & 0x04 or fn.__code__.co_argcount != len(args)):
                    fn = None      # varargs or defaults are less specific than the default constructor
            if fn is not None:
                return fn(*args)
        elif ctors is not None:
            fn = ctors.find(args)
            if fn is not None:
                return fn(*args, **kw)
        return super().__call__(*args, **kw)


class Struct(metaclass=_StructMeta):
    """Base of translated structs: fields in annotation order, positional or by name.

    Every translated struct is a functor, as Zygote differentiates any struct and
    Functors.jl 0.5 (Flux ≥ v0.15) walks any struct: its fields are its children.
    """

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        import flux_torch
        flux_torch.functor(cls)

    def __init__(self, *args, **kw):
        names = self._fields()
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} has {len(names)} fields, got {len(args)} values")
        for name, value in zip(names, args):
            object.__setattr__(self, name, value)
        for name in names[len(args):]:
            if name in kw:
                value = kw.pop(name)
            elif hasattr(type(self), name):
                value = getattr(type(self), name)
            else:
                raise TypeError(f"{type(self).__name__}: the field {name} needs a value")
            object.__setattr__(self, name, value)
        if kw:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(kw)}")

    @classmethod
    def _default_fits(cls, args):
        """Whether the default constructor, typed by the fields' annotations, takes ``args``."""
        names = cls._fields()
        if len(args) != len(names):
            return False
        notes = {}
        for klass in reversed(cls.__mro__):
            notes.update(getattr(klass, "__annotations__", {}))
        types = [_field_type(notes[n]) for n in names]
        return all(t is not None for t in types) and all(t.check(a) for t, a in zip(types, args))

    @classmethod
    def _fields(cls):
        out = []
        for klass in reversed(cls.__mro__):
            for name in getattr(klass, "__annotations__", {}):
                if name not in out and klass is not Struct:
                    out.append(name)
        return out

    def __repr__(self):
        show = getattr(type(self), "show", None)
        if show is not None:
            import io
            buf = io.StringIO()
            show(buf, self)
            return buf.getvalue()
        vals = ", ".join(repr(getattr(self, n, None)) for n in self._fields())
        return f"{type(self).__name__}({vals})"


def new(cls, *args):
    """Julia's ``new(...)`` inside a constructor: the fields, no outer constructor."""
    obj = object.__new__(cls)
    Struct.__init__(obj, *args)
    return obj


def method(*types):
    """Register a def as one method of its name (a generic function, or a struct's constructor)."""
    def register(fn):
        current = fn.__globals__.get(fn.__name__)
        if isinstance(current, type) and issubclass(current, Struct):
            ctors = current.__dict__.get("_jl_ctors")
            if ctors is None:
                ctors = Generic(fn.__name__)
                current._jl_ctors = ctors
            ctors.add(fn, types)
            return current
        if isinstance(current, Generic):
            return current.add(fn, types)
        return Generic(fn.__name__, fallback=current if callable(current) else None).add(fn, types)
    return register


def extend(cls, attr, *types):
    """Add a method to ``cls`` (``(m::T)(x)``, ``Flux.trainable(m::T)``, ``Base.show``)."""
    def register(fn):
        current = cls.__dict__.get(attr)
        if isinstance(current, Generic):
            current.add(fn, types)
        else:                                      # methods dispatch on arity and types
            setattr(cls, attr, Generic(attr, fallback=current).add(fn, types))
        return cls.__dict__[attr]
    return register


def isa(x, t):
    return _matches(t, x)


class _TypeOf:
    """``typeof(x)``: compares equal to a Julia type name that ``x`` is an instance of
    (type parameters are not checked) and to its Python class."""

    def __init__(self, value):
        self.cls = type(value)
        self.value = value

    def __eq__(self, other):
        if isinstance(other, JuliaType):
            return other.check(self.value)
        if isinstance(other, _TypeOf):
            return self.cls is other.cls
        return self.cls is other

    def __hash__(self):
        return hash(self.cls)

    def __repr__(self):
        return self.cls.__name__


def typeof(x):
    return _TypeOf(x)


def eltype(x):
    if isinstance(x, torch.Tensor):
        return {torch.float32: Float32, torch.float64: Float64, torch.int64: Int,
                torch.bool: Bool}.get(x.dtype, Any)
    return Any


def convert(t, x):
    return t(x)


def issubtype(a, b):
    return isinstance(a, type) and isinstance(b, type) and issubclass(a, b)


def NamedTuple(**fields):
    """A NamedTuple: fields by name (``nt.a``) and by position."""
    cls = collections.namedtuple("NamedTuple", list(fields), rename=True)
    return cls(*fields.values())


def getfield(obj, name):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def setfield_(obj, name, value):
    setattr(obj, name, value)
    return value


def fieldnames(t):
    return tuple(t._fields()) if isinstance(t, type) and issubclass(t, Struct) else ()


def isnothing(x):
    return x is None


def something(*xs):
    return next(x for x in xs if x is not None)
