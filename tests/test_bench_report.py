"""The benchmark writers: known result dicts give known table rows and README text."""

from __future__ import annotations

from ticl_fpga.bench.report import README_END, README_START, markdown, summary_table, update_readme

DATA = {
    "pileup": 200,
    "read_events_per_s": 1969.4,
    "build_events_per_s_1workers": 78.2,
    "build_events_per_s_2workers": 146.0,
    "peak_rss_parent_mb_2workers": 834.2,
    "peak_uss_worker_mb_2workers": 96.6,
    "peak_total_mb_2workers": 1027.9,
}


def _row(table: str, start: str) -> list[str]:
    (line,) = [ln for ln in table.splitlines() if ln.startswith(f"| {start}")]
    return [c.strip() for c in line.strip("|").split("|")]


def _results(git: str, **stages) -> dict:
    """A results document as ``ticl-fpga bench`` writes it: machine, provenance, stages."""
    return {
        "quick": False,
        "total_seconds": 1.0,
        "machine": {"cpu": "x86_64", "threads": 2},
        "provenance": {"git": git},
        "data": DATA,
        **stages,
    }


def test_summary_rows_of_the_data_stage():
    table = summary_table({"data": DATA})
    assert table.splitlines()[0].split("|")[1].strip() == "measurement"
    assert _row(table, "ntuple reading")[1:] == ["1.97e+03", ""]
    assert _row(table, "graph building, 2 processes")[1:] == ["146", "uses both cores"]
    assert _row(table, "graph building peak memory")[1:] == ["834 / 97 / 1028", "bounded"]


def test_missing_numbers_are_dashes():
    data = {k: v for k, v in DATA.items() if k != "peak_uss_worker_mb_2workers"}
    assert _row(summary_table({"data": data}), "graph building peak memory")[1] == "834 / – / 1028"


def test_markdown_header_and_readme_update(tmp_path):
    res = _results("abc123", quick=True, total_seconds=12.4)
    md = markdown(res)
    assert md.startswith("# ticl-fpga benchmarks\n")
    assert "(quick run, 12 s) on x86_64 with 2 torch threads; code abc123." in md
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold\n{README_END}\nend\n")
    update_readme(readme, "| new |")
    assert readme.read_text() == f"intro\n{README_START}\n| new |\n{README_END}\nend\n"


def test_stage_code_keeps_every_partial_run():
    from ticl_fpga.bench.report import stage_code

    res = _results(
        "base",
        training={"config": "default", "graphs_per_s": 1.0},
        # the format before stage_code: only the last partial run was named
        updated=["training"],
        provenance_of_update={"git": "t1"},
    )
    assert stage_code(res) == {"data": "base", "training": "t1"}
    res["stage_code"] = {"data": "d2", "training": "t1"}
    assert stage_code(res) == {"data": "d2", "training": "t1"}
    md = markdown(res)
    assert (
        "Stages re-measured later (partial runs): data with code d2; training with code t1." in md
    )


def test_a_partial_run_merges_and_records_its_code(tmp_path):
    import json

    from ticl_fpga.bench.run import run_benchmarks

    old = _results("base", total_seconds=5.0, updated=["data"], provenance_of_update={"git": "d1"})
    (tmp_path / "results.json").write_text(json.dumps(old))
    res = run_benchmarks(tmp_path, stages=(), work=tmp_path / "w")  # runs nothing, merges
    assert res["data"] == DATA and res["provenance"]["git"] == "base"  # the full run's
    assert res["stage_code"] == {"data": "d1"}
    assert "updated" not in res and "provenance_of_update" not in res
    assert json.loads((tmp_path / "results.json").read_text())["stage_code"] == {"data": "d1"}
