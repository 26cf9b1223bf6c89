"""Validation metrics of a float or quantized model on a list of graphs (what pruning targets read)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from torch import nn

from ticl_fpga.errors import ConfigError
from ticl_fpga.evaluate.metrics import (
    efficiency_at_purity,
    efficiency_purity,
    roc_auc,
    working_point,
)

log = logging.getLogger(__name__)

#: Metric names a prune target may use (all "higher is better").
METRICS = (
    "edge_efficiency_at_purity",
    "auc",
    "efficiency",
    "purity",
    "event_efficiency",
    "event_good_fraction",
)


def evaluate_model(
    model: nn.Module,
    graphs: Sequence,
    *,
    purity: float = 0.9,
    batch_size: int = 64,
    device: str = "cpu",
) -> dict[str, float]:
    """AUC, efficiency at fixed purity, working-point efficiency/purity and event efficiency.

    Scores come from :func:`ticl_fpga.evaluate.predict.predict_scores` and the event-level numbers
    from :func:`ticl_fpga.evaluate.events.event_metrics` at the seed's working point; the model's
    train/eval mode is restored afterwards (pruning and QAT call this between fine-tuning steps).
    """
    from ticl_fpga.evaluate.events import event_metrics, seed_working_point
    from ticl_fpga.evaluate.predict import edge_arrays, predict_scores

    graphs = list(graphs)
    was_training = model.training
    try:
        per_graph = predict_scores(model, graphs, batch_size=batch_size, device=device)
    finally:
        model.train(was_training)
    edges = edge_arrays(graphs, per_graph)
    accepted = working_point(edges.scores, edges.max_energy)
    eff, pur = efficiency_purity(accepted, edges.labels)
    if graphs and all(getattr(g, "node_sim", None) is not None for g in graphs):
        ev = event_metrics(graphs, per_graph, seed_working_point())
        ev_eff, ev_good = float(ev["efficiency"]), float(ev["good_fraction"])
    else:
        ev_eff = ev_good = float("nan")
    return {
        "auc": roc_auc(edges.scores, edges.labels),
        "edge_efficiency_at_purity": efficiency_at_purity(
            edges.scores, edges.labels, purity=purity
        ),
        "purity_level": float(purity),
        "efficiency": eff,
        "purity": pur,
        "event_efficiency": ev_eff,
        "event_good_fraction": ev_good,
        "n_edges": int(edges.labels.size),
        "n_graphs": len(graphs),
    }


def check_metric(name: str, source: str = "--target") -> str:
    if name not in METRICS:
        raise ConfigError(f"{source}: unknown metric '{name}'; known: {', '.join(METRICS)}")
    return name
