"""``ticl-fpga data``: generate synthetic ntuples, build graph datasets, print summaries."""

from __future__ import annotations

import argparse
import logging
import sys

from ticl_fpga.cli import add_subgroup, config_from_args, nonneg_int, positive_int
from ticl_fpga.io import check_output

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    data = add_subgroup(sub, "data", "ntuples -> graphs: generate synthetic events, build datasets")

    g = data.add_parser(
        "generate", help="write a synthetic TICLDumper ntuple (TTrees via PyROOT, else uproot)"
    )
    g.add_argument("-o", "--output", required=True, help="output .root file")
    g.add_argument("-n", "--events", type=positive_int, default=100)
    g.add_argument("--pileup", type=nonneg_int, default=0, help="mean pileup: 0, 140, 200...")
    g.add_argument("--seed", type=nonneg_int, default=0)
    g.add_argument("--n-gun", type=positive_int, default=2, help="gun particles per endcap")
    g.add_argument("--config", help="GeneratorConfig YAML (CLI flags override it)")
    g.set_defaults(handler=_generate)

    b = data.add_parser(
        "build", help="build a graph dataset from one or more ntuples (globs allowed)"
    )
    b.add_argument("inputs", nargs="+", help="ROOT files or glob patterns")
    b.add_argument("-o", "--output", required=True, help="dataset folder")
    b.add_argument("--config", help="BuildConfig YAML (candidates, truth, splits, tree names...)")
    b.add_argument("--workers", type=positive_int, help="processes (default: config, 2)")
    b.add_argument("--max-events", type=positive_int)
    b.add_argument(
        "--force",
        action="store_true",
        help="replace OUTPUT even if it holds files ticl-fpga did not write",
    )
    b.set_defaults(handler=_build)

    s = data.add_parser("summary", help="print a dataset's summary")
    s.add_argument("dataset")
    s.set_defaults(handler=_summary)


def _generate(args: argparse.Namespace) -> int:
    from ticl_fpga.data.synthetic import GeneratorConfig, generate

    cfg = config_from_args(
        GeneratorConfig,
        args,
        {"n_events": "events", "pileup": "pileup", "seed": "seed", "n_gun": "n_gun"},
        path=args.config,
        source="--events/--pileup/--seed",
    )
    out = check_output(args.output, inputs=[args.config], folder=False)
    out = generate(cfg, out)
    sys.stdout.write(f"{out}: {cfg.n_events} events, PU {cfg.pileup}\n")
    return 0


def _build(args: argparse.Namespace) -> int:
    from ticl_fpga.data.dataset import BuildConfig, build_dataset, format_summary, load_dataset

    cfg = config_from_args(
        BuildConfig,
        args,
        ("workers", "max_events"),
        path=args.config,
        source=args.config or "--workers/--max-events",
    )
    if args.config:
        check_output(args.output, inputs=[args.config])
    out = build_dataset(args.inputs, args.output, cfg, force=args.force)
    sys.stdout.write(f"{out}\n{format_summary(load_dataset(out).summary)}\n")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from ticl_fpga.data.dataset import format_summary, load_dataset

    sys.stdout.write(format_summary(load_dataset(args.dataset).summary) + "\n")
    return 0
