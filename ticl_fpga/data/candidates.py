"""Candidate edges: by geometry (an (eta, phi) cone, same endcap, capped nearest neighbours,
z-ordered), or read from the ntuple's TICLGraph tree (``graph``: ``linked_outers``), as CMSSW's
TracksterSoAProducer builds them."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field
from scipy.spatial import cKDTree

from ticl_fpga.config import StrictModel


class CandidateConfig(StrictModel):
    """Which trackster pairs the GNN gets to score.

    ``source: geometry`` (default) uses the cone below; ``source: ticlgraph`` takes every
    (trackster, outer neighbour) pair of the TICLGraph tree in the producer's order.
    """

    source: Literal["geometry", "ticlgraph"] = "geometry"

    cone_dr: float = Field(0.25, gt=0, description="max Delta R in (eta, phi)")
    max_neighbours: int = Field(8, ge=1, description="nearest neighbours kept per trackster")
    max_delta_z: float = Field(200.0, gt=0, description="max |z| difference (cm)")


def candidate_edges(
    eta: np.ndarray, phi: np.ndarray, z: np.ndarray, cfg: CandidateConfig
) -> np.ndarray:
    """Directed candidate edges ``[2, E]``: src is the trackster nearer the interaction point.

    Each trackster is joined to its ``max_neighbours`` nearest tracksters within ``cone_dr`` in the
    same endcap (phi is periodic); pairs are deduplicated and oriented by |z| (ties by index), so
    every unordered pair appears once.
    """
    n = len(eta)
    if n < 2:
        return np.zeros((2, 0), dtype=np.int64)
    pairs = []
    for side in (-1, 1):
        idx = np.flatnonzero(np.sign(z) == side)
        if len(idx) < 2:
            continue
        pts = np.stack([eta[idx] + 10.0, np.mod(phi[idx], 2 * math.pi)], axis=1)
        tree = cKDTree(pts, boxsize=[1e6, 2 * math.pi])
        k = min(cfg.max_neighbours + 1, len(idx))
        dist, nb = tree.query(pts, k=k, distance_upper_bound=cfg.cone_dr)
        dist, nb = dist.reshape(len(idx), k), nb.reshape(len(idx), k)
        ok = np.isfinite(dist) & (nb < len(idx)) & (nb != np.arange(len(idx))[:, None])
        a = np.repeat(np.arange(len(idx)), k)[ok.ravel()]
        b = nb.ravel()[ok.ravel()]
        pairs.append(np.stack([idx[a], idx[b]]))
    if not pairs:
        return np.zeros((2, 0), dtype=np.int64)
    p = np.concatenate(pairs, axis=1)
    az = np.abs(z)
    first_is_src = (az[p[0]] < az[p[1]]) | ((az[p[0]] == az[p[1]]) & (p[0] < p[1]))
    src = np.where(first_is_src, p[0], p[1])
    dst = np.where(first_is_src, p[1], p[0])
    keep = np.abs(az[dst] - az[src]) <= cfg.max_delta_z
    uniq = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)
    return uniq.T.astype(np.int64).reshape(2, -1)


def ticlgraph_edges(outer_counts: np.ndarray, outer_flat: np.ndarray) -> np.ndarray:
    """``[2, E]`` edges of a TICLGraph: row 0 the trackster ``i`` (inner), row 1 its outer neighbour.

    ``outer_counts[i]`` neighbours of trackster ``i`` follow each other in ``outer_flat`` (the
    ``linked_outers`` branch, flattened): the order is the producer's (``i`` ascending, then the
    order of ``getOuterNeighbours()``).
    """
    src = np.repeat(np.arange(len(outer_counts), dtype=np.int64), outer_counts)
    return np.stack([src, np.asarray(outer_flat, dtype=np.int64)]).reshape(2, -1)
