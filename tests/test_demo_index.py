"""The demo's index page: its stage table (tables.markdown_table) from known stage records."""

from __future__ import annotations

from ticl_fpga.demo import STAGES, DemoConfig, index_page


def test_stage_table_has_time_and_links_or_not_run(tmp_path):
    records = {"generate": {"seconds": 12.4, "outputs": ["data/events.root", "a|b.txt"]}}
    md = index_page(DemoConfig.quick(), tmp_path, records)
    rows = {
        cells[0]: cells
        for ln in md.splitlines()
        if ln.startswith("|")
        for cells in [[c.strip() for c in ln.strip().strip("|").split(" | ")]]
    }
    assert rows["stage"] == ["stage", "what", "time (s)", "artefacts"]
    assert rows["generate"] == [
        "generate",
        "synthetic TICLDumper ntuple",
        "12",
        "[`data/events.root`](data/events.root), [`a\\|b.txt`](a\\|b.txt)",
    ]
    for stage in STAGES[1:]:
        assert rows[stage.name] == [stage.name, stage.title, "–", "not run"]
    assert "stages took 12 s in all" in md
