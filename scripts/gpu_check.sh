#!/usr/bin/env bash
# The checks that need a CUDA GPU; run them on a machine with one, in a checkout installed with the
# CUDA build of torch (README "Install").  CI has no GPU: there these tests skip visibly.
#   1. GPU latency of the float model (eager and TorchScript, one event per call as in CMSSW)
#      -> OUT/inference_gpu.json and the table on stdout;
#   2. training on the GPU through the CLI, TorchScript export, CUDA vs CPU scores of the export;
#   3. the tests with CUDA paths: TorchScript on CUDA vs CPU (E = 0 first: it once broke the CUDA
#      fuser), g++/libtorch on CUDA, compare's float model on CUDA.
# Usage: scripts/gpu_check.sh [OUT]   (default gpu-check/)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-gpu-check}
PY=${PY:-python3}
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -c "import torch, sys; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.__version__, torch.cuda.get_device_name(0))"

OUT="$OUT" "$PY" - <<'PY'
import json, os
from ticl_fpga.bench.inference import format_table, run_inference_benchmark
r = run_inference_benchmark(seconds=2.0)
with open(os.path.join(os.environ["OUT"], "inference_gpu.json"), "w") as f:
    json.dump(r, f, indent=1)
with open(os.path.join(os.environ["OUT"], "inference_gpu.md"), "w") as f:
    f.write(format_table(r) + "\n")
print(format_table(r))
PY

ds=$("$PY" -c "from ticl_fpga.data.synthetic import tiny_dataset; print(tiny_dataset('$work/ds', n_events=60, seed=2))" | tail -1)
"$PY" -m ticl_fpga train "$ds" -o "$work/run" --config quick --accelerator gpu --epochs 2 --no-progress
"$PY" -m ticl_fpga export torchscript "$work/run" -o "$work/m.pt"
"$PY" - "$work/m.pt" <<'PY'
import sys, torch
from ticl_fpga.export.torchscript import load_torchscript
gpu, cpu = load_torchscript(sys.argv[1], device="cuda"), load_torchscript(sys.argv[1])
for n, e in [(3, 0), (5, 0), (815, 3300), (2, 0), (13, 36)]:
    x, ei, ea = torch.randn(n, 19) * 3, torch.randint(0, n, (2, e)), torch.randn(e, 10) * 3
    d = (gpu(x.cuda(), ei.cuda(), ea.cuda()).cpu() - cpu(x, ei, ea)).abs().max() if e else 0.0
    assert float(d) < 1e-5, (n, e, float(d))
print("GPU-trained export: CUDA and CPU scores agree")
PY

"$PY" -m pytest -p no:cacheprovider -q -rs tests/export tests/compare/test_compare.py \
    tests/bad_input/test_bad_values.py
