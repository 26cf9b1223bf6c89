"""``data build`` on broken TICLDumper files: every branch is checked where it is read."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from tests.bad_input.conftest import one_error, snapshot, unchanged
from tests.bad_input.roots import ASSOC, RECO, SCHEMA, SIM, broken, set_inner

R2S = SCHEMA.assoc("recoToSim")
R2S_SCORE = SCHEMA.assoc("recoToSim", "score")
R2S_E = SCHEMA.assoc("recoToSim", "sharedE")


def _longer(arr: ak.Array) -> ak.Array:
    """One extra value in every event (what once slid values across events)."""
    return ak.values_astype(ak.Array([[*ev, 1.0] for ev in ak.to_list(arr)]), np.float32)


def _first_event_with_assoc(trees) -> tuple[int, int]:
    for i, ev in enumerate(ak.to_list(trees[ASSOC][R2S])):
        for j, row in enumerate(ev):
            if row:
                return i, j
    raise AssertionError("no association")


def _bool(t):
    t[RECO]["raw_energy"] = t[RECO]["raw_energy"] > 1


def _int(t):
    t[RECO]["barycenter_x"] = ak.values_astype(t[RECO]["barycenter_x"], np.int32)


def _deeper(t):
    t[RECO]["EV1"] = ak.values_astype(
        ak.Array([[[v] for v in ev] for ev in ak.to_list(t[RECO]["EV1"])]), np.float32
    )


def _flat_assoc(t):
    t[ASSOC][R2S_SCORE] = ak.values_astype(ak.flatten(t[ASSOC][R2S_SCORE], axis=2), np.float32)


def _one_longer(t):
    t[RECO]["EV2"] = _longer(t[RECO]["EV2"])


def _sim_longer(t):
    t[SIM]["barycenter_eta"] = _longer(t[SIM]["barycenter_eta"])


def _index_out_of_range(t):
    i, j = _first_event_with_assoc(t)
    t[ASSOC][R2S] = set_inner(t[ASSOC][R2S], i, j, 0, 4_000_000_000)


def _nan_score(t):
    i, j = _first_event_with_assoc(t)
    t[ASSOC][R2S_SCORE] = set_inner(t[ASSOC][R2S_SCORE], i, j, 0, float("nan"))


def _nan_shared(t):
    i, j = _first_event_with_assoc(t)
    t[ASSOC][R2S_E] = set_inner(t[ASSOC][R2S_E], i, j, 0, float("nan"))


def _missing_row(t):
    lst = ak.to_list(t[ASSOC][R2S])
    lst[1] = lst[1][:-1]
    t[ASSOC][R2S] = ak.values_astype(ak.Array(lst), np.uint32)


def _score_missing_value(t):
    i, j = _first_event_with_assoc(t)
    lst = ak.to_list(t[ASSOC][R2S_SCORE])
    lst[i][j] = lst[i][j][:-1]
    t[ASSOC][R2S_SCORE] = ak.values_astype(ak.Array(lst), np.float32)


CASES = {
    "bool_for_float": (_bool, "trackstersclue3d/raw_energy", "std::vector<bool>"),
    "int_for_float": (_int, "trackstersclue3d/barycenter_x", "int32"),
    "too_deep": (_deeper, "trackstersclue3d/EV1", "std::vector<std::vector<float>>"),
    "not_deep_enough": (_flat_assoc, f"associations/{R2S_SCORE}", "expected float"),
    "one_value_longer": (_one_longer, "trackstersclue3d/EV2", "entry 0"),
    "sim_one_longer": (_sim_longer, "simtrackstersCP/barycenter_eta", "entry 0"),
    "index_outside_sim": (_index_out_of_range, f"associations/{R2S}", "4000000000"),
    "nan_score": (_nan_score, f"associations/{R2S_SCORE}", "NaN"),
    "nan_shared_energy": (_nan_shared, f"associations/{R2S_E}", "NaN"),
    "assoc_row_missing": (_missing_row, f"associations/{R2S}", "entry 1"),
    "score_value_missing": (_score_missing_value, f"associations/{R2S_SCORE}", "entry"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_branch(case, good_root, tmp_path, cli):
    edit, field, what = CASES[case]
    bad = broken(good_root, tmp_path / f"{case}.root", edit)
    before = snapshot(tmp_path)
    rc, err = cli("data", "build", bad, "-o", tmp_path / "ds", "--workers", "1")
    one_error(rc, err, f"{case}.root", field, what)
    unchanged(before, tmp_path)


def test_sc_associations_with_cp_sim_tree(good_root, tmp_path, cli):
    cfg = tmp_path / "sc.yaml"
    cfg.write_text("ntuple:\n  association_suffix: SC\n")
    before = snapshot(tmp_path)
    rc, err = cli("data", "build", good_root, "-o", tmp_path / "ds", "--config", cfg)
    one_error(rc, err, "good.root", "'SC'", "simtrackstersCP")
    unchanged(before, tmp_path)


def test_same_file_twice(good_root, tmp_path, cli):
    link = tmp_path / "again.root"
    link.symlink_to(good_root)
    rc, err = cli("data", "build", good_root, link, "-o", tmp_path / "ds")
    one_error(rc, err, "again.root", "given twice")
    rc, err = cli(
        "data", "build", good_root, str(good_root.parent / "*.root"), "-o", tmp_path / "ds"
    )
    one_error(rc, err, "given twice")
    assert not (tmp_path / "ds").exists()


def test_existing_name_with_bracket_is_not_a_glob(good_root, tmp_path, cli):
    odd = tmp_path / "run[1].root"
    odd.write_bytes(good_root.read_bytes())
    (tmp_path / "run1.root").write_text("not ROOT")  # what the glob '[1]' would match
    rc, err = cli("data", "build", odd, "-o", tmp_path / "ds", "--workers", "1")
    assert rc == 0, err
    from ticl_fpga.data.dataset import load_dataset

    assert load_dataset(tmp_path / "ds").meta["sources"] == [str(odd)]


def test_folder_as_input(tmp_path, cli):
    (tmp_path / "dir.root").mkdir()
    rc, err = cli("data", "build", tmp_path / "dir.root", "-o", tmp_path / "ds")
    one_error(rc, err, "dir.root", "folder")


def test_graph_building_keeps_the_callers_signal_handlers(good_root, tmp_path):
    """The pool initialiser must never run in the parent (it used to ignore Ctrl-C for good)."""
    import signal

    from ticl_fpga.data.dataset import BuildConfig, build_dataset

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    build_dataset([good_root], tmp_path / "ds", BuildConfig(workers=1))
    build_dataset([good_root], tmp_path / "ds2", BuildConfig(workers=2, step_size=10))
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
