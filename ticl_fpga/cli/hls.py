"""``ticl-fpga hls build|predict``: QONNX model -> hls4ml project + C simulation."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from pathlib import Path

from ticl_fpga.cli import (
    add_capacity_arguments,
    add_subgroup,
    add_window_overlap_argument,
    config_from_args,
    positive_float,
    positive_int,
)
from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.config import read_yaml
from ticl_fpga.errors import InputError
from ticl_fpga.io import atomic_path, check_output

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
    add_capacity_arguments(b, "run folder input")
    b.add_argument("--out", type=Path, required=True, help="project directory")
    b.add_argument("--config", type=Path, help="HlsBuildConfig YAML (fields below override it)")
    b.add_argument("--backend", choices=["Vitis", "Vivado"])
    b.add_argument("--part")
    b.add_argument("--clock-period", type=positive_float, help="ns")
    b.add_argument("--reuse-factor", type=positive_int)
    b.add_argument(
        "--edge-parallelism",
        type=positive_int,
        help="edges/rows per clock in the streaming graph layers (power of two; default 1)",
    )
    b.add_argument("--dataset", type=Path, help="dataset folder for golden testbench vectors")
    b.add_argument("--split", default="test")
    b.add_argument("--n-golden", type=positive_int, default=8, help="graphs written to tb_data")
    b.add_argument("--no-synth", action="store_true", help="never run synthesis")
    b.add_argument(
        "--force",
        action="store_true",
        help="replace --out even if it is not an earlier hls project",
    )
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
    add_window_overlap_argument(p)
    p.add_argument(
        "--refuse-oversize",
        action="store_true",
        help="error on graphs above capacity instead of windowing",
    )
    p.set_defaults(handler=_predict)


def _load_cfg(args: argparse.Namespace, capacity):
    from ticl_fpga.compile.build import HlsBuildConfig

    return config_from_args(
        HlsBuildConfig,
        args,
        ("backend", "part", "clock_period", "reuse_factor", "edge_parallelism"),
        path=args.config,
        capacity=capacity.model_dump(),
        **({"synth": False} if args.no_synth else {}),
    )


def load_qonnx_file(path: Path):
    """A QONNX model written by ticl-fpga, or one line naming the file."""
    from ticl_fpga.compile.to_qonnx import load_qonnx, model_metadata

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such QONNX model" + (" (a folder)" if path.is_dir() else ""))
    try:
        model = load_qonnx(path)
    except Exception as exc:  # noqa: BLE001 - protobuf/onnx raise many types on bad files
        raise InputError(path, f"not an ONNX model, or truncated ({_one_line(exc)})") from None
    try:
        model_metadata(model)
    except InputError as exc:
        raise InputError(path, exc.message) from None
    except Exception as exc:  # noqa: BLE001 - corrupt metadata JSON
        raise InputError(path, f"corrupt ticl-fpga metadata ({_one_line(exc)})") from None
    return model


def load_project(project: Path, scratch: Path | None = None):
    """Re-open a project written by ``hls build``, or one line naming what is wrong with it.

    Re-opening recompiles the project; with ``scratch`` that happens in a copy there, so the
    project itself (an input) is never written."""
    from ticl_fpga.compile.build import HlsBuildConfig
    from ticl_fpga.compile.predict import load_hls_project

    project = Path(project)
    if not project.is_dir():
        raise InputError(project, "no such hls project folder (ticl-fpga hls build writes one)")
    cfg_path = project / "hls_build.yaml"
    if not cfg_path.is_file():
        raise InputError(
            project, "not a project written by 'ticl-fpga hls build' (no hls_build.yaml)"
        )
    doc = read_yaml(cfg_path, "hls build record")
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise InputError(cfg_path, "truncated or corrupt (no 'config' mapping)")
    HlsBuildConfig.from_dict(doc["config"], source=str(cfg_path))
    model = load_qonnx_file(project / "gnn.qonnx.onnx")
    try:
        if scratch is not None:
            project = Path(shutil.copytree(project, Path(scratch) / project.name, symlinks=True))
        return load_hls_project(project), model
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken project fails inside hls4ml or g++
        raise InputError(project, f"cannot rebuild the project ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:200]


class _CsimMismatch(Exception):
    pass


def _build(args: argparse.Namespace) -> int:
    from ticl_fpga.compile.build import (
        build_hls,
        check_csim,
        hls_tool,
        synthesize,
    )
    from ticl_fpga.compile.to_qonnx import model_metadata

    check_output(
        args.out,
        kind="hls-project",
        inputs=[args.qonnx, args.dataset, args.config],
        force=args.force,
        folder=True,
    )
    if args.config is not None:
        _load_cfg(args, _default_capacity())  # a bad config fails before the export
    with tempfile.TemporaryDirectory(prefix="ticl_hls_") as scratch:
        if args.qonnx.is_dir():
            from ticl_fpga.compile.to_qonnx import export_qonnx
            from ticl_fpga.quantize.qat import load_quant_model

            qonnx_path = Path(scratch) / "gnn.qonnx.onnx"
            export_qonnx(
                load_quant_model(args.qonnx),
                Capacity(n_max=args.n_max, e_max=args.e_max),
                qonnx_path,
            )
        else:
            qonnx_path = args.qonnx
        model = load_qonnx_file(qonnx_path)
    capacity, _ = model_metadata(model)
    cfg = _load_cfg(args, capacity)
    # Always checked (issue 10): dataset graphs with --dataset, else generated graphs at the
    # capacity; zero graphs is an error. Refuses inexact models before anything is written.
    from ticl_fpga.compile.bitwidth import analyse_and_check
    from ticl_fpga.compile.build import golden_for_build

    analyse_and_check(model, source=str(args.qonnx))
    graphs = None
    if args.dataset is not None:
        from ticl_fpga.data.dataset import load_dataset

        graphs = load_dataset(args.dataset).split(args.split)
    golden = golden_for_build(
        model, graphs, n_golden=args.n_golden, source=str(args.dataset or args.qonnx)
    )
    # built beside --out and renamed onto it when complete: an interrupted compile leaves no half
    # project, and two builds into one folder leave one whole project, never a mix
    try:
        with atomic_path(args.out, suffix="", kind="hls-project", force=args.force) as tmp:
            hls_model = build_hls(model, cfg, tmp, golden=golden)
            bad = check_csim(hls_model, golden, qonnx_model=model)
            if bad:
                raise _CsimMismatch(bad)
            log.info(
                "C simulation and QONNX match the exact reference on %d graphs",
                len(golden["inputs"]),
            )
            report = synthesize(hls_model, cfg)
    except _CsimMismatch as exc:
        log.error(
            "C simulation/QONNX differ from the exact reference on %d of %d graphs; %s not written",
            exc.args[0],
            len(golden["inputs"]),
            args.out,
        )
        return 1
    tool = hls_tool()
    synth = (
        "synthesis done"
        if report is not None
        else "synthesis disabled (--no-synth)"
        if not cfg.synth
        else "synthesis skipped: neither vitis_hls nor vivado_hls is on PATH"
    )
    kind = "dataset" if args.dataset is not None else "generated"
    checked = f"{len(golden['inputs'])} {kind} graphs bit-exact (exact reference)"
    from ticl_fpga.compile.latency import summary_line

    expected = summary_line(args.out)
    if expected:
        checked += f"; {expected}"
    sys.stdout.write(
        f"{args.out}: hls4ml {cfg.backend} project written, C simulation compiled, {checked}; {synth}"
        + (f" ({tool})" if report is not None else "")
        + "\n"
    )
    return 0


def _default_capacity():
    return Capacity()


def _predict(args: argparse.Namespace) -> int:
    import numpy as np

    from ticl_fpga.compile.predict import hls_predict
    from ticl_fpga.compile.to_qonnx import model_metadata
    from ticl_fpga.data.dataset import load_dataset

    check_output(args.out, inputs=[args.project, args.dataset], folder=False)
    dataset = load_dataset(args.dataset)
    with tempfile.TemporaryDirectory(prefix="ticl_hls_predict_") as scratch:
        hls_model, qonnx_model = load_project(args.project, Path(scratch))
        capacity, scalers = model_metadata(qonnx_model)
        graphs = dataset.split(args.split)
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
