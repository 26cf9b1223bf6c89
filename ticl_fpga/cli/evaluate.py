"""``ticl-fpga evaluate``: edge- and event-level metrics of a run versus the geometric baseline."""

from __future__ import annotations

import argparse
import sys


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
    p.add_argument("--cut", type=float, help="fixed score cut (default: the run config's cut)")
    p.add_argument("--device", default="cpu", help="torch device for inference (cpu, cuda)")
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

    summary = evaluate_run(
        args.run,
        args.dataset,
        args.split,
        args.output,
        cut=args.cut,
        device=args.device,
        plots=not args.no_plots,
        compare=args.compare,
    )
    sys.stdout.write(format_report(summary))
    return 0
