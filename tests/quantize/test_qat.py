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
