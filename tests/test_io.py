"""save / load: safetensors checkpoints that restore the exact nested state, atomic writes, and files
that are refused without running any code (pickles), or reported as damaged (truncated, corrupted).

Oracles: the state before saving (tensors compared by value, everything else by type and value),
the source model's outputs, safetensors' own reader for the file's keys, and the file's bytes.
"""
import os
import pathlib
import pickle

import pytest
import safetensors
import safetensors.torch
import torch

import flux_torch as Flux
from flux_torch import BatchNorm, Chain, Dense, Dropout, relu, tanh, trainmode_
from flux_torch import testmode_ as set_testmode   # (a name starting with test_ would be collected)
from flux_torch.checkpoint import framing
from flux_torch.io import load, save
from flux_torch.state import loadmodel_, state


def assert_same(a, b, path="state"):
    """Equal nested states: the same container types and keys, equal tensors (dtype too), equal values."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a.cpu(), b.cpu()), path
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and a != a:
        assert b != b, path
    else:
        assert a == b, path


def trained_chain(seed):
    torch.manual_seed(seed)
    m = Chain(Dense(3, 4, relu), BatchNorm(4), Dropout(0.1), Dense(4, 2, tanh))
    trainmode_(m)
    m(torch.randn(16, 3))
    set_testmode(m)
    return m


# ------------------------------------------------------------------ round trips

def test_save_load_round_trip_model(tmp_path):
    m = trained_chain(0)
    p = tmp_path / "model.safetensors"
    save(p, m)
    s = load(p)
    assert_same(s, state(m))
    dst = trained_chain(1)
    loadmodel_(dst, s)
    x = torch.randn(5, 3)
    assert torch.equal(dst(x), m(x))
    assert torch.equal(dst[1].μ, m[1].μ)


def test_file_keys_are_dotted_paths(tmp_path):
    p = tmp_path / "m.safetensors"
    save(p, Chain(Dense(3, 4), BatchNorm(4)))
    with safetensors.safe_open(str(p), framework="pt") as f:
        keys = set(f.keys())
        meta = f.metadata()
    assert keys == {"layers.0.weight", "layers.0.bias", "layers.1.β", "layers.1.γ", "layers.1.μ", "layers.1.σ2"}
    assert meta["flux_torch"] == "2"


def test_plain_values_and_containers_round_trip(tmp_path):
    s = {"t": (1, 2.5, True, None, "relu", ()), "l": [[], {}, -3], "nan": float("nan"), "inf": float("-inf"),
         "c": 1 + 2j, 5: "int key", (1, "a"): "tuple key",
         "dt": {"f64": torch.arange(3, dtype=torch.float64), "i64": torch.arange(3), "b": torch.tensor([True]),
                "h": torch.ones(2, dtype=torch.float16), "bf": torch.ones(2, dtype=torch.bfloat16),
                "scalar": torch.tensor(3.0), "empty": torch.zeros(0, 4)}}
    p = tmp_path / "s.safetensors"
    save(p, s)
    assert_same(load(p), s)


def test_tied_tensors_stored_once_and_come_back_tied(tmp_path):
    w = torch.randn(2, 2)
    p = tmp_path / "tied.safetensors"
    save(p, Chain(Dense(w, False), Dense(w, False)))
    with safetensors.safe_open(str(p), framework="pt") as f:
        assert len(list(f.keys())) == 1
    s = load(p)
    assert s["layers"][0]["weight"] is s["layers"][1]["weight"]
    assert torch.equal(s["layers"][0]["weight"], w)


def test_views_non_contiguous_and_grad_tensors(tmp_path):
    base = torch.arange(12.0)
    s = {"a": base[:6].view(2, 3), "b": base[6:].view(3, 2).T, "g": torch.ones(2, requires_grad=True)}
    p = tmp_path / "v.safetensors"
    save(p, s)
    out = load(p)
    assert torch.equal(out["a"], s["a"]) and torch.equal(out["b"], s["b"]) and not out["g"].requires_grad


def test_load_device_argument(tmp_path):
    p = tmp_path / "d.safetensors"
    save(p, {"w": torch.ones(2)})
    assert load(p, "cpu")["w"].device.type == "cpu"
    assert load(p, map_location=torch.device("cpu"))["w"].device.type == "cpu"
    with pytest.raises(TypeError, match="both device= and map_location="):
        load(p, "cpu", map_location="cpu")


def test_unsavable_value_is_refused_before_writing(tmp_path):
    p = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=r"the dict at a has the key <object .*>, which cannot be stored"):
        save(p, {"a": {object(): 1}})
    with pytest.raises(TypeError, match=r"the tensor at a\.b is of layout torch\.sparse_coo.*to_dense"):
        save(p, {"a": {"b": torch.eye(2).to_sparse()}})
    assert os.listdir(tmp_path) == []


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="save: the folder .*nowhere' .* does not exist"):
        save(tmp_path / "nowhere" / "m.safetensors", {"w": torch.ones(1)})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_saved_state_loads_on_cpu(tmp_path):
    from flux_torch import gpu
    m = gpu(trained_chain(0))
    p = tmp_path / "cuda.safetensors"
    save(p, m)
    s = load(p)
    assert s["layers"][0]["weight"].device.type == "cpu"
    assert torch.equal(s["layers"][0]["weight"], m[0].weight.cpu())
    assert load(p, map_location="cuda")["layers"][0]["weight"].is_cuda


# ------------------------------------------------------------------ atomic writes

def good_file(tmp_path):
    p = tmp_path / "ckpt.safetensors"
    save(p, {"w": torch.ones(3)})
    return p, p.read_bytes()


def test_crash_inside_the_writer_leaves_the_good_file(tmp_path, monkeypatch):
    p, before = good_file(tmp_path)

    def crash(t):
        raise RuntimeError("disk full")         # after the header went to the temporary file
    monkeypatch.setattr(framing, "_bytes_of", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        save(p, {"w": torch.zeros(3)})
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]           # no temporary file left


def test_crash_at_replace_leaves_the_good_file(tmp_path, monkeypatch):
    p, before = good_file(tmp_path)

    def crash(src, dst):
        raise OSError("power cut")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        save(p, {"w": torch.zeros(3)})
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    assert torch.equal(load(p)["w"], torch.ones(3))


def test_keyboard_interrupt_cleans_up(tmp_path, monkeypatch):
    p, before = good_file(tmp_path)

    def interrupted(t):
        raise KeyboardInterrupt
    monkeypatch.setattr(framing, "_bytes_of", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(p, {"w": torch.zeros(3)})
    assert p.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_overwrite_replaces_the_file(tmp_path):
    p, _ = good_file(tmp_path)
    save(p, {"w": torch.zeros(3)})
    assert torch.equal(load(p)["w"], torch.zeros(3))
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


# ------------------------------------------------------------------ refused and damaged files

class Evil:
    """Unpickling this object creates the file `marker`: the payload a malicious checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_payload_really_runs_when_unpickled(tmp_path):
    # the control for the next test: the pickle does create its marker when someone unpickles it
    marker = tmp_path / "control_marker"
    pickle.loads(pickle.dumps(Evil(marker)))
    assert marker.exists()


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_refused_and_never_run(tmp_path, protocol):
    marker = tmp_path / "marker"
    p = tmp_path / "evil.safetensors"
    p.write_bytes(pickle.dumps({"weight": Evil(marker)}, protocol=protocol))
    with pytest.raises(ValueError, match=r"evil\.safetensors' is not a flux_torch checkpoint.*never loads pickles"):
        load(p)
    assert not marker.exists()


def test_torch_save_file_is_refused(tmp_path):
    marker = tmp_path / "marker"
    p = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2), "x": Evil(marker)}, p)
    with pytest.raises(ValueError, match=r"not a flux_torch checkpoint: it looks like a pickle"):
        load(p)
    assert not marker.exists()


def test_truncated_file(tmp_path):
    p = tmp_path / "t.safetensors"
    save(p, trained_chain(0))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"t\.safetensors' is a damaged checkpoint \(truncated or corrupted\)"):
        load(p)
    p.write_bytes(data[:20])                    # cut inside the header
    with pytest.raises(ValueError, match="damaged checkpoint"):
        load(p)
    p.write_bytes(b"")
    with pytest.raises(ValueError, match="not a flux_torch checkpoint: it is only 0 bytes long"):
        load(p)


def test_corrupted_header(tmp_path):
    p = tmp_path / "c.safetensors"
    save(p, {"w": torch.ones(2)})
    data = bytearray(p.read_bytes())
    data[8:12] = b"\xff\xfe!!"
    p.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a flux_torch checkpoint: its header is not valid UTF-8 JSON"):
        load(p)


def test_foreign_safetensors_file_loads_as_flat_dict(tmp_path):
    p = tmp_path / "hf.safetensors"
    tensors = {"encoder.weight": torch.randn(2, 3), "encoder.bias": torch.randn(2)}
    safetensors.torch.save_file(tensors, str(p))
    out = load(p)
    assert set(out) == set(tensors) and all(torch.equal(out[k], tensors[k]) for k in tensors)


def test_newer_format_is_refused(tmp_path):
    p = tmp_path / "new.safetensors"
    safetensors.torch.save_file({"w": torch.ones(1)}, str(p), metadata={"flux_torch": "99",
                                                                        "flux_torch.structure": "{}"})
    with pytest.raises(ValueError, match="format '99'.*upgrade flux_torch"):
        load(p)


# ------------------------------------------------------------------ optimiser state
@pytest.mark.parametrize("make_rule", [
    lambda: Flux.Adam(0.01),
    lambda: Flux.OptimiserChain(Flux.ClipGrad(0.5), Flux.Momentum(0.05, 0.8)),
])
def test_checkpoint_with_optimiser_state_resumes_exactly(tmp_path, make_rule):
    """Flux's checkpoint (model_state and opt_state in one file): training resumed from the
    file equals training that never stopped (the oracle), tensor for tensor."""
    torch.manual_seed(0)
    model = Chain(Dense(3, 4, relu), Dense(4, 2))
    opt_state = Flux.setup(make_rule(), model)
    Flux.freeze_(opt_state.layers[1].bias)
    data = [(torch.randn(8, 3), torch.randn(8, 2)) for _ in range(3)]

    def loss(m, x, y):
        return ((m(x) - y) ** 2).mean()

    Flux.train_(loss, model, data, opt_state)
    p = tmp_path / "checkpoint.safetensors"
    save(p, {"model_state": state(model), "opt_state": opt_state, "epoch": 1})
    ckpt = load(p)
    assert ckpt["epoch"] == 1
    leaf = ckpt["opt_state"]["layers"][1]["bias"]
    assert isinstance(leaf, Flux.Leaf) and leaf.frozen and repr(leaf.rule) == repr(make_rule())
    resumed = Chain(Dense(3, 4, relu), Dense(4, 2))
    loadmodel_(resumed, ckpt["model_state"])
    Flux.train_(loss, model, data, opt_state)                   # the run that never stopped
    Flux.train_(loss, resumed, data, ckpt["opt_state"])         # the resumed one
    for a, b in zip(Flux.params(model), Flux.params(resumed)):
        assert torch.equal(a, b)


def test_a_leaf_whose_rule_text_is_code_is_refused_and_never_run(tmp_path):
    """load rebuilds a rule only from rule classes with literal arguments."""
    import json
    marker = tmp_path / "ran"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    nodes = [["dict", -1, None], ["leaf", 0, "w", 0, False], ["tuple", 1, None]]
    p = tmp_path / "evil.safetensors"
    safetensors.torch.save_file({"x": torch.ones(1)}, str(p), metadata={
        "flux_torch": "2", "flux_torch.nodes": json.dumps({"rules": [payload], "nodes": nodes})})
    with pytest.raises(ValueError, match="cannot be rebuilt: a rule's printed form has only names, .* has '.'"):
        load(p)
    assert not marker.exists()
