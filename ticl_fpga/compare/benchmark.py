"""Agreement benchmark: FPGA (C simulation) vs float decisions for the default recipe, with and
without distillation, on a whole split.

For each variant the float model is quantized and pruned with the same recipe, target and
schedule (only ``distill_weight`` differs), exported to QONNX, built into an hls4ml project (no
synthesis) and compared with :func:`ticl_fpga.compare.compare.compare_models` on every event of
``split``.  Each row holds the working-point agreement with its binomial interval, the sparsity,
and the edge AUC / event efficiency of the quantized and the float model on the same events, so
the table shows what distillation costs or gains in physics.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The project's targets (issue 16): decision agreement at the working point, and physics within
#: 1 % (relative) of float.
TARGETS = {"min_agreement": 0.98, "max_relative_drop": 0.01}


def agreement_benchmark(
    float_run: str | Path,
    dataset_dir: str | Path,
    work: str | Path,
    *,
    recipe: str | None = None,
    targets: tuple[str, ...] | None = None,
    weights: dict[str, float] | None = None,
    qat_epochs: int = 6,
    lr: float = 3e-4,
    finetune_epochs: int = 2,
    schedule: tuple[float, ...] | None = None,
    split: str = "test",
    n_max: int | None = None,
    e_max: int | None = None,
    seed: int = 0,
    bit_check: int | None = 64,
) -> dict[str, Any]:
    """One row per distillation weight (default: 0 and the recipe's ``distill_weight``).

    ``targets`` are prune targets (:func:`ticl_fpga.quantize.prune.parse_targets`); None: the
    recipe's own set (its ``prune`` entry with its ``also`` targets, e.g. the default recipe's
    ``edge_efficiency_at_purity-1%`` and ``agreement>=0.98``).  Models,
    QONNX files and hls4ml projects go under ``work``.  ``bit_check`` windows per variant are also
    run through Brevitas and QONNX (bit exactness; None: all).  Returns a JSON-serialisable dict.
    """
    from ticl_fpga.compare.compare import compare_models
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls
    from ticl_fpga.compile.capacity import Capacity
    from ticl_fpga.compile.to_qonnx import export_qonnx
    from ticl_fpga.data.dataset import load_dataset
    from ticl_fpga.quantize.evaluation import evaluate_model, model_scores
    from ticl_fpga.quantize.prune import PruneConfig, parse_targets, quantize_and_prune
    from ticl_fpga.quantize.qat import QATConfig, load_float_model, with_distillation
    from ticl_fpga.quantize.recipe import DEFAULT_RECIPE, load_recipe

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    base = load_recipe(recipe or DEFAULT_RECIPE)
    weights = weights or {
        "without distillation": 0.0,
        "with distillation": base.distill_weight or 0.5,
    }
    ds = load_dataset(dataset_dir)
    train, val, test = ds.split("train"), ds.split("val"), ds.split(split)
    fmodel = load_float_model(float_run)
    f_test = evaluate_model(fmodel, test)
    f_scores = model_scores(fmodel, test)
    default = Capacity()
    capacity = Capacity(n_max=n_max or default.n_max, e_max=e_max or default.e_max)
    prune_cfg = PruneConfig(finetune_epochs=finetune_epochs)
    if schedule is not None:
        prune_cfg = PruneConfig(schedule=list(schedule), finetune_epochs=finetune_epochs)
    qat = QATConfig(epochs=qat_epochs, lr=lr, seed=seed)
    rows = []
    for label, w in weights.items():
        t0 = time.perf_counter()
        r = with_distillation(base, w)
        tag = f"w{w:g}".replace(".", "p")
        target = parse_targets(list(targets or []), r.prune)
        result = quantize_and_prune(
            fmodel, r, train, val, work / f"quant_{tag}", target=target, config=prune_cfg, qat=qat
        )
        qmodel = result.model
        q_test = evaluate_model(qmodel, test, reference_scores=f_scores)
        qonnx = work / f"gnn_{tag}.qonnx.onnx"
        export_qonnx(qmodel, capacity, qonnx)
        hls_model = build_hls(
            qonnx, HlsBuildConfig(capacity=capacity, synth=False), work / f"hls_{tag}"
        )
        cmp = compare_models(
            fmodel,
            qmodel,
            qonnx,
            hls_model,
            dataset_dir,
            split,
            work / f"compare_{tag}",
            bit_check=bit_check,
        )
        wp = cmp["decisions"]["working_point"]
        ev = cmp["events"]["seed_working_point"]
        rows.append(
            {
                "label": label,
                "distill_weight": w,
                "distill_temperature": r.distill_temperature,
                "target": result.target.describe(),
                "target_met": result.target_met,
                "sparsity": result.sparsity,
                "n_events": cmp["n_events"],
                "n_edges": cmp["n_edges"],
                "bit_exact": cmp["bit_exact"],
                "bit_checked_windows": cmp["bit_checked_windows"],
                "agreement": wp["agreement"],
                "agreement_interval": wp["agreement_interval"],
                "interval": cmp["interval"],
                "n_flips": wp["n_flips"],
                "val_agreement": result.metrics.get("agreement"),
                "auc_quant": q_test["auc"],
                "auc_float": f_test["auc"],
                "relative_auc_drop": (f_test["auc"] - q_test["auc"]) / f_test["auc"],
                "event_efficiency_fpga": ev["fpga"]["efficiency"],
                "event_efficiency_float": ev["float"]["efficiency"],
                "relative_event_efficiency_drop": -ev["efficiency_difference"]
                / ev["float"]["efficiency"],
                "edge_efficiency_at_purity_quant": q_test["edge_efficiency_at_purity"],
                "edge_efficiency_at_purity_float": f_test["edge_efficiency_at_purity"],
                "seconds": time.perf_counter() - t0,
            }
        )
        row = rows[-1]
        row["passed"] = {
            "agreement": bool(row["agreement"] >= TARGETS["min_agreement"]),
            "auc": bool(row["relative_auc_drop"] <= TARGETS["max_relative_drop"]),
            "event_efficiency": bool(
                row["relative_event_efficiency_drop"] <= TARGETS["max_relative_drop"]
            ),
        }
        log.info(
            "%s (w=%g): sparsity %.2f, agreement %.4f [%.4f, %.4f] on %d events, AUC %.4f "
            "(float %.4f), event eff %.4f (float %.4f)",
            label,
            w,
            row["sparsity"],
            row["agreement"],
            *row["agreement_interval"],
            row["n_events"],
            row["auc_quant"],
            row["auc_float"],
            row["event_efficiency_fpga"],
            row["event_efficiency_float"],
        )
    return {
        "recipe": base.name,
        "split": split,
        "targets": list(targets) if targets else _recipe_targets(base),
        "qat_epochs": qat_epochs,
        "lr": lr,
        "finetune_epochs": finetune_epochs,
        "schedule": list(prune_cfg.schedule),
        "goals": TARGETS,
        "rows": rows,
    }


def _recipe_targets(recipe) -> list[str]:
    """Descriptions of a recipe's default prune target set (what ``targets=None`` uses)."""
    from ticl_fpga.quantize.prune import parse_targets

    return [c.describe() for c in parse_targets(None, recipe.prune).constraints]


def summary_rows(res: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(measurement, value, target)`` rows for the benchmark table."""
    out = []
    for r in res.get("rows", []):
        lo, hi = r["agreement_interval"]
        cl = 100 * r.get("interval", {}).get("confidence", 0.95)
        name = f"{res['recipe']} {r['label']}" + (
            f" (w={r['distill_weight']:g})" if r["distill_weight"] else ""
        )
        out.append(
            (
                f"FPGA/float WP agreement, {name}, {r['n_events']} {res['split']} events",
                f"{100 * r['agreement']:.2f} % [{100 * lo:.2f}, {100 * hi:.2f}] ({cl:g} % CL), "
                f"sparsity {r['sparsity']:.2f}",
                f">= {100 * res['goals']['min_agreement']:g} %",
            )
        )
        out.append(
            (
                f"  edge AUC / event efficiency, {name} (float)",
                f"{r['auc_quant']:.4f} / {r['event_efficiency_fpga']:.4f} "
                f"({r['auc_float']:.4f} / {r['event_efficiency_float']:.4f})",
                "within 1 %",
            )
        )
    return out


def markdown_section(res: dict[str, Any]) -> list[str]:
    """The agreement section of ``benchmarks/results.md``."""
    lines = [
        "## FPGA vs float decisions (agreement)",
        "",
        f"Recipe {res['recipe']}, prune target {' and '.join(res['targets'])}, QAT "
        f"{res['qat_epochs']} epochs (lr {res.get('lr', 1e-3):g}), {res['finetune_epochs']} "
        "fine-tuning epochs per pruning step; "
        f"C simulation vs float model on every event of the `{res['split']}` split (lost edges "
        "count as rejected).  Agreement = edges accepted or rejected alike at the seed working "
        "point; binomial interval as stated.  Physics on the same events.",
        "",
        "| variant | distill w | sparsity | agreement | interval | flips / edges | edge AUC "
        "(float) | event eff. (float) | val agreement |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res.get("rows", []):
        lo, hi = r["agreement_interval"]
        lines.append(
            f"| {r['label']} | {r['distill_weight']:g} | {r['sparsity']:.2f} | "
            f"{100 * r['agreement']:.2f} % | [{100 * lo:.2f}, {100 * hi:.2f}] % | "
            f"{r['n_flips']} / {r['n_edges']} | {r['auc_quant']:.4f} ({r['auc_float']:.4f}) | "
            f"{r['event_efficiency_fpga']:.4f} ({r['event_efficiency_float']:.4f}) | "
            f"{100 * (r.get('val_agreement') or float('nan')):.2f} % |"
        )
    return lines
