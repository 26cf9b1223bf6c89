"""Pareto scan outputs and the quantization benchmark summary."""

from __future__ import annotations

import json

from ticl_fpga.quantize.benchmark import quantization_benchmark
from ticl_fpga.quantize.prune import AtLeast, PruneConfig
from ticl_fpga.quantize.qat import load_quant_model
from ticl_fpga.quantize.recipe import PruneTarget
from ticl_fpga.quantize.scan import pareto_front, run_scan

from .conftest import FAST


def test_pareto_front():
    rows = [
        {"bops_per_graph": 10, "m": 0.9},
        {"bops_per_graph": 5, "m": 0.8},
        {"bops_per_graph": 6, "m": 0.7},  # dominated by the second
        {"bops_per_graph": 20, "m": 0.9},  # dominated by the first
    ]
    assert pareto_front(rows, "m") == [True, True, False, False]


def test_scan_writes_table_plot_and_models(float_model, splits, tmp_path):
    doc = run_scan(
        float_model,
        ["w4a4"],
        splits["train"],
        splits["val"],
        tmp_path / "scan",
        target=[PruneTarget(metric="auc", tolerance=0.5), AtLeast("agreement", 0.5)],
        config=PruneConfig(schedule=[0.5, 0.9], finetune_epochs=1, stop_at_failure=False),
        qat=FAST,
    )
    out = tmp_path / "scan"
    on_disk = json.loads((out / "scan.json").read_text())
    assert on_disk["rows"] == json.loads(json.dumps(doc["rows"]))
    recipes = [r["recipe"] for r in doc["rows"]]
    assert recipes == ["float", "w4a4", "w4a4", "w4a4"]
    for r in doc["rows"]:
        for key in (
            "sparsity",
            "auc",
            "edge_efficiency_at_purity",
            "purity",
            "bops_per_graph",
            "nonzero_weights",
            "dsp_per_edge",
            "lut_per_node",
            "agreement",
            "pareto",
        ):
            assert key in r
    assert doc["rows"][0]["agreement"] == 1.0, "the float model agrees with itself"
    for r in doc["rows"][1:]:
        assert 0.5 < r["agreement"] <= 1.0
        assert r["passed"] == all(r["checks"].values())
        assert set(r["checks"]) == {"auc within 50% of unpruned", "agreement >= 0.5"}
    assert doc["selected"]["w4a4"]["target"] == "auc within 50% of unpruned and agreement >= 0.5"
    q = [r for r in doc["rows"] if r["recipe"] == "w4a4"]
    assert [round(r["sparsity"], 1) for r in q] == [0.0, 0.5, 0.9]
    assert q[0]["bops_per_graph"] > q[1]["bops_per_graph"] > q[2]["bops_per_graph"]
    assert any(r["pareto"] for r in doc["rows"])
    md = (out / "scan.md").read_text()
    assert "| recipe |" in md and "w4a4" in md and "| agreement |" in md
    assert (out / "scan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no temporary files left"
    model = load_quant_model(out / doc["selected"]["w4a4"]["model_dir"])
    assert model.spec == float_model.spec


def test_quantization_benchmark(float_model, splits):
    res = quantization_benchmark(
        float_model,
        splits["train"],
        splits["val"],
        splits["test"],
        target=PruneTarget(metric="auc", tolerance=0.2),
        prune=PruneConfig(schedule=[0.5, 0.8], finetune_epochs=1),
        qat=FAST,
    )
    assert res["recipe"] == "w6a6" and res["eval_split"] == "test"
    for key in (
        "auc_float",
        "auc_quant",
        "event_efficiency_float",
        "event_efficiency_quant",
        "sparsity",
        "bops_ratio_vs_16bit_dense",
    ):
        assert isinstance(res[key], float)
    assert res["bops_ratio_vs_16bit_dense"] > 4.0  # 6-bit alone is ~5x below 16-bit dense
    assert set(res["passed"]) == {"auc", "event_efficiency", "sparsity", "bops"}
    json.dumps(res)


def test_quantization_benchmark_of_a_model_against_itself(float_model, splits):
    """Known answer: a quantized model compared with itself loses nothing; unpruned, no sparsity."""
    import torch

    from ticl_fpga.quantize.qmodel import (
        build_quant_model,
        finalize_calibration,
        load_float_weights,
    )
    from ticl_fpga.quantize.recipe import load_recipe

    qmodel = build_quant_model(float_model.spec, load_recipe("w6a6"))
    load_float_weights(qmodel, float_model.state_dict())
    qmodel.train()
    with torch.no_grad():
        for g in splits["train"][:8]:
            qmodel(g.x, g.edge_index, g.edge_attr)
    finalize_calibration(qmodel)
    qmodel.eval()
    res = quantization_benchmark(
        qmodel, splits["train"], splits["val"], splits["test"], quant_model=qmodel
    )
    assert res["recipe"] == "w6a6" and res["prune"] is None
    assert res["auc_float"] == res["auc_quant"] and 0.5 < res["auc_float"] <= 1.0
    assert res["auc_drop"] == 0.0 and res["relative_auc_drop"] == 0.0
    assert res["event_efficiency_drop"] == 0.0 and res["relative_event_efficiency_drop"] == 0.0
    assert res["sparsity"] == 0.0
    assert res["passed"]["auc"] and res["passed"]["event_efficiency"]
    assert not res["passed"]["sparsity"]  # the target asks for 80 %
