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
    reco_to_sim: list[np.ndarray],
    score: list[np.ndarray],
    shared: list[np.ndarray],
    cfg: TruthConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Per trackster: index of its dominant sim particle (-1 if none passes) and the shared energy.

    The dominant particle is the one with the lowest association score; it counts only if the score
    is below ``max_score`` and it holds at least ``min_shared_fraction`` of the trackster's energy.
    """
    n = len(raw_energy)
    sim = np.full(n, -1, dtype=np.int64)
    energy = np.zeros(n, dtype=np.float32)
    for i in range(n):
        if len(reco_to_sim[i]) == 0:
            continue
        j = int(np.argmin(score[i]))
        frac = shared[i][j] / max(raw_energy[i], 1e-9)
        if score[i][j] < cfg.max_score and frac >= cfg.min_shared_fraction:
            sim[i] = int(reco_to_sim[i][j])
            energy[i] = shared[i][j]
    return sim, energy


def edge_labels(node_sim: np.ndarray, edge_index: np.ndarray) -> np.ndarray:
    """1 where both ends belong to the same sim particle, else 0 (float32)."""
    a, b = node_sim[edge_index[0]], node_sim[edge_index[1]]
    return ((a == b) & (a >= 0)).astype(np.float32)
