"""Benchmark stage ``bias``: the paired AUC difference and the previous bias convention."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ticl_fpga.bench.bias import (
    OwnScaleBiasLayers,
    markdown_section,
    paired_auc_difference,
    summary_rows,
)
from ticl_fpga.bench.report import summary_table
from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.data.synthetic import tiny_dataset
from ticl_fpga.model.gnn import build_float_model
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.qat import QATConfig, quantize_model
from ticl_fpga.quantize.qmodel import assert_fixed_point, linear_sources
from ticl_fpga.quantize.recipe import load_recipe

LABELS = [np.array([1, 0, 1, 0]), np.array([0, 1, 1]), np.array([1, 0, 0, 0, 1])]


def test_identical_scores_differ_by_exactly_zero():
    s = [np.linspace(0, 1, len(y)) for y in LABELS]
    d = paired_auc_difference([s, s], [s, s], LABELS, n_boot=50)
    assert d["difference"] == 0.0 and d["per_run"] == [0.0, 0.0]
    assert d["interval_95"] == [0.0, 0.0]


def test_perfect_versus_inverted_scores():
    perfect = [y.astype(float) for y in LABELS]
    inverted = [1.0 - y for y in LABELS]
    d = paired_auc_difference([inverted], [perfect], LABELS, n_boot=50)
    assert d["difference"] == 1.0  # AUC 1 minus AUC 0
    # every resample with both classes has the same difference; one-class resamples are dropped
    assert d["se_events"] == 0.0 and d["interval_68"] == [1.0, 1.0]
    assert 0 < d["n_bootstrap"] <= 50


def test_training_spread_widens_the_interval():
    """Two runs whose differences are +1 and 0: mean 0.5, standard error 0.5 from training."""
    perfect = [y.astype(float) for y in LABELS]
    inverted = [1.0 - y for y in LABELS]
    d = paired_auc_difference([inverted, perfect], [perfect, perfect], LABELS, n_boot=50)
    assert d["per_run"] == [1.0, 0.0] and d["difference"] == 0.5
    assert d["se_training"] == 0.5
    assert d["interval_68"][0] <= 0.0 and d["interval_68"][1] >= 1.0


def test_runs_must_pair():
    s = [np.zeros(len(y)) for y in LABELS]
    with pytest.raises(ValueError, match="same number"):
        paired_auc_difference([s], [s, s], LABELS)


RESULT = {
    "conventions": {"accumulator": "a", "own_scale": "o"},
    "n_test_events": 32,
    "n_test_edges": 1234,
    "qat_epochs": 4,
    "n_seeds": 3,
    "auc_float": 0.93,
    "recipes": {
        "w6a6": {
            "auc_own_scale": 0.9297,
            "auc_accumulator": 0.9318,
            "accumulator_minus_own_scale": {
                "difference": 0.0021,
                "interval_68": [-0.001, 0.005],
                "interval_95": [-0.004, 0.008],
                "n_bootstrap": 300,
            },
        }
    },
}


def test_summary_row_and_section():
    ((name, value, target),) = summary_rows(RESULT)
    assert name.startswith("bias convention, w6a6") and "32 events, 3 QAT seeds" in name
    assert value == "0.9297 -> 0.9318 (diff +0.0021, 95 % [-0.0040, +0.0080])"
    assert "bias convention, w6a6" in summary_table({"bias": RESULT})
    text = "\n".join(markdown_section(RESULT))
    assert "| w6a6" in text and "[-0.0010, +0.0050]" in text and "1234 edges" in text


@pytest.mark.slow
def test_own_scale_biases_are_off_the_accumulator_grid(tmp_path):
    """The compared convention really is different: some bias scale is not input x weight scale."""
    ds = load_dataset(tiny_dataset(tmp_path, n_events=24, seed=5))
    train = ds.split("train")
    spec = GNNSpec(
        node_dim=len(ds.node_features),
        edge_dim=len(ds.edge_features),
        node_hidden=16,
        edge_hidden=8,
        head_hidden=8,
        niters=1,
    )
    torch.manual_seed(0)
    fm = build_float_model(spec).eval()
    cfg = QATConfig(epochs=0, batch_size=8, calib_batches=2)
    recipe = load_recipe("w6a6")
    models = {
        "own": quantize_model(fm, recipe, train, config=cfg, layers=OwnScaleBiasLayers),
        "acc": quantize_model(fm, recipe, train, config=cfg),
    }
    tied = {}
    for key, m in models.items():
        by = {(r["layer"], r["tensor"]): r for r in assert_fixed_point(m)}
        tied[key] = [
            by[(layer, "bias")]["log2_scale"]
            == min(by[(s, "act")]["log2_scale"] for s in sources)
            + by[(layer, "weight")]["log2_scale"]
            for layer, sources in linear_sources(m).items()
        ]
    assert all(tied["acc"])
    assert not all(tied["own"])
