"""Evaluating a run on the cmssw feature set: no geometric baseline, no fake baseline row or plot."""

from __future__ import annotations

import json

import numpy as np

from ticl_fpga.data.dataset import BuildConfig, build_dataset
from ticl_fpga.data.synthetic import GeneratorConfig, generate
from ticl_fpga.evaluate.report import evaluate_run
from ticl_fpga.train.config import load_train_config
from ticl_fpga.train.fit import fit


def test_evaluate_cmssw_run_without_baseline(tmp_path):
    root = generate(GeneratorConfig(n_events=30, seed=6), tmp_path / "ev.root")
    cfg = BuildConfig(workers=1, feature_set="cmssw", split_fractions=(0.6, 0.2, 0.2))
    ds = build_dataset([root], tmp_path / "ds", cfg)
    tcfg = load_train_config("quick")
    tcfg.epochs, tcfg.progress_bar = 1, False
    run = fit(ds, tcfg, tmp_path / "run")
    summary = evaluate_run(run, ds, "test", tmp_path / "eval")
    assert summary["edge"]["baseline"] is None and summary["event"]["baseline"] is None
    assert summary["gnn_beats_baseline"] is None
    assert "scores_baseline.png" not in summary["plots"] and "roc.png" in summary["plots"]
    md = (tmp_path / "eval" / "report.md").read_text()
    assert "No geometric baseline" in md and "| geometric baseline |" not in md
    assert np.isnan(np.load(tmp_path / "eval" / "edges.npz")["baseline"]).all()
    assert json.loads((tmp_path / "eval" / "summary.json").read_text())["models"][0]["parameters"]
