"""``python -m flux_torch.port SCRIPT.jl [-o OUT.py] [--flux 0.14|0.16]``."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
