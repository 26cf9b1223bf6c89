#!/usr/bin/env bash
# Regenerate the committed golden bit-accuracy vectors (golden/) deterministically, then check
# every path (Brevitas, QONNX, hls4ml C simulation) against them.  Review the printed diff and
# commit golden/ together with the change that made it necessary.
set -euo pipefail
cd "$(dirname "$0")/.."
ticl-fpga golden regenerate "$@"
ticl-fpga golden check
