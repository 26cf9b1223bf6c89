"""Evaluate a trained run on a dataset split: GNN vs geometric baseline, JSON + markdown + PNG plots.

Output folder (default ``RUN_DIR/eval-<split>``)::

    summary.json   edge-level and event-level metrics of every linker, baseline parameters, provenance
    report.md      the same as tables
    edges.npz      per-edge GNN and baseline scores, truth, working-point energy, event index
    roc.png, scores.png, efficiency_vs_energy.png, purity_vs_energy.png, efficiency_vs_eta.png
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from ticl_fpga.config import provenance
from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.errors import InputError
from ticl_fpga.evaluate.events import (
    event_metrics,
    fixed_cut,
    no_links,
    seed_working_point,
    truth_links,
)
from ticl_fpga.evaluate.metrics import edge_summary
from ticl_fpga.evaluate.plots import plot_binned, plot_roc, plot_scores
from ticl_fpga.evaluate.predict import edge_arrays, predict_scores
from ticl_fpga.io import atomic_path, write_json, write_text
from ticl_fpga.model.baseline import GeometricLinker
from ticl_fpga.tables import markdown_table
from ticl_fpga.train.fit import load_run, load_trained_model

log = logging.getLogger(__name__)

#: Linkers compared in the event-level tables, in display order.
EVENT_ROWS = ("gnn_wp", "gnn_cut", "baseline", "no_merge", "truth")
ROW_LABELS = {
    "gnn_wp": "GNN (seed working point)",
    "gnn_cut": "GNN (fixed cut)",
    "baseline": "geometric baseline",
    "no_merge": "no merging",
    "truth": "truth links (ceiling)",
}


def evaluate_run(
    run_dir: str | Path,
    dataset_dir: str | Path,
    split: str = "test",
    out_dir: str | Path | None = None,
    *,
    cut: float | None = None,
    device: str = "cpu",
    plots: bool = True,
    compare: list[str | Path] | tuple = (),
) -> dict[str, Any]:
    """Score ``split`` of ``dataset_dir`` with the run's model and the baseline; write the report.

    The baseline is fitted on the dataset's train split.  Returns the summary dict (also
    ``summary.json``).  ``cut`` defaults to the run config's ``cut``.  ``compare``: other run
    folders (e.g. ``train --model seed``) trained on the same features, shown side by side
    (edge AUC, efficiency/purity at the working point, event merge efficiency/purity,
    parameters, CPU latency) in ``summary["models"]``.
    """
    run_dir, dataset_dir = Path(run_dir), Path(dataset_dir)
    out = Path(out_dir) if out_dir is not None else run_dir / f"eval-{split}"
    payload = load_run(run_dir)
    model = load_trained_model(run_dir)
    ds = load_dataset(dataset_dir)
    for key in ("node_features", "edge_features"):
        if list(getattr(ds, key)) != list(payload[key]):
            raise InputError(
                dataset_dir / "meta.json",
                f"features differ from the model's ({run_dir})",
                field=key,
            )
    graphs = ds.split(split)
    if not graphs:
        raise InputError(dataset_dir, f"split '{split}' is empty")
    cut = float(payload["config"].get("cut", 0.5) if cut is None else cut)

    log.info("scoring %d %s events", len(graphs), split)
    t0 = time.perf_counter()
    gnn = predict_scores(model, graphs, device=device)
    gnn_seconds = time.perf_counter() - t0
    try:
        baseline = GeometricLinker(edge_features=tuple(ds.edge_features)).fit(ds.split("train"))
    except InputError as exc:  # e.g. the cmssw feature set has no (eta, phi) distance
        log.warning("no geometric baseline on these features: %s", exc)
        baseline = None
    base = (
        baseline.scores(graphs) if baseline is not None else [np.full(len(s), np.nan) for s in gnn]
    )
    eg, eb = edge_arrays(graphs, gnn), edge_arrays(graphs, base)

    edge = {
        "gnn": edge_summary(eg.scores, eg.labels, eg.max_energy, cut=cut),
        "baseline": edge_summary(eb.scores, eb.labels, cut=baseline.cut) if baseline else None,
    }
    event = {
        "gnn_wp": event_metrics(graphs, gnn, seed_working_point()),
        "gnn_cut": event_metrics(graphs, gnn, fixed_cut(cut)),
        "baseline": event_metrics(graphs, base, fixed_cut(baseline.cut)) if baseline else None,
        "no_merge": event_metrics(graphs, gnn, no_links),
        "truth": event_metrics(graphs, gnn, truth_links),
    }
    models = [
        _model_row(
            run_dir.name, payload, model, edge["gnn"], event["gnn_wp"], gnn_seconds, len(graphs)
        )
    ]
    for other in compare:
        models.append(_compare_run(Path(other), ds, graphs, cut, device))
    summary: dict[str, Any] = {
        "run": run_dir.name,
        "dataset": dataset_dir.name,
        "split": split,
        "n_events": len(graphs),
        "cut": cut,
        "edge": edge,
        "event": event,
        "baseline": baseline.params() if baseline else None,
        "gnn_beats_baseline": bool(edge["gnn"]["auc"] > edge["baseline"]["auc"])
        if baseline
        else None,
        "models": models,
        "provenance": provenance(),
    }

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "edges.npz", suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                gnn=eg.scores,
                baseline=eb.scores,
                labels=eg.labels,
                max_energy=eg.max_energy,
                event=eg.event,
            )
    if plots:
        summary["plots"] = [p.name for p in write_plots(out, eg, eb, event)]
    write_json(out / "summary.json", summary)
    write_text(out / "report.md", format_report(summary))
    log.info(
        "GNN AUC %.4f vs baseline %.4f; event efficiency %.3f (baseline %.3f) -> %s",
        edge["gnn"]["auc"],
        edge["baseline"]["auc"] if baseline else float("nan"),
        event["gnn_wp"]["efficiency"],
        event["baseline"]["efficiency"] if baseline else float("nan"),
        out,
    )
    return summary


def _model_row(name, payload, model, edge, event, seconds, n_events) -> dict[str, Any]:
    kind = payload.get("config", {}).get("model", "gnn")
    return {
        "run": name,
        "model": "seed GNN_TrackLinkingNet" if kind == "seed" else "ticl-fpga GNN",
        "auc": edge["auc"],
        "efficiency_at_wp": edge.get("efficiency_at_wp"),
        "purity_at_wp": edge.get("purity_at_wp"),
        "event_efficiency": event["efficiency"],
        "event_purity": event["purity"],
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "cpu_ms_per_event": 1000.0 * seconds / max(n_events, 1),
    }


def _compare_run(run_dir: Path, ds, graphs, cut: float, device: str) -> dict[str, Any]:
    """One side-by-side row for another run scored on the same graphs."""
    payload = load_run(run_dir)
    for key in ("node_features", "edge_features"):
        if list(getattr(ds, key)) != list(payload[key]):
            raise InputError(run_dir, "features differ from the dataset's", field=key)
    model = load_trained_model(run_dir)
    t0 = time.perf_counter()
    scores = predict_scores(model, graphs, device=device)
    seconds = time.perf_counter() - t0
    ea = edge_arrays(graphs, scores)
    edge = edge_summary(ea.scores, ea.labels, ea.max_energy, cut=cut)
    event = event_metrics(graphs, scores, seed_working_point())
    return _model_row(run_dir.name, payload, model, edge, event, seconds, len(graphs))


#: The binned plots: (metric and file name, x label, y label, logarithmic x axis).
BINNED_PLOTS = (
    ("efficiency_vs_energy", "sim particle energy [GeV]", "energy efficiency", True),
    ("purity_vs_energy", "sim particle energy [GeV]", "purity", True),
    ("efficiency_vs_eta", "sim particle |eta|", "energy efficiency", False),
)


def write_plots(out: Path, eg, eb, event: dict[str, Any]) -> list[Path]:
    rows = {
        ROW_LABELS[k]: event[k]
        for k in ("gnn_wp", "baseline", "no_merge", "truth")
        if event.get(k) is not None
    }
    has_base = event.get("baseline") is not None
    curves = {"GNN": (eg.scores, eg.labels)}
    if has_base:
        curves["geometric baseline"] = (eb.scores, eb.labels)
    base_plot = (
        [plot_scores(eb.scores, eb.labels, out / "scores_baseline.png", title="Geometric baseline")]
        if has_base
        else []
    )
    return [
        plot_roc(curves, out / "roc.png"),
        plot_scores(eg.scores, eg.labels, out / "scores.png", title="GNN"),
        *base_plot,
        *(
            plot_binned(
                {k: v[name] for k, v in rows.items()},
                out / f"{name}.png",
                xlabel=xlabel,
                ylabel=ylabel,
                logx=logx,
            )
            for name, xlabel, ylabel, logx in BINNED_PLOTS
        ),
    ]


def _cells(values: list[Any], count: list[int]) -> list[str]:
    """Binned efficiencies as ``mean (count)`` cells."""
    return [
        f"{'–' if m is None or math.isnan(m) else format(m, '.3f')} ({c})"
        for m, c in zip(values, count, strict=True)
    ]


def format_report(summary: dict[str, Any]) -> str:
    """Markdown tables of a summary from :func:`evaluate_run`."""
    e, ev = summary["edge"], summary["event"]
    edge_rows = [
        [
            label,
            r["auc"],
            r["cut"],
            r["efficiency_at_cut"],
            r["purity_at_cut"],
            r.get("efficiency_at_wp"),
            r.get("purity_at_wp"),
            r.get("edge_efficiency_at_purity"),
        ]
        for name, label in (("gnn", "GNN"), ("baseline", "geometric baseline"))
        if (r := e[name]) is not None
    ]
    lines = [
        f"# Evaluation of `{summary['run']}` on `{summary['dataset']}` ({summary['split']}, "
        f"{summary['n_events']} events)",
        "",
        "## Edge level",
        "",
        markdown_table(
            edge_rows,
            [
                "linker",
                "AUC",
                "cut",
                "efficiency @ cut",
                "purity @ cut",
                "efficiency @ WP",
                "purity @ WP",
                "efficiency @ 90% purity",
            ],
            floatfmt=[".4f", ".4f", ".3f", *[".4f"] * 5],
        ),
    ]
    if summary["gnn_beats_baseline"] is None:
        lines += ["", "No geometric baseline: these edge features have no (eta, phi) distance.", ""]
    else:
        verdict = "beats" if summary["gnn_beats_baseline"] else "does NOT beat"
        lines += ["", f"The GNN {verdict} the geometric baseline in edge ROC AUC.", ""]
    event_rows = [
        [
            ROW_LABELS[key],
            r["efficiency"],
            r["purity"],
            r["good_fraction"],
            r["merged"],
            r["fake"],
            r["fake_fraction"],
        ]
        for key in EVENT_ROWS
        if (r := ev[key]) is not None
    ]
    lines += [
        "## Event level (merged tracksters per sim particle)",
        "",
        markdown_table(
            event_rows,
            [
                "linker",
                "efficiency",
                "purity",
                "good (eff & pur >= 0.9)",
                "merged",
                "fake merges",
                "fake fraction",
            ],
            floatfmt=".4f",
        ),
    ]
    for var, unit in (("energy", " GeV"), ("eta", "")):
        lines += ["", f"### Efficiency versus {'energy' if var == 'energy' else 'abs(eta)'}", ""]
        bins = ev["gnn_wp"][f"efficiency_vs_{var}"]["edges"]
        header = [f"{lo:g}-{hi:g}{unit}" for lo, hi in zip(bins[:-1], bins[1:], strict=True)]
        rows = [
            [ROW_LABELS[key], *_cells(b["mean"], b["count"])]
            for key in EVENT_ROWS
            if ev[key] is not None and (b := ev[key][f"efficiency_vs_{var}"])
        ]
        lines.append(markdown_table(rows, ["linker", *header]))
    if len(summary.get("models", [])) > 1:
        model_rows = [
            [
                r["run"],
                r["model"],
                r["auc"],
                r["efficiency_at_wp"],
                r["purity_at_wp"],
                r["event_efficiency"],
                r["event_purity"],
                r["parameters"],
                r["cpu_ms_per_event"],
            ]
            for r in summary["models"]
        ]
        lines += [
            "",
            "## Models side by side (seed working point)",
            "",
            markdown_table(
                model_rows,
                [
                    "run",
                    "model",
                    "edge AUC",
                    "efficiency @ WP",
                    "purity @ WP",
                    "event efficiency",
                    "event purity",
                    "parameters",
                    "CPU ms / event",
                ],
                floatfmt=[*[".4f"] * 8, ".2f"],
            ),
        ]
    if summary.get("plots"):
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in summary["plots"]]
    return "\n".join(lines) + "\n"
