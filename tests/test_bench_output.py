"""``ticl-fpga bench`` replaces only its own results: foreign files are refused before any work."""

from __future__ import annotations

import json

import pytest

from ticl_fpga.bench.report import MD_TITLE, README_END, README_START
from ticl_fpga.bench.run import check_bench_output, check_readme
from ticl_fpga.cli import main
from ticl_fpga.errors import InputError, OutputError


def _run(args: list[str], capsys) -> tuple[int, str]:
    code = main(["-q", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "name,content",
    [
        ("results.json", '{"my": "numbers"}'),
        ("results.json", "not json"),
        ("results.md", "# my notes\n"),
    ],
    ids=["foreign-json", "broken-json", "foreign-md"],
)
def test_foreign_results_are_refused_and_kept(tmp_path, capsys, name, content):
    (tmp_path / name).write_text(content)
    with pytest.raises(OutputError, match=name):
        check_bench_output(tmp_path)
    check_bench_output(tmp_path, force=True)  # --force replaces them
    code, err = _run(["bench", "--out", str(tmp_path), "--stages", "bias"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and name in err
    assert (tmp_path / name).read_text() == content


def test_own_results_and_other_files_are_fine(tmp_path):
    (tmp_path / "README.md").write_text("hand-written\n")
    (tmp_path / "results.json").write_text(json.dumps({"machine": {}, "provenance": {}}))
    (tmp_path / "results.md").write_text(MD_TITLE + "\n")
    check_bench_output(tmp_path)


def test_out_that_is_a_file_is_refused_even_with_force(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(OutputError):
        check_bench_output(f, force=True)


def test_readme_without_markers_is_refused(tmp_path, capsys):
    r = tmp_path / "README.md"
    r.write_text("# project\n")
    with pytest.raises(InputError, match="markers"):
        check_readme(r)
    with pytest.raises(InputError, match="cannot read"):
        check_readme(tmp_path / "missing.md")
    r.write_text(f"x\n{README_START}\n{README_END}\n")
    check_readme(r)
    code, err = _run(
        [
            "bench",
            "--out",
            str(tmp_path / "b"),
            "--stages",
            "bias",
            "--readme",
            str(tmp_path / "no"),
        ],
        capsys,
    )
    assert code == 2 and "cannot read" in err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "value", ["ten", "-5", "nan", "inf"], ids=["word", "negative", "nan", "inf"]
)
def test_firmware_budget_from_the_environment_is_checked_first(
    value, tmp_path, capsys, monkeypatch
):
    """A firmware time budget that is not a number of seconds >= 0: one line naming the
    variable, exit 2, before any work (nothing written in OUT)."""
    from ticl_fpga.bench.firmware import env_budgets

    monkeypatch.setenv("TICL_FPGA_OTHER_SYNTH_BUDGET_S", value)
    out = tmp_path / "b"
    code, err = _run(["bench", "--out", str(out), "--stages", "firmware"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "TICL_FPGA_OTHER_SYNTH_BUDGET_S" in err
    assert not out.exists() or not any(out.iterdir())
    monkeypatch.setenv("TICL_FPGA_OTHER_SYNTH_BUDGET_S", "0")
    assert env_budgets()["TICL_FPGA_OTHER_SYNTH_BUDGET_S"] == 0.0
