"""Validation metrics of a float or quantized model on a list of graphs (what pruning targets read)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
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


@torch.no_grad()
def predict(model: nn.Module, graphs: Sequence, *, batch_size: int = 64, device: str = "cpu"):
    """Sigmoid scores of every edge, concatenated in graph order (eval mode, no gradients)."""
    from torch_geometric.loader import DataLoader

    was_training = model.training
    model.eval()
    out = []
    try:
        for batch in DataLoader(list(graphs), batch_size=batch_size, shuffle=False):
            batch = batch.to(device)
            out.append(torch.sigmoid(model(batch.x, batch.edge_index, batch.edge_attr)).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


def edge_max_energy(graphs: Sequence) -> np.ndarray | None:
    """Larger raw energy of the two tracksters of every edge (``None`` without ``node_energy``)."""
    parts = []
    for g in graphs:
        if getattr(g, "node_energy", None) is None:
            return None
        e = g.node_energy
        parts.append(torch.maximum(e[g.edge_index[0]], e[g.edge_index[1]]).numpy())
    return np.concatenate(parts) if parts else np.zeros(0)


def event_efficiency(graphs: Sequence, scores: np.ndarray) -> tuple[float, float]:
    """(mean sim-particle energy efficiency, good fraction) at the seed's working point.

    Delegates to :func:`ticl_fpga.evaluate.events.event_metrics` (accepted edges merge tracksters;
    efficiency = energy of a sim particle captured by its best merged trackster / its energy).
    NaN when the graphs lack the sim-truth fields.
    """
    from ticl_fpga.evaluate.events import event_metrics, seed_working_point

    graphs = list(graphs)
    if not graphs or any(getattr(g, "node_sim", None) is None for g in graphs):
        return float("nan"), float("nan")
    per_graph, offset = [], 0
    for g in graphs:
        n_e = int(g.edge_index.size(1))
        per_graph.append(np.asarray(scores[offset : offset + n_e]))
        offset += n_e
    out = event_metrics(graphs, per_graph, seed_working_point())
    return float(out["efficiency"]), float(out["good_fraction"])


def evaluate_model(
    model: nn.Module,
    graphs: Sequence,
    *,
    purity: float = 0.9,
    batch_size: int = 64,
    device: str = "cpu",
) -> dict[str, float]:
    """AUC, efficiency at fixed purity, working-point efficiency/purity and event efficiency."""
    graphs = list(graphs)
    scores = predict(model, graphs, batch_size=batch_size, device=device)
    labels = torch.cat([g.y for g in graphs]).numpy() if graphs else np.zeros(0)
    max_e = edge_max_energy(graphs)
    accepted = scores > 0.5 if max_e is None else working_point(scores, max_e)
    eff, pur = efficiency_purity(accepted, labels)
    ev_eff, ev_good = event_efficiency(graphs, scores)
    return {
        "auc": roc_auc(scores, labels),
        "edge_efficiency_at_purity": efficiency_at_purity(scores, labels, purity=purity),
        "purity_level": float(purity),
        "efficiency": eff,
        "purity": pur,
        "event_efficiency": ev_eff,
        "event_good_fraction": ev_good,
        "n_edges": int(labels.size),
        "n_graphs": len(graphs),
    }


def check_metric(name: str, source: str = "--target") -> str:
    if name not in METRICS:
        raise ConfigError(f"{source}: unknown metric '{name}'; known: {', '.join(METRICS)}")
    return name
