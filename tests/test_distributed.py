"""Data-parallel training (flux_torch.distributed, Flux's DistributedUtils).

The two-worker tests start this file as a script in two processes (gloo on loopback,
the environment set by hand as torchrun would), and compare what the workers end with
against torch.optim training one model on the whole batch. Two more pairs of workers
fail on purpose (a frozen worker, shares of different sizes): the oracle there is the
clock (an error within initialize's timeout, not a hang) and the error's words.
"""
import datetime
import json
import operator
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

import flux_torch as Flux
from flux_torch import distributed as DU

ROOT = Path(__file__).resolve().parents[1]
ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data():
    g = torch.Generator().manual_seed(42)
    return torch.randn(8, 3, generator=g), torch.randn(8, 1, generator=g)


def make_model(seed):
    torch.manual_seed(seed)
    return Flux.Chain(Flux.Dense(3, 4, Flux.tanh), Flux.Dense(4, 1))


def mse(yhat, y):
    return ((yhat - y) ** 2).mean()


def snapshot(model):
    return [t.clone() for t in Flux.fleaves(model) if isinstance(t, torch.Tensor)]


# ------------------------------------------------------------------ the worker (a script)

def worker(out):
    DU.initialize("gloo", timeout=60)
    rank, n = DU.local_rank(), DU.total_workers()
    res = {"rank": rank, "n": n, "backend": repr(DU.get_distributed_backend())}
    X, Y = data()
    shard = DU.DistributedDataContainer((X, Y))
    res["idxs"] = list(shard.idxs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res["odd_idxs"] = list(DU.DistributedDataContainer(torch.arange(7)).idxs)   # 7 = 4 + 3
    res["odd_warned"] = [str(w.message) for w in caught]
    res["odd_keep"] = DU.DistributedDataContainer(torch.arange(7), partial="keep")[:].tolist()
    res["odd_drop"] = DU.DistributedDataContainer(torch.arange(7), partial="drop")[:].tolist()
    pad = DU.DistributedDataContainer(torch.arange(10, 17), partial="pad")
    res["odd_pad"] = (pad[:].tolist(), [pad[i].item() for i in range(len(pad))], pad[[3, 0]].tolist())
    loader = Flux.DataLoader(shard, batchsize=2, collate=True)

    # explicit style: different models and a garbled optimiser state on rank 1, then synchronize_
    model = make_model(rank)
    opt_state = Flux.setup(DU.DistributedOptimizer(Flux.Adam(0.05)), model)
    if rank == 1:
        leaf = opt_state.layers[0].weight
        leaf.state[0].fill_(1.0)
        leaf.state[2][:] = [0.5, 0.25]
    DU.synchronize_(DU.FluxDistributedModel(model))
    DU.synchronize_(opt_state)
    res["explicit_initial"] = snapshot(model)
    for _ in range(3):
        Flux.train_(lambda m, x, y: mse(m(x), y), model, loader, opt_state)
    res["explicit_final"] = snapshot(model)

    # implicit style
    model = DU.synchronize_(make_model(10 + rank))
    res["implicit_initial"] = snapshot(model)
    ps, opt = Flux.params(model), DU.DistributedOptimizer(Flux.Momentum(0.1, 0.9))
    for _ in range(3):
        for x, y in loader:
            Flux.update_(opt, ps, Flux.gradient(lambda: mse(model(x), y), ps))
    res["implicit_final"] = snapshot(model)

    res["avg"] = DU.allreduce_(torch.tensor([rank + 1.0]), DU.avg).item()
    res["add"] = DU.allreduce_(DU.get_distributed_backend(), torch.tensor([rank + 1.0]), operator.add).item()
    res["max"] = DU.allreduce_(torch.tensor([rank + 1.0]), max).item()
    res["bcast"] = DU.bcast_(torch.tensor([rank + 1.0]), root=1).item()
    torch.save(res, out)
    dist.destroy_process_group()


TIMEOUT = 5.0       # seconds, for the workers that fail on purpose


def failing_worker(scenario):
    """Rank 0 waits at a collective that rank 1 never joins; prints what rank 0 got, as JSON."""
    DU.initialize("gloo", timeout=datetime.timedelta(seconds=TIMEOUT))
    rank = DU.local_rank()
    model = DU.synchronize_(make_model(0))
    opt_state = Flux.setup(DU.DistributedOptimizer(Flux.Descent(0.1)), model)
    X, Y = data()
    start, out = time.monotonic(), {"rank": rank}
    try:
        if scenario == "frozen":        # rank 1 stops answering; rank 0 all-reduces
            if rank == 1:
                time.sleep(TIMEOUT + 1)
            else:
                DU.allreduce_(torch.ones(3), DU.avg)
        else:                           # 5 observations: 3 batches on rank 0, 2 on rank 1
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                shard = DU.DistributedDataContainer((X[:5], Y[:5]))
            out["warned"] = [str(w.message) for w in caught]
            Flux.train_(lambda m, x, y: mse(m(x), y), model,
                        Flux.DataLoader(shard, batchsize=1, collate=True), opt_state)
            out["batches"] = len(shard)
    except RuntimeError as e:
        out["error"] = str(e)
    out["seconds"] = time.monotonic() - start
    print(json.dumps(out), flush=True)
    os._exit(0)         # leave without the group's goodbye: the peer may be gone


def launch(n, args, env_extra=()):
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()), WORLD_SIZE=str(n),
               PYTHONPATH=str(ROOT), PYTHONWARNINGS="error", **dict(env_extra))
    return [subprocess.Popen([sys.executable, __file__, *args(r)], cwd=ROOT,
                             env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for r in range(n)]


def finish(procs, timeout=120):
    try:
        outs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    return [out for out, _ in outs]


def run_workers(tmp_path, n=2):
    finish(launch(n, lambda r: [str(tmp_path / f"rank{r}.pt")]))
    return [torch.load(tmp_path / f"rank{r}.pt") for r in range(n)]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_workers(tmp_path_factory.mktemp("distributed"))


# ------------------------------------------------------------------ the oracle: torch.optim

def torch_twin(flat):
    w1, b1, w2, b2 = (t.clone() for t in flat)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    with torch.no_grad():
        for p, v in zip(net.parameters(), (w1, b1, w2, b2)):
            p.copy_(v)
    return net


def full_batch_training(initial, make_opt):
    """One process, the whole batch: step k of an epoch takes both workers' k-th batches."""
    X, Y = data()
    net = torch_twin(initial)
    opt = make_opt(net.parameters())
    for _ in range(3):
        for k in range(2):
            idx = torch.tensor([2 * k, 2 * k + 1, 4 + 2 * k, 5 + 2 * k])
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(X[idx]), Y[idx]).backward()
            opt.step()
    return [p.detach() for p in net.parameters()]


@pytest.mark.parametrize("style, make_opt", [
    ("explicit", lambda ps: torch.optim.Adam(ps, lr=0.05)),
    ("implicit", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
])
def test_two_workers_train_as_one_process_on_the_whole_batch(results, style, make_opt):
    r0, r1 = results
    for a, b in zip(r0[f"{style}_initial"], r1[f"{style}_initial"]):
        assert torch.equal(a, b)          # synchronize_ gave rank 1 rank 0's model
    for a, b in zip(r0[f"{style}_final"], r1[f"{style}_final"]):
        assert torch.equal(a, b)          # the same averaged step on both
    expected = full_batch_training(r0[f"{style}_initial"], make_opt)
    for got, want in zip(r0[f"{style}_final"], expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert not torch.equal(r0[f"{style}_final"][0], r0[f"{style}_initial"][0])


def test_ranks_shards_and_collectives(results):
    r0, r1 = results
    assert (r0["rank"], r1["rank"], r0["n"]) == (0, 1, 2)
    assert r0["backend"] == "GlooBackend()"
    assert r0["idxs"] == [0, 1, 2, 3] and r1["idxs"] == [4, 5, 6, 7]
    assert r0["odd_idxs"] == [0, 1, 2, 3] and r1["odd_idxs"] == [4, 5, 6]   # Flux: blocks of ceil(n/2)
    for r in (r0, r1):
        (msg,) = r["odd_warned"]
        assert "7 observations on 2 workers give shares of 4 and 3" in msg and "partial='drop'" in msg
    assert r0["odd_keep"] == [0, 1, 2, 3] and r1["odd_keep"] == [4, 5, 6]
    assert r0["odd_drop"] == [0, 1, 2] and r1["odd_drop"] == [3, 4, 5]          # 6 dropped
    assert r0["odd_pad"] == ([10, 11, 12, 13], [10, 11, 12, 13], [13, 10])
    assert r1["odd_pad"] == ([14, 15, 16, 10], [14, 15, 16, 10], [10, 14])      # 10 reused
    for r in (r0, r1):
        assert (r["avg"], r["add"], r["max"], r["bcast"]) == (1.5, 3.0, 2.0, 2.0)


# examples/distributed_train.py runs under torchrun in tests/test_examples.py


@pytest.fixture(scope="module")
def failures():
    """The two failing pairs, run at the same time: {scenario: [rank 0's report, rank 1's]}."""
    procs = {s: launch(2, lambda r, s=s: ["--fail", s]) for s in ("frozen", "uneven")}
    return {s: [json.loads(out.strip().splitlines()[-1]) for out in finish(p, timeout=90)]
            for s, p in procs.items()}


def test_a_frozen_worker_is_an_error_within_the_timeout(failures):
    r0, r1 = failures["frozen"]
    assert "waited longer than the timeout for the other workers" in r0["error"]
    assert "initialize(timeout=...)" in r0["error"]
    assert TIMEOUT - 0.5 < r0["seconds"] < TIMEOUT + 10        # the timeout, not torch's 30 minutes
    assert "error" not in r1


def test_uneven_shares_warn_and_the_extra_step_is_an_error_not_a_hang(failures):
    r0, r1 = failures["uneven"]
    for r in (r0, r1):
        (msg,) = r["warned"]
        assert "5 observations on 2 workers give shares of 3 and 2" in msg
    assert r1["batches"] == 2 and "error" not in r1
    # rank 0's third all-reduce is never joined: rank 1 has left (or, had it stayed, the timeout)
    assert "DistributedOptimizer (averaging the gradients): this worker" in r0["error"]
    assert "fewer steps" in r0["error"]
    assert r0["seconds"] < TIMEOUT + 10


# ------------------------------------------------------------------ in one process

def test_initialize_passes_its_timeout_to_torch(no_launcher, monkeypatch):
    for k, v in dict(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT="1").items():
        monkeypatch.setenv(k, v)
    got = []
    monkeypatch.setattr(dist, "init_process_group", lambda *a, **kw: got.append(kw["timeout"]))
    DU.initialize("gloo")
    DU.initialize("gloo", timeout=2.5)
    DU.initialize("gloo", timeout=datetime.timedelta(minutes=1))
    assert got == [datetime.timedelta(seconds=300), datetime.timedelta(seconds=2.5),
                   datetime.timedelta(minutes=1)]
    for bad, err in ((0, ValueError), (-1, ValueError), (float("inf"), ValueError), ("5", TypeError),
                     (None, TypeError), (True, TypeError)):
        with pytest.raises(err, match="initialize: timeout must be"):
            DU.initialize("gloo", timeout=bad)


def test_data_container_partial_is_checked(one_worker):
    with pytest.raises(ValueError, match="partial must be 'drop', 'pad' or 'keep', but got 'fill'"):
        DU.DistributedDataContainer(torch.zeros(4), partial="fill")
    c = DU.DistributedDataContainer(torch.arange(3), partial="pad")     # one worker: nothing to pad
    assert c[:].tolist() == [0, 1, 2] and len(c) == 3


@pytest.fixture
def no_launcher(monkeypatch):
    for k in ENV:
        monkeypatch.delenv(k, raising=False)
    assert not dist.is_initialized()


@pytest.fixture
def one_worker():
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:0", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_initialize_without_torchrun_names_the_missing_variables(no_launcher, monkeypatch):
    missing = "RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not set.*torchrun"
    with pytest.raises(RuntimeError, match=missing):
        DU.initialize()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    with pytest.raises(RuntimeError, match=r"variables MASTER_ADDR, MASTER_PORT are not set"):
        DU.initialize("gloo")
    assert not dist.is_initialized()


def test_initialize_twice_is_an_error(no_launcher, monkeypatch):
    for k, v in dict(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(k, v)
    DU.initialize()          # no CUDA here: gloo
    try:
        assert DU.initialized() and DU.initialized(DU.GlooBackend) and not DU.initialized(DU.NCCLBackend)
        assert (DU.local_rank(), DU.total_workers()) == (0, 1)
        with pytest.raises(RuntimeError, match="already initialised"):
            DU.initialize("gloo")
        with pytest.raises(RuntimeError, match="not this backend"):
            DU.get_distributed_backend(DU.NCCLBackend)
        assert repr(DU.get_distributed_backend(DU.MPIBackend)) == "GlooBackend()"
    finally:
        dist.destroy_process_group()


def test_bad_launcher_values(no_launcher, monkeypatch):
    for k, v in dict(RANK="2", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT="1").items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValueError, match="RANK must lie in 0..WORLD_SIZE-1"):
        DU.initialize("gloo")
    with pytest.raises(TypeError, match="backend type such as NCCLBackend"):
        DU.initialize(DU.GlooBackend())


def test_everything_needs_initialize_first(no_launcher):
    model = make_model(0)
    for f in (DU.local_rank, DU.total_workers, DU.get_distributed_backend,
              lambda: DU.synchronize_(model), lambda: DU.DistributedDataContainer(torch.zeros(4))):
        with pytest.raises(RuntimeError, match="initialize"):
            f()
    opt_state = Flux.setup(DU.DistributedOptimizer(Flux.Descent(0.1)), model)
    grad = Flux.gradient(lambda m: m(torch.ones(2, 3)).sum(), model)[0]
    before = snapshot(model)
    with pytest.raises(RuntimeError, match="DistributedOptimizer.*initialize"):
        Flux.update_(opt_state, model, grad)
    assert all(torch.equal(a, b) for a, b in zip(before, snapshot(model)))


def test_optimizer_wraps_a_rule_and_adjusts():
    opt = DU.DistributedOptimizer(Flux.Adam(0.01))
    assert repr(opt) == "DistributedOptimizer(Adam(0.01, (0.9, 0.999), 1e-08))"
    st = Flux.setup(opt, {"w": torch.zeros(3)})
    Flux.adjust_(st, 0.5, beta=(0.8, 0.9))
    assert repr(st["w"].rule) == "DistributedOptimizer(Adam(0.5, (0.8, 0.9), 1e-08))"
    assert repr(DU.DistributedOptimizer(DU.GlooBackend(), Flux.Descent(0.1))) == \
        "DistributedOptimizer(GlooBackend(), Descent(0.1))"
    with pytest.raises(TypeError, match="did you mean Adam()"):
        DU.DistributedOptimizer(Flux.Adam)
    with pytest.raises(TypeError, match="wrap the rule only once"):
        DU.DistributedOptimizer(opt)
    with pytest.raises(TypeError, match="expects a rule such as Adam()"):
        DU.DistributedOptimizer(DU.GlooBackend(), "adam")
    with pytest.raises(TypeError, match="got the type GlooBackend"):
        DU.DistributedOptimizer(DU.GlooBackend, Flux.Adam())


def test_one_worker_steps_like_the_plain_rule(one_worker):
    x = torch.tensor([1.0, -2.0, 3.0])
    g = torch.tensor([0.5, 0.25, -1.0])
    ref = torch.nn.Parameter(x.clone())
    sgd = torch.optim.SGD([ref], lr=0.1, momentum=0.9)
    ps, opt = Flux.params(x), DU.DistributedOptimizer(Flux.Momentum(0.1, 0.9))
    for _ in range(3):
        Flux.update_(opt, ps, {x: g})
        ref.grad = g.clone()
        sgd.step()
    torch.testing.assert_close(x, ref.detach())


def test_synchronize_walks_modules_and_leaves(one_worker):
    lin = torch.nn.BatchNorm1d(3)       # parameters and buffers, integer ones included
    tree = {"m": lin, "n": [torch.ones(2, dtype=torch.float64)], "k": 3, "f": 0.5}
    assert DU.synchronize_(tree) is tree and tree["k"] == 3 and tree["f"] == 0.5
    with pytest.raises(ValueError, match="root must be a worker number from 0 to 0"):
        DU.synchronize_(tree, root=1)


def test_a_checkpoint_of_distributed_training_resumes(one_worker, tmp_path):
    """What docs/distributed.md says: the file holds DistributedOptimizer(rule); training resumed
    from it equals training that never stopped (the oracle)."""
    X, Y = data()
    model = make_model(0)
    opt_state = Flux.setup(DU.DistributedOptimizer(DU.get_distributed_backend(), Flux.Adam(0.05)), model)
    loss = lambda m, x, y: mse(m(x), y)        # noqa: E731
    Flux.train_(loss, model, [(X, Y)], opt_state)
    Flux.save(tmp_path / "ckpt.safetensors", {"model": model, "opt_state": opt_state})
    ckpt = Flux.load(tmp_path / "ckpt.safetensors")
    resumed = Flux.loadmodel_(make_model(1), ckpt["model"])
    assert repr(ckpt["opt_state"]["layers"][0]["weight"].rule) == \
        "DistributedOptimizer(Adam(0.05, (0.9, 0.999), 1e-08))"
    Flux.train_(loss, model, [(X, Y)] * 2, opt_state)
    Flux.train_(loss, resumed, [(X, Y)] * 2, ckpt["opt_state"])
    assert all(torch.equal(a, b) for a, b in zip(snapshot(model), snapshot(resumed)))


def test_data_container_indexing(one_worker):
    X = torch.arange(10.0).reshape(5, 2)
    c = DU.DistributedDataContainer(DU.get_distributed_backend(), {"x": X, "i": list(range(5))})
    assert len(c) == 5 and c.idxs == range(5)
    assert torch.equal(c[1:3]["x"], X[1:3]) and c[1:3]["i"] == [1, 2]
    assert torch.equal(c[[4, 0]]["x"], X[[4, 0]]) and c[-1]["i"] == 4
    with pytest.raises(IndexError):
        c[5]
    assert [b["i"].tolist() for b in Flux.DataLoader(c, batchsize=2, collate=True)] == [[0, 1], [2, 3], [4]]


if __name__ == "__main__":
    if sys.argv[1] == "--fail":
        failing_worker(sys.argv[2])
    else:
        worker(sys.argv[1])
