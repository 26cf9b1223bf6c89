"""The ``ticl-fpga`` command line: one command, verbs registered from ``ticl_fpga.cli.<verb>``.

Each verb module defines ``register(subparsers)`` and keeps heavy imports inside its handler,
so ``ticl-fpga --help`` stays fast.  Handlers are thin wrappers over library functions.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from collections.abc import Sequence

from ticl_fpga import __version__
from ticl_fpga.errors import TiclFpgaError

#: Verb modules in pipeline order; a module that does not exist yet is skipped.
VERB_MODULES = (
    "data",
    "train",
    "evaluate",
    "export",
    "quantize",
    "hls",
    "rtl",
    "golden",
    "compare",
    "demo",
    "bench",
)

log = logging.getLogger("ticl_fpga.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticl-fpga",
        description="Trackster-linking GNNs: ntuples -> graphs -> float/quantized models -> hls4ml.",
    )
    parser.add_argument("--version", action="version", version=f"ticl-fpga {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        try:
            module = importlib.import_module(f"ticl_fpga.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ticl_fpga.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ticl_fpga.logging import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(-1 if args.quiet else args.verbose)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # so atomic writers clean up on `kill`
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        rc = handler(args)
    except TiclFpgaError as exc:
        sys.stderr.write(f"ticl-fpga: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("ticl-fpga: interrupted\n")
        return 130
    return int(rc or 0)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def add_subgroup(sub, name: str, help: str) -> argparse._SubParsersAction:
    """Create a verb with its own sub-verbs (``ticl-fpga data generate``)."""
    p = sub.add_parser(name, help=help, description=help)
    p.set_defaults(handler=lambda _args, _p=p: (_p.print_help(sys.stderr), 2)[1])
    return p.add_subparsers(dest=f"{name}_verb", metavar="SUBVERB")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
