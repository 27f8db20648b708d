"""Time flux_torch against hand-written torch, in one process: ``python benchmarks/run.py``.

Every eager variant is timed first, then (unless ``--smoke`` or ``--no-compile``) the
compiled ones: eager steps slow down in a process that has compiled (inductor's worker
processes, dynamo's state), and no eager figure here is taken after a compile.

Options: ``--quick`` (under ~3 minutes on a 2-core CPU), ``--smoke`` (1 round of
2 steps, no compiling: checks that the script works), ``--device cpu|cuda|...``
(default: CUDA when available), ``--threads N`` (``torch.set_num_threads``),
``--no-compile``, ``--out PATH`` (default ``benchmarks/RESULTS.md``; a smoke run
writes no file unless asked), ``--note TEXT`` (a line for the results file).
See ``benchmarks/README.md`` for what each column is.
"""
import argparse
import datetime
import os
import platform
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))    # the repository's flux_torch, installed or not

import torch  # noqa: E402

import cases  # noqa: E402
import classification  # noqa: E402
import layers  # noqa: E402
import models  # noqa: E402
import training  # noqa: E402
from timing import Config, GuardError, run_case  # noqa: E402

MODELS = [((10, 5, 2), 1), ((784, 128, 10), 64), ((784, 512, 512, 10), 256), (models.LENET, 64)]
CLASSIFIERS = [(models.MLP((10, 5, 2), "σ"), 1), (models.MLP((784, 128, 10)), 64)]
EPOCH = 10      # batches a train_ call takes in the epoch note
COLUMNS = ["benchmark", "flux_torch", "(a)", "(b)", "(c) torch.compile", "ft compile_step",
           "ft ÷ (b)", "ft ÷ (a)", "compile_step ÷ (c)", "compile_step ÷ (a)"]
LEGEND = """\
- derivatives: (a) `torch.func.grad`, (b) `torch.autograd.grad` (making the input tensor included).
- train rows (forward, MSE loss, backward, SGD update; relu hidden layers; float32; the
  LeNet model is Conv((5, 5), 1, 6, relu), MaxPool((2, 2)), Conv((5, 5), 6, 16, relu),
  MaxPool((2, 2)), flatten, Dense(256, 10) on batches of (64, 1, 28, 28)):
  implicit = `params` + `gradient(() -> loss, ps)` + `Flux.Optimise.update_(Descent(0.01), ps, gs)`;
  explicit = `setup(Descent(0.01), model)` + `gradient(m -> loss(m, x, y), model)`
  + `update_(state, model, g)`; (a) `nn.Sequential` + `torch.optim.SGD`, (b) plain tensors
  + `torch.autograd.grad` + `torch._foreach_add_`, (c) `torch.func.grad_and_value` + `torch._foreach_add`
  in a pure function under `torch.compile` (compile time reported above, not in the median);
  ft compile_step = `flux_torch.compile_step` with `Descent(0.01)`.
- classify rows, the step as a Flux user writes it: labels from `onehotbatch`, the loss
  `Flux.Losses.logitcrossentropy(m(x), y)`, `Adam()` in the implicit and explicit styles and
  `train_`; (a) `nn.Sequential` + `F.cross_entropy` on class indices + `torch.optim.Adam`,
  (b) plain tensors + `F.cross_entropy` on class indices + `torch.autograd.grad` + Adam in
  `torch._foreach` ops, (c) `torch.func.grad_and_value` + a pure Adam step (step count a
  tensor) under `torch.compile`; ft compile_step = `flux_torch.compile_step` with `Adam()`.
- every eager variant is timed before anything is compiled in the process; the compiled
  variants come after all eager cases, each case with its (b) again as the guard's reference
  and its (a) again, which "compile_step ÷ (a)" divides by (the machine's load can change
  between the two phases; the (a) column shows the eager phase's time).
- model walks over a `Chain` of 100 `Dense(10, 10)`: (a) the `nn.Sequential` of 100 `nn.Linear`,
  (b) a hand-written list of `(weight, bias)` pairs (list comprehensions). On the CPU the move row
  times `cpu(m)`, since `gpu(m)` returns its argument unchanged when there is no accelerator.
- times are per call: the median over interleaved rounds; ratios > 1 mean flux_torch is slower."""


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer rounds and steps (~3 minutes)")
    mode.add_argument("--smoke", action="store_true", help="1 round, 2 steps, no compile")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: cuda if available)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile columns")
    p.add_argument("--out", default=None, help="results file (default benchmarks/RESULTS.md)")
    p.add_argument("--note", default=None, help="a line for the results file (e.g. 'machine busy')")
    return p.parse_args(argv)


def config(args, device):
    if args.smoke:
        return Config(rounds=1, warmup=1, target_s=0.0, min_k=2, max_k=2, device=device)
    if args.quick:
        return Config(rounds=9, warmup=3, target_s=0.04, min_k=1, max_k=500, device=device)
    return Config(rounds=11, warmup=5, target_s=0.08, min_k=3, max_k=5000, device=device)


def machine(device):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "none used"
    return [("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
            ("platform", platform.platform()), ("CPU", f"{cpu}, {os.cpu_count()} logical cores"),
            ("torch threads", str(torch.get_num_threads())), ("device", str(device)),
            ("GPU", gpu), ("torch", torch.__version__), ("python", platform.python_version())]


def fmt(t):
    if t is None:
        return "n/a"
    if t < 1e-3:
        return f"{t * 1e6:.1f} µs"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def ratio(x, y):
    return f"{x / y:.2f}×" if x is not None and y is not None else "n/a"


def row(label, vs, ft_key, notes):
    """A table row; notes about a variant (slow, failed) go to ``notes`` with a mark in the cell."""
    by = {v.key: v for v in vs}
    cells = {}
    for key in ("ft", "a", "b", "c", "ftc"):
        v = by.get(ft_key if key == "ft" else key)
        if v is None:
            cells[key] = "n/a"
            continue
        cells[key] = fmt(v.median)
        if v.note:
            text = f"{label if key == 'ft' else label.split(' (')[0]}, {key}: {v.note}"
            if text not in notes:
                notes.append(text)
            cells[key] += f" [{notes.index(text) + 1}]"
    med = lambda k: by[k].median if k in by and not by[k].note else None
    ft, ftc = by[ft_key].median, med("ftc")
    a_beside = med("a_beside") or med("a")
    return [label, cells["ft"], cells["a"], cells["b"], cells["c"], cells["ftc"],
            ratio(ft, med("b")), ratio(ft, med("a")), ratio(ftc, med("c")), ratio(ftc, a_beside)]


def table(rows, columns=COLUMNS):
    widths = [max(len(r[i]) for r in [columns] + rows) for i in range(len(columns))]
    line = lambda r: "| " + " | ".join(s.ljust(w) for s, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(columns), sep] + [line(r) for r in rows])


def training_cases(device):
    """``(label, eager variants, compiled variants)`` for every training case."""
    out = []
    for model, batch in MODELS:
        spec = model if isinstance(model, models.LeNet) else models.MLP(model)
        out.append((f"train {spec.name}, batch {batch}", *training.variants(spec, batch, device)))
    for spec, batch in CLASSIFIERS:
        out.append((f"classify {spec.name}, batch {batch}",
                    *classification.variants(spec, batch, device)))
    return out


def extra_notes(label, vs, notes):
    """Variants outside the table's columns (``b_onehot``) go to the notes, against (b)."""
    by = {v.key: v for v in vs}
    for key, v in by.items():
        if key not in ("ft_impl", "ft_expl", "ft_train", "a", "a_beside", "b", "c", "ftc") and v.median:
            notes.append(f"{label}, {key}: {fmt(v.median)} ({ratio(v.median, by['b'].median)} of (b))")


def main(argv=None):
    args = parse(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cfg = config(args, device)
    compile_c = not (args.smoke or args.no_compile)
    warnings.filterwarnings("ignore", message=".*TF32.*")
    start = time.perf_counter()
    info = machine(device)
    print("flux_torch benchmarks: " + "; ".join(f"{k} {v}" for k, v in info), flush=True)

    rows, notes, compiles = [], [], []
    try:
        vs = run_case("scalar derivative, gradient(f, 2.0)", cases.scalar_derivative(), "b", cfg)
        rows.append(row("gradient(f, 2.0), f = 3x²+2x+1", vs, "ft", notes))
        vs = run_case("gradient(f, x, y), 2 × 1000 elements", cases.vector_gradient(device), "b", cfg)
        rows.append(row("gradient(f, x, y), 2 × 1000", vs, "ft", notes))
        steps = training_cases(device)
        timed = {label: run_case(f"{label}, eager", eager, "b", cfg) for label, eager, _ in steps}
        spec, batch = CLASSIFIERS[0]
        label = f"classify {spec.name}, batch {batch}, {EPOCH} batches a train_ call"
        vs = {v.key: v for v in run_case(label, classification.variants(spec, batch, device, EPOCH),
                                         "b_onehot", cfg)}
        ft, hand = vs["ft_train"].median / EPOCH, vs["b_onehot"].median / EPOCH
        notes.append(f"{label}: train_ {fmt(ft)} a step, the hand-written one-hot step {fmt(hand)} "
                     f"({ratio(ft, hand)})")
        walk_rows = []
        move = "gpu(m)" if device.type != "cpu" else "cpu(m)"
        for label, vs_ in [(move, cases.move(device)), ("params(m)", cases.params_of(device)),
                           ("fmap(f, m)", cases.fmap_over(device))]:
            vs = run_case(f"{label}, Chain of {cases.TREE_LAYERS} Dense(10, 10)", vs_, "b", cfg)
            walk_rows.append(row(f"{label}, 100 × Dense(10, 10)", vs, "ft", notes))
        mode = "smoke" if args.smoke else "quick" if args.quick else "full"
        layer_rows = layers.run(layers.config(mode, device), fmt)
        for label, _, comp in steps if compile_c else ():     # nothing is compiled before here
            torch._dynamo.reset()
            vs = run_case(f"{label}, compiled", comp, "b", cfg)
            again, before = (next(v.median for v in group if v.key == "b") for group in (vs, timed[label]))
            notes.append(f"{label}, (b) timed again beside the compiled variants: {fmt(again)} "
                         f"({ratio(again, before)} of its time before any compile)")
            # compile_step ÷ (a) takes the (a) timed beside it, in this phase
            timed[label] += [v for v in vs if v.compiled or v.key == "a_beside"]
            compiles += [f"{label}, {v.key}: " + (fmt(v.compile_s) if v.compile_s else v.note)
                         for v in vs if v.compiled]
    except GuardError as e:
        print(e, file=sys.stderr)
        return 1
    for label, _, _ in steps:
        for style, key in (("implicit", "ft_impl"), ("explicit", "ft_expl"), ("train_", "ft_train")):
            rows.append(row(f"{label} ({style})", timed[label], key, notes))
        extra_notes(label, timed[label], notes)
    rows += walk_rows
    if compile_c and training.compile_step_hook() is None:
        compiles.append("flux_torch.compile_step: n/a (not in this version of flux_torch)")
    elapsed = time.perf_counter() - start
    report(args, info, rows, layer_rows, notes, compiles, cfg, elapsed)
    return 0


def report(args, info, rows, layer_rows, notes, compiles, cfg, elapsed):
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    text = [table(rows), "", table(layer_rows, layers.COLUMNS), ""]
    if notes:
        text += ["Notes:"] + [f"[{i}] {n}" for i, n in enumerate(notes, 1)] + [""]
    if compiles:
        text += ["Compile time (first call, not in the medians):"] + [f"- {c}" for c in compiles] + [""]
    text += [LEGEND, layers.LEGEND, "",
             f"Mode {mode}: {cfg.rounds} round(s) per case, {layers.config(mode, cfg.device).rounds} "
             f"per layer; took {elapsed:.0f} s."]
    body = "\n".join(text)
    print("\n" + body, flush=True)
    out = args.out or (None if args.smoke else os.path.join(HERE, "RESULTS.md"))
    if out:
        head = ["# flux_torch benchmark results", "",
                f"`python benchmarks/run.py{' --' + mode if mode != 'full' else ''}`", ""]
        head += [f"- {k}: {v}" for k, v in info] + [""]
        if args.note:
            head += [f"Note: {args.note}", ""]
        with open(out, "w", encoding="utf-8") as f:
            f.write("\n".join(head) + "\n" + body + "\n")
        print(f"written to {out}")


if __name__ == "__main__":
    sys.exit(main())
