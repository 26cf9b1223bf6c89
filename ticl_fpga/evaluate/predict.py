"""Run a scorer over event graphs and flatten the result into per-edge arrays."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch, Data
from tqdm.auto import tqdm

log = logging.getLogger(__name__)


@torch.no_grad()
def predict_scores(
    model: nn.Module,
    graphs: Sequence[Any],
    *,
    device: str | torch.device = "cpu",
    batch_size: int = 64,
    progress: bool = False,
) -> list[np.ndarray]:
    """Sigmoid scores of ``model`` (logits out, raw features in) for every graph: one array each.

    Graphs are batched with PyG's ``Batch`` (edge indices offset) and split back per event.
    """
    model = model.to(device).eval()
    out: list[np.ndarray] = []
    starts = range(0, len(graphs), batch_size)
    for start in tqdm(starts, desc="predict", disable=None if progress else True, unit="batch"):
        chunk = graphs[start : start + batch_size]
        slim = [Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr) for g in chunk]
        batch = Batch.from_data_list(slim).to(device)
        scores = torch.sigmoid(model(batch.x, batch.edge_index, batch.edge_attr)).float().cpu()
        counts = [int(g.edge_index.size(1)) for g in chunk]
        out.extend(part.numpy() for part in torch.split(scores, counts))
    return out


@dataclass
class EdgeArrays:
    """Per-edge arrays concatenated over events (what every edge-level metric consumes)."""

    scores: np.ndarray  # [E_total] float
    labels: np.ndarray  # [E_total] bool
    max_energy: np.ndarray  # [E_total] larger raw energy of the two end tracksters (GeV)
    event: np.ndarray  # [E_total] index of the graph in the list


def edge_arrays(graphs: Sequence[Any], scores: Sequence[np.ndarray]) -> EdgeArrays:
    """Flatten per-graph scores with the truth and the working-point energy of every edge."""
    if len(graphs) != len(scores):
        raise ValueError(f"{len(graphs)} graphs but {len(scores)} score arrays")
    s, y, e, ev = [], [], [], []
    for i, (g, sc) in enumerate(zip(graphs, scores, strict=True)):
        n_e = int(g.edge_index.size(1))
        sc = np.asarray(sc, dtype=np.float64).reshape(-1)
        if sc.shape[0] != n_e:
            raise ValueError(f"graph {i}: {n_e} edges but {sc.shape[0]} scores")
        energy = g.node_energy.numpy()  # raw energies (every dataset graph carries them)
        ei = g.edge_index.numpy()
        s.append(sc)
        y.append(g.y.numpy().astype(bool))
        e.append(np.maximum(energy[ei[0]], energy[ei[1]]) if n_e else np.zeros(0))
        ev.append(np.full(n_e, i, dtype=np.int64))
    cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)  # noqa: E731
    return EdgeArrays(cat(s, np.float64), cat(y, bool), cat(e, np.float64), cat(ev, np.int64))
