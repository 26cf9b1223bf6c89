"""``ticl-fpga golden regenerate|check``: rewrite the committed golden cases, or check every path."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ticl_fpga.cli import add_subgroup

log = logging.getLogger(__name__)


def register(sub) -> None:
    verbs = add_subgroup(
        sub, "golden", "golden bit-accuracy vectors: Brevitas == QONNX == C simulation"
    )
    r = verbs.add_parser(
        "regenerate",
        help="rewrite golden/ on purpose and print what changed",
        description="Regenerate the golden cases (models, graphs, integer outputs, manifest) "
        "deterministically and print a hash/code diff against the committed ones.",
    )
    r.add_argument("--case", action="append", dest="cases", help="only this case (repeatable)")
    r.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary folder and only compare (exit 1 if anything changed)",
    )
    r.add_argument("--golden-dir", type=Path, help="default: golden/ at the repository root")
    r.set_defaults(handler=_regenerate)

    c = verbs.add_parser(
        "check",
        help="Brevitas, QONNX and the C simulation against the committed golden codes",
        description="Check every committed case at zero tolerance; a failure names the first "
        "diverging layer.",
    )
    c.add_argument("--case", action="append", dest="cases", help="only this case (repeatable)")
    c.add_argument("--golden-dir", type=Path, help="default: golden/ at the repository root")
    c.add_argument("--no-csim", action="store_true", help="skip the hls4ml C simulation (no g++)")
    c.add_argument("--work-dir", type=Path, help="keep the C-simulation projects here")
    c.set_defaults(handler=_check)


def _golden_dir(args: argparse.Namespace) -> Path:
    from ticl_fpga.golden.cases import GOLDEN_DIR

    return args.golden_dir if args.golden_dir is not None else GOLDEN_DIR


def _regenerate(args: argparse.Namespace) -> int:
    from ticl_fpga.golden.regenerate import regenerate

    changes = regenerate(args.cases, _golden_dir(args), check=args.check)
    for change in changes:
        sys.stdout.write(change.describe() + "\n")
    changed = [c for c in changes if c.status != "unchanged"]
    if args.check:
        if changed:
            sys.stdout.write(
                f"{len(changed)} case(s) differ from the committed golden files; run "
                "`ticl-fpga golden regenerate` if the change is intended\n"
            )
            return 1
        sys.stdout.write("golden files are up to date\n")
        return 0
    sys.stdout.write(f"wrote {len(changes)} case(s) to {_golden_dir(args)}\n")
    return 0


def _check(args: argparse.Namespace) -> int:
    from ticl_fpga.golden.check import check_golden

    reports = check_golden(
        args.cases, _golden_dir(args), work_dir=args.work_dir, csim=not args.no_csim
    )
    for report in reports:
        sys.stdout.write(report.describe() + "\n")
    return 0 if all(r.ok for r in reports) else 1
