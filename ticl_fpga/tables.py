"""Markdown tables for every report writer: one helper on ``tabulate``.

``markdown_table(rows, headers)`` formats floats with ``floatfmt`` (one spec, or one per column),
writes ``None`` as ``missing``, escapes ``|`` inside cells, right-aligns all-number columns and
leaves strings as given (pre-formatted cells such as ``"0.91 / 0.93"`` are not re-parsed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from tabulate import tabulate

MISSING = "–"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _cell(v: Any, fmt: str, missing: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    if isinstance(v, float):
        return format(v, fmt)
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(
    rows: Iterable[Sequence[Any]],
    headers: Sequence[str],
    *,
    floatfmt: str | Sequence[str] = ".3g",
    missing: str = MISSING,
) -> str:
    """A GitHub markdown table of ``rows`` under ``headers`` (no trailing newline)."""
    rows = [list(r) for r in rows]
    n = len(headers)
    for i, r in enumerate(rows):
        if len(r) != n:
            raise ValueError(f"row {i} has {len(r)} cells, the header {n}")
    fmts = [floatfmt] * n if isinstance(floatfmt, str) else list(floatfmt)
    if len(fmts) != n:
        raise ValueError(f"{len(fmts)} float formats for {n} columns")
    numeric = [bool(rows) and all(_is_number(r[c]) or r[c] is None for r in rows) for c in range(n)]
    cells = [[_cell(v, f, missing) for v, f in zip(r, fmts, strict=True)] for r in rows]
    return tabulate(
        cells,
        headers=[_cell(h, "", missing) for h in headers],
        tablefmt="pipe",
        disable_numparse=True,
        colalign=["right" if num else "left" for num in numeric],
    )
