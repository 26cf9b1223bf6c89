"""The cmssw feature set: GNNTraining tree == computed from trackster trees, truth, TICLGraph."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ticl_fpga.data.dataset import BuildConfig, build_dataset, load_dataset
from ticl_fpga.data.features import CMSSW_EDGE_FEATURES, CMSSW_NODE_FEATURES, cmssw_edge_features
from ticl_fpga.data.synthetic import GeneratorConfig, generate
from ticl_fpga.data.truth import TruthConfig, dominant_sim, seed_match
from ticl_fpga.errors import InputError


def _by_event(root):
    ds = load_dataset(root)
    return ds, {int(g.event): g for s in ("train", "val", "test") for g in ds.split(s)}


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    """The same events, once with a GNNTraining tree and once without (same file name)."""
    base = tmp_path_factory.mktemp("cmssw")
    (base / "with").mkdir()
    (base / "without").mkdir()
    cfg = dict(n_events=16, pileup=10, seed=5)
    a = generate(GeneratorConfig(**cfg), base / "with" / "events.root")
    b = generate(GeneratorConfig(**cfg, gnn_training=False), base / "without" / "events.root")
    return base, a, b


def test_gnn_training_tree_equals_computed_features(two_files):
    base, a, b = two_files
    cfg = BuildConfig(
        workers=1, feature_set="cmssw", candidates={"source": "ticlgraph"}, truth={"rule": "seed"}
    )
    from ticl_fpga.data.cmssw import read_extras

    assert read_extras(a, cfg, 0, 2)[0].gnn is not None  # really read from GNNTraining
    assert read_extras(b, cfg, 0, 2)[0].gnn is None  # really computed
    da = build_dataset([a], base / "ds_with", cfg)
    db = build_dataset([b], base / "ds_without", cfg)
    ds_a, ga = _by_event(da)
    ds_b, gb = _by_event(db)
    assert ds_a.node_features == list(CMSSW_NODE_FEATURES) and len(ds_a.node_features) == 29
    assert ds_a.edge_features == list(CMSSW_EDGE_FEATURES) and len(ds_a.edge_features) == 5
    assert ga.keys() == gb.keys() and len(ga) == 16
    n_edges = 0
    for k in ga:
        assert torch.equal(ga[k].edge_index, gb[k].edge_index)
        assert torch.equal(ga[k].x, gb[k].x), k  # bit for bit
        assert torch.equal(ga[k].edge_attr, gb[k].edge_attr), k
        assert torch.equal(ga[k].node_sim, gb[k].node_sim)  # node_match_idx == seed rule
        assert torch.equal(ga[k].y, gb[k].y)
        n_edges += ga[k].edge_index.shape[1]
    assert n_edges > 100
    # features are physical: densities, counts, z range
    x = torch.cat([g.x for g in ga.values()]).numpy()
    col = {n: i for i, n in enumerate(CMSSW_NODE_FEATURES)}
    np.testing.assert_allclose(
        x[:, col["LC_density"]], x[:, col["num_LCs"]] / np.float32(282.0), rtol=1e-6
    )
    assert (x[:, col["num_hits"]] >= x[:, col["num_LCs"]]).all()
    assert (x[:, col["z_min"]] <= x[:, col["z_max"]]).all()


def test_geometric_candidates_give_the_same_node_features(two_files):
    """Without the GNNTraining tree and with geometric candidates the node features are the same."""
    base, a, _ = two_files
    cfg = BuildConfig(workers=1, feature_set="cmssw", gnn_training=False)
    d = build_dataset([a], base / "ds_geom", cfg)
    _, g = _by_event(d)
    cfg2 = BuildConfig(workers=1, feature_set="cmssw", candidates={"source": "ticlgraph"})
    d2 = build_dataset([a], base / "ds_graph", cfg2)
    _, g2 = _by_event(d2)
    # geometric candidates and TICLGraph candidates are the same rule in the generator
    k = next(iter(g))
    assert torch.equal(g[k].x, g2[k].x)


def test_edge_features_follow_the_dumper():
    n = {
        "raw_energy": np.array([10.0, 4.0], np.float32),
        "barycenter_z": np.array([330.0, 345.0], np.float32),
        "barycenter_x": np.array([10.0, 13.0], np.float32),
        "barycenter_y": np.array([20.0, 24.0], np.float32),
        "time": np.array([1.0, -99.0], np.float32),
        "eVector0_x": np.array([0.0, 0.0], np.float32),
        "eVector0_y": np.array([0.0, 1.0], np.float32),
        "eVector0_z": np.array([1.0, 0.0], np.float32),
    }
    ea = cmssw_edge_features(n, np.array([[0], [1]]))
    np.testing.assert_allclose(ea[0], [6.0, 15.0, 5.0, np.pi / 2, 100.0], rtol=1e-6)


def test_seed_truth_rule():
    # trackster 0: one score < 0.2 -> matched; 1: two pass -> unmatched; 2: none -> unmatched
    offsets = np.array([0, 2, 4, 5])
    sim = np.array([0, 1, 0, 1, 1])
    score = np.array([0.1, 0.5, 0.1, 0.15, 0.3])
    shared = np.ones(5)
    got, _ = seed_match(3, offsets, sim, score, shared)
    assert got.tolist() == [0, -1, -1]
    via_cfg, _ = dominant_sim(np.ones(3), offsets, sim, score, shared, TruthConfig(rule="seed"))
    assert via_cfg.tolist() == [0, -1, -1]
    dom, _ = dominant_sim(
        np.ones(3), offsets, sim, score, shared, TruthConfig(min_shared_fraction=0)
    )
    assert dom.tolist() == [0, 0, 1]  # the default rule: best score below 0.35, one or many


def test_missing_clusters_tree_is_a_clear_error(tmp_path):
    import uproot

    src = generate(GeneratorConfig(n_events=3, seed=1, gnn_training=False), tmp_path / "a.root")
    # copy without the clusters tree
    with uproot.open(src) as f, uproot.recreate(tmp_path / "b.root") as g:
        g.mkdir("ticlDumper")
        for name in ("trackstersclue3d", "simtrackstersCP", "associations"):
            g[f"ticlDumper/{name}"] = f[f"ticlDumper/{name}"].arrays()
    with pytest.raises(InputError, match="clusters"):
        build_dataset(
            [tmp_path / "b.root"], tmp_path / "ds", BuildConfig(workers=1, feature_set="cmssw")
        )


def test_ticlgraph_candidates_with_default_features(two_files):
    """candidates.source: ticlgraph works with the default feature set: the producer's edges."""
    base, a, _ = two_files
    cfg = BuildConfig(workers=1, candidates={"source": "ticlgraph"})
    ds, g = _by_event(build_dataset([a], base / "ds_default_graph", cfg))
    assert len(ds.node_features) == 19 and len(ds.edge_features) == 10
    import uproot

    with uproot.open(a) as f:
        outers = f["ticlDumper/graph"]["linked_outers"].array()
    k = min(g)
    n_graph = sum(len(x) for x in outers[k])
    assert g[k].edge_index.shape[1] == n_graph  # every TICLGraph edge, none added
