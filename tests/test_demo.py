"""The main job end to end (quick sizes): every stage's artefacts, resume, and config guard."""

from __future__ import annotations

import json

import pytest

from ticl_fpga.cli import main
from ticl_fpga.demo import STAGES, DemoConfig, run_demo
from ticl_fpga.errors import ConfigError


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    records = run_demo(DemoConfig.quick(), out)
    return out, records


@pytest.mark.slow
def test_quick_demo_writes_every_stage_and_index(quick_run):
    out, records = quick_run
    assert list(records) == [s.name for s in STAGES]
    index = (out / "index.md").read_text()
    for stage in STAGES:
        for path in records[stage.name]["outputs"]:
            assert (out / path).exists(), path
            assert f"({path})" in index
    assert records["hls"]["csim_mismatches"] == 0
    # the project compiled by the hls stage is the one compare runs: not compiled a second time
    assert records["compare"]["hls_project"] == "compiled by the hls stage of this run"
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*.tmp"))


@pytest.mark.slow
def test_rerun_resumes_and_redoes_only_missing_stages(quick_run, caplog):
    out, _ = quick_run
    marker = out / "stages" / "export.json"
    before = json.loads((out / "stages" / "train.json").read_text())
    marker.unlink()
    caplog.set_level("INFO", logger="ticl_fpga.demo")
    records = run_demo(DemoConfig.quick(), out)
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == len(STAGES) - 1
    assert marker.exists()
    assert records["train"] == before  # not retrained


def test_other_settings_in_same_folder_are_refused(tmp_path):
    out = tmp_path / "run"
    run_demo(DemoConfig.quick(), out, stages=())
    with pytest.raises(ConfigError, match="other settings"):
        run_demo(DemoConfig.quick(events=500), out, stages=())


def test_demo_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    assert "--quick" in capsys.readouterr().out
