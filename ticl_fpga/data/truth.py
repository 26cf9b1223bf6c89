"""Truth from TICL associations: each trackster's dominant sim particle and the edge labels."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ticl_fpga.config import StrictModel


class TruthConfig(StrictModel):
    """When a trackster counts as belonging to a sim particle."""

    max_score: float = Field(0.35, gt=0, le=1, description="recoToSim score cut (0 = perfect)")
    min_shared_fraction: float = Field(0.5, ge=0, le=1, description="sharedE / raw_energy cut")


def dominant_sim(
    raw_energy: np.ndarray,
    offsets: np.ndarray,
    sim: np.ndarray,
    score: np.ndarray,
    shared: np.ndarray,
    cfg: TruthConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Per trackster: index of its dominant sim particle (-1 if none passes) and the shared energy.

    Associations are in CSR form (trackster ``i`` owns entries ``offsets[i]:offsets[i+1]``).  The
    dominant particle is the one with the lowest association score; it counts only if the score is
    below ``max_score`` and it holds at least ``min_shared_fraction`` of the trackster's energy.
    """
    n = len(raw_energy)
    out_sim = np.full(n, -1, dtype=np.int64)
    out_energy = np.zeros(n, dtype=np.float32)
    counts = np.diff(offsets)
    has = np.flatnonzero(counts > 0)
    if len(has) == 0:
        return out_sim, out_energy
    owner = np.repeat(np.arange(n), counts)
    order = np.lexsort((score, owner))  # grouped by trackster, best score first
    best = order[offsets[has]]
    frac = shared[best] / np.maximum(raw_energy[has], 1e-9)
    ok = (score[best] < cfg.max_score) & (frac >= cfg.min_shared_fraction)
    out_sim[has[ok]] = sim[best[ok]]
    out_energy[has[ok]] = shared[best[ok]]
    return out_sim, out_energy


def edge_labels(node_sim: np.ndarray, edge_index: np.ndarray) -> np.ndarray:
    """1 where both ends belong to the same sim particle, else 0 (float32)."""
    a, b = node_sim[edge_index[0]], node_sim[edge_index[1]]
    return ((a == b) & (a >= 0)).astype(np.float32)
