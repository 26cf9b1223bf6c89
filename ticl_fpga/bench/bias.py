"""Benchmark stage ``bias``: the physics effect of the bias convention (issue 10).

The project quantizes every bias as an integer in its accumulator's LSB (Brevitas ``IntBias``:
bias scale = input scale x weight scale), which makes the integer datapath exact by
construction.  The convention it replaced gave each bias its own power-of-two scale from max |b|
(Brevitas ``Int8BiasPerTensorFixedPointInternalScaling``).  This stage trains one float model,
runs the same QAT with both conventions and reports the edge AUC of each on the same test
events, with a paired bootstrap over events for the difference.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.data.synthetic import tiny_dataset
from ticl_fpga.evaluate.metrics import roc_auc
from ticl_fpga.model.gnn import EdgeClassifierGNN, build_float_model
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.evaluation import model_scores
from ticl_fpga.quantize.qat import (
    QATConfig,
    calibrate,
    quantize_model,
    seed_everything,
    train_epochs,
)
from ticl_fpga.quantize.qmodel import BrevitasLayers, load_float_weights
from ticl_fpga.quantize.recipe import Recipe, load_recipe
from ticl_fpga.tables import markdown_table

log = logging.getLogger(__name__)

#: the conventions compared: name -> how the bias is quantized
CONVENTIONS = {
    "accumulator": "IntBias: integer in the accumulator LSB (input x weight scale; the project's)",
    "own_scale": "Int8BiasPerTensorFixedPointInternalScaling: own power-of-two scale from max |b|",
}


class OwnScaleBiasLayers(BrevitasLayers):
    """The previous convention: every bias on its own power-of-two scale from max |b|."""

    def linear(self, name: str, fan_in: int, fan_out: int) -> nn.Module:
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


def own_scale_qat(
    float_model: EdgeClassifierGNN, recipe: Recipe, train, *, config: QATConfig
) -> EdgeClassifierGNN:
    """The QAT of :func:`~ticl_fpga.quantize.qat.quantize_model` with own-scale biases."""
    seed_everything(config.seed)
    qmodel = EdgeClassifierGNN(spec=float_model.spec, layers=OwnScaleBiasLayers(recipe))
    qmodel.quant_recipe = recipe  # type: ignore[attr-defined]  # read by distill_settings
    load_float_weights(qmodel, {k: v.detach() for k, v in float_model.state_dict().items()})
    calibrate(qmodel, train, config=config)
    train_epochs(
        qmodel, train, config=config, desc=f"qat {recipe.name} own-scale bias", teacher=float_model
    )
    return qmodel.eval()


def paired_auc_difference(
    a: list[np.ndarray],
    b: list[np.ndarray],
    labels: list[np.ndarray],
    *,
    n_boot: int = 300,
    seed: int = 0,
) -> dict[str, float]:
    """AUC(b) - AUC(a) on the same events, with a paired bootstrap over events (16/84 %, 2.5/97.5 %).

    ``a``, ``b`` and ``labels`` hold one array per event (graph).
    """

    def auc(scores, idx):
        return roc_auc(
            np.concatenate([scores[i] for i in idx]), np.concatenate([labels[i] for i in idx])
        )

    n = len(labels)
    everything = np.arange(n)
    diff = auc(b, everything) - auc(a, everything)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        d = auc(b, idx) - auc(a, idx)
        if np.isfinite(d):
            boots.append(d)
    q = np.quantile(boots, [0.025, 0.16, 0.84, 0.975]) if boots else [np.nan] * 4
    return {
        "difference": float(diff),
        "interval_68": [float(q[1]), float(q[2])],
        "interval_95": [float(q[0]), float(q[3])],
        "n_bootstrap": len(boots),
    }


def bias_benchmark(
    work: str | Path,
    *,
    recipes: tuple[str, ...] = ("w6a6", "w4a4"),
    n_events: int = 480,
    float_epochs: int = 12,
    qat_epochs: int = 4,
) -> dict[str, Any]:
    """Edge AUC after QAT with each bias convention, per recipe, on one float model and test split."""
    work = Path(work)
    ds = load_dataset(
        tiny_dataset(
            work / "data", n_events=n_events, pileup=10, seed=11, split_fractions=(0.6, 0.2, 0.2)
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
    train_epochs(fm, train, config=QATConfig(epochs=float_epochs, lr=3e-3, batch_size=8))
    fm.eval()
    labels = [g.y.numpy() for g in test]

    def scores(m) -> list[np.ndarray]:
        return [np.asarray(v) for v in model_scores(m, test)]

    def auc(s) -> float:
        return roc_auc(np.concatenate(s), np.concatenate(labels))

    res: dict[str, Any] = {
        "conventions": CONVENTIONS,
        "n_test_events": len(test),
        "n_test_edges": int(sum(len(y) for y in labels)),
        "spec": spec.model_dump(),
        "qat_epochs": qat_epochs,
        "auc_float": auc(scores(fm)),
        "recipes": {},
    }
    cfg = QATConfig(epochs=qat_epochs, lr=1e-3, batch_size=8, calib_batches=8)
    for name in recipes:
        recipe = load_recipe(name)
        own = scores(own_scale_qat(fm, recipe, train, config=cfg))
        acc = scores(quantize_model(fm, recipe, train, config=cfg))
        res["recipes"][name] = {
            "auc_own_scale": auc(own),
            "auc_accumulator": auc(acc),
            "accumulator_minus_own_scale": paired_auc_difference(own, acc, labels),
            "distill_weight": recipe.distill_weight,
        }
        log.info("bias convention %s: %s", name, res["recipes"][name])
    return res


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """README rows: one per recipe."""
    rows = []
    for name, v in r["recipes"].items():
        d = v["accumulator_minus_own_scale"]
        lo, hi = d["interval_95"]
        rows.append(
            (
                f"bias convention, {name}: edge AUC own-scale -> accumulator-LSB bias "
                f"({r['n_test_events']} events)",
                f"{v['auc_own_scale']:.4f} -> {v['auc_accumulator']:.4f} "
                f"(diff {d['difference']:+.4f}, 95 % [{lo:+.4f}, {hi:+.4f}])",
                "no measurable change",
            )
        )
    return rows


def markdown_section(r: dict[str, Any]) -> list[str]:
    """The ``results.md`` section: what was compared and the AUCs per recipe."""
    rows = []
    for name, v in r["recipes"].items():
        d = v["accumulator_minus_own_scale"]
        rows.append(
            (
                name,
                f"{v['auc_own_scale']:.4f}",
                f"{v['auc_accumulator']:.4f}",
                f"{d['difference']:+.4f}",
                "[{:+.4f}, {:+.4f}]".format(*d["interval_68"]),
                "[{:+.4f}, {:+.4f}]".format(*d["interval_95"]),
            )
        )
    return [
        "## Bias convention (physics effect)",
        "",
        f"One float model (AUC {r['auc_float']:.4f}), the same QAT ({r['qat_epochs']} epochs) with "
        f"each bias convention; edge AUC on the same {r['n_test_events']} test events "
        f"({r['n_test_edges']} edges); difference with a paired bootstrap over events.",
        "",
        *(f"- `{k}`: {v}" for k, v in r["conventions"].items()),
        "",
        markdown_table(
            rows,
            ("recipe", "AUC own-scale", "AUC accumulator", "difference", "68 %", "95 %"),
        ),
    ]
