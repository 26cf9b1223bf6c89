"""The one markdown-table helper: exact output for known rows."""

from __future__ import annotations

import pytest

from ticl_fpga.tables import markdown_table


def test_markdown_table_formats_aligns_and_escapes():
    text = markdown_table(
        [("a", 1.23456, None, 3), ("b|c", 2.0, "x", 12)],
        ("k", "v", "w", "n"),
        floatfmt=".3g",
    )
    assert text.splitlines() == [
        "| k    |    v | w   |   n |",
        "|:-----|-----:|:----|----:|",
        "| a    | 1.23 | –   |   3 |",
        "| b\\|c |    2 | x   |  12 |",
    ]


def test_markdown_table_per_column_formats_and_preformatted_strings():
    text = markdown_table(
        [("PU0", 0.5, "0.50 / 0.60")], ("size", "r", "pair"), floatfmt=("", ".2f", "")
    )
    assert text.splitlines()[2] == "| PU0    | 0.50 | 0.50 / 0.60 |"


def test_markdown_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        markdown_table([("a",)], ("k", "v"))
