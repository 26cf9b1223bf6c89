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
from ticl_fpga.model.gnn import build_float_model
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.evaluation import model_scores
from ticl_fpga.quantize.qat import (
    QATConfig,
    quantize_model,
    train_epochs,
)
from ticl_fpga.quantize.qmodel import BrevitasLayers
from ticl_fpga.quantize.recipe import load_recipe
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


def paired_auc_difference(
    a_runs: list[list[np.ndarray]],
    b_runs: list[list[np.ndarray]],
    labels: list[np.ndarray],
    *,
    n_boot: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean AUC(b) - AUC(a) over paired training runs, with its uncertainty.

    ``a_runs[i]`` and ``b_runs[i]`` are the per-event scores of run ``i`` of each variant (same
    seed, same events); ``labels`` holds one array per event.  Two sources of spread, added in
    quadrature: training (the standard error of the paired run differences) and the test sample
    (a paired bootstrap over events of the mean difference).
    """
    if len(a_runs) != len(b_runs) or not a_runs:
        raise ValueError("paired_auc_difference needs the same number (>= 1) of runs per variant")

    def mean_diff(idx) -> float:
        y = np.concatenate([labels[i] for i in idx])
        return float(
            np.mean(
                [
                    roc_auc(np.concatenate([b[i] for i in idx]), y)
                    - roc_auc(np.concatenate([a[i] for i in idx]), y)
                    for a, b in zip(a_runs, b_runs, strict=True)
                ]
            )
        )

    n = len(labels)
    per_run = [
        roc_auc(np.concatenate(b), np.concatenate(labels))
        - roc_auc(np.concatenate(a), np.concatenate(labels))
        for a, b in zip(a_runs, b_runs, strict=True)
    ]
    diff = float(np.mean(per_run))  # the mean difference over all events
    rng = np.random.default_rng(seed)
    boots = [d for d in (mean_diff(rng.integers(0, n, n)) for _ in range(n_boot)) if np.isfinite(d)]
    se_events = float(np.std(boots, ddof=1)) if len(boots) > 1 else 0.0
    se_training = (
        float(np.std(per_run, ddof=1) / np.sqrt(len(per_run))) if len(per_run) > 1 else 0.0
    )
    se = float(np.hypot(se_events, se_training))
    return {
        "difference": diff,
        "per_run": per_run,
        "se_events": se_events,
        "se_training": se_training,
        "interval_68": [diff - se, diff + se],
        "interval_95": [diff - 1.96 * se, diff + 1.96 * se],
        "n_bootstrap": len(boots),
    }


def bias_benchmark(
    work: str | Path,
    *,
    recipes: tuple[str, ...] = ("w6a6", "w4a4"),
    n_events: int = 480,
    float_epochs: int = 12,
    qat_epochs: int = 4,
    n_seeds: int = 4,
) -> dict[str, Any]:
    """Edge AUC after QAT with each bias convention, per recipe, on one float model and test split.

    Each convention is trained ``n_seeds`` times (QAT seeds 0, 1, ...), paired by seed, so the
    difference is measured against the spread of training itself.
    """
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
        "n_seeds": n_seeds,
        "auc_float": auc(scores(fm)),
        "recipes": {},
    }
    for name in recipes:
        recipe = load_recipe(name)
        runs: dict[str, list[list[np.ndarray]]] = {"own_scale": [], "accumulator": []}
        for seed in range(n_seeds):
            cfg = QATConfig(epochs=qat_epochs, lr=1e-3, batch_size=8, calib_batches=8, seed=seed)
            for key, layers in (("own_scale", OwnScaleBiasLayers), ("accumulator", BrevitasLayers)):
                runs[key].append(
                    scores(quantize_model(fm, recipe, train, config=cfg, layers=layers))
                )
        own, acc = runs["own_scale"], runs["accumulator"]
        d = paired_auc_difference(own, acc, labels)
        own_aucs, acc_aucs = [auc(s) for s in own], [auc(s) for s in acc]
        res["recipes"][name] = {
            "auc_own_scale": float(np.mean(own_aucs)),
            "auc_accumulator": float(np.mean(acc_aucs)),
            "auc_own_scale_runs": own_aucs,
            "auc_accumulator_runs": acc_aucs,
            "accumulator_minus_own_scale": d,
            "distill_weight": recipe.distill_weight,
        }
        log.info("bias convention %s: %s", name, res["recipes"][name])
    return res


def _interval(d: dict[str, Any], key: str) -> str:
    return "[{:+.4f}, {:+.4f}]".format(*d[key])


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """README rows: one per recipe."""
    seeds = r.get("n_seeds", 1)
    return [
        (
            f"bias convention, {name}: edge AUC own-scale -> accumulator-LSB bias "
            f"({r['n_test_events']} events, {seeds} QAT seeds)",
            f"{v['auc_own_scale']:.4f} -> {v['auc_accumulator']:.4f} (diff "
            f"{v['accumulator_minus_own_scale']['difference']:+.4f}, 95 % "
            f"{_interval(v['accumulator_minus_own_scale'], 'interval_95')})",
            "0 within the interval",
        )
        for name, v in r["recipes"].items()
    ]


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
                _interval(d, "interval_68"),
                _interval(d, "interval_95"),
            )
        )
    return [
        "## Bias convention (physics effect)",
        "",
        f"One float model (AUC {r['auc_float']:.4f}), the same QAT ({r['qat_epochs']} epochs, "
        f"{r.get('n_seeds', 1)} seeds, paired) with each bias convention; mean edge AUC on the "
        f"same {r['n_test_events']} test events ({r['n_test_edges']} edges).  Uncertainty of the "
        "difference: training (standard error of the paired run differences) and test sample "
        "(bootstrap over events), in quadrature.",
        "",
        *(f"- `{k}`: {v}" for k, v in r["conventions"].items()),
        "",
        markdown_table(
            rows,
            ("recipe", "AUC own-scale", "AUC accumulator", "difference", "68 %", "95 %"),
        ),
    ]
