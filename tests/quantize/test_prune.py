"""Global L1 pruning: exact zeros everywhere, masks kept through QAT, target-driven search."""

from __future__ import annotations

import pytest
import torch

from ticl_fpga.errors import ConfigError
from ticl_fpga.quantize.evaluation import evaluate_model
from ticl_fpga.quantize.prune import (
    AtLeast,
    AtMost,
    PruneConfig,
    Targets,
    effective_weight,
    parse_target,
    parse_targets,
    prunable,
    prune_search,
    prune_to,
    register_target_kind,
    remove_pruning,
    sparsity,
    target_kinds,
    unregister_target_kind,
)
from ticl_fpga.quantize.qat import (
    export_state_dict,
    load_quant_model,
    quantize_model,
    read_quant_checkpoint,
    save_quant_model,
    train_epochs,
)
from ticl_fpga.quantize.qmodel import assert_fixed_point, assert_zero_weights_quantize_to_zero
from ticl_fpga.quantize.recipe import PruneTarget

from .conftest import FAST


@pytest.fixture()
def qmodel(float_model, splits):
    return quantize_model(
        float_model, "w6a6", splits["train"], config=FAST.model_copy(update={"epochs": 1})
    )


def test_pruned_weights_are_exact_zeros_in_every_export(qmodel, splits, tmp_path):
    prune_to(qmodel, 0.6)
    assert sparsity(qmodel) == pytest.approx(0.6, abs=0.01)
    masks = {
        name: m.weight_mask.clone()
        for name, m in zip(
            qmodel.spec.linear_shapes(), (p for p, _ in prunable(qmodel)), strict=True
        )
    }
    # masks persist while QAT fine-tunes: masked weights stay zero, sparsity does not move
    train_epochs(qmodel, splits["train"], config=FAST, epochs=1)
    assert sparsity(qmodel) == pytest.approx(0.6, abs=0.01)
    state = export_state_dict(qmodel)
    for name, mask in masks.items():
        assert torch.all(state[f"{name}.weight"][mask == 0] == 0)
    # quantized weight of a pruned (zero) weight is zero
    for name, mask in masks.items():
        layer = qmodel.get_submodule(name)
        assert torch.all(layer.quant_weight().value[mask == 0] == 0)
    save_quant_model(qmodel, tmp_path / "run")
    saved = read_quant_checkpoint(tmp_path / "run")["state_dict"]
    assert not any(k.endswith(("_orig", "_mask")) for k in saved)
    for name, mask in masks.items():
        assert torch.all(saved[f"{name}.weight"][mask == 0] == 0)
    loaded = load_quant_model(tmp_path / "run")
    assert sparsity(loaded) == pytest.approx(sparsity(qmodel))
    assert_zero_weights_quantize_to_zero(loaded)
    # prune.remove on the live model folds the same zeros in
    remove_pruning(qmodel)
    assert not hasattr(qmodel.node_enc, "weight_mask")
    for name, mask in masks.items():
        assert torch.all(qmodel.get_submodule(name).weight[mask == 0] == 0)
    assert_fixed_point(qmodel)


def test_pruning_is_cumulative_and_global(qmodel):
    prune_to(qmodel, 0.3)
    first = {id(m): (m.weight_mask == 0).clone() for m, _ in prunable(qmodel)}
    prune_to(qmodel, 0.7)
    for m, _ in prunable(qmodel):
        assert torch.all((m.weight_mask == 0)[first[id(m)]]), "weights pruned earlier stay pruned"
    # global: the threshold is shared, so layer sparsities differ
    per_layer = {float((effective_weight(m) == 0).float().mean()) for m, _ in prunable(qmodel)}
    assert len(per_layer) > 1
    assert sparsity(qmodel) == pytest.approx(0.7, abs=0.01)


def test_search_respects_the_validation_target(qmodel, splits):
    target = PruneTarget(metric="auc", tolerance=0.05, relative=True)
    result = prune_search(
        qmodel,
        splits["train"],
        splits["val"],
        target=target,
        config=PruneConfig(schedule=[0.3, 0.6, 0.9, 0.97], finetune_epochs=1),
        qat=FAST,
    )
    hist = result.history
    assert hist[0]["sparsity"] == 0.0 and hist[0]["passed"]
    assert result.floor == pytest.approx(0.95 * result.baseline)
    # the selected model is the last passing step, and it really meets the target on val
    passing = [h for h in hist if h["passed"]]
    assert result.sparsity == pytest.approx(passing[-1]["sparsity"])
    again = evaluate_model(result.model, splits["val"])["auc"]
    assert again == pytest.approx(passing[-1]["auc"])
    assert again >= result.floor
    assert sparsity(result.model) == pytest.approx(result.sparsity)
    # stop at first failure: at most one failing row, and it is last
    failing = [i for i, h in enumerate(hist) if not h["passed"]]
    assert failing in ([], [len(hist) - 1])
    assert not hasattr(result.model.node_enc, "weight_mask")
    assert_fixed_point(result.model)


def test_unreachable_absolute_target_keeps_the_dense_model(qmodel, splits):
    target = PruneTarget(metric="auc", tolerance=None, minimum=1.0)  # the tiny model's is < 1
    result = prune_search(
        qmodel,
        splits["train"],
        splits["val"],
        target=target,
        config=PruneConfig(schedule=[0.5], finetune_epochs=0),
        qat=FAST,
    )
    assert result.sparsity == 0.0
    assert not result.target_met


def test_max_sparsity_caps_the_schedule(qmodel, splits):
    target = PruneTarget(metric="auc", tolerance=1.0, max_sparsity=0.5)
    result = prune_search(
        qmodel,
        splits["train"],
        splits["val"],
        target=target,
        config=PruneConfig(schedule=[0.3, 0.5, 0.8], finetune_epochs=0),
        qat=FAST,
    )
    assert result.sparsity == pytest.approx(0.5, abs=0.01)
    assert max(h["sparsity"] for h in result.history) <= 0.51


@pytest.mark.parametrize(
    "text, expect",
    [
        ("auc", {"metric": "auc", "tolerance": 0.01, "relative": True, "minimum": None}),
        ("edge_efficiency_at_purity-2%", {"tolerance": 0.02, "relative": True, "minimum": None}),
        ("efficiency-0.05", {"metric": "efficiency", "tolerance": 0.05, "relative": False}),
        ("event_efficiency>=0.8", {"minimum": 0.8, "tolerance": None}),
        ("agreement>=0.98", {"metric": "agreement", "minimum": 0.98, "tolerance": None}),
        ("agreement-0.5%", {"metric": "agreement", "tolerance": 0.005, "relative": True}),
    ],
    ids=["name", "relative", "absolute", "minimum", "agreement", "agreement-relative"],
)
def test_parse_target(text, expect):
    t = parse_target(text)
    for k, v in expect.items():
        assert getattr(t, k) == pytest.approx(v) if isinstance(v, float) else getattr(t, k) == v


def test_target_floor():
    assert PruneTarget(tolerance=0.1).floor(0.8) == pytest.approx(0.72)
    assert PruneTarget(tolerance=0.1, relative=False).floor(0.8) == pytest.approx(0.7)
    assert PruneTarget(tolerance=0.1, minimum=0.75).floor(0.8) == pytest.approx(0.75)
    assert not PruneTarget().passes(float("nan"), 0.8)


@pytest.mark.parametrize(
    "text",
    ["accuracy-1%", "auc>=x", "auc+3", "agreement>=1.5", "auc>=-0.1"],
    ids=["unknown", "nan", "syntax", "above-one", "negative"],
)
def test_bad_target_is_a_one_line_config_error(text):
    with pytest.raises(ConfigError, match="--target"):
        parse_target(text)


def test_bad_schedule():
    with pytest.raises(ConfigError, match="increasing"):
        PruneConfig(schedule=[0.5, 0.3])


def test_parse_targets_combines_physics_and_agreement():
    t = parse_targets(["edge_efficiency_at_purity-1%", "agreement>=0.98"], max_sparsity=0.9)
    assert t.metrics == ["edge_efficiency_at_purity", "agreement"]
    assert t.metric == "edge_efficiency_at_purity" and t.max_sparsity == 0.9
    assert t.describe() == ("edge_efficiency_at_purity within 1% of unpruned and agreement >= 0.98")
    base = {"edge_efficiency_at_purity": 0.90, "agreement": 0.99}
    assert t.checks({"edge_efficiency_at_purity": 0.895, "agreement": 0.985}, base) == {
        "edge_efficiency_at_purity within 1% of unpruned": True,
        "agreement >= 0.98": True,
    }
    # 0.9 - 1 % of 0.9 = 0.891; agreement below 0.98 fails on its own
    assert not t.passes_row({"edge_efficiency_at_purity": 0.890, "agreement": 0.99}, base)
    assert not t.passes_row({"edge_efficiency_at_purity": 0.9, "agreement": 0.979}, base)
    assert not t.passes_row({"edge_efficiency_at_purity": 0.9}, base), "missing column fails"
    # no text: the base alone, flags override the first physics target
    only = parse_targets(None, tolerance=0.05, relative=False)
    assert only.metrics == ["edge_efficiency_at_purity"]
    assert only.floor(0.9) == pytest.approx(0.85)


def test_recipe_default_target_set_brings_its_also_targets():
    from ticl_fpga.quantize.prune import as_targets
    from ticl_fpga.quantize.recipe import PruneTarget, load_recipe

    base = PruneTarget(tolerance=0.01, relative=True, also=["agreement>=0.98", "auc-0.05"])
    t = parse_targets(None, base)
    assert t.metrics == ["edge_efficiency_at_purity", "agreement", "auc"]
    assert [c.describe() for c in t.constraints] == [
        "edge_efficiency_at_purity within 1% of unpruned",
        "agreement >= 0.98",
        "auc within 0.05 of unpruned",
    ]
    assert all(not c.also for c in t.constraints), "expanded once, not again"
    row0 = {"edge_efficiency_at_purity": 0.9, "agreement": 0.99, "auc": 0.97}
    assert not t.passes_row(row0 | {"agreement": 0.979}, row0)
    assert t.passes_row(row0 | {"agreement": 0.98, "auc": 0.921}, row0)
    # flags update the first target and keep the set
    assert parse_targets(None, base, tolerance=0.02).metrics == t.metrics
    assert parse_targets(None, base, tolerance=0.02).primary.tolerance == 0.02
    # an explicit --target replaces the whole default set
    assert parse_targets(["auc-1%"], base).metrics == ["auc"]
    assert as_targets(base).metrics == t.metrics and as_targets([base]).metrics == t.metrics
    # the default recipe keeps FPGA/float decisions alike while it prunes (issue 16)
    for name in ("w6a6", "w6a8"):
        t = parse_targets(None, load_recipe(name).prune)
        assert t.describe() == (
            "edge_efficiency_at_purity within 1% of unpruned and agreement >= 0.98"
        ), name
    with pytest.raises(ConfigError, match="agreement>0.98"):
        parse_targets(None, PruneTarget(also=["agreement>0.98"]))


def test_target_kind_registry_and_resource_bounds():
    import re

    def parse_lut(text, base):
        m = re.fullmatch(r"\s*lut\s*<=\s*([0-9.eE+]+)\s*", text)
        return AtMost("lut", float(m[1])) if m else None

    register_target_kind("lut", parse_lut, syntax="lut<=N")
    try:
        assert target_kinds()[0].name == "lut"
        t = parse_targets(["auc-1%", "lut<=200000", "agreement>=0.98"])
        assert isinstance(t.constraints[1], AtMost) and t.constraints[1].maximum == 200000
        base = {"auc": 0.9, "agreement": 1.0, "lut": 300000}
        row = {"auc": 0.899, "agreement": 0.99, "lut": 150000}
        assert t.passes_row(row, base) and not t.passes_row(base | {"lut": 200001}, base)
        # a failing resource bound does not stop the walk; a failing quality bound does
        assert t.quality_ok(base, base) and not t.passes_row(base, base)
        assert not t.quality_ok(row | {"agreement": 0.97}, base)
        with pytest.raises(ConfigError, match="lut<=N"):
            parse_target("lut<200000")
    finally:
        unregister_target_kind("lut")
    assert "lut" not in [k.name for k in target_kinds()]
    assert AtLeast("agreement", 0.98).passes(0.98, 0.5)
    assert not AtLeast("agreement", 0.98).passes(float("nan"), 0.5)
    assert AtMost("lut", 10).limit(99) == 10


def test_search_with_agreement_target_and_resource_bound(qmodel, float_model, splits):
    from ticl_fpga.evaluate.metrics import working_point
    from ticl_fpga.evaluate.predict import edge_arrays
    from ticl_fpga.quantize.evaluation import model_scores

    def nonzero_col(model, row):
        return {"nonzero": float(row["nonzero_weights"])}

    register_target_kind("nz", lambda text, base: None, syntax="-", row_metrics=nonzero_col)
    try:
        q0 = evaluate_model(qmodel, splits["val"])
        half = AtMost("nonzero", 0.6 * sum(m.weight.numel() for m, _ in prunable(qmodel)))
        targets = Targets(
            [PruneTarget(metric="auc", tolerance=1.0), AtLeast("agreement", 0.0), half]
        )
        result = prune_search(
            qmodel,
            splits["train"],
            splits["val"],
            target=targets,
            config=PruneConfig(schedule=[0.2, 0.5, 0.7], finetune_epochs=0),
            qat=FAST,
            reference=float_model,
        )
    finally:
        unregister_target_kind("nz")
    hist = result.history
    assert result.reference == "float model"
    # the unpruned row fails the nonzero bound but the walk goes on; 0.5 and 0.7 pass it
    assert [h["passed"] for h in hist] == [False, False, True, True]
    assert hist[0]["checks"]["auc within 100% of unpruned"] is True
    assert result.target_met and result.sparsity == pytest.approx(0.7, abs=0.01)
    # agreement in the row is the working-point agreement with the float model, recomputed here
    ref = edge_arrays(splits["val"], model_scores(float_model, splits["val"]))
    got = edge_arrays(splits["val"], model_scores(result.model, splits["val"]))
    same = working_point(ref.scores, ref.max_energy) == working_point(got.scores, got.max_energy)
    assert hist[-1]["agreement"] == pytest.approx(same.mean())
    assert q0["agreement"] != q0["agreement"], "no reference: agreement is NaN"


def test_prune_cli_combines_targets_and_distils(float_run, dataset_dir, tmp_path, capsys):
    from ticl_fpga.cli import main

    out = tmp_path / "pruned"
    argv = ["-q", "prune", str(float_run), "--data", str(dataset_dir), "-o", str(out)]
    argv += ["--target", "auc-30%", "--target", "agreement>=0.5", "--schedule", "0.5"]
    argv += ["--finetune-epochs", "1", "--epochs", "1", "--batch-size", "8"]
    argv += ["--distill-weight", "0.5", "--distill-temperature", "2", "--distill-focus", "scores"]
    assert main(argv) == 0
    assert "auc within 30% of unpruned and agreement >= 0.5" in capsys.readouterr().out
    ckpt = read_quant_checkpoint(out)
    assert ckpt["recipe"]["distill_weight"] == 0.5 and ckpt["recipe"]["distill_temperature"] == 2
    prune_info = ckpt["extra"]["prune"]
    assert prune_info["agreement_reference"] == "float model"
    assert [t["metric"] for t in prune_info["target"]["targets"]] == ["auc", "agreement"]
    assert all(0.5 <= h["agreement"] <= 1 for h in prune_info["history"] if h["passed"])
