import awkward as ak
import numpy as np
import pytest
import uproot

from ticl_fpga.data.schema import SIM_TRACKSTER_BRANCHES, TRACKSTER_BRANCHES, NtupleSchema
from ticl_fpga.data.synthetic import GeneratorConfig, generate


@pytest.fixture(scope="module")
def pu_file(tmp_path_factory):
    cfg = GeneratorConfig(n_events=6, pileup=140, seed=3, events_per_chunk=4)
    return generate(cfg, tmp_path_factory.mktemp("gen") / "pu140.root")


def test_plain_uproot_reads_the_ticldumper_schema(pu_file):
    s = NtupleSchema()
    with uproot.open(pu_file) as f:
        reco = f[f"{s.folder}/{s.tracksters}"]
        sim = f[f"{s.folder}/{s.simtracksters}"]
        assoc = f[f"{s.folder}/{s.associations}"]
        assert reco.num_entries == sim.num_entries == assoc.num_entries == 6  # two chunks appended
        for b in TRACKSTER_BRANCHES:
            assert b in reco.keys(), b
        for b in SIM_TRACKSTER_BRANCHES:
            assert b in sim.keys(), b
        for b in s.association_branches():
            assert b in assoc.keys(), b
        assert reco["raw_energy"].typename == "std::vector<float>"
        assert reco["vertices_x"].typename == "std::vector<std::vector<float>>"
        arr = reco.arrays(["raw_energy", "barycenter_z", "barycenter_eta", "NTracksters"])
        assert ak.all(ak.num(arr.raw_energy) == arr.NTracksters)


def test_geometry_and_pileup_are_realistic(pu_file):
    with uproot.open(pu_file) as f:
        arr = f["ticlDumper/trackstersclue3d"].arrays(
            ["barycenter_z", "barycenter_eta", "raw_energy"]
        )
    z = np.abs(ak.to_numpy(ak.flatten(arr.barycenter_z)))
    eta = np.abs(ak.to_numpy(ak.flatten(arr.barycenter_eta)))
    assert z.min() >= 319 and z.max() <= 521
    assert np.quantile(eta, 0.02) > 1.4 and np.quantile(eta, 0.98) < 3.1
    # both endcaps, hundreds of pileup tracksters per endcap at PU 140
    zs = ak.to_numpy(ak.flatten(arr.barycenter_z))
    assert (zs > 0).sum() / 6 > 150 and (zs < 0).sum() / 6 > 150
    assert np.median(ak.to_numpy(ak.flatten(arr.raw_energy))) < 5.0


def test_associations_are_consistent(pu_file):
    s = NtupleSchema()
    with uproot.open(pu_file) as f:
        a = f["ticlDumper/associations"].arrays()
        reco = f["ticlDumper/trackstersclue3d"].arrays(["raw_energy"])
    for ev in range(3):
        idx = a[s.assoc("recoToSim")][ev]
        score = ak.to_numpy(ak.flatten(a[s.assoc("recoToSim", "score")][ev]))
        shared = a[s.assoc("recoToSim", "sharedE")][ev]
        assert len(idx) == len(reco.raw_energy[ev])
        assert ((score >= 0) & (score <= 1)).all()
        tot = ak.to_numpy(ak.sum(shared, axis=1))
        assert (tot <= ak.to_numpy(reco.raw_energy[ev]) * 1.0001).all()
        # signal tracksters exist and some are shared between overlapping showers
        assert ak.sum(ak.num(idx) >= 1) >= 2


def test_generation_is_deterministic(tmp_path):
    cfg = GeneratorConfig(n_events=3, pileup=10, seed=7)
    a, b = generate(cfg, tmp_path / "a.root"), generate(cfg, tmp_path / "b.root")
    with uproot.open(a) as fa, uproot.open(b) as fb:
        ea = fa["ticlDumper/trackstersclue3d"]["raw_energy"].array()
        eb = fb["ticlDumper/trackstersclue3d"]["raw_energy"].array()
    assert ak.all(ak.flatten(ea) == ak.flatten(eb))
    other = generate(GeneratorConfig(n_events=3, pileup=10, seed=8), tmp_path / "c.root")
    with uproot.open(other) as fc:
        ec = fc["ticlDumper/trackstersclue3d"]["raw_energy"].array()
    assert len(ak.flatten(ec)) != len(ak.flatten(ea)) or not ak.all(
        ak.flatten(ec) == ak.flatten(ea)
    )


# --- event identity, event branch kinds, rename-proof split ------------------------------------


@pytest.mark.parametrize("writer", ["pyroot", "uproot"])
@pytest.mark.parametrize("kind", ["counter", "eventid", "absent"])
def test_event_branch_kinds_are_understood(tmp_path, kind, writer):
    from ticl_fpga.data.ntuple import iter_events
    from ticl_fpga.data.synthetic import GeneratorConfig, generate, pyroot_status

    if writer == "pyroot" and pyroot_status()[0] is None:
        pytest.skip(f"no PyROOT: {pyroot_status()[1]}")
    path = generate(
        GeneratorConfig(n_events=4, seed=3, event_branch=kind, run=7, writer=writer),
        tmp_path / "a.root",
    )
    evs = list(iter_events([path]))
    got = [(e.run, e.lumi, e.event) for e in evs]
    if kind == "eventid":
        assert got == [(7, 1, 1), (7, 1, 2), (7, 1, 3), (7, 1, 4)]
    else:
        assert got == [(0, 0, i) for i in range(4)]
    assert len({e.key for e in evs}) == 4


def test_event_identity_unique_across_files_and_split_survives_renaming(tmp_path):
    import shutil

    import torch

    from ticl_fpga.data.dataset import BuildConfig, build_dataset, load_dataset
    from ticl_fpga.data.synthetic import GeneratorConfig, generate

    # two files whose event counters both run 0..n-1
    a = generate(GeneratorConfig(n_events=12, seed=1), tmp_path / "a.root")
    b = generate(GeneratorConfig(n_events=12, seed=2), tmp_path / "b.root")
    cfg = BuildConfig(workers=1, split_key="event_id")
    ds = load_dataset(build_dataset([a, b], tmp_path / "ds", cfg))
    graphs = [g for s in ("train", "val", "test") for g in ds.split(s)]
    assert len(graphs) == 24
    assert len({g.event for g in graphs}) == 12  # the counters collide...
    assert len({g.event_key for g in graphs}) == 24  # ...the identities do not

    def splits(root):
        d = load_dataset(root)
        return {g.event_key: s for s in ("train", "val", "test") for g in d.split(s)}

    (tmp_path / "moved").mkdir()
    shutil.copy(a, tmp_path / "moved" / "renamed_a.root")
    shutil.copy(b, tmp_path / "moved" / "zz_b.root")
    moved = build_dataset(
        [tmp_path / "moved" / "zz_b.root", tmp_path / "moved" / "renamed_a.root"],
        tmp_path / "ds_moved",
        cfg,
    )
    assert splits(tmp_path / "ds") == splits(moved)
    # the legacy key (file name + entry) does change with the name: the test can fail
    legacy = BuildConfig(workers=1)
    s1 = build_dataset([a, b], tmp_path / "l1", legacy)
    s2 = build_dataset(
        [tmp_path / "moved" / "zz_b.root", tmp_path / "moved" / "renamed_a.root"],
        tmp_path / "l2",
        legacy,
    )
    assert splits(s1) != splits(s2)
    assert torch.is_tensor(graphs[0].x)
