"""Pareto scan over bit-width recipes and sparsities: JSON + markdown table + PNG plot.

For each recipe: QAT from the float model, then the pruning schedule (every step recorded, by
default continuing past failures so the table covers the whole range); each row holds AUC,
efficiency at purity, working-point efficiency/purity, decision agreement with the float model
at the working point, BOPs, non-zero weights and the FPGA estimate.  Rows on the (BOPs down,
primary target metric up) Pareto front are flagged.  Targets are those of
:mod:`ticl_fpga.quantize.prune` (several may be combined, e.g. a physics metric and
``agreement>=0.98``); the ``target`` column says whether a row meets all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ticl_fpga.config import provenance
from ticl_fpga.io import atomic_path, write_json, write_text
from ticl_fpga.model.gnn import EdgeClassifierGNN
from ticl_fpga.quantize.cost import cost_of_model, mean_graph_size
from ticl_fpga.quantize.evaluation import evaluate_model
from ticl_fpga.quantize.prune import PruneConfig, as_targets, quantize_and_prune
from ticl_fpga.quantize.qat import QATConfig, as_float_model
from ticl_fpga.quantize.recipe import PruneTarget, Recipe, load_recipe

log = logging.getLogger(__name__)

COLUMNS = (
    ("recipe", "recipe", "{}"),
    ("sparsity", "sparsity", "{:.3f}"),
    ("auc", "AUC", "{:.4f}"),
    ("edge_efficiency_at_purity", "eff@purity", "{:.4f}"),
    ("efficiency", "WP eff", "{:.4f}"),
    ("purity", "WP purity", "{:.4f}"),
    ("event_efficiency", "event eff", "{:.4f}"),
    ("agreement", "agreement", "{:.4f}"),
    ("bops_per_graph", "BOPs/graph", "{:.3g}"),
    ("bops_ratio_vs_16bit_dense", "16b-dense/BOPs", "{:.1f}"),
    ("nonzero_weights", "non-zero w", "{}"),
    ("lut", "LUT", "{:.0f}"),
    ("ff", "FF", "{:.0f}"),
    ("dsp", "DSP", "{:.0f}"),
    ("lut_ratio_vs_16bit_dense", "16b-dense/LUT", "{:.1f}"),
    ("passed", "target", "{}"),
    ("pareto", "Pareto", "{}"),
)


def pareto_front(
    rows: list[dict[str, Any]], metric: str, cost: str = "bops_per_graph"
) -> list[bool]:
    """True for rows not dominated in (lower ``cost``, higher ``metric``); the scan uses LUTs."""
    flags = []
    for r in rows:
        dominated = any(
            o is not r
            and o[cost] <= r[cost]
            and o[metric] >= r[metric]
            and (o[cost] < r[cost] or o[metric] > r[metric])
            for o in rows
        )
        flags.append(not dominated)
    return flags


def _flat(row: dict[str, Any], recipe: str, bits: str) -> dict[str, Any]:
    fpga = row.get("fpga", {})
    out = {k: v for k, v in row.items() if k != "fpga"}
    out.update(
        recipe=recipe,
        bits=bits,
        dsp_per_edge=fpga.get("per_edge", {}).get("dsp"),
        lut_per_edge=fpga.get("per_edge", {}).get("lut"),
        dsp_per_node=fpga.get("per_node", {}).get("dsp"),
        lut_per_node=fpga.get("per_node", {}).get("lut"),
        lut=fpga.get("lut"),
        ff=fpga.get("ff"),
        dsp=fpga.get("dsp"),
    )
    return out


def _selection(result, tgt, model_dir: Path | None, out_dir: Path) -> dict:
    """What the scan records of one recipe's selected (sparsest passing) model."""
    return {
        "sparsity": result.sparsity,
        "target_met": result.target_met,
        "target": tgt.describe(),
        "baseline": result.baseline,
        "floor": result.floor,
        "model_dir": None if model_dir is None else str(model_dir.relative_to(out_dir)),
        "metrics": result.metrics,
    }


def _bits_label(recipe: Recipe) -> str:
    d = recipe.default
    return f"w{d.weight_bits}a{d.act_bits}" + ("+" if recipe.layers else "")


def run_scan(
    float_model: EdgeClassifierGNN | str | Path,
    recipes: Sequence[Recipe | str | Path],
    train: Sequence,
    val: Sequence,
    out_dir: str | Path,
    *,
    target: Any = None,
    config: PruneConfig | None = None,
    qat: QATConfig | None = None,
    save_models: bool = True,
) -> dict[str, Any]:
    """Scan ``recipes`` x sparsity schedule; writes ``scan.json``, ``scan.md``, ``scan.png`` in ``out_dir``.

    ``target`` (a :class:`~ticl_fpga.quantize.prune.Targets`, one target or a list; default: each
    recipe's ``prune`` entry) decides the ``passed`` column and the model saved per recipe under
    ``out_dir/models/<recipe>`` (when ``save_models``).
    """
    out_dir = Path(out_dir)
    config = config or PruneConfig(stop_at_failure=False)
    qat = qat or QATConfig()
    fmodel = as_float_model(float_model)
    val = list(val)
    n_nodes, n_edges = mean_graph_size(val)
    targets = as_targets(target if target is not None else PruneTarget())
    metric, purity = targets.metric, targets.purity

    float_metrics = evaluate_model(fmodel, val, purity=purity)
    float_metrics["agreement"] = 1.0
    float_cost = cost_of_model(fmodel, None, n_nodes=n_nodes, n_edges=n_edges)
    rows = [
        _flat(
            {
                "step": 0,
                "sparsity": 0.0,
                **float_metrics,
                "bops_per_graph": float_cost["bops_per_graph"],
                "bops_ratio_vs_16bit_dense": float_cost["bops_ratio_vs_16bit_dense"],
                "nonzero_weights": float_cost["nonzero_weights"],
                "fpga": float_cost["fpga"],
                "lut_ratio_vs_16bit_dense": float_cost["lut_ratio_vs_16bit_dense"],
                "passed": None,
            },
            "float",
            "fp32",
        )
    ]
    selected = {}
    recipes = [r if isinstance(r, Recipe) else load_recipe(r) for r in recipes]
    lut_limits = [
        float(c.maximum)
        for c in targets.constraints
        if getattr(c, "metric", None) == "lut" and hasattr(c, "maximum")
    ]
    first_result = None
    for recipe in recipes:
        tgt = as_targets(target if target is not None else (recipe.prune or PruneTarget()))
        model_dir = out_dir / "models" / recipe.name if save_models else None
        result = quantize_and_prune(
            fmodel, recipe, train, val, model_dir, target=tgt, config=config, qat=qat
        )
        rows += [_flat(h, recipe.name, _bits_label(recipe)) for h in result.history]
        selected[recipe.name] = _selection(result, tgt, model_dir, out_dir)
        first_result = first_result or (recipe, tgt, result)
    if lut_limits and first_result is not None:
        # one more row: the first recipe with per-layer weight bits chosen by the measured-cost
        # model to meet the LUT bound at its selected sparsity, then QAT + pruning as above
        from ticl_fpga.quantize.cost import bits_for_budget, nonzero_weights

        base, tgt, res0 = first_result
        mixed, steps = bits_for_budget(
            fmodel.spec, base, nonzero_weights(res0.model, fmodel.spec), min(lut_limits)
        )
        model_dir = out_dir / "models" / mixed.name if save_models else None
        result = quantize_and_prune(
            fmodel, mixed, train, val, model_dir, target=tgt, config=config, qat=qat
        )
        rows += [_flat(h, mixed.name, "per-layer") for h in result.history]
        selected[mixed.name] = {
            **_selection(result, tgt, model_dir, out_dir),
            "weight_bits": {n: int(mixed.bits(n).weight_bits) for n in fmodel.spec.linear_shapes()},
            "bits_search": steps,
        }
    for row, flag in zip(rows, pareto_front(rows, metric, cost="lut"), strict=True):
        row["pareto"] = flag
    doc = {
        "metric": metric,
        "purity_level": purity,
        "graph_size": {"n_nodes": n_nodes, "n_edges": n_edges},
        "reference_bops_per_graph": float_cost["reference_bops_per_graph"],
        "reference_lut": float_cost["reference_fpga"]["lut"],
        "lut_limits": lut_limits,
        "rows": rows,
        "selected": selected,
        "prune_config": config.model_dump(),
        "qat_config": qat.model_dump(),
        "provenance": provenance(),
    }
    write_scan(doc, out_dir)
    return doc


def write_scan(doc: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``scan.json``, ``scan.md`` and ``scan.png`` atomically."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": write_json(out_dir / "scan.json", doc),
        "md": write_text(out_dir / "scan.md", markdown_table(doc)),
        "png": out_dir / "scan.png",
    }
    plot_scan(doc, paths["png"])
    return paths


def _fmt(fmt: str, v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    try:
        return fmt.format(v)
    except (ValueError, TypeError):
        return str(v)


def markdown_table(doc: dict[str, Any]) -> str:
    head = [
        "# Quantization / pruning scan",
        "",
        f"Target metric: `{doc['metric']}` (purity level {doc['purity_level']}); BOPs per graph at "
        f"N = {doc['graph_size']['n_nodes']:.1f} nodes, E = {doc['graph_size']['n_edges']:.1f} edges "
        f"(Hawks et al. 2021); 16-bit dense reference {doc['reference_bops_per_graph']:.3g} BOPs.",
        "LUT / FF / DSP: dense layers of one lane, from the measured-cost model fitted on Yosys "
        "synth_xilinx runs of the da4ml adder graphs (`ticl_fpga/rtl/cost_model.yaml`, error stated "
        "there); 16b-dense/LUT: the same architecture at 16 bits, dense, over this row.  Pareto "
        "front: lower LUT, higher target metric.",
        "",
        "| " + " | ".join(c[1] for c in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    body = ["| " + " | ".join(_fmt(f, r.get(k)) for k, _, f in COLUMNS) + " |" for r in doc["rows"]]
    sel = ["", "## Selected per recipe", ""]
    for name, s in doc["selected"].items():
        sel.append(
            f"- **{name}**: sparsity {s['sparsity']:.3f} ({s['target']}; baseline "
            f"{s['baseline']:.4f}, floor {s['floor']:.4f}, met: {s['target_met']})"
            + (
                "; weight bits per layer from the measured-cost model: "
                + ", ".join(f"{k} {v}" for k, v in s["weight_bits"].items())
                if s.get("weight_bits")
                else ""
            )
        )
    return "\n".join(head + body + sel) + "\n"


def plot_scan(doc: dict[str, Any], path: str | Path) -> Path:
    """Metric vs modelled LUTs, one colour per recipe, Pareto front as a line (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = doc["metric"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    by_recipe: dict[str, list[dict]] = {}
    for r in doc["rows"]:
        by_recipe.setdefault(r["recipe"], []).append(r)
    for name, rows in by_recipe.items():
        xs = [r["lut"] for r in rows]
        ys = [r[metric] for r in rows]
        ax.plot(xs, ys, "o-" if len(rows) > 1 else "s", label=name, alpha=0.8)
        for r in rows:
            if r.get("passed") is False:
                ax.plot(r["lut"], r[metric], "x", color="k")
    front = sorted((r for r in doc["rows"] if r.get("pareto")), key=lambda r: r["lut"])
    if front:
        ax.step(
            [r["lut"] for r in front],
            [r[metric] for r in front],
            where="post",
            color="k",
            lw=1,
            ls="--",
            label="Pareto front",
        )
    ref = doc.get("reference_lut")
    if ref:
        ax.axvline(ref, color="grey", lw=0.8, ls=":", label="16-bit dense")
    for lim in doc.get("lut_limits", []):
        ax.axvline(lim, color="r", lw=0.8, ls="-.", label=f"LUT <= {lim:g}")
    ax.set_xscale("log")
    ax.set_xlabel("LUT (dense layers, one lane; Yosys-fitted model)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return Path(path)
