"""``ticl-fpga compare``: float (TorchScript, GPU when present) vs FPGA C simulation on the same events."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from ticl_fpga.cli import (
    add_capacity_arguments,
    add_window_overlap_argument,
    positive_int,
    unit_interval,
)
from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.config import read_yaml
from ticl_fpga.errors import InputError
from ticl_fpga.io import check_output

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="FPGA (hls4ml C simulation) vs float model: score and decision differences",
        description="Run the float TorchScript model, the quantized Brevitas model, QONNX and the "
        "hls4ml C simulation on the same events; write JSON + markdown + plots to --out. Fails "
        "(exit 1) if Brevitas, QONNX and the C simulation are not bit-exact.",
    )
    p.add_argument(
        "--float",
        dest="float_model",
        type=Path,
        required=True,
        help="TorchScript file (ticl-fpga export) or a float training run folder",
    )
    p.add_argument(
        "--quant", type=Path, required=True, help="quantized run folder (ticl-fpga quantize)"
    )
    p.add_argument("--dataset", type=Path, required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--out", type=Path, required=True, help="output folder (replaced atomically)")
    p.add_argument(
        "--qonnx", type=Path, help="QONNX model (default: export --quant at --n-max/--e-max)"
    )
    p.add_argument("--hls-project", type=Path, help="project written by 'ticl-fpga hls build'")
    add_capacity_arguments(p, "when exporting QONNX")
    p.add_argument("--max-events", type=positive_int, help="compare at most this many events")
    add_window_overlap_argument(p)
    p.add_argument(
        "--cut", type=unit_interval, default=0.5, help="fixed score cut besides the working point"
    )
    p.add_argument(
        "--interval",
        choices=("clopper-pearson", "wilson"),
        default="clopper-pearson",
        help="binomial interval on the decision agreement and the binned flip fractions",
    )
    p.add_argument(
        "--confidence", type=unit_interval, default=0.95, help="confidence level of the intervals"
    )
    p.add_argument(
        "--bit-check",
        type=positive_int,
        help="check Brevitas == QONNX == C simulation on the first N windows only (default: all; "
        "the C simulation scores every window either way)",
    )
    p.set_defaults(handler=_compare)


def _float_model(path: Path):
    if path.is_file():
        return path  # TorchScript archive
    if path.is_dir():
        from ticl_fpga.train.fit import load_trained_model

        return load_trained_model(path)
    raise InputError(path, "no such TorchScript file or run folder")


def _compare(args: argparse.Namespace) -> int:
    from ticl_fpga.cli.hls import load_qonnx_file
    from ticl_fpga.compare.compare import BitMismatchError, compare_models
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls
    from ticl_fpga.compile.to_qonnx import export_qonnx, model_metadata
    from ticl_fpga.quantize.qat import load_quant_model

    check_output(
        args.out,
        kind="compare",
        inputs=[args.float_model, args.quant, args.dataset, args.qonnx, args.hls_project],
        folder=True,
    )
    float_model = _float_model(args.float_model)
    quant = load_quant_model(args.quant)
    with tempfile.TemporaryDirectory(prefix="ticl_compare_") as tmp:
        tmp = Path(tmp)
        if args.qonnx is not None:
            qonnx_path = args.qonnx
        else:
            qonnx_path = tmp / "gnn.qonnx.onnx"
            export_qonnx(quant, Capacity(n_max=args.n_max, e_max=args.e_max), qonnx_path)
        qonnx_model = load_qonnx_file(qonnx_path)
        capacity, _ = model_metadata(qonnx_model)
        if args.hls_project is not None:
            cfg_path = args.hls_project / "hls_build.yaml"
            if not cfg_path.is_file():
                raise InputError(args.hls_project, "not a project written by 'ticl-fpga hls build'")
            doc = read_yaml(cfg_path, "hls build record")
            if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
                raise InputError(cfg_path, "truncated or corrupt (no 'config' mapping)")
            cfg = HlsBuildConfig.from_dict(doc["config"], source=str(cfg_path))
        else:
            cfg = HlsBuildConfig(capacity=capacity, synth=False)
        prj = tmp / "prj"  # rebuilt here: the --hls-project folder is an input, never written
        hls_model = build_hls(qonnx_model, cfg, prj)
        try:
            s = compare_models(
                float_model,
                quant,
                qonnx_path,
                hls_model,
                args.dataset,
                args.split,
                args.out,
                max_events=args.max_events,
                cut=args.cut,
                window_overlap=args.window_overlap,
                progress=True,
                confidence=args.confidence,
                interval=args.interval,
                bit_check=args.bit_check,
            )
        except BitMismatchError as exc:
            sys.stderr.write(f"ticl-fpga: error: {exc}\n")
            return 1
    d = s["score_difference_fpga_vs_float"]
    wp = s["decisions"]["working_point"]
    sys.stdout.write(
        f"{s['n_events']} events, {s['n_edges']} edges: bit exact; max |FPGA - float| "
        f"{d['max_abs']:.4g}, RMS {d['rms']:.4g}; working-point agreement "
        f"{100 * wp['agreement']:.2f}% [{100 * wp['agreement_interval'][0]:.2f}, "
        f"{100 * wp['agreement_interval'][1]:.2f}] ({100 * args.confidence:g}% CL {args.interval}); "
        f"report in {args.out}\n"
    )
    return 0
