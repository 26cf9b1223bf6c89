"""format_report writes its tables through tables.markdown_table: known numbers in known cells."""

from __future__ import annotations

from ticl_fpga.evaluate.report import EVENT_ROWS, ROW_LABELS, format_report


def _rows(md: str, first: str) -> list[list[str]]:
    """The table rows whose first cell is ``first``, as stripped cells."""
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in md.splitlines()]
    return [r for r in rows if r[0] == first]


def _row(md: str, first: str) -> list[str]:
    (row,) = _rows(md, first)
    return row


def _summary(models: int = 2) -> dict:
    binned = {
        "efficiency_vs_energy": {
            "edges": [0, 10, 100],
            "mean": [0.5, float("nan")],
            "count": [4, 0],
        },
        "efficiency_vs_eta": {"edges": [1.5, 2.0, 3.0], "mean": [0.625, 0.75], "count": [8, 4]},
    }
    event = {
        key: dict(
            efficiency=0.9,
            purity=0.95,
            good_fraction=0.5,
            merged=12,
            fake=3,
            fake_fraction=0.25,
            **binned,
        )
        for key in EVENT_ROWS
    }
    event["baseline"] = None
    model = dict(
        run="r1",
        model="gnn",
        auc=0.9,
        efficiency_at_wp=0.8,
        purity_at_wp=0.7,
        event_efficiency=0.6,
        event_purity=0.5,
        parameters=1234,
        cpu_ms_per_event=1.234,
    )
    edge = dict(
        auc=0.91234,
        cut=0.5,
        efficiency_at_cut=0.8,
        purity_at_cut=0.7,
        efficiency_at_wp=0.81,
        purity_at_wp=None,
        edge_efficiency_at_purity=float("nan"),
    )
    return dict(
        run="run",
        dataset="ds",
        split="test",
        n_events=5,
        edge={"gnn": edge, "baseline": None},
        event=event,
        gnn_beats_baseline=None,
        models=[model] * models,
        plots=["roc.png"],
    )


def test_known_cells():
    md = format_report(_summary())
    assert _row(md, "GNN") == ["GNN", "0.9123", "0.500", "0.8000", "0.7000", "0.8100", "–", "–"]
    assert "| geometric baseline " not in md  # no baseline: no row in any table
    seed = ROW_LABELS["gnn_wp"]
    event, energy, eta = _rows(md, seed)
    assert event[1:] == ["0.9000", "0.9500", "0.5000", "12", "3", "0.2500"]
    # the binned tables: mean (count), a NaN mean as missing; header from the bin edges
    assert _rows(md, "linker")[2] == ["linker", "0-10 GeV", "10-100 GeV"]
    assert energy[1:] == ["0.500 (4)", "– (0)"]
    assert eta[1:] == ["0.625 (8)", "0.750 (4)"]
    one, two = _rows(md, "r1")  # the same model twice: two rows
    assert (
        one
        == two
        == ["r1", "gnn", "0.9000", "0.8000", "0.7000", "0.6000", "0.5000", "1234", "1.23"]
    )
    assert md.endswith("![roc.png](roc.png)\n")


def test_one_model_has_no_side_by_side_table():
    assert "Models side by side" not in format_report(_summary(models=1))
