"""Output paths never destroy data: refused when they are, contain or lie inside an input, or hold
files ticl-fpga did not write (unless --force); replaced atomically when they are our own."""

from __future__ import annotations

import os

import pytest

from tests.bad_input.conftest import one_error, snapshot, unchanged
from ticl_fpga.io import MARKER


@pytest.fixture
def user_dir(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("precious\n")
    (d / "sub").mkdir()
    (d / "sub" / "data.bin").write_bytes(b"\x00\x01" * 100)
    return d


def test_build_into_the_folder_holding_the_input(good_root, tmp_path, cli):
    folder = tmp_path / "in"
    folder.mkdir()
    root = folder / "ev.root"
    root.write_bytes(good_root.read_bytes())
    before = snapshot(tmp_path)
    rc, err = cli("data", "build", root, "-o", folder)
    one_error(rc, err, str(folder), "contains the input")
    rc, err = cli("data", "build", root, "-o", root)
    one_error(rc, err, "is also an input")
    rc, err = cli("data", "build", root, "-o", root / "ds")
    one_error(rc, err, "lies inside the input")
    unchanged(before, tmp_path)


def test_build_into_cwd(good_root, tmp_path, cli, monkeypatch):
    (tmp_path / "ev.root").write_bytes(good_root.read_bytes())
    (tmp_path / "other.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    rc, err = cli("data", "build", "ev.root", "-o", ".")
    one_error(rc, err, "contains the input")
    unchanged(before, tmp_path)


def test_build_over_a_user_folder_needs_force(good_root, user_dir, cli):
    before = snapshot(user_dir)
    rc, err = cli("data", "build", good_root, "-o", user_dir, "--workers", "1")
    one_error(rc, err, str(user_dir), "notes.txt", "--force")
    unchanged(before, user_dir)
    rc, _ = cli("data", "build", good_root, "-o", user_dir, "--workers", "1", "--force")
    assert rc == 0 and (user_dir / "meta.json").is_file() and not (user_dir / "notes.txt").exists()


def test_rebuild_replaces_our_own_dataset_atomically(good_root, tmp_path, cli):
    ds = tmp_path / "ds"
    assert cli("data", "build", good_root, "-o", ds, "--workers", "1")[0] == 0
    assert (ds / MARKER).is_file()
    assert cli("data", "build", good_root, "-o", ds, "--workers", "1", "--max-events", "30")[0] == 0
    from ticl_fpga.data.dataset import load_dataset

    assert load_dataset(ds).meta["config"]["max_events"] == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"], "no temporary or old folder left"
    # a file added by the user makes it foreign
    (ds / "my_notes.md").write_text("mine")
    before = snapshot(ds)
    rc, err = cli("data", "build", good_root, "-o", ds, "--workers", "1")
    one_error(rc, err, "my_notes.md", "did not write")
    unchanged(before, ds)


def test_dataset_is_not_replaced_by_another_kind(good_ds, good_root, tmp_path, cli):
    ds = tmp_path / "ds"
    assert cli("data", "build", good_root, "-o", ds, "--workers", "1")[0] == 0
    before = snapshot(ds)
    for argv in (
        ["train", good_ds, "-o", ds],
        ["qat", tmp_path / "run", "--dataset", good_ds, "-o", ds],
        ["scan", tmp_path / "run", "--dataset", good_ds, "-o", ds],
        ["hls", "build", tmp_path / "m.onnx", "--out", ds],
        ["compare", "--float", "f.pt", "--quant", "q", "--dataset", good_ds, "--out", ds],
        ["demo", "--out", ds],
    ):
        rc, err = cli(*argv)
        one_error(rc, err, str(ds), "dataset")
    unchanged(before, ds)


def test_file_outputs_never_replace_folders(user_dir, tmp_path, cli):
    before = snapshot(user_dir)
    for argv in (
        ["export", "torchscript", tmp_path / "run", "-o", user_dir],
        ["export", "onnx", tmp_path / "run", "-o", user_dir],
        ["data", "generate", "-o", user_dir, "-n", "2"],
        ["hls", "predict", tmp_path / "prj", "--dataset", tmp_path / "ds", "--out", user_dir],
    ):
        rc, err = cli(*argv)
        one_error(rc, err, str(user_dir), "is a folder")
    unchanged(before, user_dir)


def test_run_folders_are_inputs(trained_run, good_ds, tmp_path, cli):
    before = snapshot(trained_run, good_ds)
    for argv in (
        ["qat", trained_run, "--dataset", good_ds, "-o", trained_run],
        ["qat", trained_run, "--dataset", good_ds, "-o", good_ds],
        ["prune", trained_run, "--dataset", good_ds, "-o", trained_run / "q"],
        ["train", good_ds, "-o", good_ds],
        ["export", "torchscript", trained_run, "-o", trained_run / "model.pt"],
        ["evaluate", trained_run, "--dataset", good_ds, "-o", good_ds / "eval"],
        ["evaluate", trained_run, "--dataset", good_ds, "-o", trained_run],
    ):
        rc, err = cli(*argv)
        one_error(rc, err, "input" if argv[0] != "evaluate" else "")
    unchanged(before, trained_run, good_ds)


def test_parent_is_a_file(good_root, tmp_path, cli):
    f = tmp_path / "file.txt"
    f.write_text("x")
    rc, err = cli("data", "build", good_root, "-o", f / "ds")
    one_error(rc, err, "file.txt", "is a file")
    assert f.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(good_root, tmp_path, cli):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc, err = cli("data", "build", good_root, "-o", ro / "ds")
        one_error(rc, err, "read-only")
    finally:
        ro.chmod(0o755)


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs /sys")
def test_unwritable_place(good_root, cli):
    """Even as root /sys takes no files: the write fails in one line naming the path."""
    rc, err = cli("data", "build", good_root, "-o", "/sys/kernel/ticl_ds", "--workers", "1")
    one_error(rc, err, "/sys/kernel")
    assert not os.path.exists("/sys/kernel/ticl_ds")


def test_file_of_another_format_is_not_overwritten(good_root, tmp_path, cli):
    """-o onto a file that is clearly something else (a ROOT file as .pt, text as .root)."""
    pt = tmp_path / "model.pt"
    pt.write_bytes(good_root.read_bytes()[:4096])
    notes = tmp_path / "notes.root"
    notes.write_text("my notes\n")
    before = snapshot(tmp_path)
    rc, err = cli("export", "torchscript", tmp_path / "run", "-o", pt)
    one_error(rc, err, "model.pt", "ROOT file")
    rc, err = cli("data", "generate", "-o", notes, "-n", "2")
    one_error(rc, err, "notes.root", "not a ROOT file")
    unchanged(before, tmp_path)
    rc, _ = cli("data", "generate", "-o", tmp_path / "ev.root", "-n", "2")
    assert rc == 0
    rc, _ = cli("data", "generate", "-o", tmp_path / "ev.root", "-n", "3")
    assert rc == 0, "our own earlier ROOT file is replaced"
