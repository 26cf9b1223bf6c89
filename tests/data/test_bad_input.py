"""Bad input: one-line error naming file and field, exit code 2, nothing half-written."""

import math

import pytest

from ticl_fpga.cli import main
from ticl_fpga.data.dataset import BuildConfig, build_dataset, load_dataset
from ticl_fpga.data.schema import NtupleSchema
from ticl_fpga.data.synthetic import GeneratorConfig, generate, make_records, write_records
from ticl_fpga.errors import InputError


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return generate(
        GeneratorConfig(n_events=4, seed=5), tmp_path_factory.mktemp("good") / "good.root"
    )


def _run_build(tmp_path, capsys, *inputs):
    out = tmp_path / "ds"
    rc = main(["data", "build", *map(str, inputs), "-o", str(out), "--workers", "1"])
    err = capsys.readouterr().err.strip()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    return rc, err, out, leftovers


def test_missing_file(tmp_path, capsys):
    rc, err, out, left = _run_build(tmp_path, capsys, tmp_path / "nope.root")
    assert rc == 2 and "nope.root: no such file" in err and len(err.splitlines()) == 1
    assert not out.exists() and not left


def test_glob_without_match(tmp_path, capsys):
    rc, err, _, _ = _run_build(tmp_path, capsys, tmp_path / "*.root")
    assert rc == 2 and "matches no file" in err


def test_not_a_root_file(tmp_path, capsys):
    bad = tmp_path / "text.root"
    bad.write_text("this is not ROOT\n" * 10)
    rc, err, out, left = _run_build(tmp_path, capsys, bad)
    assert (
        rc == 2 and "text.root" in err and "not a ROOT file" in err and len(err.splitlines()) == 1
    )
    assert not out.exists() and not left


def test_truncated_file(tmp_path, capsys, good):
    data = good.read_bytes()
    cut = tmp_path / "cut.root"
    cut.write_bytes(data[: len(data) // 2])
    rc, err, out, left = _run_build(tmp_path, capsys, cut)
    assert rc == 2 and "cut.root" in err and len(err.splitlines()) == 1
    assert not out.exists() and not left


def test_missing_tree(tmp_path, capsys):
    records = make_records(GeneratorConfig(n_events=2))
    other = NtupleSchema(tracksters="trackstersmerged")
    path = write_records(records, tmp_path / "merged.root", other)
    rc, err, _, _ = _run_build(tmp_path, capsys, path)
    assert rc == 2 and "[ticlDumper/trackstersclue3d]: missing tree" in err
    # ... and the configurable tree name reads it
    ds = build_dataset([path], tmp_path / "ok", BuildConfig(workers=1, ntuple=other))
    assert load_dataset(ds).summary["events"] == 2


def test_missing_branch(tmp_path, capsys):
    records = make_records(GeneratorConfig(n_events=2))
    for r in records:
        del r["reco"]["EV2"]
    path = write_records(records, tmp_path / "noev2.root")
    rc, err, _, _ = _run_build(tmp_path, capsys, path)
    assert rc == 2 and "[ticlDumper/trackstersclue3d/EV2]: missing branch" in err


def test_empty_events_and_nan_rows_are_skipped_and_counted(tmp_path):
    records = make_records(GeneratorConfig(n_events=4, seed=1))
    empty = records[1]
    for k in list(empty["reco"]):
        empty["reco"][k] = 0 if k in ("NTracksters", "NClusters") else []
    empty["assoc"]["recoToSim"] = ([], [], [])
    n0 = len(records[2]["reco"]["raw_energy"])
    records[2]["reco"]["raw_energy"][0] = math.nan
    records[2]["reco"]["barycenter_x"][1] = math.inf
    path = write_records(records, tmp_path / "holes.root")
    s = load_dataset(build_dataset([path], tmp_path / "ds", BuildConfig(workers=1))).summary
    assert s["events"] == 3 and s["empty_events_skipped"] == 1 and s["nan_rows_skipped"] == 2
    assert n0 > 2


def test_library_error_names_file_and_field(tmp_path):
    with pytest.raises(InputError, match=r"nope\.root: no such file"):
        build_dataset([tmp_path / "nope.root"], tmp_path / "ds")
