"""``ticl-fpga demo``: the main job on built-in synthetic data (resumable, with an index page)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ticl_fpga.cli import config_from_args, flags_given, int_at_least, nonneg_int, positive_int


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole flow on synthetic data: data -> train -> export -> QAT/prune -> hls4ml -> compare",
        description="Run the main job; re-running the same command resumes from finished stages.",
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="run folder")
    p.add_argument("--quick", action="store_true", help="smoke-test sizes (a few minutes)")
    p.add_argument("--config", type=Path, help="DemoConfig YAML (flags below override it)")
    p.add_argument("--events", type=int_at_least(20))
    p.add_argument("--pileup", type=nonneg_int)
    p.add_argument(
        "--recipe",
        help="quantization recipe in quant/ (default w6a8; w8a8, w6a6, w4a4, mixed) or a path",
    )
    p.add_argument(
        "--target", dest="prune_target", help="pruning target, e.g. edge_efficiency_at_purity-1%%"
    )
    p.add_argument(
        "--n-max", type=int_at_least(2), help="FPGA node capacity (larger events are windowed)"
    )
    p.add_argument("--e-max", type=positive_int, help="FPGA edge capacity")
    p.add_argument("--restart", action="store_true", help="redo every stage")
    p.add_argument(
        "--force", action="store_true", help="use --out even if it holds files of other programs"
    )
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from ticl_fpga.demo import DemoConfig, run_demo

    flags = ("events", "pileup", "recipe", "prune_target", "n_max", "e_max")
    overrides = flags_given(args, flags)
    if args.config:
        cfg = config_from_args(DemoConfig, args, flags, path=args.config)
    elif args.quick:
        cfg = DemoConfig.quick(**overrides)
    else:
        cfg = DemoConfig(**overrides)
    run_demo(cfg, args.out, restart=args.restart, force=args.force)
    sys.stdout.write(f"demo finished: {args.out / 'index.md'}\n")
    return 0
