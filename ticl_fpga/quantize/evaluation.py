"""Validation metrics of a float or quantized model on a list of graphs (what pruning targets read).

Besides the physics metrics, ``agreement`` is the fraction of edges on which the model takes the
same accept/reject decision at the seed's working point as a reference (the float model): pass
the reference's per-graph scores as ``reference_scores`` (:func:`model_scores`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
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
    "agreement",
)


def model_scores(model: nn.Module, graphs: Sequence, *, batch_size: int = 64, device: str = "cpu"):
    """Per-graph sigmoid scores of ``model`` (train/eval mode restored afterwards)."""
    from ticl_fpga.evaluate.predict import predict_scores

    was_training = model.training
    try:
        return predict_scores(model, list(graphs), batch_size=batch_size, device=device)
    finally:
        model.train(was_training)


def decision_agreement(
    scores, reference_scores, max_energy, *, working_point_fn=None
) -> tuple[int, int]:
    """``(agreeing edges, edges)`` of two score arrays under the working point (flat arrays)."""
    wp = working_point_fn or working_point
    a = np.asarray(wp(np.asarray(scores, np.float64), max_energy), dtype=bool)
    b = np.asarray(wp(np.asarray(reference_scores, np.float64), max_energy), dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"{a.shape[0]} scores but {b.shape[0]} reference scores")
    return int((a == b).sum()), int(a.size)


def evaluate_model(
    model: nn.Module,
    graphs: Sequence,
    *,
    purity: float = 0.9,
    batch_size: int = 64,
    device: str = "cpu",
    reference_scores: Sequence | None = None,
) -> dict[str, float]:
    """AUC, efficiency at fixed purity, working-point efficiency/purity and event efficiency.

    With ``reference_scores`` (per-graph scores of the float model on the same graphs) also
    ``agreement``: the fraction of edges decided alike at the working point (NaN without).

    Scores come from :func:`ticl_fpga.evaluate.predict.predict_scores` and the event-level numbers
    from :func:`ticl_fpga.evaluate.events.event_metrics` at the seed's working point; the model's
    train/eval mode is restored afterwards (pruning and QAT call this between fine-tuning steps).
    """
    from ticl_fpga.evaluate.events import event_metrics, seed_working_point
    from ticl_fpga.evaluate.predict import edge_arrays

    graphs = list(graphs)
    per_graph = model_scores(model, graphs, batch_size=batch_size, device=device)
    edges = edge_arrays(graphs, per_graph)
    agreement = float("nan")
    if reference_scores is not None:
        ref = edge_arrays(graphs, list(reference_scores))
        same, n = decision_agreement(edges.scores, ref.scores, edges.max_energy)
        agreement = same / n if n else 1.0
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
        "agreement": agreement,
        "n_edges": int(edges.labels.size),
        "n_graphs": len(graphs),
    }


def check_metric(name: str, source: str = "--target") -> str:
    if name not in METRICS:
        raise ConfigError(f"{source}: unknown metric '{name}'; known: {', '.join(METRICS)}")
    return name
