"""Event-level physics metrics: merge accepted edges into tracksters and score them per sim particle.

Works for any scorer (GNN, baseline, quantised model, FPGA C simulation): pass the per-graph
scores and an ``accept_fn(scores, graph) -> bool[E]`` (:func:`fixed_cut`,
:func:`seed_working_point`, :func:`truth_links` for the ceiling).

For each sim particle the *best* merged trackster is the connected component capturing the most of
its energy (``node_shared`` of nodes whose ``node_sim`` is the particle).  Efficiency = that
captured energy / ``sim_energy``; purity = the same captured energy / the component's total
``node_energy``.  A *fake merge* is a component of several tracksters that joins nodes of
different sim particles, or signal with pileup (``node_sim == -1``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ticl_fpga.evaluate.metrics import working_point

AcceptFn = Callable[[np.ndarray, Any], np.ndarray]

#: Default bins of sim-particle energy (GeV) and |eta|.
ENERGY_BINS = (0.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e5)
ETA_BINS = (1.5, 1.8, 2.1, 2.4, 2.7, 3.0)


def fixed_cut(cut: float) -> AcceptFn:
    """Accept edges with score > ``cut``."""

    def accept(scores: np.ndarray, graph: Any) -> np.ndarray:
        return np.asarray(scores) > cut

    accept.__name__ = f"cut_{cut:g}"
    return accept


def seed_working_point(low: float = 0.5, high: float = 0.8, energy_split: float = 50.0) -> AcceptFn:
    """The seed's energy-dependent working point (see :func:`metrics.working_point`)."""

    def accept(scores: np.ndarray, graph: Any) -> np.ndarray:
        energy = graph.node_energy.numpy()
        ei = graph.edge_index.numpy()
        max_e = np.maximum(energy[ei[0]], energy[ei[1]]) if ei.shape[1] else np.zeros(0)
        return working_point(scores, max_e, low=low, high=high, energy_split=energy_split)

    accept.__name__ = "seed_working_point"
    return accept


def truth_links(scores: np.ndarray, graph: Any) -> np.ndarray:
    """Accept exactly the true edges: the best any linker can do on these candidate edges."""
    return graph.y.numpy() > 0.5


def no_links(scores: np.ndarray, graph: Any) -> np.ndarray:
    """Accept nothing: tracksters as they come out of the pattern recognition."""
    return np.zeros(graph.edge_index.size(1), dtype=bool)


def merge_components(num_nodes: int, edge_index: np.ndarray, accepted: np.ndarray) -> np.ndarray:
    """Component label of every node after merging along accepted edges (undirected)."""
    if num_nodes == 0:
        return np.zeros(0, dtype=np.int64)
    ei = np.asarray(edge_index).reshape(2, -1)[:, np.asarray(accepted, dtype=bool)]
    adj = coo_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(num_nodes, num_nodes))
    _, labels = connected_components(adj, directed=False)
    return labels.astype(np.int64)


def particle_table(
    graphs: Sequence[Any], scores: Sequence[np.ndarray], accept_fn: AcceptFn
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Per-sim-particle rows (event, energy, eta, efficiency, purity) and merge counts."""
    if len(graphs) != len(scores):
        raise ValueError(f"{len(graphs)} graphs but {len(scores)} score arrays")
    rows: dict[str, list] = {
        k: [] for k in ("event", "energy", "eta", "efficiency", "purity", "n_tracksters")
    }
    counts = {
        "merged": 0,
        "fake": 0,
        "fake_multi_particle": 0,
        "fake_signal_pileup": 0,
        "tracksters": 0,
    }
    for i, (g, sc) in enumerate(zip(graphs, scores, strict=True)):
        n = int(g.num_nodes)
        accepted = np.asarray(accept_fn(np.asarray(sc), g), dtype=bool)
        if accepted.shape[0] != g.edge_index.size(1):
            raise ValueError(
                f"graph {i}: accept_fn gave {accepted.shape[0]} flags for {g.edge_index.size(1)} edges"
            )
        comp = merge_components(n, g.edge_index.numpy(), accepted)
        sim = g.node_sim.numpy()
        shared = g.node_shared.numpy().astype(np.float64)
        energy = g.node_energy.numpy().astype(np.float64)
        n_comp = int(comp.max()) + 1 if n else 0
        counts["tracksters"] += n_comp
        comp_energy = np.bincount(comp, weights=energy, minlength=n_comp)
        sizes = np.bincount(comp, minlength=n_comp)
        for c in np.flatnonzero(sizes > 1):
            members = sim[comp == c]
            particles = np.unique(members[members >= 0])
            multi = len(particles) > 1
            mixed = len(particles) >= 1 and bool((members < 0).any())
            counts["merged"] += 1
            counts["fake"] += int(multi or mixed)
            counts["fake_multi_particle"] += int(multi)
            counts["fake_signal_pileup"] += int(mixed and not multi)
        sim_energy = g.sim_energy.numpy().astype(np.float64)
        sim_eta = g.sim_eta.numpy().astype(np.float64)
        for s in range(len(sim_energy)):
            mine = sim == s
            rows["event"].append(i)
            rows["energy"].append(sim_energy[s])
            rows["eta"].append(sim_eta[s])
            rows["n_tracksters"].append(int(mine.sum()))
            if not mine.any():
                rows["efficiency"].append(0.0)
                rows["purity"].append(np.nan)
                continue
            captured = np.bincount(comp[mine], weights=shared[mine], minlength=n_comp)
            best = int(np.argmax(captured))
            eff = captured[best] / sim_energy[s] if sim_energy[s] > 0 else np.nan
            pur = captured[best] / comp_energy[best] if comp_energy[best] > 0 else np.nan
            rows["efficiency"].append(eff)
            rows["purity"].append(pur)
    table = {
        "event": np.asarray(rows["event"], dtype=np.int64),
        "n_tracksters": np.asarray(rows["n_tracksters"], dtype=np.int64),
        **{
            k: np.asarray(rows[k], dtype=np.float64)
            for k in ("energy", "eta", "efficiency", "purity")
        },
    }
    return table, counts


def binned(x: np.ndarray, values: np.ndarray, bins: Sequence[float]) -> dict[str, list]:
    """Mean of ``values`` (NaN ignored) in bins of ``x``: edges, counts, means, standard errors."""
    x, values = np.asarray(x, dtype=np.float64), np.asarray(values, dtype=np.float64)
    idx = np.digitize(x, bins) - 1
    mean, err, count = [], [], []
    for b in range(len(bins) - 1):
        v = values[(idx == b) & np.isfinite(values)]
        count.append(int(len(v)))
        mean.append(float(v.mean()) if len(v) else float("nan"))
        err.append(float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan"))
    return {"edges": [float(b) for b in bins], "count": count, "mean": mean, "stderr": err}


def _nanmean(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(a.mean()) if len(a) else float("nan")


def event_metrics(
    graphs: Sequence[Any],
    scores: Sequence[np.ndarray],
    accept_fn: AcceptFn,
    *,
    energy_bins: Sequence[float] = ENERGY_BINS,
    eta_bins: Sequence[float] = ETA_BINS,
    good: float = 0.9,
) -> dict[str, Any]:
    """Event-level summary of a scorer + acceptance rule over ``graphs`` (JSON-serialisable).

    Keys: ``n_events``, ``n_particles``, ``efficiency`` / ``purity`` (mean over particles),
    ``efficiency_median``, ``good_fraction`` (particles with efficiency and purity >= ``good``),
    merge counts (``merged``, ``fake``, ``fake_fraction``...), and ``efficiency_vs_energy``,
    ``purity_vs_energy``, ``efficiency_vs_eta``, ``purity_vs_eta`` (binned, |eta|).
    """
    table, counts = particle_table(graphs, scores, accept_fn)
    eff, pur = table["efficiency"], table["purity"]
    good_mask = (eff >= good) & (np.nan_to_num(pur) >= good)
    abs_eta = np.abs(table["eta"])
    return {
        "accept": getattr(accept_fn, "__name__", "accept"),
        "n_events": len(graphs),
        "n_particles": int(len(eff)),
        "efficiency": _nanmean(eff),
        "efficiency_median": float(np.nanmedian(eff)) if len(eff) else float("nan"),
        "purity": _nanmean(pur),
        "good_fraction": float(good_mask.mean()) if len(eff) else float("nan"),
        **counts,
        "fake_fraction": counts["fake"] / counts["merged"] if counts["merged"] else 0.0,
        "efficiency_vs_energy": binned(table["energy"], eff, energy_bins),
        "purity_vs_energy": binned(table["energy"], pur, energy_bins),
        "efficiency_vs_eta": binned(abs_eta, eff, eta_bins),
        "purity_vs_eta": binned(abs_eta, pur, eta_bins),
    }
