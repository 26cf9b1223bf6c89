"""Node and edge features of the trackster graph, computed from per-trackster arrays.

Features are 'raw' in the sense of the exported models: the model's baked-in scalers standardise
them; the transformations here (logs of energies, |z|, |eta|) are part of the feature definition
and documented by the names in the dataset's ``meta.json``.
"""

from __future__ import annotations

import numpy as np

NODE_FEATURES: tuple[str, ...] = (
    "x",
    "y",
    "abs_z",
    "abs_eta",
    "phi",
    "log_energy",
    "em_fraction",
    "log_pt",
    "log_ev1",
    "ev2_over_ev1",
    "ev3_over_ev1",
    "axis_x",
    "axis_y",
    "axis_abs_z",
    "sigma_pca1",
    "sigma_pca2",
    "sigma_pca3",
    "time",
    "has_time",
)
EDGE_FEATURES: tuple[str, ...] = (
    "delta_r",
    "delta_eta",
    "delta_phi",
    "delta_z",
    "distance",
    "log_energy_ratio",
    "axis_angle",
    "axis_distance",
    "delta_t",
    "both_timed",
)


def _axes(n: dict[str, np.ndarray]) -> np.ndarray:
    a = np.stack([n["eVector0_x"], n["eVector0_y"], n["eVector0_z"]], axis=1)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    # orient every axis away from the interaction point
    flip = np.sign(a[:, 2]) != np.sign(n["barycenter_z"])
    a[flip] *= -1
    return a


def node_features(n: dict[str, np.ndarray]) -> np.ndarray:
    """``[N, len(NODE_FEATURES)]`` float32."""
    e = np.maximum(n["raw_energy"], 1e-6)
    ev1 = np.maximum(n["EV1"], 1e-9)
    axis = _axes(n)
    has_time = (n["timeError"] > 0).astype(np.float64)
    cols = [
        n["barycenter_x"],
        n["barycenter_y"],
        np.abs(n["barycenter_z"]),
        np.abs(n["barycenter_eta"]),
        n["barycenter_phi"],
        np.log(e),
        np.clip(n["raw_em_energy"] / e, 0, 1),
        np.log(np.maximum(n["raw_pt"], 1e-6)),
        np.log(ev1),
        n["EV2"] / ev1,
        n["EV3"] / ev1,
        axis[:, 0],
        axis[:, 1],
        np.abs(axis[:, 2]),
        n["sigmaPCA1"],
        n["sigmaPCA2"],
        n["sigmaPCA3"],
        np.where(has_time > 0, n["time"], 0.0),
        has_time,
    ]
    return np.stack(cols, axis=1).astype(np.float32)


def _line_distance(p1, d1, p2, d2) -> np.ndarray:
    """Closest approach of the lines ``p1 + t d1`` and ``p2 + s d2`` (unit directions)."""
    cross = np.cross(d1, d2)
    norm = np.linalg.norm(cross, axis=1)
    w = p2 - p1
    skew = np.abs(np.einsum("ij,ij->i", w, cross)) / np.maximum(norm, 1e-12)
    # parallel lines: distance of p2 from line 1
    par = np.linalg.norm(np.cross(w, d1), axis=1)
    return np.where(norm > 1e-6, skew, par)


def edge_features(n: dict[str, np.ndarray], edge_index: np.ndarray) -> np.ndarray:
    """``[E, len(EDGE_FEATURES)]`` float32 for directed edges (src nearer the IP)."""
    src, dst = edge_index
    if len(src) == 0:
        return np.zeros((0, len(EDGE_FEATURES)), dtype=np.float32)
    eta, phi = n["barycenter_eta"], n["barycenter_phi"]
    deta = np.abs(eta[dst]) - np.abs(eta[src])
    dphi = np.mod(phi[dst] - phi[src] + np.pi, 2 * np.pi) - np.pi
    pos = np.stack([n["barycenter_x"], n["barycenter_y"], n["barycenter_z"]], axis=1)
    axis = _axes(n)
    e = np.maximum(n["raw_energy"], 1e-6)
    cos = np.clip(np.einsum("ij,ij->i", axis[src], axis[dst]), -1, 1)
    timed = (n["timeError"][src] > 0) & (n["timeError"][dst] > 0)
    cols = [
        np.hypot(deta, dphi),
        deta,
        dphi,
        np.abs(n["barycenter_z"][dst]) - np.abs(n["barycenter_z"][src]),
        np.linalg.norm(pos[dst] - pos[src], axis=1),
        np.log(e[dst] / e[src]),
        np.arccos(cos),
        _line_distance(pos[src], axis[src], pos[dst], axis[dst]),
        np.where(timed, n["time"][dst] - n["time"][src], 0.0),
        timed.astype(np.float64),
    ]
    return np.stack(cols, axis=1).astype(np.float32)
