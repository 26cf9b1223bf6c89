"""The Brevitas twin is exact fixed point: power-of-two scales, zero point 0, quantized biases."""

from __future__ import annotations

import pytest
import torch

from ticl_fpga.errors import ConfigError
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.qat import calibrate, quantize_model
from ticl_fpga.quantize.qmodel import (
    NotFixedPointError,
    assert_fixed_point,
    build_quant_model,
    is_power_of_two,
    load_float_weights,
)
from ticl_fpga.quantize.recipe import LayerBits, Recipe, available_recipes, load_recipe

from .conftest import FAST


@pytest.mark.parametrize("name", ["w8a8", "w6a6", "w4a4", "mixed"])
def test_every_quantizer_is_power_of_two_with_zero_point_zero(name, float_model, splits):
    qmodel = quantize_model(
        float_model, name, splits["train"], config=FAST.model_copy(update={"epochs": 1})
    )
    rows = assert_fixed_point(qmodel)
    recipe = load_recipe(name)
    spec = qmodel.spec
    by = {(r["layer"], r["tensor"]): r for r in rows}
    for layer in spec.linear_shapes():
        w, b = by[(layer, "weight")], by[(layer, "bias")]
        assert w["power_of_two"] and w["zero_point_zero"] and w["enabled"]
        assert b["enabled"] and b["power_of_two"] and b["zero_point_zero"], (
            "biases must be quantized"
        )
        assert w["bit_width"] == recipe.bits(layer).weight_bits
        assert b["bit_width"] == recipe.bits(layer).bias_bits
        assert float(w["log2_scale"]).is_integer()
    acts = [r for r in rows if r["tensor"] == "act"]
    # node_in, edge_in, 2 encoder ReLUs, per iteration (edge ReLU, aggr requant, node ReLU), head ReLU, output
    assert len(acts) == 4 + 3 * spec.niters + 2
    assert all(r["power_of_two"] and r["zero_point_zero"] for r in acts)
    assert by[("out_quant", "act")]["bit_width"] == recipe.output_bits


def test_is_power_of_two():
    assert is_power_of_two(torch.tensor([0.25, 1.0, 2.0**-12]))
    assert not is_power_of_two(torch.tensor([0.3]))
    assert not is_power_of_two(torch.tensor([0.0]))
    assert not is_power_of_two(torch.tensor([-0.5]))


def test_float_model_is_not_fixed_point(float_model):
    with pytest.raises(NotFixedPointError, match="float layer"):
        assert_fixed_point(float_model)


def test_disabled_quantizer_is_reported(float_model, splits):
    qmodel = build_quant_model(float_model.spec, load_recipe("w8a8"))
    load_float_weights(qmodel, float_model.state_dict())
    calibrate(qmodel, splits["train"], config=FAST)
    qmodel.head_act.act_quant.disable_quant = True
    with pytest.raises(NotFixedPointError, match="head_act"):
        assert_fixed_point(qmodel)


def test_recipe_unknown_layer_is_named():
    spec = GNNSpec(node_dim=3, edge_dim=2, niters=2)
    recipe = Recipe(name="bad", layers={"edge_mpl.1": LayerBits(weight_bits=4)})
    with pytest.raises(ConfigError, match=r"layers\.edge_mpl\.1.*unknown layer"):
        recipe.validate_for(spec)
    with pytest.raises(ConfigError, match="edge_mpl.1"):
        build_quant_model(spec, recipe)


def test_recipe_too_wide_accumulator_is_rejected():
    spec = GNNSpec(node_dim=3, edge_dim=2, niters=1)
    recipe = Recipe(name="wide", default=LayerBits(weight_bits=16, bias_bits=16, act_bits=16))
    with pytest.raises(ConfigError, match="accumulator"):
        recipe.validate_for(spec)


def test_shipped_recipes_validate_for_default_spec():
    spec = GNNSpec(node_dim=19, edge_dim=10)
    assert {"w8a8", "w6a6", "w4a4", "mixed"} <= set(available_recipes())
    for name in available_recipes():
        load_recipe(name).validate_for(spec, source=name)


def test_float_weights_must_all_load(float_model):
    qmodel = build_quant_model(float_model.spec, load_recipe("w8a8"))
    state = dict(float_model.state_dict())
    del state["head_out.weight"]
    with pytest.raises(KeyError, match="head_out.weight"):
        load_float_weights(qmodel, state)


@pytest.mark.parametrize("name", ["w6a6", "mixed"])
def test_bias_scale_is_the_accumulator_lsb(name, float_model, splits):
    """Integer-inference convention: bias scale = (finest) input scale x weight scale."""
    from ticl_fpga.quantize.qmodel import linear_sources

    qmodel = quantize_model(
        float_model, name, splits["train"], config=FAST.model_copy(update={"epochs": 1})
    )
    rows = assert_fixed_point(qmodel)
    by = {(r["layer"], r["tensor"]): r for r in rows}
    for layer, sources in linear_sources(qmodel).items():
        src_exp = min(by[(s, "act")]["log2_scale"] for s in sources)
        w, b = by[(layer, "weight")], by[(layer, "bias")]
        assert b["log2_scale"] == src_exp + w["log2_scale"], layer
    # the Brevitas forward uses exactly these biases: a bias is an integer number of LSBs
    lin = qmodel.node_mlp[0]
    qb = lin.accumulator_bias()
    codes = (qb.value / qb.scale).detach()
    assert torch.equal(codes, torch.round(codes))


def test_bias_link_survives_deepcopy(float_model, splits):
    import copy

    qmodel = quantize_model(
        float_model, "w6a6", splits["train"], config=FAST.model_copy(update={"epochs": 1})
    )
    twin = copy.deepcopy(qmodel)
    proxies = [p for p, *_ in twin.node_mlp[0].__dict__["_ticl_sources"]]
    assert all(any(p is m for m in twin.modules()) for p in proxies)
    g = splits["val"][0]
    with torch.no_grad():
        assert torch.equal(
            qmodel(g.x, g.edge_index, g.edge_attr), twin(g.x, g.edge_index, g.edge_attr)
        )


def test_quantize_check_reports_bits_and_refuses_wide_scatter(tmp_path, capsys):
    """``quantize check`` runs the bit-width analysis at the capacity: OK line with the widest
    tensor, and exit 2 with the layer and bits named when a scatter sum exceeds float32."""
    import numpy as np

    from ticl_fpga.cli import main
    from ticl_fpga.quantize.qat import save_quant_model

    recipe = Recipe(
        name="wide_edges",
        default=LayerBits(weight_bits=4, bias_bits=8, act_bits=6),
        layers={"edge_mlp.*": LayerBits(act_bits=16), "head_hidden": LayerBits(weight_bits=2)},
    )
    spec = GNNSpec(node_dim=6, edge_dim=4, niters=1, node_hidden=8, edge_hidden=4, head_hidden=4)
    model = build_quant_model(spec, recipe)
    rng = np.random.default_rng(0)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            x = torch.as_tensor(rng.normal(size=(20, 6)), dtype=torch.float32)
            ea = torch.as_tensor(rng.normal(size=(60, 4)), dtype=torch.float32)
            model(x, torch.as_tensor(rng.integers(0, 20, size=(2, 60))), ea)
    model.eval()
    run = save_quant_model(model, tmp_path / "run", recipe=recipe)
    assert main(["-q", "quantize", "check", str(run), "--n-max", "16", "--e-max", "64"]) == 0
    assert "widest exact tensor" in capsys.readouterr().out
    assert main(["-q", "quantize", "check", str(run), "--n-max", "16", "--e-max", "1024"]) == 2
    err = capsys.readouterr().err
    assert "aggr.0" in err and "26 magnitude bits" in err
