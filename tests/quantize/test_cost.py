"""BOPs (Hawks et al. 2021), non-zero weights and the measured-cost FPGA model."""

from __future__ import annotations

import math

import pytest

from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.cost import (
    layer_bops,
    layer_resources,
    model_cost,
    reference_bops,
)
from ticl_fpga.quantize.recipe import load_recipe

SPEC = GNNSpec(node_dim=19, edge_dim=10, node_hidden=16, edge_hidden=8, head_hidden=8, niters=2)


def test_layer_bops_formula():
    # m=4 outputs, n=8 inputs, half pruned, 6x6 bits
    assert layer_bops(4, 8, 0.5, 6, 6) == pytest.approx(4 * 8 * (0.5 * 36 + 6 + 6 + 3))
    assert layer_bops(4, 8, 0.0, 16, 16) == pytest.approx(32 * (256 + 32 + 3))


def test_bops_per_graph_counts_node_and_edge_layers():
    cost = model_cost(SPEC, None, n_nodes=10, n_edges=30, bits=16)
    expected = 0.0
    for name, (fan_in, fan_out) in SPEC.linear_shapes().items():
        runs = 10 if SPEC.linear_kind(name) == "node" else 30
        expected += runs * fan_out * fan_in * (256 + 32 + math.log2(fan_in))
    assert cost["bops_per_graph"] == pytest.approx(expected)
    assert cost["bops_per_graph"] == pytest.approx(reference_bops(SPEC, n_nodes=10, n_edges=30))
    assert cost["sparsity"] == 0.0


def test_quantization_and_pruning_lower_bops():
    ref = reference_bops(SPEC, n_nodes=10, n_edges=30)
    recipe = load_recipe("w4a4")
    dense = model_cost(SPEC, recipe, n_nodes=10, n_edges=30)
    half = {k: (a * b) // 2 for k, (a, b) in SPEC.linear_shapes().items()}
    pruned = model_cost(SPEC, recipe, n_nodes=10, n_edges=30, nonzero=half)
    assert ref > dense["bops_per_graph"] > pruned["bops_per_graph"]
    assert pruned["nonzero_weights"] == sum(half.values())
    f = pruned["fpga"]
    assert f["per_edge"]["nonzero_weights"] + f["per_node"]["nonzero_weights"] == sum(half.values())
    # measured-cost model: fewer weights and fewer bits cost fewer LUTs; DA uses no DSP
    assert 0 < f["lut"] < dense["fpga"]["lut"]
    assert f["lut"] == f["per_edge"]["lut"] + f["per_node"]["lut"]
    assert f["dsp"] == 0 and "Yosys" in f["source"]


def test_layer_resources_follow_the_fit():
    from ticl_fpga.rtl.cost_model import coefficients

    k = coefficients()["coefficients"]
    r = layer_resources(64, 32, 409, 6, 6)  # dense 64 -> 32, 80 % sparse, 6 bits
    ops = 409 * (6 + 1) / 3  # input bits 6; weight bits 6 + log2(64)
    lut = ops * (k["lut_per_op_input_bit"] * 6 + k["lut_per_op_weight_bit"] * (6 + 6))
    assert r["lut"] == pytest.approx(lut)
    assert r["dsp"] == 0  # the retired rule said 403 DSP for this layer
    assert layer_resources(64, 32, 0, 6, 6)["lut"] == 0
    assert layer_resources(64, 32, 2048, 16, 16)["lut"] > 10 * r["lut"]


def test_fit_error_is_stated_and_small():
    from ticl_fpga.rtl.cost_model import coefficients

    c = coefficients()
    assert len(c["points"]) >= 4 and len(c["errors"]) == len(c["points"])
    assert c["lut_rms_rel_err"] < 0.25
    assert all(p["dsp"] == 0 for p in c["points"])


def test_lut_ratio_vs_16bit_dense():
    import torch

    from ticl_fpga.model.gnn import build_float_model
    from ticl_fpga.quantize.cost import cost_of_model

    model = build_float_model(SPEC)
    with torch.no_grad():
        for name in SPEC.linear_shapes():
            w = model.get_submodule(name).weight
            w[w.abs() < w.abs().median()] = 0.0
    cost = cost_of_model(model, load_recipe("w6a6"), n_nodes=10, n_edges=30)
    assert cost["reference_fpga"]["lut"] > cost["fpga"]["lut"] > 0
    assert cost["lut_ratio_vs_16bit_dense"] == pytest.approx(
        cost["reference_fpga"]["lut"] / cost["fpga"]["lut"]
    )


def test_resource_targets_parse_and_check():
    from ticl_fpga.errors import ConfigError
    from ticl_fpga.quantize.prune import parse_target, parse_targets

    t = parse_target("lut<=200000")
    assert (t.metric, t.maximum, t.stops_search) == ("lut", 200000.0, False)
    assert t.passes(150000.0, 0.0) and not t.passes(250000.0, 0.0)
    assert parse_target(" DSP <= 0 ").passes(0.0, 0.0)
    with pytest.raises(ConfigError, match="not a number"):
        parse_target("ff<=lots")
    both = parse_targets(["auc-1%", "lut<=5e4"])
    assert [c.metric for c in both.constraints] == ["auc", "lut"]


def test_resource_column_comes_from_the_cost_model():
    from ticl_fpga.quantize.prune import _row_extras

    cost = model_cost(SPEC, load_recipe("w6a6"), n_nodes=10, n_edges=30)
    extra = _row_extras(None, {"fpga": cost["fpga"]})
    assert extra["lut"] == cost["fpga"]["lut"] > 0 and extra["dsp"] == 0


def test_bits_for_budget_meets_the_modelled_bound():
    from ticl_fpga.quantize.cost import bits_for_budget

    spec = GNNSpec(node_dim=19, edge_dim=10)  # the default architecture
    recipe = load_recipe("w6a6")
    nnz = {k: int(a * b * 0.2) for k, (a, b) in spec.linear_shapes().items()}
    full = model_cost(spec, recipe, n_nodes=1, n_edges=1, nonzero=nnz)["fpga"]["lut"]
    mixed, steps = bits_for_budget(spec, recipe, nnz, 0.8 * full)
    after = model_cost(spec, mixed, n_nodes=1, n_edges=1, nonzero=nnz)["fpga"]["lut"]
    assert after <= 0.8 * full < full
    assert steps[0]["lut"] == pytest.approx(full, abs=1) and steps[-1]["lut"] == pytest.approx(
        after, abs=1
    )
    assert mixed.bits("head_out").weight_bits == 6  # kept
    assert min(mixed.bits(n).weight_bits for n in spec.linear_shapes()) >= 3
    assert mixed.name == f"w6a6-lut{int(0.8 * full)}"
    mixed.validate_for(spec)  # still a valid recipe
    floor, _ = bits_for_budget(spec, recipe, nnz, 1.0)  # unreachable: every layer at 3 bits
    assert all(floor.bits(n).weight_bits == 3 for n in spec.linear_shapes() if n != "head_out")


def test_scan_with_a_lut_bound_adds_the_mixed_precision_row(float_model, splits, tmp_path):
    import json

    from ticl_fpga.quantize.prune import PruneConfig, parse_targets
    from ticl_fpga.quantize.scan import run_scan

    from .conftest import FAST

    spec = float_model.spec
    recipe = load_recipe("w6a6")
    dense = model_cost(spec, recipe, n_nodes=1, n_edges=1)["fpga"]["lut"]
    bound = 0.3 * dense  # needs pruning and fewer bits
    doc = run_scan(
        float_model,
        ["w6a6"],
        splits["train"],
        splits["val"],
        tmp_path / "scan",
        target=parse_targets(["auc-50%", f"lut<={bound:.0f}"]),
        config=PruneConfig(schedule=[0.5], finetune_epochs=1, stop_at_failure=False),
        qat=FAST,
        save_models=False,
    )
    names = [r["recipe"] for r in doc["rows"]]
    mixed = f"w6a6-lut{int(round(bound))}"
    assert names[0] == "float" and mixed in names and doc["lut_limits"] == [round(bound)]
    sel = doc["selected"][mixed]
    assert min(sel["weight_bits"].values()) < 6 and sel["bits_search"][-1]["lut"] < dense
    for r in doc["rows"]:
        assert r["lut"] is not None and r["dsp"] == 0
        if r["recipe"] != "float":
            assert r["lut_ratio_vs_16bit_dense"] > 1
    w6 = [r for r in doc["rows"] if r["recipe"] == "w6a6"]
    assert w6[0]["lut"] > w6[1]["lut"]  # pruning lowers the modelled LUTs
    assert all(("lut <= " in c) for r in w6 for c in r["checks"] if c.startswith("lut"))
    md = (tmp_path / "scan" / "scan.md").read_text()
    assert "| LUT |" in md and "Yosys" in md and mixed in md
    assert json.loads((tmp_path / "scan" / "scan.json").read_text())["reference_lut"] > dense
