"""``ticl-fpga bench``: speed and size of every stage -> ``benchmarks/`` (JSON + markdown)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ticl_fpga.bench import STAGES
from ticl_fpga.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="run the benchmarks, write JSON + markdown (and the README table)",
        description="Run the benchmarks and write results.json / results.md.",
    )
    p.add_argument("--out", type=Path, default=Path("benchmarks"), help="output folder")
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run, minutes)")
    p.add_argument(
        "--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}"
    )
    p.add_argument("--work", type=Path, help="scratch folder (default: OUT/.work)")
    p.add_argument("--readme", type=Path, help="README whose benchmark table to update")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace results.json/results.md in OUT even if `bench` did not write them",
    )
    p.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from ticl_fpga.bench.report import summary_table
    from ticl_fpga.bench.run import run_benchmarks

    stages = tuple(s for s in args.stages.split(",") if s)
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise ConfigError(
            f"--stages: unknown stage(s) {', '.join(sorted(unknown))}; known: {', '.join(STAGES)}"
        )
    res = run_benchmarks(
        args.out,
        quick=args.quick,
        work=args.work,
        stages=stages,
        readme=args.readme,
        force=args.force,
    )
    sys.stdout.write(summary_table(res) + "\n")
    return 0
