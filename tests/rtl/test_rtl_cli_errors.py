"""``ticl-fpga rtl build`` / ``rtl synth`` on bad input: one line on stderr, exit 2, and nothing
half-written (no output folder, or the user's folder untouched)."""

from __future__ import annotations

import pytest

from tests.rtl.test_synth import _rtl_folder, needs_yosys
from ticl_fpga.cli import main
from ticl_fpga.golden.vectors import load_case

CASE = "w6a6_niters2"


@pytest.fixture(scope="module")
def qonnx_path():
    return load_case(CASE).qonnx_path


def _one_line(capsys) -> str:
    """The one error line (progress lines of the log may precede it), no traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("ticl-fpga: error")]
    assert len(lines) == 1, err
    return lines[0]


def _build(*args) -> int:
    return main(["rtl", "build", *map(str, args), "--no-csim"])


def test_build_missing_model(tmp_path, capsys):
    assert _build(tmp_path / "none.onnx", "--out", tmp_path / "o") == 2
    assert "no such QONNX model" in _one_line(capsys)
    assert not (tmp_path / "o").exists()


def test_build_bad_edge_parallelism(qonnx_path, tmp_path, capsys):
    for p in ("0", "-2"):
        assert _build(qonnx_path, "--out", tmp_path / "o", "--edge-parallelism", p) == 2
        assert "must be >= 1" in _one_line(capsys)
    assert not (tmp_path / "o").exists()


def test_build_output_is_the_input(qonnx_path, tmp_path, capsys):
    import shutil

    model = tmp_path / "m.onnx"
    shutil.copyfile(qonnx_path, model)
    before = model.read_bytes()
    assert _build(model, "--out", model) == 2
    assert "is also an input" in _one_line(capsys)
    assert model.read_bytes() == before


def test_build_into_a_foreign_folder_leaves_it_alone(qonnx_path, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert _build(qonnx_path, "--out", out) == 2
    _one_line(capsys)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me"


def test_build_missing_dataset(qonnx_path, tmp_path, capsys):
    assert _build(qonnx_path, "--out", tmp_path / "o", "--dataset", tmp_path / "nope") == 2
    _one_line(capsys)
    assert not (tmp_path / "o").exists()


def test_synth_bad_jobs_and_not_a_build_folder(tmp_path, capsys):
    _rtl_folder(tmp_path)
    assert main(["rtl", "synth", str(tmp_path / "build"), "--jobs", "0"]) == 2
    assert "--jobs must be >= 1" in _one_line(capsys)
    assert main(["rtl", "synth", str(tmp_path / "nowhere")]) == 2
    assert "rtl build" in _one_line(capsys)
    assert not (tmp_path / "build" / "synth").exists()
    assert not (tmp_path / "nowhere").exists()


@needs_yosys
def test_synth_of_broken_verilog_writes_no_report(tmp_path, capsys):
    rtl = _rtl_folder(tmp_path)
    (rtl / "lib" / "reg_add.v").write_text("module reg_add #(parameter W = 4) (input clk,\n")
    cmd = ["rtl", "synth", str(tmp_path / "build"), "--cache", str(tmp_path / "c"), "--jobs", "1"]
    assert main(cmd) == 2
    assert "Yosys failed" in _one_line(capsys)
    assert not (tmp_path / "build" / "synth" / "synth.json").exists()
    assert not list((tmp_path / "c").glob("*.json"))  # a failed unit is not cached


@needs_yosys
def test_synth_past_its_timeout_writes_no_report(tmp_path, capsys):
    _rtl_folder(tmp_path)
    cmd = ["rtl", "synth", str(tmp_path / "build"), "--cache", str(tmp_path / "c")]
    assert main([*cmd, "--timeout", "0.01"]) == 2
    assert "ran past" in _one_line(capsys)
    assert not (tmp_path / "build" / "synth" / "synth.json").exists()
