"""Regeneration is deterministic, reports what changed, and the CLI verbs work."""

from __future__ import annotations

import json

import numpy as np

from ticl_fpga.golden.regenerate import regenerate
from ticl_fpga.golden.vectors import load_case, save_npz, sha256_file

CASE = "w4a4_niters1"


def test_regenerate_writes_verifiable_case_and_reports_changes(tmp_path):
    from ticl_fpga.golden.check import check_case

    out = tmp_path / "golden"
    [change] = regenerate([CASE], out)
    assert change.status == "new"
    vectors = load_case(CASE, out)
    assert check_case(vectors).ok
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generated_by"] == "ticl-fpga golden regenerate"
    assert manifest["cases"][CASE]["case"]["seed"] == vectors.case.seed

    # same code, same bytes
    [again] = regenerate([CASE], out, check=True)
    assert again.status == "unchanged", again.describe()

    # a changed expected code is reported with the graph and the hash
    arrays = dict(np.load(out / CASE / "graphs.npz"))
    arrays["full.logit_code"] = arrays["full.logit_code"] + 1
    save_npz(out / CASE / "graphs.npz", arrays)
    before = sha256_file(out / CASE / "graphs.npz")
    [diff] = regenerate([CASE], out, check=True)
    assert diff.status == "changed"
    text = diff.describe()
    assert "graphs.npz" in text and before[:12] in text
    assert "full: " in text and "logit codes differ" in text
    assert sha256_file(out / CASE / "graphs.npz") == before, "--check must not write"


def test_npz_is_byte_deterministic(tmp_path):
    a = {"b": np.arange(5), "a": np.ones((2, 3), np.float32)}
    save_npz(tmp_path / "1.npz", a)
    save_npz(tmp_path / "2.npz", dict(reversed(list(a.items()))))
    assert sha256_file(tmp_path / "1.npz") == sha256_file(tmp_path / "2.npz")


def test_cli_check_no_csim_and_help(capsys):
    from ticl_fpga.cli import main

    assert main(["golden", "check", "--no-csim", "--case", CASE]) == 0
    assert f"{CASE}: exact == brevitas == qonnx == golden" in capsys.readouterr().out
    assert main(["golden", "check", "--case", "nope"]) == 2
    assert "no case 'nope'" in capsys.readouterr().err


def test_cli_check_reports_corruption(tmp_path, capsys):
    import shutil

    from ticl_fpga.cli import main

    src = load_case(CASE).folder.parent
    shutil.copytree(src, tmp_path / "g")
    (tmp_path / "g" / CASE / "model.onnx").write_bytes(b"junk")
    rc = main(["golden", "check", "--no-csim", "--case", CASE, "--golden-dir", str(tmp_path / "g")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "model.onnx" in err and "ticl-fpga golden regenerate --case w4a4_niters1" in err
