import glob

import numpy as np
import pytest
import torch

from ticl_fpga.cli import main
from ticl_fpga.data.candidates import CandidateConfig, candidate_edges
from ticl_fpga.data.dataset import BuildConfig, build_dataset, load_dataset
from ticl_fpga.data.features import EDGE_FEATURES, NODE_FEATURES
from ticl_fpga.data.synthetic import GeneratorConfig, generate


def test_graphs_follow_the_contract(tiny_ds):
    ds = load_dataset(tiny_ds)
    assert ds.node_features == list(NODE_FEATURES) and ds.edge_features == list(EDGE_FEATURES)
    train = ds.split("train")
    assert len(train) == ds.summary["events_per_split"]["train"] > 0
    for g in train:
        n, e = g.x.shape[0], g.edge_index.shape[1]
        assert g.x.dtype == torch.float32 and g.x.shape[1] == len(NODE_FEATURES)
        assert g.edge_index.dtype == torch.int64 and g.edge_attr.shape == (e, len(EDGE_FEATURES))
        assert g.y.shape == (e,) and set(g.y.unique().tolist()) <= {0.0, 1.0}
        assert g.node_sim.shape == (n,) and g.node_energy.shape == (n,)
        if e:
            assert int(g.edge_index.max()) < n
            # z ordering: src is nearer the interaction point
            absz = g.x[:, NODE_FEATURES.index("abs_z")]
            assert (absz[g.edge_index[0]] <= absz[g.edge_index[1]]).all()
        # labels agree with node truth
        s = g.node_sim
        same = (s[g.edge_index[0]] == s[g.edge_index[1]]) & (s[g.edge_index[0]] >= 0)
        assert torch.equal(same.float(), g.y)


def test_splits_are_eventwise_and_scalers_come_from_train(tiny_ds):
    ds = load_dataset(tiny_ds)
    events = {s: {g.event for g in ds.split(s)} for s in ("train", "val", "test")}
    assert not (events["train"] & events["val"]) and not (events["train"] & events["test"])
    x = torch.cat([g.x for g in ds.split("train")]).double()
    np.testing.assert_allclose(ds.scalers["node_mean"], x.mean(0).numpy(), rtol=1e-4, atol=1e-4)


def test_candidate_edges_cone_cap_and_endcaps():
    rng = np.random.default_rng(0)
    n = 200
    eta = rng.uniform(1.5, 3.0, n) * np.where(np.arange(n) < 100, 1, -1)
    phi = rng.uniform(-np.pi, np.pi, n)
    z = np.sign(eta) * rng.uniform(320, 500, n)
    cfg = CandidateConfig(cone_dr=0.3, max_neighbours=4)
    ei = candidate_edges(eta, phi, z, cfg)
    src, dst = ei
    assert (np.sign(z[src]) == np.sign(z[dst])).all()
    dphi = np.mod(phi[dst] - phi[src] + np.pi, 2 * np.pi) - np.pi
    assert (np.hypot(eta[dst] - eta[src], dphi) <= 0.3 + 1e-9).all()
    assert (np.abs(z[src]) <= np.abs(z[dst])).all()
    assert len({tuple(p) for p in ei.T}) == ei.shape[1]  # each pair once
    assert np.bincount(np.r_[src, dst], minlength=n).max() <= 2 * 4
    # phi wraps: two tracksters across +-pi are neighbours
    e2 = candidate_edges(
        np.array([2.0, 2.0]), np.array([3.13, -3.13]), np.array([330.0, 340.0]), cfg
    )
    assert e2.shape == (2, 1)


def test_multiple_files_and_globs(tmp_path):
    for i in range(2):
        generate(GeneratorConfig(n_events=5, seed=i), tmp_path / f"f{i}.root")
    out = build_dataset([str(tmp_path / "f*.root")], tmp_path / "ds", BuildConfig(workers=1))
    assert load_dataset(out).summary["events"] == 10


def test_cli_generate_build_summary(tmp_path, capsys):
    root = tmp_path / "g.root"
    assert main(["data", "generate", "-o", str(root), "-n", "12", "--pileup", "20"]) == 0
    assert main(["data", "build", str(root), "-o", str(tmp_path / "ds"), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "candidate efficiency" in out and "positive edges" in out
    assert main(["data", "summary", str(tmp_path / "ds")]) == 0
    assert not glob.glob(str(tmp_path / ".*tmp"))


@pytest.mark.parametrize("pileup", [0, 200], ids=["pu0", "pu200"])
def test_summary_numbers(tmp_path, pileup):
    root = generate(GeneratorConfig(n_events=4, pileup=pileup, seed=2), tmp_path / "x.root")
    s = load_dataset(build_dataset([root], tmp_path / "ds", BuildConfig(workers=1))).summary
    assert s["events"] == 4
    assert 0 < s["positive_edge_fraction"] < 1
    assert 0.5 < s["candidate_efficiency"] <= 1
    if pileup:
        assert s["nodes_per_event_mean"] > 400
        assert s["positive_edge_fraction"] < 0.05


def test_parallel_build_equals_serial_build(tmp_path):
    root = generate(GeneratorConfig(n_events=14, pileup=30, seed=4), tmp_path / "p.root")
    a = load_dataset(build_dataset([root], tmp_path / "a", BuildConfig(workers=1, step_size=3)))
    b = load_dataset(build_dataset([root], tmp_path / "b", BuildConfig(workers=2, step_size=3)))
    assert a.meta["summary"] == b.meta["summary"] and a.meta["scalers"] == b.meta["scalers"]
    for split in ("train", "val", "test"):
        for ga, gb in zip(a.split(split), b.split(split), strict=True):
            assert ga.event == gb.event
            assert torch.equal(ga.x, gb.x) and torch.equal(ga.edge_index, gb.edge_index)
            assert torch.equal(ga.y, gb.y) and torch.equal(ga.sim_energy, gb.sim_energy)


def test_max_events_spans_chunks(tmp_path):
    root = generate(GeneratorConfig(n_events=10, seed=6), tmp_path / "m.root")
    ds = build_dataset([root], tmp_path / "m", BuildConfig(workers=2, step_size=3, max_events=7))
    assert load_dataset(ds).summary["events"] == 7
