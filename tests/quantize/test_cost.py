"""BOPs (Hawks et al. 2021), non-zero weights and the first-order FPGA estimate."""

from __future__ import annotations

import math

import pytest

from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.cost import (
    layer_bops,
    model_cost,
    multiplier_cost,
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
    assert pruned["fpga"]["per_edge"]["multipliers"] + pruned["fpga"]["per_node"][
        "multipliers"
    ] == sum(half.values())


def test_multiplier_rule():
    assert multiplier_cost(4, 4) == (0, 8)  # 8-bit product: LUTs
    assert multiplier_cost(6, 6) == (1, 0)  # 12-bit product: one DSP
    assert multiplier_cost(8, 4, dsp_min_product_bits=12) == (0, 16)
    assert multiplier_cost(32, 32)[0] == 4  # wide operands cascade DSPs
