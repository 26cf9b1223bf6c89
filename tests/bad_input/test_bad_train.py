"""Training run folders: resume only what matches, one writer at a time, corrupt checkpoints named."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.bad_input.conftest import one_error, snapshot, unchanged
from ticl_fpga.io import dir_lock


@pytest.fixture
def run(trained_run, tmp_path):
    return shutil.copytree(trained_run, tmp_path / "run")


def test_resume_with_another_architecture(run, good_ds, tiny_train_yaml, tmp_path, cli):
    other = tmp_path / "wider.yaml"
    other.write_text(tiny_train_yaml.read_text().replace("node_hidden: 8", "node_hidden: 12"))
    before = snapshot(run)
    rc, err = cli("train", good_ds, "-o", run, "--config", other)
    one_error(rc, err, str(run), "architecture", "node_hidden", "--no-resume")
    unchanged(before, run)


def test_resume_on_another_dataset(run, good_ds, tiny_train_yaml, tmp_path, cli):
    ds2 = shutil.copytree(good_ds, tmp_path / "ds2")
    meta = json.loads((ds2 / "meta.json").read_text())
    meta["scalers"]["node_mean"][0] += 1.0
    (ds2 / "meta.json").write_text(json.dumps(meta))
    before = snapshot(run)
    rc, err = cli("train", ds2, "-o", run, "--config", tiny_train_yaml)
    one_error(rc, err, str(run), "dataset", "--no-resume")
    unchanged(before, run)


def test_corrupt_last_checkpoint(run, good_ds, tiny_train_yaml, cli):
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:100])
    before = snapshot(run)
    rc, err = cli("train", good_ds, "-o", run, "--config", tiny_train_yaml)
    one_error(rc, err, "last.ckpt", "--no-resume")
    unchanged(before, run)
    # ... and starting over works and leaves no old checkpoint beside the new ones
    rc, _ = cli("train", good_ds, "-o", run, "--config", tiny_train_yaml, "--no-resume")
    assert rc == 0
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names[-1] == "last.ckpt" and len(names) == 2, names


def test_second_writer_is_refused(run, good_ds, tiny_train_yaml, cli):
    before = snapshot(run)
    with dir_lock(run):
        rc, err = cli("train", good_ds, "-o", run, "--config", tiny_train_yaml)
    one_error(rc, err, str(run), "another ticl-fpga process")
    unchanged(before, run)


def test_train_into_a_foreign_folder(good_ds, tiny_train_yaml, tmp_path, cli):
    d = tmp_path / "photos"
    d.mkdir()
    (d / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    before = snapshot(d)
    rc, err = cli("train", good_ds, "-o", d, "--config", tiny_train_yaml)
    one_error(rc, err, "photos", "cat.jpg", "--force")
    unchanged(before, d)
