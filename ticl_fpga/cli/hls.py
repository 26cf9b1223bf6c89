"""``ticl-fpga hls build|predict``: QONNX model -> hls4ml project + C simulation."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ticl_fpga.cli import add_subgroup

log = logging.getLogger(__name__)


def register(sub) -> None:
    verbs = add_subgroup(
        sub, "hls", "build the hls4ml project of a quantized GNN and run its C simulation"
    )

    b = verbs.add_parser(
        "build", help="write + compile the hls4ml project (synthesis if the tool is on PATH)"
    )
    b.add_argument(
        "qonnx",
        type=Path,
        help="QONNX model (export_qonnx), or a quantized run folder (ticl-fpga qat/prune), "
        "which is exported at --n-max/--e-max first",
    )
    b.add_argument("--n-max", type=int, default=64, help="node capacity (run folder input)")
    b.add_argument("--e-max", type=int, default=256, help="edge capacity (run folder input)")
    b.add_argument("--out", type=Path, required=True, help="project directory")
    b.add_argument("--config", type=Path, help="HlsBuildConfig YAML (fields below override it)")
    b.add_argument("--backend", choices=["Vitis", "Vivado"])
    b.add_argument("--part")
    b.add_argument("--clock-period", type=float)
    b.add_argument("--reuse-factor", type=int)
    b.add_argument("--dataset", type=Path, help="dataset folder for golden testbench vectors")
    b.add_argument("--split", default="test")
    b.add_argument("--n-golden", type=int, default=8, help="graphs written to tb_data")
    b.add_argument("--no-synth", action="store_true", help="never run synthesis")
    b.set_defaults(handler=_build)

    p = verbs.add_parser(
        "predict", help="run the C simulation of a built project on a dataset split"
    )
    p.add_argument("project", type=Path, help="project directory written by 'hls build'")
    p.add_argument("--dataset", type=Path, required=True)
    p.add_argument("--split", default="test")
    p.add_argument(
        "--out", type=Path, required=True, help="output .npz (logits per graph, concatenated)"
    )
    p.add_argument(
        "--window-overlap", type=int, default=0, help="nodes shared by neighbouring eta windows"
    )
    p.add_argument(
        "--refuse-oversize",
        action="store_true",
        help="error on graphs above capacity instead of windowing",
    )
    p.set_defaults(handler=_predict)


def _load_cfg(args: argparse.Namespace, capacity):
    from ticl_fpga.compile.build import HlsBuildConfig

    cfg = (
        HlsBuildConfig.from_yaml(args.config) if args.config else HlsBuildConfig(capacity=capacity)
    )
    cfg.capacity = capacity
    for field, value in (
        ("backend", args.backend),
        ("part", args.part),
        ("clock_period", args.clock_period),
        ("reuse_factor", args.reuse_factor),
    ):
        if value is not None:
            setattr(cfg, field, value)
    if args.no_synth:
        cfg.synth = False
    return cfg


def _build(args: argparse.Namespace) -> int:
    from ticl_fpga.compile.build import (
        build_hls,
        check_csim,
        golden_from_graphs,
        hls_tool,
        synthesize,
    )
    from ticl_fpga.compile.to_qonnx import load_qonnx, model_metadata
    from ticl_fpga.errors import InputError

    if args.qonnx.is_dir():
        from ticl_fpga.compile.capacity import Capacity
        from ticl_fpga.compile.to_qonnx import export_qonnx
        from ticl_fpga.quantize.qat import load_quant_model

        qonnx_path = args.out.with_name(args.out.name + ".qonnx.onnx")
        export_qonnx(
            load_quant_model(args.qonnx), Capacity(n_max=args.n_max, e_max=args.e_max), qonnx_path
        )
        args.qonnx = qonnx_path
    if not args.qonnx.is_file():
        raise InputError(args.qonnx, "no such QONNX model")
    model = load_qonnx(args.qonnx)
    capacity, _ = model_metadata(model)
    cfg = _load_cfg(args, capacity)
    golden = None
    if args.dataset is not None:
        from ticl_fpga.data.dataset import load_dataset

        graphs = load_dataset(args.dataset).split(args.split)
        golden = golden_from_graphs(model, graphs[: max(args.n_golden * 4, args.n_golden)])
        golden = {k: v[: args.n_golden] for k, v in golden.items()}
    hls_model = build_hls(model, cfg, args.out, golden=golden)
    if golden:
        bad = check_csim(hls_model, golden)
        if bad:
            log.error(
                "C simulation differs from QONNX on %d of %d golden graphs",
                bad,
                len(golden["inputs"]),
            )
            return 1
        log.info(
            "C simulation matches QONNX bit for bit on %d golden graphs", len(golden["inputs"])
        )
    report = synthesize(hls_model, cfg)
    tool = hls_tool()
    synth = (
        "synthesis done"
        if report is not None
        else "synthesis disabled (--no-synth)"
        if not cfg.synth
        else "synthesis skipped: neither vitis_hls nor vivado_hls is on PATH"
    )
    checked = f"{len(golden['inputs'])} golden graphs bit-exact" if golden else "no golden vectors"
    sys.stdout.write(
        f"{args.out}: hls4ml {cfg.backend} project written, C simulation compiled, {checked}; {synth}"
        + (f" ({tool})" if report is not None else "")
        + "\n"
    )
    return 0


def _predict(args: argparse.Namespace) -> int:
    import numpy as np

    from ticl_fpga.compile.predict import hls_predict, load_hls_project
    from ticl_fpga.compile.to_qonnx import load_qonnx, model_metadata
    from ticl_fpga.data.dataset import load_dataset
    from ticl_fpga.io import atomic_path

    hls_model = load_hls_project(args.project)
    capacity, scalers = model_metadata(load_qonnx(args.project / "gnn.qonnx.onnx"))
    graphs = load_dataset(args.dataset).split(args.split)
    res = hls_predict(
        hls_model,
        graphs,
        capacity,
        on_grid=False,
        scalers=scalers,
        on_overflow="refuse" if args.refuse_oversize else "window",
        window_overlap=args.window_overlap,
        progress=True,
    )
    counts = np.array([len(v) for v in res.logits])
    with atomic_path(args.out, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                logits=np.concatenate(res.logits) if res.logits else np.zeros(0),
                edges_per_graph=counts,
            )
    log.info(
        "wrote %s: %d graphs, %d edges; %.2f%% of candidate edges lost to windowing",
        args.out,
        len(res.logits),
        res.n_edges,
        100 * res.lost_fraction,
    )
    return 0
