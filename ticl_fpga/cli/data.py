"""``ticl-fpga data``: generate synthetic ntuples, build graph datasets, print summaries."""

from __future__ import annotations

import argparse
import logging
import sys

from ticl_fpga.cli import add_subgroup

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    data = add_subgroup(sub, "data", "ntuples -> graphs: generate synthetic events, build datasets")

    g = data.add_parser("generate", help="write a synthetic TICLDumper ntuple (ROOT, via uproot)")
    g.add_argument("-o", "--output", required=True, help="output .root file")
    g.add_argument("-n", "--events", type=int, default=100)
    g.add_argument("--pileup", type=int, default=0, help="mean pileup: 0, 140, 200...")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--n-gun", type=int, default=2, help="gun particles per endcap")
    g.add_argument("--config", help="GeneratorConfig YAML (CLI flags override it)")
    g.set_defaults(handler=_generate)

    b = data.add_parser(
        "build", help="build a graph dataset from one or more ntuples (globs allowed)"
    )
    b.add_argument("inputs", nargs="+", help="ROOT files or glob patterns")
    b.add_argument("-o", "--output", required=True, help="dataset folder")
    b.add_argument("--config", help="BuildConfig YAML (candidates, truth, splits, tree names...)")
    b.add_argument("--workers", type=int, help="processes (default: config, 2)")
    b.add_argument("--max-events", type=int)
    b.set_defaults(handler=_build)

    s = data.add_parser("summary", help="print a dataset's summary")
    s.add_argument("dataset")
    s.set_defaults(handler=_summary)


def _generate(args: argparse.Namespace) -> int:
    from ticl_fpga.data.synthetic import GeneratorConfig, generate

    base = GeneratorConfig.from_yaml(args.config).model_dump() if args.config else {}
    base.update(n_events=args.events, pileup=args.pileup, seed=args.seed, n_gun=args.n_gun)
    cfg = GeneratorConfig.from_dict(base, source="--events/--pileup/--seed")
    out = generate(cfg, args.output)
    sys.stdout.write(f"{out}: {cfg.n_events} events, PU {cfg.pileup}\n")
    return 0


def _build(args: argparse.Namespace) -> int:
    from ticl_fpga.data.dataset import BuildConfig, build_dataset, format_summary, load_dataset

    cfg = BuildConfig.from_yaml(args.config) if args.config else BuildConfig()
    if args.workers is not None:
        cfg.workers = args.workers
    if args.max_events is not None:
        cfg.max_events = args.max_events
    out = build_dataset(args.inputs, args.output, cfg)
    sys.stdout.write(f"{out}\n{format_summary(load_dataset(out).summary)}\n")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from ticl_fpga.data.dataset import format_summary, load_dataset

    sys.stdout.write(format_summary(load_dataset(args.dataset).summary) + "\n")
    return 0
