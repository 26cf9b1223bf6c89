"""``ticl-fpga evaluate``: edge- and event-level metrics of a run versus the geometric baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ticl_fpga.cli import torch_device, unit_interval
from ticl_fpga.errors import OutputError
from ticl_fpga.io import atomic_path, check_output


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="physics evaluation of a trained run (JSON, markdown, PNG plots)",
        description="Score a dataset split with RUN_DIR's model and the geometric baseline; write "
        "summary.json, report.md and plots to RUN_DIR/eval-SPLIT (or --output).",
    )
    p.add_argument("run", help="run folder (ticl-fpga train)")
    p.add_argument("--dataset", required=True, help="dataset folder")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("-o", "--output", help="output folder (default RUN_DIR/eval-SPLIT)")
    p.add_argument(
        "--cut", type=unit_interval, help="fixed score cut (default: the run config's cut)"
    )
    p.add_argument(
        "--device", type=torch_device, default="cpu", help="torch device for inference (cpu, cuda)"
    )
    p.add_argument("--no-plots", action="store_true")
    p.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="RUN",
        help="another run on the same features (e.g. train --model seed): side-by-side table",
    )
    p.set_defaults(handler=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    from ticl_fpga.evaluate.report import evaluate_run, format_report

    out = Path(args.output) if args.output else Path(args.run) / f"eval-{args.split}"
    check_output(out, kind="evaluation", inputs=[args.dataset, *args.compare], folder=True)
    run, o = Path(args.run).resolve(), out.resolve()
    inside_ok = o.parent == run and o.name.startswith("eval-")  # the run's own report folders
    if o == run or o in run.parents or (run in o.parents and not inside_ok):
        raise OutputError(out, f"overlaps the run folder {args.run}; choose another output")
    # written beside OUT and renamed onto it when complete: never a half report
    with atomic_path(out, suffix="", kind="evaluation") as tmp:
        summary = evaluate_run(
            args.run,
            args.dataset,
            args.split,
            tmp,
            cut=args.cut,
            device=args.device,
            plots=not args.no_plots,
            compare=args.compare,
        )
    sys.stdout.write(format_report(summary))
    return 0
