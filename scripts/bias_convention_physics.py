"""Physics effect of the bias convention (issue 10): edge AUC after QAT with biases on their own
power-of-two scale (the old Brevitas ``Int8BiasPerTensorFixedPointInternalScaling``) versus biases
that are integers in the accumulator's LSB (``IntBias``: input scale x weight scale, the project's
convention).  Same float model, same QAT, same synthetic test sample.

    .venv/bin/python scripts/bias_convention_physics.py [work_dir]

Writes ``<work_dir>/result.json`` (AUCs) and prints it; takes ~15 min on 2 cores.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.data.synthetic import tiny_dataset
from ticl_fpga.evaluate.metrics import roc_auc
from ticl_fpga.model.gnn import build_float_model
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize import qmodel as qm
from ticl_fpga.quantize.evaluation import model_scores
from ticl_fpga.quantize.qat import QATConfig, quantize_model, train_epochs


def _own_scale_linear(self, name, fan_in, fan_out):
    """The previous convention: the bias gets its own power-of-two scale from max |b|."""
    b = self.recipe.bits(name)
    return self.qnn.QuantLinear(
        fan_in,
        fan_out,
        bias=True,
        weight_quant=self.fp.Int8WeightPerTensorFixedPoint,
        weight_bit_width=b.weight_bits,
        bias_quant=self.fp.Int8BiasPerTensorFixedPointInternalScaling,
        bias_bit_width=b.bias_bits,
        return_quant_tensor=False,
    )


def main(work: Path) -> dict:
    ds = load_dataset(
        tiny_dataset(
            work / "data", n_events=160, pileup=10, seed=11, split_fractions=(0.6, 0.2, 0.2)
        )
    )
    train, test = ds.split("train"), ds.split("test")
    spec = GNNSpec(
        node_dim=len(ds.node_features),
        edge_dim=len(ds.edge_features),
        node_hidden=32,
        edge_hidden=16,
        head_hidden=16,
        niters=2,
    )
    torch.manual_seed(0)
    fm = build_float_model(spec)
    sc = ds.scalers
    fm.set_scalers(sc["node_mean"], sc["node_std"], sc["edge_mean"], sc["edge_std"])
    train_epochs(fm, train, config=QATConfig(epochs=12, lr=3e-3, batch_size=8))
    fm.eval()
    labels = np.concatenate([g.y.numpy() for g in test])

    def auc(m) -> float:
        return roc_auc(np.concatenate([np.asarray(v) for v in model_scores(m, test)]), labels)

    res = {"float": auc(fm), "n_test_edges": int(labels.size)}
    cfg = QATConfig(epochs=4, lr=1e-3, batch_size=8, calib_batches=8)
    accumulator_linear = qm.BrevitasLayers.linear
    try:
        for recipe in ("w6a6", "w4a4"):
            qm.BrevitasLayers.linear = _own_scale_linear
            res[f"{recipe}_own_scale_bias"] = auc(quantize_model(fm, recipe, train, config=cfg))
            qm.BrevitasLayers.linear = accumulator_linear
            res[f"{recipe}_accumulator_bias"] = auc(quantize_model(fm, recipe, train, config=cfg))
    finally:
        qm.BrevitasLayers.linear = accumulator_linear
    (work / "result.json").write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bias_convention_physics")
    out.mkdir(parents=True, exist_ok=True)
    sys.stdout.write(json.dumps(main(out), indent=1) + "\n")
