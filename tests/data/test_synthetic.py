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
