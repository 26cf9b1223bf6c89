"""``ticl-fpga export``: the trained float model as TorchScript or ONNX for CMSSW."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from ticl_fpga.cli import add_subgroup
from ticl_fpga.errors import ConfigError
from ticl_fpga.io import atomic_path, check_output


def check_opset(opset: int) -> int:
    """An opset ONNX knows; returns the newest one."""
    import onnx

    newest = onnx.defs.onnx_opset_version()
    if not 1 <= opset <= newest:
        raise ConfigError(f"--opset {opset}: ONNX opsets go from 1 to {newest} (default 20)")
    return newest


def register(sub: argparse._SubParsersAction) -> None:
    ex = add_subgroup(sub, "export", "export a trained float model (TorchScript, ONNX)")
    t = ex.add_parser(
        "torchscript",
        help="torch.jit.script of the scoring model (raw features in, scores out)",
        description="Script RUN_DIR's model: forward(x [N,F] float32, edge_index [2,E] int64, "
        "edge_attr [E,Fe] float32) -> scores [E]; scalers baked in; any N, E (E = 0 included).",
    )
    t.add_argument("run", help="run folder (ticl-fpga train)")
    t.add_argument("-o", "--output", required=True, help="output .pt file")
    t.add_argument(
        "--signature",
        choices=["default", "cmssw"],
        default="default",
        help="cmssw: TracksterLinkingByGNNProducer's forward(X [N,29], edge_features [E,5], "
        "edge_index [E,2]) -> [E,1] (needs a cmssw-feature-set run)",
    )
    t.set_defaults(handler=_torchscript)
    o = ex.add_parser(
        "onnx",
        help="float ONNX with dynamic N and E",
        description="Export RUN_DIR's scoring model to ONNX (inputs x, edge_index, edge_attr; output scores).",
    )
    o.add_argument("run", help="run folder (ticl-fpga train)")
    o.add_argument("-o", "--output", required=True, help="output .onnx file")
    o.add_argument(
        "--opset", type=int, default=20, help="ONNX opset (torch's exporter writes 18 and up)"
    )
    o.set_defaults(handler=_onnx)


def _torchscript(args: argparse.Namespace) -> int:
    from ticl_fpga.export.torchscript import export_run_torchscript

    check_output(args.output, inputs=[args.run], folder=False)
    out = export_run_torchscript(args.run, args.output, signature=args.signature)
    sys.stdout.write(f"{out}\n")
    return 0


def _onnx(args: argparse.Namespace) -> int:
    import onnx

    from ticl_fpga.export.onnx import export_run_onnx

    newest = check_opset(args.opset)
    out = check_output(args.output, inputs=[args.run], folder=False)
    with tempfile.TemporaryDirectory(prefix="ticl_onnx_") as scratch:
        # torch's exporter falls back to opset 18 when it cannot convert: check what it wrote
        path = export_run_onnx(args.run, Path(scratch) / "model.onnx", opset=args.opset)
        wrote = {
            o.version
            for o in onnx.load(str(path), load_external_data=False).opset_import
            if o.domain in ("", "ai.onnx")
        }
        if wrote != {args.opset}:
            raise ConfigError(
                f"--opset {args.opset}: torch's exporter cannot write this opset (it wrote "
                f"{', '.join(map(str, sorted(wrote)))}); use 18 to {newest}"
            )
        with atomic_path(out, suffix=".onnx") as tmp:
            shutil.copyfile(path, tmp)
    sys.stdout.write(f"{out}\n")
    return 0
