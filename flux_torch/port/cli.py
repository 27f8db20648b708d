"""The command line: ``python -m flux_torch.port SCRIPT.jl [-o OUT.py] [--flux 0.14|0.16]``.

Writes the translation (to ``OUT.py``, or to standard output), prints the counts to
standard error, and exits with 1 when the output would not compile, 2 when the
input cannot be translated at all (a one-line error, never a traceback).

>>> main(["missing.jl"])                  # the one-line error goes to standard error
2
"""
from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main"]

MAX_BYTES = 8 * 1024 * 1024          # a Julia script larger than this is refused


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m flux_torch.port",
        description="Translate a Julia Flux script into a flux_torch Python script.")
    p.add_argument("script", help="the Julia file (.jl)")
    p.add_argument("-o", "--output", help="where to write the Python script (default: stdout)")
    p.add_argument("--flux", choices=("0.14", "0.16"),
                   help="the Flux version whose semantics to follow (default: from the script's idioms)")
    p.add_argument("--epochs", type=int, default=None,
                   help="cap every epoch loop at this many epochs (for a quick trial run)")
    return p


def _read(path):
    from .parse import PortError
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as err:
        raise PortError(f"{path}: cannot read it ({err.strerror or err})") from None
    if len(raw) > MAX_BYTES:
        raise PortError(f"{path}: larger than {MAX_BYTES // 2**20} MiB; is this a Julia script?")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise PortError(f"{path}:{line}: not UTF-8 text, so not a Julia script") from None


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from .parse import PortError
    try:
        if not args.script.endswith(".jl"):
            raise PortError(f"{args.script}: expected a Julia file ending in .jl")
        source = _read(args.script)
        from .translation import translate
        result = translate(source, filename=os.path.basename(args.script), flux=args.flux,
                           epochs=args.epochs, path=args.script)
    except PortError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RecursionError:
        print(f"error: {args.script}: nested too deeply to translate", file=sys.stderr)
        return 2
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(result.python)
    else:
        sys.stdout.write(result.python)
    pct = 100.0 * result.translated / result.lines if result.lines else 100.0
    print(f"{args.script}: {result.lines} code lines, {result.translated} translated ({pct:.1f} %), "
          f"{result.todo_lines} in {result.todos} TODO(port) blocks, "
          f"{len(result.unknown)} unknown names{': ' + ', '.join(result.unknown) if result.unknown else ''}"
          f"; Flux v{result.flux} semantics", file=sys.stderr)
    if not result.compiles:
        print(f"error: the translation does not compile ({result.compile_error})", file=sys.stderr)
        return 1
    return 0
