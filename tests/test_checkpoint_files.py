"""The file side of save: one temporary file per save, cleaned up after a killed save, the umask
and an existing file's mode, symbolic links followed, clear errors for bad paths; and, in
processes that are killed (SIGKILL) or race each other, a checkpoint that always loads as one
of the versions saved.

Oracles: the folder's listing while and after saving, os.stat's mode bits, the values saved
(each version is recognisable), the kernel (SIGKILL, flock)."""
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import safetensors.torch
import torch

from flux_torch.checkpoint import framing
from flux_torch.io import load, save

TEMP = re.compile(r"\..*\.[0-9a-f]{16}\.fluxtmp\Z")
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX file semantics")


def listing(folder):
    return sorted(os.listdir(folder))


def test_one_temporary_file_per_save_and_not_safetensors_own(tmp_path, monkeypatch):
    seen = []
    real = framing._bytes_of

    def spy(t):
        seen.append(listing(tmp_path))
        return real(t)
    monkeypatch.setattr(framing, "_bytes_of", spy)
    monkeypatch.setattr(safetensors.torch, "save_file", None)      # never used: one temp file
    monkeypatch.setattr(safetensors.torch, "save", None)
    p = tmp_path / "m.safetensors"
    save(p, {"a": torch.ones(2), "b": torch.zeros(3)})
    save(p, {"a": torch.ones(2), "b": torch.zeros(3)})
    assert len(seen) == 4
    for names in seen:
        temps = [n for n in names if TEMP.match(n)]
        assert len(temps) == 1 and temps[0].startswith(".m.safetensors.")
    assert listing(tmp_path) == ["m.safetensors"]


@POSIX
def test_stale_temporary_files_of_killed_saves_are_removed(tmp_path):
    import fcntl
    p = tmp_path / "ckpt.safetensors"
    stale = tmp_path / ".ckpt.safetensors.0123456789abcdef.fluxtmp"
    live = tmp_path / ".ckpt.safetensors.fedcba9876543210.fluxtmp"
    other = tmp_path / ".other.safetensors.0123456789abcdef.fluxtmp"
    unrelated = tmp_path / ".ckpt.safetensors.notours.fluxtmp"
    for f in (stale, live, other, unrelated):
        f.write_bytes(b"half a file")
    fd = os.open(live, os.O_RDONLY)          # a save in progress holds the lock of its file
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        save(p, {"w": torch.ones(1)})
        assert not stale.exists() and live.exists() and other.exists() and unrelated.exists()
    finally:
        os.close(fd)
    save(p, {"w": torch.ones(1)})            # its writer is gone now: the lock went with it
    assert not live.exists()


@POSIX
def test_new_files_follow_the_umask_and_existing_files_keep_their_mode(tmp_path):
    p = tmp_path / "m.safetensors"
    old = os.umask(0o027)
    try:
        save(p, {"w": torch.ones(1)})
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    os.chmod(p, 0o604)
    save(p, {"w": torch.zeros(1)})
    assert stat.S_IMODE(p.stat().st_mode) == 0o604


@POSIX
def test_a_symbolic_link_is_followed(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.safetensors"
    link = tmp_path / "latest.safetensors"
    link.symlink_to(target)                       # dangling until the first save
    save(link, {"w": torch.ones(2)})
    assert link.is_symlink() and target.is_file()
    save(link, {"w": torch.zeros(2)})
    assert link.is_symlink() and torch.equal(load(link)["w"], torch.zeros(2))
    assert listing(tmp_path / "real") == ["model.safetensors"]
    assert listing(tmp_path) == ["latest.safetensors", "real"]


def test_bad_paths_give_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="save: the path is empty; give a file name"):
        save("", {"w": torch.ones(1)})
    with pytest.raises(IsADirectoryError, match="is a folder; give the path of a file in it"):
        save(tmp_path, {"w": torch.ones(1)})
    with pytest.raises(IsADirectoryError, match="is a folder"):
        save(str(tmp_path / "new") + "/", {"w": torch.ones(1)})
    if os.path.exists("/dev/null"):
        with pytest.raises(ValueError, match="exists and is not a regular file"):
            save("/dev/null", {"w": torch.ones(1)})
    assert listing(tmp_path) == []


# ------------------------------------------------------------------ killed and racing processes
# A helper process (this file run as a script) imports torch once, keeps torch to one thread,
# and forks the saving processes, so that each kill costs milliseconds, not an import.

VERSIONS = 3


def version(v):
    return {"w": torch.full((400_000,), float(v)), "b": torch.arange(1000) * v, "v": v, "tag": f"v{v}"}


def which_version(state):
    v = state["v"]
    assert state["tag"] == f"v{v}" and 0 <= v < 100 * VERSIONS
    assert torch.equal(state["w"], torch.full((400_000,), float(v)))
    assert torch.equal(state["b"], torch.arange(1000) * v)
    return v


def saver(path, first, n=10 ** 9):
    for i in range(n):
        save(path, version(first + i % VERSIONS))


def kill_run(folder, kills, seed):
    import random
    import signal
    rng = random.Random(seed)
    path = os.path.join(folder, "ckpt.safetensors")
    save(path, version(0))
    report = {"seen": [], "temps_after_kill": [], "temps_after_next_save": []}
    for _ in range(kills):
        pid = os.fork()
        if pid == 0:
            try:
                saver(path, 0)
            finally:
                os._exit(0)
        import time
        time.sleep(rng.uniform(0.01, 0.12))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        report["seen"].append(which_version(load(path)))
        report["temps_after_kill"].append(len([n for n in os.listdir(folder) if TEMP.match(n)]))
        save(path, version(0))
        report["temps_after_next_save"].append(sorted(os.listdir(folder)))
    return report


def race_run(folder, saves):
    path = os.path.join(folder, "ckpt.safetensors")
    save(path, version(0))
    alive = set()
    for first in (100, 200):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                saver(path, first, saves)
                code = 0
            finally:
                os._exit(code)
        alive.add(pid)
    seen, codes = [], []
    while alive:                            # read while the two write
        seen.append(which_version(load(path)))
        for pid in list(alive):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                codes.append(os.waitstatus_to_exitcode(status))
                alive.discard(pid)
    final = which_version(load(path))
    save(path, version(1))
    return {"seen": seen, "final": final, "codes": codes, "after": sorted(os.listdir(folder))}


def helper(*args):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kill_during_save_leaves_a_whole_checkpoint_and_the_next_save_cleans_up(tmp_path):
    report = helper("kill", str(tmp_path), "10", "1")
    assert len(report["seen"]) == 10                         # every kill: the file loads whole
    assert all(0 <= v < VERSIONS for v in report["seen"])
    assert sum(report["temps_after_kill"]) >= 1              # some kills did land inside a save
    assert all(names == ["ckpt.safetensors"] for names in report["temps_after_next_save"])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_two_processes_saving_at_once_never_tear_the_file(tmp_path):
    report = helper("race", str(tmp_path), "12")
    assert report["codes"] == [0, 0]                  # neither save failed (no temp file stolen)
    assert report["seen"] and report["final"] in {100, 101, 102, 200, 201, 202}
    assert report["after"] == ["ckpt.safetensors"]


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1] == "kill":
        print(json.dumps(kill_run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        print(json.dumps(race_run(sys.argv[2], int(sys.argv[3]))))
