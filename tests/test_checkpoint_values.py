"""What save writes, load reads back: every value is stored and restored (same type, same value)
or refused at save time with a TypeError naming its key path; functions and classes become ()
as in Flux.state; a file save wrote is never called damaged.

Oracles: the value before saving (type and ==), the random numbers a generator draws, the
optimiser's own steps (a resumed run equals one that never stopped), safetensors' reader."""
import collections
import datetime as dt
import decimal
import enum
import fractions
import functools
import pathlib

import numpy as np
import pytest
import safetensors
import torch

import flux_torch as Flux
from flux_torch import distributed as DU
from flux_torch.io import load, save
from flux_torch.optimise.rule import nonneg


class Color(enum.Enum):
    RED = 1
    BLUE = "b"


class Level(enum.IntEnum):
    LOW = 1


class Perm(enum.Flag):
    R = 1
    W = 2


VALUES = {
    "bytes": b"\x00\xffabc", "bytearray": bytearray(b"xy"), "empty bytes": b"",
    "set": {1, 2.5, "a", None, (1, 2)}, "frozenset": frozenset({"x", frozenset({1})}), "empty set": set(),
    "range": range(3, -10, -2), "complex": 1.5 - 2j, "big int": 10 ** 400, "negative big": -(2 ** 70),
    "Fraction": fractions.Fraction(-7, 3), "Decimal": decimal.Decimal("-1.10E+5"),
    "Decimal nan": decimal.Decimal("sNaN"),
    "datetime": dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
    "datetime utc": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    "datetime named tz": dt.datetime(2024, 1, 1, 3, fold=1,
                                     tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30), "NST")),
    "date": dt.date(1, 1, 1), "time": dt.time(12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    "timedelta": dt.timedelta(days=-3, microseconds=7),
    "Path": pathlib.Path("runs/exp 1/ckpt.safetensors"),
    "PureWindowsPath": pathlib.PureWindowsPath(r"C:\x\y"),
    "PurePosixPath": pathlib.PurePosixPath("/a"),
    "Enum": Color.BLUE, "IntEnum": Level.LOW, "Flag": Perm.W,
    "dtype": torch.bfloat16, "device": torch.device("cuda", 1), "cpu device": torch.device("cpu"),
    "numpy scalar": np.float32(1.5), "numpy int": np.int64(-3), "numpy bool": np.bool_(True),
    "numpy complex": np.complex64(1 + 2j), "numpy dtype": np.dtype("int16"),
    "lone surrogate": "a\ud800b", "NUL and emoji": "\x00🏖️", "nan": float("nan"), "-0.0": -0.0,
    "bool": True, "int": -5, "none": None, "str": "relu",
}


def same(a, b):
    if isinstance(a, float) and a != a:
        return b != b
    if isinstance(a, decimal.Decimal) and a.is_nan():
        return str(a) == str(b)
    if isinstance(a, float) and a == 0:
        return repr(a) == repr(b)
    if isinstance(a, (set, frozenset)):         # their order (and so repr) follows string hashes
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b and repr(a) == repr(b)


@pytest.mark.parametrize("name", list(VALUES))
def test_value_round_trips(tmp_path, name):
    v = VALUES[name]
    p = tmp_path / "v.safetensors"
    save(p, {"v": v, "inside": [(v,)]})
    out = load(p)
    assert same(v, out["v"]) and same(v, out["inside"][0][0]), (v, out)


def test_hashable_values_as_keys_and_in_sets(tmp_path):
    keys = [b"k", 3, 2.5, None, True, (1, ("a", b"b")), frozenset({1}), Color.RED, fractions.Fraction(1, 2),
            dt.date(2020, 1, 1), pathlib.PurePosixPath("/p"), torch.float16, "σ\ud800"]
    p = tmp_path / "k.safetensors"
    x = {k: i for i, k in enumerate(keys)}
    save(p, {"d": x, "s": set(keys)})
    out = load(p)
    assert list(out["d"].items()) == list(x.items())
    assert out["s"] == set(keys)


def test_tensors_numpy_and_dtypes_safetensors_cannot_name(tmp_path):
    x = {"c128": torch.tensor([1 + 2j, -3j], dtype=torch.complex128),
         "e8m0": torch.tensor([1.0, 4.0]).to(torch.float8_e8m0fnu),
         "u16": torch.tensor([65535], dtype=torch.uint16),
         "np f32": np.arange(6, dtype=np.float32).reshape(2, 3),
         "np c128": np.array([1 - 1j]), "np big-endian": np.arange(3, dtype=">i4"),
         "np bool": np.array([True, False])}
    p = tmp_path / "t.safetensors"
    save(p, x)
    out = load(p)
    for k, v in x.items():
        if isinstance(v, np.ndarray):
            assert type(out[k]) is np.ndarray and out[k].dtype == v.dtype.newbyteorder("=")
            np.testing.assert_array_equal(out[k], v)
        else:
            assert out[k].dtype == v.dtype and torch.equal(out[k].view(torch.uint8), v.view(torch.uint8))
    with safetensors.safe_open(str(p), framework="pt") as f:      # still a valid safetensors file
        assert f.get_tensor("c128").dtype == torch.uint8


def test_a_generator_comes_back_drawing_the_same_numbers(tmp_path):
    g = torch.Generator().manual_seed(1234)
    torch.rand(5, generator=g)
    m = Flux.Dropout(0.5, rng=g)
    p = tmp_path / "g.safetensors"
    save(p, m)
    back = load(p)["rng"]
    assert isinstance(back, torch.Generator) and back.initial_seed() == 1234
    assert torch.equal(torch.rand(7, generator=back), torch.rand(7, generator=g))


def test_functions_and_classes_are_left_out_as_in_flux_state(tmp_path):
    x = {"act": Flux.relu, "lambda": lambda y: y, "builtin": len, "torch op": torch.tanh,
         "partial": functools.partial(Flux.leakyrelu, a=0.2), "class": Flux.Dense, "method": "ab".upper,
         "module fn": torch.nn.functional.gelu, "enum class": Color}
    p = tmp_path / "f.safetensors"
    save(p, x)
    assert load(p) == {k: () for k in x}
    save(p, Flux.Dense(2, 3, Flux.tanh))
    assert load(p)["σ"] == ()


class Plain:
    """Neither a layer nor a value: walked as a struct (Functors v0.5), saved as its fields."""

    def __init__(self):
        self.w, self.act, self.note = torch.ones(2), torch.tanh, "x"

    def __call__(self, x):
        return self.act(x * self.w)


class Slotted:
    """No __dict__: a leaf to the walk, and no value a checkpoint knows."""
    __slots__ = ("w",)

    def __init__(self):
        self.w = torch.ones(2)


def test_a_plain_object_is_saved_as_the_dict_of_its_fields(tmp_path):
    p = tmp_path / "o.safetensors"
    save(p, {"a": [Plain()]})
    out = load(p)
    assert list(out["a"][0]) == ["w", "act", "note"]
    assert torch.equal(out["a"][0]["w"], torch.ones(2)) and out["a"][0]["act"] == () and out["a"][0]["note"] == "x"
    assert list(Flux.state(Plain())) == ["w", "act", "note"]        # as state gives it


@pytest.mark.parametrize("value, where, why", [
    (object(), r"the object at a\.0\.k",
     r"builtins.object is not a value a checkpoint stores\. A checkpoint"),
    (Slotted(), r"the Slotted at a\.0\.k", "Slotted is not a value a checkpoint stores"),
    ({1: 2}.keys(), r"the dict_keys at a\.0\.k", "is not a value"),
    (dt.datetime(2024, 1, 1, tzinfo=type("TZ", (dt.tzinfo,), {"utcoffset": lambda s, d: None})()),
     r"the datetime at a\.0\.k", "only fixed offsets"),
    (Perm.R | Perm.W, r"the Perm at a\.0\.k", "not a named member"),
    (torch.zeros(2).to_sparse(), r"the tensor at a\.0\.k is of layout torch\.sparse_coo", "to_dense"),
    (torch.empty(2, device="meta"), r"the tensor at a\.0\.k is on the meta device", ""),
    (np.array(["a"]), r"the numpy array at a\.0\.k has dtype <U1", ""),
    ({object()}, r"the set at a\.0\.k", "builtins.object is not a value"),
])
def test_unstorable_values_are_refused_by_key_path(tmp_path, value, where, why):
    p = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=f"save: .*{where}.*{why}"):
        save(p, {"a": [{"k": value}]})
    assert list(tmp_path.iterdir()) == []


def test_an_enum_defined_in_a_function_is_refused(tmp_path):
    class Local(enum.Enum):
        A = 1
    with pytest.raises(TypeError, match=r"the Local at e: the enum class .*Local cannot be found"):
        save(tmp_path / "e.safetensors", {"e": Local.A})
    assert list(tmp_path.iterdir()) == []


def test_dict_keys_that_are_also_file_keys_round_trip(tmp_path):
    x = {"__metadata__": torch.ones(2), "inner": {"__metadata__": {"format": "pt"}, "flux_torch": "2"},
         "flux_torch.nodes": torch.zeros(1), "layers.0.weight": torch.full((1,), 3.0),
         "layers": [{"weight": torch.full((1,), 4.0)}], "w\ud800": torch.full((1,), 5.0)}
    p = tmp_path / "m.safetensors"
    save(p, x)
    out = load(p)
    assert list(out) == list(x) and out["inner"] == x["inner"]
    for k in ("__metadata__", "flux_torch.nodes", "layers.0.weight", "w\ud800"):
        assert torch.equal(out[k], x[k])
    assert torch.equal(out["layers"][0]["weight"], x["layers"][0]["weight"])


# ------------------------------------------------------------------ rules

def _every_rule():
    from flux_torch.optimise import adam, mixed_precision, modifiers, rules, schedules
    wrap = {"OptimiserChain": lambda c: c(Flux.ClipGrad(1.0), Flux.Adam()), "AccumGrad": lambda c: c(2),
            "MixedPrecision": lambda c: c(Flux.Adam())}
    out = []
    for module in (rules, adam, modifiers, schedules, mixed_precision):
        for name in module.__all__:
            cls = getattr(module, name)
            if isinstance(cls, type) and hasattr(cls, "apply"):
                out.append(pytest.param(cls, wrap.get(name, lambda c: c()), id=name))
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("cls, make", _every_rule())
def test_every_rule_resumes_exactly_from_a_checkpoint(tmp_path, cls, make, dtype):
    """Oracle: the same training that never stopped, step for step (the rule's own update_)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)       # the old names warn, as in Flux
        rule = make(cls)
    model = {"w": torch.linspace(-1, 1, 5, dtype=dtype)}
    opt_state = Flux.setup(rule, model)
    grads = [{"w": torch.linspace(0.5, -0.5, 5, dtype=dtype) * k} for k in (1, 2, 3)]
    Flux.update_(opt_state, model, grads[0])
    save(tmp_path / "c.safetensors", {"model": model, "opt_state": opt_state})
    ck = load(tmp_path / "c.safetensors")
    assert repr(ck["opt_state"]["w"].rule) == repr(rule)
    for g in grads[1:]:
        Flux.update_(opt_state, model, g)
        Flux.update_(ck["opt_state"], ck["model"], {"w": g["w"].clone()})
    assert ck["model"]["w"].dtype == dtype and torch.equal(ck["model"]["w"], model["w"])


def test_distributed_optimizer_state_saves_and_loads(tmp_path):
    m = Flux.Chain(Flux.Dense(3, 2))
    for rule in (DU.DistributedOptimizer(Flux.Adam(0.01)),
                 DU.DistributedOptimizer(DU.GlooBackend(), Flux.OptimiserChain(Flux.ClipGrad(1.0),
                                                                              Flux.Momentum(0.1)))):
        st = Flux.setup(rule, m)
        p = tmp_path / "d.safetensors"
        save(p, {"model": m, "opt_state": st})
        leaf = load(p)["opt_state"]["layers"][0]["weight"]
        assert isinstance(leaf.rule, DU.DistributedOptimizer) and leaf.rule.backend is None
        assert repr(leaf.rule.opt) == repr(rule.opt)
        assert all(torch.equal(a, b) for a, b in zip(leaf.state, st.layers[0].weight.state)
                   if isinstance(a, torch.Tensor))


class HalfStep(Flux.Rule):
    """A user's own rule (registered below, at import, as a user's program would)."""
    _spec = (("eta", 0.1, nonneg),)

    def init(self, x):
        return (torch.zeros_like(x), [0])

    def _apply(self, states, xs, dxs):
        for s in states:
            s[1][0] += 1
        return [d * (self.eta / 2) for d in dxs]


Flux.register_rule(HalfStep)


class Unregistered(Flux.Descent):
    pass


Pair = collections.namedtuple("Pair", "count momentum")


@Flux.register_rule
class PairState(Flux.Descent):
    """A registered rule whose state is a namedtuple: save cannot give it back as one."""

    def init(self, x):
        return Pair(0, torch.zeros_like(x))


def test_a_registered_user_rule_saves_loads_and_resumes(tmp_path):
    model = {"w": torch.ones(3)}
    st = Flux.setup(Flux.OptimiserChain(HalfStep(0.5), Flux.ClipGrad(10.0)), model)
    Flux.update_(st, model, {"w": torch.ones(3)})
    p = tmp_path / "r.safetensors"
    save(p, {"model": model, "opt": st})
    ck = load(p)
    assert repr(ck["opt"]["w"].rule) == "OptimiserChain(HalfStep(0.5), ClipGrad(10.0))"
    Flux.update_(st, model, {"w": torch.ones(3)})                      # never stopped
    Flux.update_(ck["opt"], ck["model"], {"w": torch.ones(3)})         # resumed
    assert torch.equal(ck["model"]["w"], model["w"]) and ck["opt"]["w"].state[0][1] == [2]


def test_an_unregistered_user_rule_is_refused_at_save_with_the_reason(tmp_path):
    st = Flux.setup(Unregistered(0.1), Flux.Dense(2, 2))
    with pytest.raises(TypeError, match=r"save: the optimiser rule at weight cannot be saved: .*"
                                        r"call flux_torch\.register_rule\(Unregistered\)"):
        save(tmp_path / "u.safetensors", st)
    assert list(tmp_path.iterdir()) == []


def test_registering_names_is_checked():
    with pytest.raises(ValueError, match="Adam is the name of flux_torch's own rule"):
        Flux.register_rule(type("Adam", (Flux.Descent,), {}))
    with pytest.raises(ValueError, match="HalfStep is already registered for .*HalfStep"):
        Flux.register_rule(type("HalfStep", (Flux.Descent,), {}))
    with pytest.raises(TypeError, match="expects a rule class"):
        Flux.register_rule(HalfStep(0.1))
    assert Flux.register_rule(HalfStep) is HalfStep       # again: the same class is fine


def test_a_rule_whose_repr_does_not_read_back_is_refused_at_save(tmp_path):
    @Flux.register_rule
    class Printed(Flux.Descent):
        def __repr__(self):
            return f"Printed(eta={self.eta}, note=<hidden>)"
    with pytest.raises(TypeError, match="does not print as a call that load can read back"):
        save(tmp_path / "p.safetensors", Flux.setup(Printed(0.1), {"w": torch.ones(1)}))


def test_a_rule_and_a_leaf_as_plain_values(tmp_path):
    x = {"rule": Flux.Adam(0.5), "leaf": Flux.Leaf(Flux.Momentum(0.1), (torch.ones(2),), True)}
    x["again"] = x["leaf"]
    p = tmp_path / "l.safetensors"
    save(p, x)
    out = load(p)
    assert repr(out["rule"]) == repr(x["rule"]) and out["leaf"].frozen
    assert out["again"] is out["leaf"] and torch.equal(out["leaf"].state[0], torch.ones(2))


def test_a_leaf_state_that_load_could_not_check_is_refused_at_save(tmp_path):
    st = Flux.setup(Flux.Adam(), {"w": torch.ones(3)})
    st["w"].state = (torch.zeros(3),)
    with pytest.raises(TypeError, match=r"the optimiser Leaf at w holds a state that load could not check"):
        save(tmp_path / "s.safetensors", st)
    with pytest.raises(TypeError, match=r"the optimiser state at w\.state holds a Pair, which would come back"):
        save(tmp_path / "s.safetensors", Flux.setup(PairState(), {"w": torch.ones(2)}))
    w = torch.ones(2)
    with pytest.raises(TypeError, match=r"also used elsewhere.*must be its own"):
        save(tmp_path / "s.safetensors", {"w": w, "opt": Flux.Leaf(Flux.Momentum(), (w,))})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_tensors_and_a_cuda_generator(tmp_path):
    g = torch.Generator("cuda").manual_seed(3)
    z = torch.tensor([1 + 2j, 3 - 1j], device="cuda")
    p = tmp_path / "c.safetensors"
    save(p, {"z": z.conj(), "g": g})
    out = load(p)
    assert out["z"].device.type == "cpu" and torch.equal(out["z"], z.conj().resolve_conj().cpu())
    assert out["g"].device.type == "cuda"
    assert torch.equal(torch.rand(4, device="cuda", generator=out["g"]),
                       torch.rand(4, device="cuda", generator=g))
    assert load(p, map_location="cuda")["z"].is_cuda
