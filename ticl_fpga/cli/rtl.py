"""``ticl-fpga rtl build``: the QONNX graph as streaming Verilog, co-simulated with Verilator."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ticl_fpga.cli import add_capacity_arguments, add_subgroup

log = logging.getLogger(__name__)


def register(sub) -> None:
    verbs = add_subgroup(
        sub,
        "rtl",
        "open RTL backend: streaming Verilog of the QONNX graph, Verilator co-simulation",
    )
    b = verbs.add_parser(
        "build",
        help="write the Verilog (da4ml dense layers + graph-layer modules), simulate it bit for bit",
        description="Write streaming Verilog of the QONNX graph and check it in Verilator against "
        "the exact QONNX reference, QONNX (float32) and the hls4ml C simulation.",
    )
    b.add_argument(
        "qonnx",
        type=Path,
        help="QONNX model (export_qonnx), or a quantized run folder (exported at --n-max/--e-max)",
    )
    b.add_argument("--out", type=Path, required=True, help="output folder")
    b.add_argument(
        "--edge-parallelism", type=int, default=1, help="edges per clock (divides e_max)"
    )
    add_capacity_arguments(b, "run folder input")
    b.add_argument("--dataset", type=Path, help="check on dataset graphs (else generated ones)")
    b.add_argument("--split", default="test")
    b.add_argument("--n-graphs", type=int, default=8, help="check graphs (that fit the capacity)")
    b.add_argument("--no-csim", action="store_true", help="skip the C simulation comparison")
    b.add_argument(
        "--synth", action="store_true", help="then run Yosys synth_xilinx (as `rtl synth`)"
    )
    b.set_defaults(handler=_build)
    s = verbs.add_parser(
        "synth",
        help="Yosys synth_xilinx of an rtl build folder: LUT/FF/CARRY/DSP/BRAM, logic depth",
        description="Synthesise every distinct module of an `rtl build` folder with Yosys "
        "(synth_xilinx, parallel processes, cached), write synth/synth.json and synth/synth.md. "
        "Yosys results before place and route, not Vivado; logic depth is a timing proxy.",
    )
    s.add_argument("folder", type=Path, help="an `rtl build` output folder (holds rtl/gnn_top.v)")
    s.add_argument("--jobs", type=int, default=2, help="parallel Yosys processes")
    s.add_argument("--cache", type=Path, help="unit cache (default: ~/.cache/ticl-fpga/synth)")
    s.add_argument("--timeout", type=float, help="seconds per Yosys process")
    s.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace) -> int:
    from ticl_fpga.errors import InputError
    from ticl_fpga.rtl.synth import default_cache_dir, synthesize_rtl

    if args.jobs < 1:
        raise InputError(args.folder, "--jobs must be >= 1")
    rtl_dir = args.folder / "rtl"
    if not (rtl_dir / "gnn_top.v").is_file():
        raise InputError(args.folder, "not an `rtl build` folder (no rtl/gnn_top.v)")
    doc = synthesize_rtl(
        rtl_dir,
        args.folder / "synth",
        jobs=args.jobs,
        cache_dir=args.cache or default_cache_dir(),
        timeout=args.timeout,
        title=f"Synthesis of {args.folder}",
    )
    t = doc["total"]
    sys.stdout.write(
        f"{args.folder / 'synth'}: Yosys synth_xilinx ({doc['yosys'].split(' (')[0]}): "
        f"{t['lut']} LUT, {t['ff']} FF, {t['carry']} CARRY, {t['dsp']} DSP, {t['bram']} BRAM "
        f"({len(doc['units'])} units, {doc['seconds']:.0f} s)\n"
    )
    return 0


def _build(args: argparse.Namespace) -> int:
    import tempfile

    from ticl_fpga.compile.to_qonnx import load_qonnx
    from ticl_fpga.errors import InputError
    from ticl_fpga.io import check_output
    from ticl_fpga.rtl.build import KIND, check_graphs_from, rtl_build

    check_output(args.out, kind=KIND, inputs=[args.qonnx, args.dataset], folder=True)
    if args.edge_parallelism < 1:
        raise InputError("--edge-parallelism", f"{args.edge_parallelism} must be >= 1")
    source = str(args.qonnx)
    if args.qonnx.is_dir():
        from ticl_fpga.compile.capacity import Capacity
        from ticl_fpga.compile.to_qonnx import export_qonnx
        from ticl_fpga.quantize.qat import load_quant_model

        with tempfile.TemporaryDirectory() as tmp:
            model = export_qonnx(
                load_quant_model(args.qonnx),
                Capacity(n_max=args.n_max, e_max=args.e_max),
                Path(tmp) / "gnn.qonnx.onnx",
            )
    elif not args.qonnx.is_file():
        raise InputError(args.qonnx, "no such QONNX model")
    else:
        try:
            model = load_qonnx(args.qonnx)
        except Exception as exc:  # noqa: BLE001 - protobuf/onnx errors: not a model file
            raise InputError(args.qonnx, f"not a QONNX model ({type(exc).__name__})") from None
    graphs = None
    if args.dataset is not None:
        from ticl_fpga.data.dataset import load_dataset

        graphs = load_dataset(args.dataset).split(args.split)
    checks = check_graphs_from(model, graphs, n=args.n_graphs)
    report = rtl_build(
        model,
        args.out,
        edge_parallelism=args.edge_parallelism,
        checks=checks,
        csim=not args.no_csim,
        source=source,
    )
    c = report["cycles"]
    paths = " == ".join(["RTL", *report["comparisons"]])
    verdict = "bit-exact" if report["ok"] else f"MISMATCH ({len(report['mismatches'])} graph/paths)"
    sys.stdout.write(
        f"{args.out}: Verilog written ({report['edge_parallelism']} edge/clock); {paths} on "
        f"{report['graphs']} graphs: {verdict}; latency {c['latency']} cycles, "
        f"II {c['interval']} cycles\n"
    )
    if args.synth:
        args.folder, args.jobs, args.cache, args.timeout = args.out, 2, None, None
        _synth(args)
    return 0 if report["ok"] else 1
