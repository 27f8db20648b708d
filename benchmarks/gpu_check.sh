#!/usr/bin/env bash
# The GPU check of issue 14, as one call on a machine with a CUDA device, in under 5 minutes:
# the card, every test that needs CUDA (`pytest -m cuda`), and the quick benchmark on the GPU.
# Run from the repository root:  bash benchmarks/gpu_check.sh
# Everything it finds goes to $OUT (the device tool's folder) or else benchmarks/gpu/:
# card.txt, cuda-tests.txt, bench.txt and RESULTS-cuda.md, whose figures then go into
# benchmarks/RESULTS.md and docs/performance.md by hand. Each part has its own time limit,
# so a hang in one still leaves the others' results.
set -u
out="${OUT:-benchmarks/gpu}"
mkdir -p "$out"
python -c "import flux_torch" 2>/dev/null || pip install -q --no-deps -e . >"$out/install.txt" 2>&1

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
  python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda,
             torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'NO CUDA DEVICE')"
} >"$out/card.txt" 2>&1
cat "$out/card.txt"

timeout 120 python -m pytest -q -m cuda tests -p no:cacheprovider >"$out/cuda-tests.txt" 2>&1
echo "cuda tests: exit $? ($(tail -n 1 "$out/cuda-tests.txt"))"

timeout 170 python benchmarks/run.py --quick --device cuda --out "$out/RESULTS-cuda.md" \
    --note "GPU check (benchmarks/gpu_check.sh)" >"$out/bench.txt" 2>&1
echo "benchmark: exit $?"
sed -n '/^| benchmark/,/^$/p' "$out/RESULTS-cuda.md" 2>/dev/null
