"""``ticl-fpga export``: the trained float model as TorchScript or ONNX for CMSSW."""

from __future__ import annotations

import argparse
import sys

from ticl_fpga.cli import add_subgroup


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
    o.add_argument("--opset", type=int, default=20)
    o.set_defaults(handler=_onnx)


def _torchscript(args: argparse.Namespace) -> int:
    from ticl_fpga.export.torchscript import export_run_torchscript

    out = export_run_torchscript(args.run, args.output, signature=args.signature)
    sys.stdout.write(f"{out}\n")
    return 0


def _onnx(args: argparse.Namespace) -> int:
    from ticl_fpga.export.onnx import export_run_onnx

    sys.stdout.write(f"{export_run_onnx(args.run, args.output, opset=args.opset)}\n")
    return 0
