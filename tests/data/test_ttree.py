"""Ntuples as CMSSW writes them: every tree a TTree (PyROOT), read like the uproot RNTuple files.

The generator writes TTrees through PyROOT (the ``root`` extra) and falls back to uproot (RNTuples
for the trees with ``std::vector<std::vector<T>>`` branches) without it.  These tests need PyROOT
and are skipped, visibly, where it is not installed.
"""

from __future__ import annotations

import logging

import pytest
import torch
import uproot

from ticl_fpga.data import synthetic
from ticl_fpga.data.dataset import BuildConfig, build_dataset, load_dataset
from ticl_fpga.data.ntuple import _event_ids, _event_kind, iter_events
from ticl_fpga.data.synthetic import GeneratorConfig, generate
from ticl_fpga.errors import MissingDependencyError

ROOT, WHY = synthetic.pyroot_status()
needs_root = pytest.mark.skipif(ROOT is None, reason=f"no PyROOT: {WHY}")

#: uproot adds a counter branch per jagged TTree branch (``n<name>``); the dumper does not
_UPROOT_COUNTERS = ("ncluster_number_of_hits", "nposition_z")


def _trees(path):
    with uproot.open(path) as f:
        return {k.split(";")[0]: c for k, c in f.classnames().items() if c != "TDirectory"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same events written by both writers, under the same file name in two folders."""
    base = tmp_path_factory.mktemp("writers")
    cfg = dict(n_events=18, pileup=20, seed=11, events_per_chunk=7)
    out = {}
    for w in ("pyroot", "uproot"):
        (base / w).mkdir()
        if w == "pyroot" and ROOT is None:
            continue
        out[w] = generate(GeneratorConfig(**cfg, writer=w), base / w / "events.root")
    return base, out


@needs_root
def test_every_tree_is_a_ttree_with_the_dumpers_types(pair):
    _, files = pair
    trees = _trees(files["pyroot"])
    assert set(trees) == {
        "ticlDumper/trackstersclue3d",
        "ticlDumper/simtrackstersCP",
        "ticlDumper/associations",
        "ticlDumper/graph",
        "ticlDumper/clusters",
        "ticlDumperGNN/GNNTraining",
    }
    assert set(trees.values()) == {"TTree"}
    # the uproot fallback: only the singly-jagged clusters tree is a TTree
    fallback = _trees(files["uproot"])
    assert fallback.pop("ticlDumper/clusters") == "TTree"
    assert set(fallback.values()) == {"ROOT::RNTuple"}
    with uproot.open(files["pyroot"]) as f:
        reco = f["ticlDumper/trackstersclue3d"]
        assert reco["event"].typename == "uint64_t"
        assert reco["NTracksters"].typename == "uint32_t"
        assert reco["raw_energy"].typename == "std::vector<float>"
        assert reco["vertices_indexes"].typename == "std::vector<std::vector<uint32_t>>"
        assert reco["id_probabilities"].typename == "std::vector<std::vector<float>>"
        assoc = f["ticlDumper/associations"]
        assert assoc["tsCLUE3D_recoToSim_CP"].typename == "std::vector<std::vector<uint32_t>>"
        assert f["ticlDumper/graph"]["isRootTrackster"].typename == "std::vector<bool>"
        gnn = f["ticlDumperGNN/GNNTraining"]
        assert gnn["edge_label"].typename == "std::vector<std::vector<int32_t>>"
        assert gnn["node_match_idx"].typename == "std::vector<int32_t>"
        assert "nvertices_indexes" not in reco.keys()  # no uproot counter branches
        # the file UUID (what split_key: event_id hashes) follows the config, not the writer
        with uproot.open(files["uproot"]) as g:
            assert f.file.uuid == g.file.uuid


@needs_root
def test_both_writers_store_the_same_values(pair):
    _, files = pair
    with uproot.open(files["pyroot"]) as a, uproot.open(files["uproot"]) as b:
        for path in _trees(files["pyroot"]):
            ta, tb = a[path], b[path]
            assert ta.num_entries == tb.num_entries == 18
            xa, xb = ta.arrays(), tb.arrays()
            fields = [f for f in xb.fields if f not in _UPROOT_COUNTERS]
            assert sorted(xa.fields) == sorted(fields), path
            for name in fields:
                assert str(xa[name].type) == str(xb[name].type), (path, name)
                assert xa[name].tolist() == xb[name].tolist(), (path, name)


@needs_root
@pytest.mark.slow
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"feature_set": "cmssw", "candidates": {"source": "ticlgraph"}, "truth": {"rule": "seed"}},
    ],
    ids=["default", "cmssw"],
)
def test_data_build_on_ttrees_equals_build_on_rntuples(pair, extra):
    base, files = pair
    name = "-".join(extra) or "default"
    ds = {}
    for w, path in files.items():
        root = build_dataset([path], base / f"ds_{w}_{name}", BuildConfig(workers=1, **extra))
        ds[w] = load_dataset(root)
    n = 0
    for split in ("train", "val", "test"):
        ga, gb = ds["pyroot"].split(split), ds["uproot"].split(split)
        assert len(ga) == len(gb)
        for a, b in zip(ga, gb, strict=True):
            assert sorted(a.keys()) == sorted(b.keys())
            for key in a.keys():
                va, vb = a[key], b[key]
                if torch.is_tensor(va):
                    assert va.dtype == vb.dtype and torch.equal(va, vb), key  # bit for bit
                else:
                    assert va == vb, key
            n += a.edge_index.shape[1]
    assert n > 100
    sa, sb = dict(ds["pyroot"].summary), dict(ds["uproot"].summary)
    for s in (sa, sb):
        s.pop("inputs", None)
    assert sa == sb


@needs_root
def test_eventid_ttree_branch_from_the_generator(tmp_path):
    path = generate(
        GeneratorConfig(n_events=5, seed=3, event_branch="eventid", run=9, writer="pyroot"),
        tmp_path / "a.root",
    )
    with uproot.open(path) as f:
        reco = f["ticlDumper/trackstersclue3d"]
        assert reco["event"].typename == "edm::EventID"
        assert [b.name for b in reco["event"].branches] == ["run_", "luminosityBlock_", "event_"]
        assert _event_kind(reco) == "split"
    got = [(e.run, e.lumi, e.event) for e in iter_events([path], step_size=2)]
    assert got == [(9, 1, i) for i in range(1, 6)]


@needs_root
@pytest.mark.parametrize("split", [99, 0], ids=["split", "unsplit"])
def test_eventid_branch_written_by_plain_pyroot(tmp_path, split):
    """An edm::EventID branch filled from Python the way a dumper fills it, split or not."""
    path = str(tmp_path / "ev.root")
    f = ROOT.TFile(path, "RECREATE")
    t = ROOT.TTree("trackstersclue3d", "trackstersclue3d")
    ev = ROOT.edm.EventID(0, 0, 0)
    t.Branch("event", ev, 32000, split)
    energies = ROOT.std.vector["float"]()
    t.Branch("raw_energy", energies)
    for i in range(7):
        ev.__assign__(ROOT.edm.EventID(3, 10 + i // 4, 1000 + i))
        energies.clear()
        energies.push_back(float(i))
        t.Fill()
    f.Write()
    f.Close()
    with uproot.open(path) as g:
        tree = g["trackstersclue3d"]
        kind = _event_kind(tree)
        assert kind == ("split" if split else "record")
        names = [f"event/{b.name}" for b in tree["event"].branches] if split else ["event"]
        arr = tree.arrays(names)
    run, lumi, event = _event_ids(arr, kind, 0, 7)
    assert run.tolist() == [3] * 7
    assert lumi.tolist() == [10, 10, 10, 10, 11, 11, 11]
    assert event.tolist() == list(range(1000, 1007))


def test_without_pyroot_auto_falls_back_and_pyroot_says_why(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(synthetic, "_PYROOT", {"module": None, "why": "PyROOT is not installed"})
    with caplog.at_level(logging.INFO, logger="ticl_fpga.data.synthetic"):
        path = generate(GeneratorConfig(n_events=3, seed=1), tmp_path / "auto.root")
    assert "PyROOT is not installed: writing RNTuples with uproot" in caplog.text
    assert _trees(path)["ticlDumper/trackstersclue3d"] == "ROOT::RNTuple"
    with pytest.raises(MissingDependencyError, match="writer: pyroot needs PyROOT"):
        generate(GeneratorConfig(n_events=3, writer="pyroot"), tmp_path / "p.root")
    assert not (tmp_path / "p.root").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["auto.root"]  # nothing half-written


@needs_root
def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    calls = []
    real = synthetic._chunk_trees

    def fail_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the ROOT file is open and holds a first chunk
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(synthetic, "_chunk_trees", fail_on_second_chunk)
    cfg = GeneratorConfig(n_events=5, events_per_chunk=2, writer="pyroot")
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate(cfg, tmp_path / "x.root")
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    # the writer stays usable in this process
    ok = generate(cfg, tmp_path / "y.root")
    assert len(uproot.open(ok)["ticlDumper/trackstersclue3d"]["raw_energy"].array()) == 5
