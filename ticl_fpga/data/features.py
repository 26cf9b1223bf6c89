"""Node and edge features of the trackster graph, computed from per-trackster arrays.

Features are 'raw' in the sense of the exported models: the model's baked-in scalers standardise
them; the transformations here (logs of energies, |z|, |eta|) are part of the feature definition
and documented by the names in the dataset's ``meta.json``.
"""

from __future__ import annotations

import numpy as np

from ticl_fpga.data.schema import TRACKSTER_BRANCHES

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


# --------------------------------------------------------------------------------------------
# The CMSSW feature set ("cmssw"): what TracksterLinkingByGNNProducer feeds the model.
# Definitions: ticl_fpga/data/cmssw.py (module docstring, with sources and known differences).
# --------------------------------------------------------------------------------------------

#: The producer's 29 node features, in its order (TracksterSoAProducer / TICLDumperGNN names).
CMSSW_NODE_FEATURES: tuple[str, ...] = (
    "barycenter_x",
    "barycenter_y",
    "barycenter_z",
    "barycenter_eta",
    "barycenter_phi",
    "eVector0_x",
    "eVector0_y",
    "eVector0_z",
    "EV1",
    "EV2",
    "EV3",
    "sigmaPCA1",
    "sigmaPCA2",
    "sigmaPCA3",
    "num_LCs",
    "num_hits",
    "raw_energy",
    "raw_em_energy",
    "photon_prob",
    "electron_prob",
    "muon_prob",
    "neutral_pion_prob",
    "charged_hadron_prob",
    "neutral_hadron_prob",
    "z_min",
    "z_max",
    "LC_density",
    "trackster_density",
    "time",
)
#: The CMSSW node features that are trackster-tree branches as they are (the rest are computed).
CMSSW_DIRECT_FEATURES: tuple[str, ...] = tuple(
    n for n in CMSSW_NODE_FEATURES if n in TRACKSTER_BRANCHES
)
#: The producer's 5 edge features, in its order.
CMSSW_EDGE_FEATURES: tuple[str, ...] = (
    "raw_energy",
    "barycenter_z",
    "barycenter_xy",
    "eigenvector0",
    "time",
)
#: ``detector_size`` of TracksterSoAProducer and TICLDumperGNN: 2 * (3 - 1.5) * (2 * 47).
DETECTOR_SIZE = float(np.float32(2 * (3 - 1.5) * (2 * 47)))

#: Feature names of each feature set: (node features, edge features).
FEATURE_SETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ticl_fpga": (NODE_FEATURES, EDGE_FEATURES),
    "cmssw": (CMSSW_NODE_FEATURES, CMSSW_EDGE_FEATURES),
}


def feature_names(feature_set: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(node feature names, edge feature names) of a feature set."""
    try:
        return FEATURE_SETS[feature_set]
    except KeyError:
        raise ValueError(
            f"unknown feature set '{feature_set}' (one of {', '.join(FEATURE_SETS)})"
        ) from None


def cmssw_node_features(n: dict[str, np.ndarray], n_tracksters: int) -> np.ndarray:
    """``[N, 29]`` float32 node features as the producer computes them.

    ``n`` holds per-trackster columns named as in :data:`CMSSW_NODE_FEATURES` except the two
    densities, which are computed here in float32 as in C++: ``LC_density = num_LCs /
    detector_size`` and ``trackster_density = n_tracksters / detector_size`` where
    ``n_tracksters`` is the size of the whole trackster collection of the event.
    """
    f32 = np.float32
    size = f32(DETECTOR_SIZE)
    num_lcs = np.asarray(n["num_LCs"], dtype=f32)
    cols = []
    for name in CMSSW_NODE_FEATURES:
        if name == "LC_density":
            cols.append(num_lcs / size)
        elif name == "trackster_density":
            cols.append(np.full(len(num_lcs), f32(n_tracksters) / size, dtype=f32))
        else:
            cols.append(np.asarray(n[name], dtype=f32))
    if not cols[0].size:
        return np.zeros((0, len(CMSSW_NODE_FEATURES)), dtype=f32)
    return np.stack(cols, axis=1).astype(f32)


def cmssw_edge_features(n: dict[str, np.ndarray], edge_index: np.ndarray) -> np.ndarray:
    """``[E, 5]`` float32 edge features of TICLDumperGNN, in float32 arithmetic as in C++.

    ``edge_index[0]`` is the inner trackster ``i`` (``edgeIndex_in``), ``edge_index[1]`` its
    outer neighbour (``edgeIndex_out``); every feature is symmetric except through float rounding.
    """
    f32 = np.float32
    src, dst = np.asarray(edge_index[0], dtype=np.int64), np.asarray(edge_index[1], dtype=np.int64)
    if len(src) == 0:
        return np.zeros((0, len(CMSSW_EDGE_FEATURES)), dtype=f32)

    def col(name):
        return np.asarray(n[name], dtype=f32)

    e, z, t = col("raw_energy"), col("barycenter_z"), col("time")
    x, y = col("barycenter_x"), col("barycenter_y")
    vx, vy, vz = col("eVector0_x"), col("eVector0_y"), col("eVector0_z")
    dot = (vx[src] * vx[dst] + vy[src] * vy[dst]) + vz[src] * vz[dst]
    cols = [
        np.abs(e[src] - e[dst]),
        np.abs(z[src] - z[dst]),
        np.hypot(x[src] - x[dst], y[src] - y[dst]),
        # acosf of glibc is correctly rounded: acos in double, rounded once to float32
        np.arccos(np.clip(dot, f32(-1), f32(1)).astype(np.float64)).astype(f32),
        np.abs(t[src] - t[dst]),
    ]
    return np.stack(cols, axis=1).astype(f32)
