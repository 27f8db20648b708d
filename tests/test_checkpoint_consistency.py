"""A checkpoint is one consistent step, and every tensor is written with its value.

Oracles: a training thread that writes step number k into every tensor of the model and of its
optimiser state, one tensor at a time, holding the model's lock as train_ does (a checkpoint
holding two different k is torn); torch's own resolve_conj/resolve_neg for the lazy bits."""
import math
import threading
import time

import torch

import flux_torch as Flux
from flux_torch._locks import lock_for
from flux_torch.checkpoint import framing
from flux_torch.io import load, save


def all_tensors(tree):
    out = []
    for leaf in Flux.fleaves(tree):
        if isinstance(leaf, Flux.Leaf):
            out += [t for t in Flux.fleaves(leaf.state) if isinstance(t, torch.Tensor)]
        elif isinstance(leaf, torch.Tensor):
            out.append(leaf)
    return out


def test_a_checkpoint_saved_while_another_thread_trains_is_one_step(tmp_path):
    model = Flux.Chain(Flux.Dense(64, 64), Flux.BatchNorm(64), Flux.Dense(64, 8))
    opt_state = Flux.setup(Flux.Adam(), model)
    tensors = all_tensors(model) + all_tensors(opt_state)
    stop, steps = threading.Event(), [0]

    def train():
        while not stop.is_set():
            with lock_for(model):                 # what train_ holds for each call
                steps[0] += 1
                for t in tensors:
                    t.fill_(steps[0])
                    time.sleep(0.0002)            # a step takes a while: half of it is visible
            time.sleep(0.001)                     # between calls, others may take the lock

    trainer = threading.Thread(target=train, daemon=True)
    trainer.start()
    try:
        p, seen = tmp_path / "ckpt.safetensors", set()
        for _ in range(30):
            save(p, {"model": model, "opt_state": opt_state})
            ck = load(p)
            values = {v for t in all_tensors(ck) for v in t.unique().tolist()}
            assert len(values) == 1, f"a torn checkpoint: it mixes steps {sorted(values)}"
            seen |= values
    finally:
        stop.set()
        trainer.join()
    assert len(seen) > 1          # the checkpoints did come from different steps


def test_the_file_is_written_outside_the_model_lock(tmp_path, monkeypatch):
    """Only the copy holds the lock: writing (slow, on disk) does not stop training."""
    model = Flux.Dense(3, 2)
    free = []
    real = framing._bytes_of

    def check(t):
        def grab():                               # another thread, as a trainer would
            lock = lock_for(model)
            if lock.acquire(timeout=5):
                lock.release()
                free.append(True)
            else:
                free.append(False)
        other = threading.Thread(target=grab)
        other.start()
        other.join()
        return real(t)
    monkeypatch.setattr(framing, "_bytes_of", check)
    save(tmp_path / "m.safetensors", model)
    assert free and all(free)


def test_lazy_conjugate_and_negative_bits_are_written_as_values(tmp_path):
    z = torch.tensor([1 + 2j, -3 - 4j])
    x = {"conj": z.conj(), "neg": torch.tensor([1.0, -2.0])._neg_view(), "conj of a view": z[1:].conj(),
         "conj transposed": torch.tensor([[1 + 1j, 2j]]).T.conj(), "real": z.conj().real}
    assert x["conj"].is_conj() and x["neg"].is_neg()
    p = tmp_path / "c.safetensors"
    save(p, x)
    out = load(p)
    for k, v in x.items():
        assert torch.equal(out[k], v.resolve_conj().resolve_neg()), k
    assert out["conj"].tolist() == [1 - 2j, -3 + 4j] and out["neg"].tolist() == [-1.0, 2.0]


def test_the_saved_tensors_are_copies_taken_when_save_ran(tmp_path, monkeypatch):
    model = Flux.Dense(torch.ones(2, 2), torch.zeros(2))
    real = framing._bytes_of

    def change_during_write(t):
        model.weight.fill_(7.0)                  # training went on while the file was written
        return real(t)
    monkeypatch.setattr(framing, "_bytes_of", change_during_write)
    save(tmp_path / "m.safetensors", model)
    monkeypatch.undo()
    assert torch.equal(load(tmp_path / "m.safetensors")["weight"], torch.ones(2, 2))


def test_checkpoints_saved_while_train_runs_in_another_thread_hold_one_step(tmp_path):
    """With Flux.train_ itself: each checkpoint's parameters are those of the step its Adam
    counters say (the oracle: the same training run alone, step by step)."""
    torch.manual_seed(0)
    x, y = torch.randn(8, 4), torch.randn(8, 2)

    def fresh():
        torch.manual_seed(1)
        m = Flux.Chain(Flux.Dense(4, 4, Flux.tanh), Flux.Dense(4, 2))
        return m, Flux.setup(Flux.Adam(0.01), m)

    def loss(m, a, b):
        return ((m(a) - b) ** 2).mean()

    model, opt_state = fresh()
    reference = [[t.clone() for t in Flux.params(model)]]
    for _ in range(60):
        Flux.train_(loss, model, [(x, y)], opt_state)
        reference.append([t.clone() for t in Flux.params(model)])

    model, opt_state = fresh()
    done = threading.Event()

    def train():
        for _ in range(60):
            Flux.train_(loss, model, [(x, y)], opt_state)
            time.sleep(0.001)
        done.set()

    trainer = threading.Thread(target=train, daemon=True)
    trainer.start()
    p, steps = tmp_path / "ckpt.safetensors", set()
    try:
        while not done.is_set():
            save(p, {"model": model, "opt_state": opt_state})
            ck = load(p)
            b1t = ck["opt_state"]["layers"][0]["weight"].state[2][0]      # β1^(t+1) after t steps
            t = round(math.log(b1t) / math.log(0.9)) - 1
            got = [ck["model"]["layers"][i][k] for i in (0, 1) for k in ("weight", "bias")]
            assert all(torch.equal(a, b) for a, b in zip(got, reference[t])), f"torn at step {t}"
            steps.add(t)
    finally:
        trainer.join()
    assert len(steps) > 1
