"""The ``cmssw`` feature set: the 29 node and 5 edge features that CMSSW's GNN linking producer feeds.

Sources (read from the public code, November 2026)
---------------------------------------------------
* ``RecoHGCal/TICL/plugins/alpaka/TracksterLinkingByGNNProducer.cc`` (chrisizeh/cmssw, branch
  gnn-inference): the model is called as ``forward(nodes [N, 29], edge_features [E, 5],
  edge_index [E, 2])`` and one score per edge is read (``preds``, ``[E, 1]``).  The node columns
  are, in order, :data:`~ticl_fpga.data.features.CMSSW_NODE_FEATURES`; the edge columns
  :data:`~ticl_fpga.data.features.CMSSW_EDGE_FEATURES`; ``edge_index`` columns are
  ``(in(), out())``.
* ``RecoHGCal/TICL/plugins/alpaka/TracksterSoAProducer.cc`` (same fork) fills those columns:
  for every trackster ``i`` and every ``node`` in ``ticlGraph.getNode(i).getOuterNeighbours()``
  one edge with ``in = i`` and ``out = node``.  **Column 0 of edge_index is the inner trackster
  (the one nearer the interaction point), column 1 its outer neighbour.**
* ``RecoHGCal/TICL/plugins/TICLDumperGNN.cc`` (waredjeb/cmssw) writes the same quantities to
  the ``ticlDumperGNN/GNNTraining`` tree (``node_*``, ``edge_*`` one list per trackster,
  ``edgeIndex_in`` = i, ``edgeIndex_out`` = outer neighbour, ``node_match_idx``).
* The seed's ``NeoGNNDataset`` (cms-patatrack/TICL-GNN-Trackster-Linking) reads that tree with
  the same 29/5 names.

Definitions (units: cm, GeV, ns; all float32 as in C++)
-------------------------------------------------------
Node: barycentre x/y/z (signed z), eta, phi; ``eigenvectors(0)`` x/y/z; eigenvalues 1-3;
sigmasPCA 1-3; ``num_LCs`` = number of layer clusters (vertices); ``num_hits`` = sum of the
layer clusters' hit counts (``clusters/cluster_number_of_hits``); raw energy and raw EM energy;
six ID probabilities (photon, electron, muon, neutral pion, charged hadron, neutral hadron);
``z_min``/``z_max`` = smallest/largest signed z of the trackster's layer clusters
(``clusters/position_z``); ``LC_density = num_LCs / 282``; ``trackster_density = (number of
tracksters in the event's collection) / 282`` (282 = 2 (3 - 1.5) (2 * 47), the producer's
``detector_size``); ``time`` (TICL's -99 when the trackster has no time).
Edge (i inner, j outer): ``|E_i - E_j|`` raw energies, ``|z_i - z_j|``, ``hypot(x_i - x_j,
y_i - y_j)``, ``acos(clamp(v_i . v_j, -1, 1))`` of the two main axes, ``|t_i - t_j|``.

Known differences between the two C++ sources (we follow the dumper, i.e. the training data):
``TracksterSoAProducer`` starts ``z_max`` at ``std::numeric_limits<float>::min()`` (the smallest
*positive* float), so in the negative endcap the producer feeds ``z_max = 1.2e-38`` where the
dumper writes the true (negative) maximum; and the producer does not clamp the cosine before
``acos`` (NaN when rounding makes it exceed 1).  The seed's ``NeoGNNDataset`` stacks
``(edgeIndex_out, edgeIndex_in)``, the reverse of the producer's ``(in, out)``: a seed model is
trained on reversed edges.  Our datasets and exports use the producer's order.

Reading
-------
When the ntuple has a ``GNNTraining`` tree, nodes, edges and features are read from it directly;
otherwise they are computed from the trackster tree, the ``clusters`` tree (layer-cluster z and
hit counts) and, for ``candidates.source: ticlgraph``, the ``graph`` tree.  Both give the same
numbers (``tests/data/test_cmssw_features.py``).  Tracksters with non-finite branches or
non-positive energy are dropped in both, and edges touching them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import uproot

from ticl_fpga.data.candidates import candidate_edges, ticlgraph_edges
from ticl_fpga.data.features import (
    CMSSW_DIRECT_FEATURES,
    CMSSW_EDGE_FEATURES,
    CMSSW_NODE_FEATURES,
    cmssw_edge_features,
    cmssw_node_features,
    edge_features,
    node_features,
)
from ticl_fpga.data.schema import (
    CLUSTER_BRANCHES,
    GNN_EDGE_BRANCHES,
    GNN_NODE_BRANCHES,
    ID_CLASSES,
)
from ticl_fpga.errors import InputError

log = logging.getLogger(__name__)

#: The six ID-probability node features and their index in ``id_probabilities``.
ID_FEATURES = {f"{c}_prob": ID_CLASSES.index(c) for c in ID_CLASSES[:6]}


@dataclass
class EventExtras:
    """Per-event arrays beyond what :mod:`ticl_fpga.data.ntuple` reads (one entry of a file)."""

    id_probabilities: np.ndarray | None = None  # [N, 8]
    vertices_counts: np.ndarray | None = None  # [N]
    vertices_flat: np.ndarray | None = None  # indices into the event's layer clusters
    lc_z: np.ndarray | None = None
    lc_hits: np.ndarray | None = None
    outer_counts: np.ndarray | None = None
    outer_flat: np.ndarray | None = None
    gnn: dict[str, np.ndarray] | None = None  # GNNTraining: flattened node_*/edge_* arrays


def needs_extras(cfg: Any) -> bool:
    """Whether building with ``cfg`` (a BuildConfig) reads anything beyond the default branches."""
    return cfg.feature_set == "cmssw" or cfg.candidates.source == "ticlgraph"


def _has(f, path: str) -> bool:
    try:
        f[path]
    except KeyError:
        return False
    return True


def _np(a) -> np.ndarray:
    return ak.to_numpy(a)


def read_extras(path: str | Path, cfg: Any, start: int, stop: int) -> list[EventExtras]:
    """Extra per-event arrays of entries ``[start, stop)`` of one file, for :func:`event_graph`."""
    schema = cfg.ntuple
    out = [EventExtras() for _ in range(stop - start)]
    try:
        with uproot.open(path) as f:
            use_gnn = cfg.feature_set == "cmssw" and cfg.gnn_training and _has(f, schema.gnn_path())
            if use_gnn:
                names = list(GNN_NODE_BRANCHES) + list(GNN_EDGE_BRANCHES)
                t = f[schema.gnn_path()]
                missing = [b for b in names if b not in t.keys()]
                if missing:
                    raise InputError(
                        path, "missing branch", field=f"{schema.gnn_path()}/{missing[0]}"
                    )
                arr = t.arrays(names, entry_start=start, entry_stop=stop, library="ak")
                for k in range(stop - start):
                    ev = arr[k]
                    out[k].gnn = {b: _np(ak.flatten(ev[b], axis=None)) for b in names}
                    out[k].gnn["outer_counts"] = _np(ak.num(ev["edgeIndex_out"], axis=1))
                return out
            reco = f[schema.tree_path(schema.tracksters)]
            if cfg.feature_set == "cmssw":
                for b in ("id_probabilities", "vertices_indexes"):
                    if b not in reco.keys():
                        raise InputError(path, "missing branch", field=f"{reco.object_path}/{b}")
                r = reco.arrays(
                    ["id_probabilities", "vertices_indexes"],
                    entry_start=start,
                    entry_stop=stop,
                    library="ak",
                )
                cpath = schema.tree_path(schema.clusters)
                if not _has(f, cpath):
                    raise InputError(
                        path,
                        "missing tree (the cmssw feature set needs layer clusters)",
                        field=cpath,
                    )
                c = f[cpath].arrays(list(CLUSTER_BRANCHES), entry_start=start, entry_stop=stop)
                for k in range(stop - start):
                    idp = r["id_probabilities"][k]
                    vi = r["vertices_indexes"][k]
                    out[k].id_probabilities = (
                        _np(ak.fill_none(ak.pad_none(idp, 8, axis=1, clip=True), 0.0)).reshape(
                            -1, 8
                        )
                        if len(idp)
                        else np.zeros((0, 8))
                    )
                    out[k].vertices_counts = _np(ak.num(vi, axis=1))
                    out[k].vertices_flat = _np(ak.flatten(vi)).astype(np.int64)
                    out[k].lc_z = _np(c["position_z"][k]).astype(np.float32)
                    out[k].lc_hits = _np(c["cluster_number_of_hits"][k]).astype(np.int64)
            if cfg.candidates.source == "ticlgraph":
                gpath = schema.tree_path(schema.graph)
                if not _has(f, gpath):
                    raise InputError(
                        path, "missing tree (candidates.source: ticlgraph)", field=gpath
                    )
                g = f[gpath].arrays(["linked_outers"], entry_start=start, entry_stop=stop)
                for k in range(stop - start):
                    lo = g["linked_outers"][k]
                    out[k].outer_counts = _np(ak.num(lo, axis=1))
                    out[k].outer_flat = _np(ak.flatten(lo)).astype(np.int64)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - uproot raises many types on corrupt files
        raise InputError(
            path, f"cannot read the cmssw trees ({type(exc).__name__}: {exc})"
        ) from None
    return out


def _remap(edge_index: np.ndarray, keep: np.ndarray, n_all: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges between kept nodes, renumbered; also the mask of kept edges."""
    new = np.full(n_all, -1, dtype=np.int64)
    new[keep] = np.arange(len(keep))
    a, b = new[edge_index[0]], new[edge_index[1]]
    ok = (a >= 0) & (b >= 0)
    return np.stack([a[ok], b[ok]]).reshape(2, -1), ok


def cmssw_node_columns(nodes: dict[str, np.ndarray], extra: EventExtras) -> dict[str, np.ndarray]:
    """Per-trackster columns of the 29 node features computed from trackster + cluster trees."""
    n = len(nodes["raw_energy"])
    cols: dict[str, np.ndarray] = {
        k: np.asarray(nodes[k], dtype=np.float32) for k in CMSSW_DIRECT_FEATURES
    }
    idp = np.asarray(extra.id_probabilities, dtype=np.float32).reshape(-1, 8)
    for name, k in ID_FEATURES.items():
        cols[name] = idp[:, k]
    counts = np.asarray(extra.vertices_counts, dtype=np.int64)
    flat = np.asarray(extra.vertices_flat, dtype=np.int64)
    if len(counts) != n or len(idp) != n:
        raise ValueError(f"{len(counts)} vertex lists / {len(idp)} ID rows for {n} tracksters")
    lc_z, lc_hits = extra.lc_z, extra.lc_hits
    if len(flat) and (flat.max() >= len(lc_z) or flat.min() < 0):
        raise ValueError("vertices_indexes points outside the clusters tree")
    owner = np.repeat(np.arange(n), counts)
    z = lc_z[flat]
    zmin = np.full(n, np.inf, dtype=np.float32)
    zmax = np.full(n, -np.inf, dtype=np.float32)
    np.minimum.at(zmin, owner, z)
    np.maximum.at(zmax, owner, z)
    empty = counts == 0
    zmin[empty] = 0.0
    zmax[empty] = 0.0
    cols["z_min"], cols["z_max"] = zmin, zmax
    cols["num_LCs"] = counts.astype(np.float32)
    cols["num_hits"] = np.bincount(owner, weights=lc_hits[flat], minlength=n).astype(np.float32)
    return cols


def event_graph(
    ev: Any, extra: EventExtras | None, keep: np.ndarray, cfg: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """``(x, edge_index [2, E], edge_attr, match)`` of one event for ``cfg``'s feature set/candidates.

    ``keep`` are the indices of the valid tracksters (all others are dropped with their edges).
    ``match`` is GNNTraining's ``node_match_idx`` of the kept tracksters when that tree was read,
    else ``None``.
    """
    nodes_all = ev.nodes
    n_all = len(nodes_all["raw_energy"])
    nodes = {k: v[keep] for k, v in nodes_all.items()}
    match = None
    if extra is not None and extra.gnn is not None:
        g = extra.gnn
        if len(g["node_raw_energy"]) != n_all:
            raise InputError(
                ev.file,
                f"entry {ev.entry}: GNNTraining has {len(g['node_raw_energy'])} nodes, "
                f"the trackster tree {n_all}",
            )
        # GNNTraining branch suffixes are the producer's feature names, in its order
        x_all = np.stack(
            [np.asarray(g[f"node_{k}"], dtype=np.float32) for k in CMSSW_NODE_FEATURES], axis=1
        )
        x_all = x_all.reshape(n_all, len(CMSSW_NODE_FEATURES))
        ei_all = np.stack(
            [g["edgeIndex_in"].astype(np.int64), g["edgeIndex_out"].astype(np.int64)]
        ).reshape(2, -1)
        ea_all = np.stack(
            [np.asarray(g[f"edge_{k}"], dtype=np.float32) for k in CMSSW_EDGE_FEATURES], axis=1
        ).reshape(-1, len(CMSSW_EDGE_FEATURES))
        ei, ok = _remap(ei_all, keep, n_all)
        match = g["node_match_idx"].astype(np.int64)[keep]
        return x_all[keep], ei, ea_all[ok], match
    # edges
    if cfg.candidates.source == "ticlgraph":
        if extra is None or extra.outer_counts is None:
            raise InputError(ev.file, "no TICLGraph read", field="graph")
        if len(extra.outer_counts) != n_all:
            raise InputError(
                ev.file,
                f"entry {ev.entry}: graph has {len(extra.outer_counts)} nodes, tracksters {n_all}",
            )
        ei, _ = _remap(ticlgraph_edges(extra.outer_counts, extra.outer_flat), keep, n_all)
    else:
        ei = candidate_edges(
            nodes["barycenter_eta"], nodes["barycenter_phi"], nodes["barycenter_z"], cfg.candidates
        )
    if cfg.feature_set == "cmssw":
        assert extra is not None
        try:
            cols = cmssw_node_columns(nodes_all, extra)
        except ValueError as exc:
            raise InputError(ev.file, f"entry {ev.entry}: {exc}") from None
        x = cmssw_node_features(cols, n_all)[keep]
        kept_cols = {k: v[keep] for k, v in cols.items()}
        return x, ei, cmssw_edge_features(kept_cols, ei), None
    return node_features(nodes), ei, edge_features(nodes, ei), None
