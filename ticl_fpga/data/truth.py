"""Truth from TICL associations: each trackster's dominant sim particle and the edge labels."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ticl_fpga.config import StrictModel


class TruthConfig(StrictModel):
    """When a trackster counts as belonging to a sim particle.

    ``rule: dominant`` (default): the lowest-score sim particle, if its score is below
    ``max_score`` and it holds ``min_shared_fraction`` of the trackster's energy.
    ``rule: seed``: the rule of TICLDumperGNN (``calcReco2SimTracksterFit``) and so of the seed's
    training data: a trackster is matched when exactly one sim trackster has a recoToSim score
    strictly below ``seed_max_score`` (0.2); an edge is true when both ends match the same one.
    """

    rule: Literal["dominant", "seed"] = "dominant"
    max_score: float = Field(0.35, gt=0, le=1, description="recoToSim score cut (0 = perfect)")
    min_shared_fraction: float = Field(0.5, ge=0, le=1, description="sharedE / raw_energy cut")
    seed_max_score: float = Field(0.2, gt=0, le=1, description="score cut of the seed rule")


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
    if cfg.rule == "seed":
        return seed_match(len(raw_energy), offsets, sim, score, shared, cfg.seed_max_score)
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


def seed_match(
    n: int,
    offsets: np.ndarray,
    sim: np.ndarray,
    score: np.ndarray,
    shared: np.ndarray,
    max_score: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    """TICLDumperGNN's ``node_match_idx``: the sim trackster when exactly one has score < cut.

    Scores are compared in float32, as the dumper does (``sim.score() < 0.2f``).
    """
    out_sim = np.full(n, -1, dtype=np.int64)
    out_energy = np.zeros(n, dtype=np.float32)
    counts = np.diff(offsets)
    if len(score) == 0:
        return out_sim, out_energy
    passed = np.asarray(score, dtype=np.float32) < np.float32(max_score)
    owner = np.repeat(np.arange(n), counts)
    n_passed = np.bincount(owner[passed], minlength=n)
    # the (only) passing association of each trackster with exactly one
    one = passed & (n_passed[owner] == 1)
    out_sim[owner[one]] = sim[one]
    out_energy[owner[one]] = shared[one]
    return out_sim, out_energy


def edge_labels(node_sim: np.ndarray, edge_index: np.ndarray) -> np.ndarray:
    """1 where both ends belong to the same sim particle, else 0 (float32)."""
    a, b = node_sim[edge_index[0]], node_sim[edge_index[1]]
    return ((a == b) & (a >= 0)).astype(np.float32)
