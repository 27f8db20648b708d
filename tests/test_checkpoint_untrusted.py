"""load on crafted files: bounded work before any parsing, only regular files, and every malformed
input a ValueError saying what is wrong (never RecursionError, MemoryError, IndexError, a hang).

Oracles: the clock (a megabyte of rule text used to cost ~10 s), the exception's type and words,
safetensors' own writer for well-formed framing around crafted structures, and the optimiser's
own update_ (a state that load accepts must step without error)."""
import json
import os
import random
import threading
import time

import pytest
import safetensors.torch
import torch

import flux_torch as Flux
from flux_torch.io import load, save
from flux_torch.checkpoint.rule_text import rule_from_text


def framed(path, header, data=b""):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data)
    return path


def nodes_file(path, nodes, rules=(), tensors=None, structure=None):
    text = structure if structure is not None else json.dumps({"rules": list(rules), "nodes": nodes})
    safetensors.torch.save_file(tensors if tensors is not None else {"x": torch.ones(3)}, str(path),
                                metadata={"flux_torch": "2", "flux_torch.nodes": text})
    return path


def adam_leaf_nodes(state_nodes, frozen=False):
    return [["dict", -1, None], ["leaf", 0, "w", 0, frozen]] + state_nodes


# ------------------------------------------------------------------ rule text, bounded

def test_a_megabyte_of_rule_text_is_refused_before_parsing(tmp_path):
    text = "OptimiserChain(" + ", ".join(["Descent(0.1)"] * 80_000) + ")"      # ~1 MB
    p = nodes_file(tmp_path / "big.safetensors", adam_leaf_nodes([["tuple", 1, None]]), [text])
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"well under 1 kB, but this text has \d+ characters"):
        load(p)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("text, why", [
    ("Adam(" + "-" * 3000 + "1)", "no repeated signs"),
    ("Adam(" + "-" * 200_000 + "1)", "well under 1 kB"),
    ("Adam(" + "(" * 100 + "0.1" + ")" * 100 + ")", "nests brackets more than 16 deep"),
    ("Adam(" + "[" * 40 + "]" * 40 + ")", "nests brackets more than 16 deep"),
    ("Adam(1e309x)", "no number run into a name"),
    ("Adam('\\d')", "has only names, numbers, strings"),
    ("Adam(inf)", "the learning rate eta must be a finite number"),
    ("Adam(1" + "0" * 400 + ")", "too large for a float"),
    ("Adam(0.1, (0.9, 0.999), -1e-8)", "epsilon must be >= 0"),
    ("Descent(0.1) + Descent(0.2)", "only hold rule calls and literal values"),
    ("Adam(eta=__import__('os'))", "only call rule classes"),
    ("Adam(**{'eta': 1})", "has only names, numbers, strings, .* has '\\*'"),
    ("Adam(__import__('os').sep)", "has '\\.'"),
    ("Adam(", "not the printed form of a rule"),
])
def test_rule_text_is_checked_with_bounded_work(text, why):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=why):
        rule_from_text(text)
    assert time.perf_counter() - start < 0.5


# ------------------------------------------------------------------ JSON, bounded

def test_deeply_nested_structure_json_is_a_value_error(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    p = nodes_file(tmp_path / "deep.safetensors", None, structure=deep)
    with pytest.raises(ValueError, match="damaged checkpoint.*its structure nests deeper than 24 levels"):
        load(p)


def test_deeply_nested_header_json_is_a_value_error(tmp_path):
    p = framed(tmp_path / "deep.safetensors", b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError, match="not a flux_torch checkpoint: its header nests deeper than 32"):
        load(p)


def test_deep_state_made_of_parents_is_refused(tmp_path):
    chain = [["list", -1, None]] + [["list", i, None] for i in range(300)]
    with pytest.raises(ValueError, match="nests more than 256 levels deep"):
        load(nodes_file(tmp_path / "d.safetensors", chain))


# ------------------------------------------------------------------ only regular files

def test_dev_zero_is_refused(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    with pytest.raises(ValueError, match="'/dev/zero' is not a regular file"):
        load("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    got = []

    def try_load():
        try:
            load(fifo)
        except Exception as e:      # noqa: BLE001 (what it raises is the result)
            got.append(e)
    t = threading.Thread(target=try_load, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():                # release the blocked reader before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5)
        pytest.fail("load blocked on a FIFO")
    assert isinstance(got[0], ValueError) and "is not a regular file" in str(got[0])


def test_folder_and_missing_paths(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder, not a checkpoint file"):
        load(tmp_path)
    with pytest.raises(ValueError, match="load: the path is empty"):
        load("")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "none.safetensors")


# ------------------------------------------------------------------ framing

def test_regions_that_overlap_are_refused_before_allocating(tmp_path):
    # 1000 tensors of 1 MB over the same megabyte: 1 GB of memory for a 1 MB file
    header = {f"t{i}": {"dtype": "U8", "shape": [1 << 20], "data_offsets": [0, 1 << 20]}
              for i in range(1000)}
    p = framed(tmp_path / "o.safetensors", header, bytes(1 << 20))
    with pytest.raises(ValueError, match="damaged checkpoint.*overlaps another tensor's"):
        load(p)


@pytest.mark.parametrize("entry, why", [
    ({"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 8]}, "needs .* bytes"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}, "needs 8 bytes"),
    ({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}, "not a list of at most 64 sizes"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}, "data_offsets are"),
    ({"dtype": "F32", "shape": [2]}, "no data_offsets"),
    ({"shape": [2], "data_offsets": [0, 8]}, "has no dtype"),
    ("x", "not an object"),
])
def test_malformed_tensor_entries(tmp_path, entry, why):
    p = framed(tmp_path / "m.safetensors", {"w": entry}, bytes(8))
    with pytest.raises(ValueError, match=f"damaged checkpoint.*{why}"):
        load(p)


def test_unknown_dtype_is_not_called_damaged(tmp_path):
    p = framed(tmp_path / "f.safetensors", {"w": {"dtype": "F4", "shape": [2], "data_offsets": [0, 1]}},
               bytes(8))
    with pytest.raises(ValueError, match="has the dtype 'F4', which flux_torch does not read") as e:
        load(p)
    assert "damaged" not in str(e.value)


def test_random_corruption_is_always_a_value_error(tmp_path):
    """Flip bytes of a real checkpoint (header, structure, data) and cut it: each load either
    gives a state or raises a ValueError; nothing else escapes."""
    m = Flux.Chain(Flux.Dense(3, 4, Flux.relu), Flux.BatchNorm(4))
    p = tmp_path / "c.safetensors"
    save(p, {"model": m, "opt": Flux.setup(Flux.Adam(), m), "meta": {"epoch": 3, "tags": {"a", "b"}}})
    good = p.read_bytes()
    header_end = 8 + int.from_bytes(good[:8], "little")
    rng = random.Random(0)
    for trial in range(300):
        data = bytearray(good)
        if trial % 10 == 0:
            data = data[:rng.randrange(len(data))]
        else:
            for _ in range(rng.choice((1, 1, 3))):
                i = rng.randrange(header_end if trial % 3 else len(data))
                data[i] = rng.choice((rng.randrange(256), ord("["), ord("{"), ord('"'), ord("0")))
        p.write_bytes(bytes(data))
        try:
            load(p)
        except ValueError:
            pass


# ------------------------------------------------------------------ the nodes

ADAM = "Adam(0.001, (0.9, 0.999), 1e-08)"


@pytest.mark.parametrize("nodes, why", [
    ([["list", 0, None]], "first node is not the top"),
    ([["list", -1, None], ["list", 5, None]], "not an earlier container"),
    ([["list", -1, None], ["value", 0, None, 1], ["list", 1, None]], "not an earlier container"),
    ([["dict", -1, None], ["value", 0, "a", 1], ["value", 0, "a", 2]], "has a key twice"),
    ([["dict", -1, None], ["value", 0, ["set", []], 1]], "unhashable key"),
    ([["list", -1, None], ["value", 0, "k", 1]], "has a key, but its parent is not a dict"),
    ([["list", -1, None], ["same", 0, None, 0]], "not an optimiser Leaf"),
    ([["list", -1, None], ["tensor", 0, None, "nope", False, None, None]], "names a tensor 'nope'"),
    ([["list", -1, None], ["tensor", 0, None, "x", False, "float64", [7]]], "do not hold a float64"),
    ([["list", -1, None], ["tensor", 0, None, "x", False, ["float64"], [3]]], "has a malformed dtype"),
    ([["list", -1, None], ["generator", 0, None, ["cpu"], None, "x"]], "generator's device is malformed"),
    ([["list", -1, None], ["generator", 0, None, "cpu", None, "x"]], "state of a cpu random generator"),
    ([["list", -1, None], ["rule", 0, None, 3]], "names a rule it does not hold"),
    ([["list", -1, None], ["value", 0, None, ["pickle", "x"]]], "unknown value tag 'pickle'"),
    ([["list", -1, None], ["value", 0, None, ["int", "f" * (1 << 21)]]], "expected an integer"),
    ([["list", -1, None], ["value", 0, None, ["fraction", 1, 0]]], "stored fraction is malformed"),
    ([["list", -1, None], ["value", 0, None, ["date", 2023, 2, 30]]], "stored date is malformed"),
    ([["list", -1, None], ["mystery", 0, None]], "malformed 'mystery' entry"),
    (adam_leaf_nodes([["tuple", 1, None]], frozen="no"), "malformed 'leaf' entry"),
    (adam_leaf_nodes([["tuple", 1, None], ["tuple", 1, None]]), "has two states"),
    (adam_leaf_nodes([["tuple", 1, None], ["leaf", 2, None, 0, False]]), "inside an optimiser Leaf"),
    (adam_leaf_nodes([]), "has no state"),
    (adam_leaf_nodes([["tuple", 1, None]]), r"keeps a state like \(tensor\(\) float32, tensor\(\) float32, "
                                            r"\[number, number\]\), but this one is \(\)"),
    (adam_leaf_nodes([["tuple", 1, None], ["tensor", 2, None, "x", False, None, None],
                      ["tensor", 2, None, "y", False, None, None],
                      ["list", 2, None], ["value", 5, None, 0.9], ["value", 5, None, 0.99]]),
     r"tensor\(3,\) float32, tensor\(2,\) float32"),
    (adam_leaf_nodes([["tuple", 1, None], ["tensor", 2, None, "x", False, None, None],
                      ["tensor", 2, None, "z", False, None, None],
                      ["list", 2, None], ["value", 5, None, "a"], ["value", 5, None, 0.99]]),
     r"\[str, number\]"),
    (adam_leaf_nodes([["tuple", 1, None], ["tensor", 2, None, "x", False, None, None],
                      ["tensor", 2, None, "x", False, None, None]]), "state is used twice"),
    ([["list", -1, None], ["tensor", 0, None, "x", False, None, None], ["leaf", 0, None, 0, False],
      ["tuple", 2, None], ["tensor", 3, None, "x", False, None, None]], "state is used twice"),
])
def test_malformed_nodes_are_damaged_files(tmp_path, nodes, why):
    p = nodes_file(tmp_path / "n.safetensors", nodes, [ADAM],
                   tensors={"x": torch.zeros(3), "y": torch.zeros(2), "z": torch.zeros(3)})
    with pytest.raises(ValueError, match=f"damaged checkpoint.*{why}"):
        load(p)


def test_a_state_that_load_accepts_steps_in_update(tmp_path):
    """The oracle for the layout check: what passes it, update_ can use."""
    nodes = adam_leaf_nodes([["tuple", 1, None], ["tensor", 2, None, "x", False, None, None],
                             ["tensor", 2, None, "y", False, None, None],
                             ["list", 2, None], ["value", 5, None, 0.9], ["value", 5, None, 0.999]])
    st = load(nodes_file(tmp_path / "ok.safetensors", nodes, [ADAM],
                         tensors={"x": torch.zeros(3), "y": torch.zeros(3)}))
    w = torch.ones(3)
    Flux.update_(st, {"w": w}, {"w": torch.ones(3)})
    torch.testing.assert_close(w, torch.full((3,), 1 - 0.001))


def test_an_enum_of_a_module_not_imported_is_not_called_damaged(tmp_path):
    nodes = [["list", -1, None], ["value", 0, None, ["enum", "no_such_module_xyz", "Color", "RED"]]]
    with pytest.raises(ValueError, match="has not imported; import no_such_module_xyz before load") as e:
        load(nodes_file(tmp_path / "e.safetensors", nodes))
    assert "damaged" not in str(e.value)


def test_an_unregistered_rule_is_not_called_damaged(tmp_path):
    nodes = adam_leaf_nodes([["tuple", 1, None]])
    with pytest.raises(ValueError, match=r"cannot be rebuilt.*register_rule\(LocalRule\)") as e:
        load(nodes_file(tmp_path / "r.safetensors", nodes, ["LocalRule(0.1)"]))
    assert "damaged" not in str(e.value)
