"""QAT from a float checkpoint: seeded, saved with provenance, reloaded bit-identically."""

from __future__ import annotations

import pytest
import torch

from ticl_fpga.errors import InputError
from ticl_fpga.quantize.evaluation import evaluate_model
from ticl_fpga.quantize.qat import (
    as_float_model,
    is_quant_run,
    load_quant_model,
    quantize_model,
    read_quant_checkpoint,
    save_quant_model,
)
from ticl_fpga.quantize.qmodel import model_recipe

from .conftest import FAST


def _outputs(model, graphs):
    with torch.no_grad():
        return torch.cat([model(g.x, g.edge_index, g.edge_attr) for g in graphs])


def test_qat_from_run_folder_roundtrip(float_run, splits, tmp_path):
    qmodel = quantize_model(float_run, "w6a6", splits["train"], config=FAST)
    assert model_recipe(qmodel).name == "w6a6"
    metrics = evaluate_model(qmodel, splits["val"])
    assert metrics["auc"] > 0.6, "QAT from a trained model must keep it predictive"
    run = save_quant_model(qmodel, tmp_path / "q", metrics=metrics)
    assert {"model.pt", "recipe.yaml", "qat.yaml", "metrics.json"} <= {
        p.name for p in run.iterdir()
    }
    assert is_quant_run(run) and not is_quant_run(float_run)
    ckpt = read_quant_checkpoint(run)
    assert ckpt["recipe"]["name"] == "w6a6" and "git" in ckpt["provenance"]
    loaded = load_quant_model(run)
    assert torch.equal(_outputs(loaded, splits["val"]), _outputs(qmodel, splits["val"]))
    # outputs are on the output quantizer's grid
    scale = float(loaded.out_quant.act_quant.scale().detach())
    out = _outputs(loaded, splits["val"]) / scale
    assert torch.equal(out, out.round())


def test_qat_is_seeded(float_model, splits):
    a = quantize_model(float_model, "w4a4", splits["train"], config=FAST)
    b = quantize_model(float_model, "w4a4", splits["train"], config=FAST)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb), ka


def test_qat_accepts_state_dict_with_spec(float_model, splits):
    fm = as_float_model(dict(float_model.state_dict()), float_model.spec)
    q = quantize_model(fm, "w8a8", splits["train"], config=FAST.model_copy(update={"epochs": 0}))
    assert q.spec == float_model.spec


def test_load_quant_model_rejects_float_run(float_run, tmp_path):
    with pytest.raises(InputError, match="not a quantized model"):
        load_quant_model(float_run)
    with pytest.raises(InputError, match="no such checkpoint"):
        load_quant_model(tmp_path / "missing")


# --------------------------------------------------------------------------- distillation


def test_distillation_loss_known_values():
    import math

    from ticl_fpga.quantize.qat import distillation_loss

    s = torch.tensor([0.0, 1.5, -2.0])
    assert float(distillation_loss(s, s.clone())) == pytest.approx(0.0, abs=1e-7)
    # student p = 0.5, teacher p = 0.75: KL = 0.75 ln(1.5) + 0.25 ln(0.5)
    kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert kl == pytest.approx(0.1308120, abs=1e-7)
    one = distillation_loss(torch.tensor([0.0]), torch.tensor([math.log(3.0)]))
    assert float(one) == pytest.approx(kl, rel=1e-6)
    # temperature 2 with logits doubled: same soft targets, times T^2 = 4
    two = distillation_loss(torch.tensor([0.0]), torch.tensor([2 * math.log(3.0)]), temperature=2.0)
    assert float(two) == pytest.approx(4 * kl, rel=1e-6)
    # mean over edges; the gradient pulls the student towards the teacher
    st = torch.tensor([0.0, 0.0], requires_grad=True)
    loss = distillation_loss(st, torch.tensor([math.log(3.0), 0.0]))
    assert float(loss.detach()) == pytest.approx(kl / 2, rel=1e-6)
    loss.backward()
    assert st.grad[0] < 0 and st.grad[1] == pytest.approx(0.0, abs=1e-7)


def test_qat_loss_mixes_focal_and_distillation():
    from ticl_fpga.quantize.qat import QATConfig, distillation_loss, qat_loss
    from ticl_fpga.train.focal_loss import focal_loss

    cfg = QATConfig()
    s, y, t = (
        torch.tensor([0.3, -1.0, 2.0]),
        torch.tensor([1.0, 0.0, 0.0]),
        torch.tensor([1.0, -0.5, 0.5]),
    )
    focal = focal_loss(s, y, alpha=cfg.alpha, gamma=cfg.gamma)
    kd = distillation_loss(s, t)
    assert torch.equal(qat_loss(s, y, t, config=cfg, distill_weight=0.0), focal)
    assert torch.equal(qat_loss(s, y, None, config=cfg, distill_weight=0.7), focal)
    mixed = qat_loss(s, y, t, config=cfg, distill_weight=0.25)
    assert float(mixed) == pytest.approx(0.75 * float(focal) + 0.25 * float(kd), rel=1e-6)


def test_recipe_distillation_pulls_qat_towards_the_float_model(float_model, splits):
    from ticl_fpga.quantize.evaluation import model_scores
    from ticl_fpga.quantize.qat import distillation_loss, with_distillation
    from ticl_fpga.quantize.recipe import load_recipe

    recipe = load_recipe("w4a4")
    cfg = FAST.model_copy(update={"epochs": 4})
    plain = quantize_model(float_model, with_distillation(recipe, 0.0), splits["train"], config=cfg)
    distil = quantize_model(
        float_model, with_distillation(recipe, 1.0), splits["train"], config=cfg
    )
    assert model_recipe(distil).distill_weight == 1.0

    def kd(model):
        s = torch.cat([torch.as_tensor(a) for a in model_scores(model, splits["val"])]).double()
        t = torch.cat([torch.as_tensor(a) for a in model_scores(float_model, splits["val"])])
        return float(distillation_loss(torch.logit(s, 1e-6), torch.logit(t.double(), 1e-6)))

    assert kd(distil) < kd(plain)


def test_distillation_weight_validated():
    from ticl_fpga.errors import ConfigError
    from ticl_fpga.quantize.qat import with_distillation
    from ticl_fpga.quantize.recipe import load_recipe

    with pytest.raises(ConfigError, match="distill_weight"):
        with_distillation(load_recipe("w6a6"), 1.5)
    assert with_distillation(load_recipe("w6a6"), None, 2.0).distill_temperature == 2.0


def test_working_point_focus_centres_each_edge_on_its_cut():
    import math

    from torch_geometric.data import Data

    from ticl_fpga.quantize.qat import distillation_loss, working_point_logits

    # edges: energies max(10, 20) = 20 GeV (cut 0.5 -> logit 0), max(10, 60) = 60 GeV (0.8 -> ln 4)
    g = Data(
        edge_index=torch.tensor([[0, 0], [2, 1]]), node_energy=torch.tensor([10.0, 60.0, 20.0])
    )
    c = working_point_logits(g)
    assert torch.allclose(c, torch.tensor([0.0, math.log(4.0)]))
    # shifting student and teacher by the cut gives the plain loss of the shifted logits
    kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    s, t = c.clone(), c + math.log(3.0)
    assert float(distillation_loss(s, t, offset=c)) == pytest.approx(kl, rel=1e-6)
    # small T: the soft targets become the teacher's decisions; a student on the same side of
    # the cut costs little, one across it costs a lot
    same = distillation_loss(c + 2.0, c + 1.0, temperature=0.25, offset=c)
    across = distillation_loss(c - 1.0, c + 1.0, temperature=0.25, offset=c)
    assert float(across) > 10 * float(same)
