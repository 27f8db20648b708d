"""Instructions per eager classify step, counted by valgrind: a measure that does not move
with the machine's load, where the timed ratios of the small models drift by ±5%.

    python benchmarks/instructions.py                      # every eager classify variant
    python benchmarks/instructions.py ft_train b_onehot    # some of them

For each variant it runs the step under ``valgrind --tool=cachegrind --cache-sim=no`` twice,
``--short`` and ``--long`` steps after the same warm-up, with the garbage collector off, and
prints ``(instructions of the long run - of the short run) / (long - short)``: the instructions
one step runs (Python, torch and the kernels; the interpreter's start and imports cancel out),
and the ratio to ``b_onehot``, the step written by hand with the same fused loss. The model is
classify 10→5→2 σ, batch 1 (``--sizes`` and ``--batch`` change it); see ``classification.py``
for the variants. It takes about a minute per run; two runs go at once. The counts of one
variant still differ by a few percent from one invocation to the next (the allocator's state,
thread start-up), so compare ratios from one invocation.

``python benchmarks/instructions.py --steps KEY N`` is the inner run: N steps of one variant.
"""
import argparse
from concurrent.futures import ThreadPoolExecutor
import gc
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ("ft_impl", "ft_expl", "ft_train", "a", "b", "b_onehot")


def run_steps(key, n, sizes, batch):
    """Build the variant ``key``, warm it up, then take ``n`` steps with the collector off."""
    sys.path.insert(0, HERE)
    import torch
    import classification
    from models import MLP
    torch.manual_seed(0)
    spec = MLP(sizes, "σ" if sizes == (10, 5, 2) else "relu")
    eager, _ = classification.variants(spec, batch, torch.device("cpu"))
    step, _ = next(v for v in eager if v.key == key).make()
    for _ in range(30):
        step()
    gc.collect()
    gc.disable()
    for _ in range(n):
        step()


def count(key, n, args):
    """Instructions of one valgrind run of ``n`` steps of ``key``."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, os.path.abspath(__file__), "--steps", key, str(n),
           "--sizes", args.sizes, "--batch", str(args.batch)]
    env = dict(os.environ, PYTHONHASHSEED="0")     # the same dict layouts in every run
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stderr
    found = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output for {key}:\n{out[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", default=list(KEYS), help=f"variants, of {', '.join(KEYS)}")
    parser.add_argument("--short", type=int, default=10)
    parser.add_argument("--long", type=int, default=210)
    parser.add_argument("--sizes", default="10,5,2")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", nargs=2, metavar=("KEY", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    if args.steps:
        run_steps(args.steps[0], int(args.steps[1]), sizes, args.batch)
        return
    unknown = [k for k in args.keys if k not in KEYS]
    if unknown:
        parser.error(f"unknown variants {unknown}; they are {', '.join(KEYS)}")
    if shutil.which("valgrind") is None:
        sys.exit("benchmarks/instructions.py needs valgrind (apt install valgrind)")
    keys = list(dict.fromkeys(args.keys + ["b_onehot"]))
    jobs = [(k, n) for k in keys for n in (args.short, args.long)]
    with ThreadPoolExecutor(2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: count(*job, args), jobs)))
    per_step = {k: (counts[k, args.long] - counts[k, args.short]) / (args.long - args.short)
                for k in keys}
    print(f"classify {args.sizes.replace(',', '→')}, batch {args.batch}: instructions per step")
    for k in keys:
        print(f"  {k:10s} {per_step[k]:12,.0f}  {per_step[k] / per_step['b_onehot']:.3f}× of b_onehot")


if __name__ == "__main__":
    main()
