from __future__ import annotations

import json

import numpy as np
import pytest

from ticl_fpga.errors import InputError
from ticl_fpga.evaluate.predict import edge_arrays, predict_scores
from ticl_fpga.evaluate.report import evaluate_run
from ticl_fpga.train.fit import load_trained_model

PNG = b"\x89PNG"


def test_evaluate_run_writes_report(run_dir, dataset_dir, tmp_path):
    out = tmp_path / "eval"
    summary = evaluate_run(run_dir, dataset_dir, "test", out)
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["edge"]["gnn"]["auc"] == pytest.approx(summary["edge"]["gnn"]["auc"])
    for name in ("roc.png", "scores.png", "efficiency_vs_energy.png", "efficiency_vs_eta.png"):
        assert (out / name).read_bytes()[:4] == PNG
    md = (out / "report.md").read_text()
    assert "geometric baseline" in md and "truth links" in md
    edges = np.load(out / "edges.npz")
    assert len(edges["gnn"]) == summary["edge"]["gnn"]["n_edges"]


def test_gnn_clearly_beats_baseline(run_dir, dataset_dir, tmp_path):
    s = evaluate_run(run_dir, dataset_dir, "test", tmp_path / "eval", plots=False)
    gnn, base = s["edge"]["gnn"], s["edge"]["baseline"]
    assert gnn["auc"] > base["auc"] + 0.05
    ev = s["event"]
    # merging helps over raw tracksters, and nothing beats the truth links
    assert ev["gnn_wp"]["efficiency"] > ev["no_merge"]["efficiency"]
    assert ev["truth"]["efficiency"] >= ev["gnn_wp"]["efficiency"]
    assert ev["gnn_wp"]["fake_fraction"] < ev["baseline"]["fake_fraction"]


def test_predict_scores_matches_per_event(run_dir, dataset_dir):
    from ticl_fpga.data.dataset import load_dataset

    model = load_trained_model(run_dir)
    graphs = load_dataset(dataset_dir).split("val")[:10]
    batched = predict_scores(model, graphs, batch_size=4)
    for g, s in zip(graphs, batched, strict=True):
        single = model.scores(g.x, g.edge_index, g.edge_attr).numpy()
        np.testing.assert_allclose(s, single, rtol=1e-5, atol=1e-6)
    arrays = edge_arrays(graphs, batched)
    assert arrays.scores.shape == arrays.labels.shape == arrays.event.shape


def test_feature_mismatch_is_input_error(run_dir, dataset_dir, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(dataset_dir, other)
    meta = json.loads((other / "meta.json").read_text())
    meta["edge_features"] = meta["edge_features"][::-1]
    (other / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="edge_features"):
        evaluate_run(run_dir, other, "test", tmp_path / "eval")


def test_cli_evaluate(run_dir, dataset_dir, tmp_path, capsys):
    from ticl_fpga.cli import main

    rc = main(
        [
            "-q",
            "evaluate",
            str(run_dir),
            "--dataset",
            str(dataset_dir),
            "--split",
            "val",
            "-o",
            str(tmp_path / "ev"),
            "--no-plots",
        ]
    )
    assert rc == 0
    assert "Edge level" in capsys.readouterr().out
    assert (tmp_path / "ev" / "summary.json").is_file()
