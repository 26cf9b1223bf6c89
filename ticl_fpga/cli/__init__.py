"""The ``ticl-fpga`` command line: one command, verbs registered from ``ticl_fpga.cli.<verb>``.

Each verb module defines ``register(subparsers)`` and keeps heavy imports inside its handler,
so ``ticl-fpga --help`` stays fast.  Handlers are thin wrappers over library functions.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import re
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ticl_fpga import __version__
from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.errors import Terminated, TiclFpgaError
from ticl_fpga.logging import setup_logging
from ticl_fpga.runtime import configure_threads

#: Verb modules in pipeline order.
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


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``ticl-fpga VERB: error: ...``, exit 2), no usage dump."""

    def error(self, message: str):  # noqa: D102 - argparse API
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


# ----------------------------------------------------------------------------- flags -> config


def flags_given(args: argparse.Namespace, fields: Mapping[str, str] | Sequence[str]) -> dict:
    """The config fields set on the command line: ``{field: args.<flag>}`` for each flag that is
    not None.  ``fields`` maps config field -> argparse attribute, or names both alike."""
    pairs = fields.items() if isinstance(fields, Mapping) else ((f, f) for f in fields)
    return {f: v for f, a in pairs if (v := getattr(args, a, None)) is not None}


def config_from_args(
    cls,
    args: argparse.Namespace,
    fields: Mapping[str, str] | Sequence[str],
    *,
    path: str | Path | None = None,
    base: Mapping[str, Any] | None = None,
    source: str | None = None,
    **fixed: Any,
):
    """A ``cls`` config (a :class:`~ticl_fpga.config.StrictModel`): the YAML at ``path`` (else
    ``base``, else the defaults), then ``fixed`` values, then the flags given (:func:`flags_given`)
    written over their fields; errors name ``source`` (default: ``path`` or "command line")."""
    if base is not None:
        raw = dict(base)
    else:
        raw = cls.from_yaml(path).model_dump() if path else {}
    raw.update(fixed)
    raw.update(flags_given(args, fields))
    return cls.from_dict(raw, source=source or str(path or "command line"))


# ----------------------------------------------------------------------------- value types
# Every numeric option is checked where it enters, so bad values never reach the work.


def _number(kind, text: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a valid {kind.__name__}") from None


def int_at_least(low: int):
    """argparse type: an integer >= ``low``."""

    def parse(text: str) -> int:
        v = _number(int, text)
        if v < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {v}")
        return v

    parse.__name__ = f"int >= {low}"
    return parse


positive_int = int_at_least(1)
nonneg_int = int_at_least(0)


def add_capacity_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--n-max``/``--e-max`` with the defaults of :class:`~ticl_fpga.compile.capacity.Capacity`."""
    default = Capacity()
    parser.add_argument(
        "--n-max", type=int_at_least(2), default=default.n_max, help=f"node capacity ({what})"
    )
    parser.add_argument(
        "--e-max", type=positive_int, default=default.e_max, help=f"edge capacity ({what})"
    )


def add_window_overlap_argument(parser: argparse.ArgumentParser) -> None:
    """``--window-overlap``: nodes shared by neighbouring eta windows of an oversize graph."""
    parser.add_argument(
        "--window-overlap",
        type=nonneg_int,
        default=0,
        help="nodes shared by neighbouring eta windows",
    )


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    v = _number(float, text)
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return v


def nonneg_float(text: str) -> float:
    v = _number(float, text)
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return v


def unit_interval(text: str) -> float:
    """argparse type: a float strictly between 0 and 1 (a score cut)."""
    v = _number(float, text)
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return v


def torch_device(text: str) -> str:
    """argparse type: a torch device that exists here (``cpu``, ``cuda``, ``cuda:1``)."""
    if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a device (cpu, cuda, cuda:N)")
    if text.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"'{text}': no CUDA GPU is available here")
        idx = int(text.split(":")[1]) if ":" in text else 0
        if idx >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"'{text}': only {torch.cuda.device_count()} CUDA device(s) here"
            )
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ticl-fpga",
        description="Trackster-linking GNNs: ntuples -> graphs -> float/quantized models -> hls4ml.",
    )
    parser.add_argument("--version", action="version", version=f"ticl-fpga {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument(
        "--threads",
        dest="torch_threads",
        metavar="N",
        type=positive_int,
        help="torch CPU threads (default: $TICL_FPGA_THREADS, else the free cores)",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        importlib.import_module(f"ticl_fpga.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a bad option: one line, already printed; --help exits as usual
        if not exc.code:
            raise
        return exc.code if isinstance(exc.code, int) else 2
    setup_logging(-1 if args.quiet else args.verbose)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    # Ctrl-C and SIGTERM both unwind the stack (every atomic writer removes its temporary path);
    # the previous handlers come back afterwards, so an in-process caller keeps its own.

    saved = {}
    if threading.current_thread() is threading.main_thread():  # only there can handlers be set
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        configure_threads(args.torch_threads)
        rc = handler(args)
    except TiclFpgaError as exc:
        sys.stderr.write(f"ticl-fpga: error: {_one_line(exc)}\n")
        return 2
    except ValidationError as exc:  # a value set on a config after loading it
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or exc.title
        sys.stderr.write(f"ticl-fpga: error: {exc.title} [{loc}]: {err['msg']}\n")
        return 2
    except OSError as exc:  # the environment: a read-only folder, a full disk, a file as folder
        where = exc.filename if exc.filename is not None else "ticl-fpga"
        sys.stderr.write(f"ticl-fpga: error: {where}: {exc.strerror or _one_line(exc)}\n")
        return 2
    except Terminated:
        sys.stderr.write("ticl-fpga: terminated (SIGTERM); re-run the same command to resume\n")
        return 143
    except KeyboardInterrupt:
        sys.stderr.write("ticl-fpga: interrupted; re-run the same command to resume\n")
        return 130
    finally:
        for s, h in saved.items():
            if h is not None:
                signal.signal(s, h)
    return int(rc or 0)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _raise_terminated(signum, frame):
    raise Terminated


def add_subgroup(sub, name: str, help: str) -> argparse._SubParsersAction:
    """Create a verb with its own sub-verbs (``ticl-fpga data generate``)."""
    p = sub.add_parser(name, help=help, description=help)
    p.set_defaults(handler=lambda _args, _p=p: (_p.print_help(sys.stderr), 2)[1])
    return p.add_subparsers(dest=f"{name}_verb", metavar="SUBVERB")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
