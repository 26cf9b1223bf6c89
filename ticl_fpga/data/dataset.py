"""The on-disk graph dataset: event-wise splits, PyG ``Data`` shards, scalers fitted on train.

Layout of a dataset folder::

    meta.json                  features, scalers, summary, build config, provenance
    train/shard-00000.pt ...   lists of torch_geometric.data.Data (torch.save)
    val/...  test/...

Building runs the per-event graph construction in ``workers`` processes and writes shards of
``shard_size`` events, so memory stays bounded whatever the number of events.  The folder is built
under a temporary name and renamed at the end: an interrupted build leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from ticl_fpga.config import StrictModel, provenance
from ticl_fpga.data.candidates import CandidateConfig, candidate_edges
from ticl_fpga.data.features import EDGE_FEATURES, NODE_FEATURES, edge_features, node_features
from ticl_fpga.data.ntuple import EventArrays, expand_paths, file_entries, iter_events
from ticl_fpga.data.schema import NODE_BRANCHES, NtupleSchema
from ticl_fpga.data.truth import TruthConfig, dominant_sim, edge_labels
from ticl_fpga.errors import InputError
from ticl_fpga.io import atomic_path, write_json

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


class BuildConfig(StrictModel):
    """How ntuples become graphs."""

    ntuple: NtupleSchema = NtupleSchema()
    candidates: CandidateConfig = CandidateConfig()
    truth: TruthConfig = TruthConfig()
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    split_seed: int = 0
    workers: int = Field(2, ge=1)
    step_size: int = Field(200, ge=1, description="events per uproot chunk")
    shard_size: int = Field(500, ge=1, description="events per shard file")
    max_events: int | None = Field(None, ge=1)


@dataclass
class GraphArrays:
    """One event's graph as numpy arrays (what workers send back)."""

    event: int
    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    y: np.ndarray
    node_sim: np.ndarray
    node_shared: np.ndarray
    node_energy: np.ndarray
    node_eta: np.ndarray
    sim_energy: np.ndarray
    sim_eta: np.ndarray
    sim_pid: np.ndarray
    nan_rows: int = 0
    true_pairs: int = 0

    def to_data(self):
        import torch
        from torch_geometric.data import Data

        t = torch.from_numpy
        return Data(
            x=t(self.x),
            edge_index=t(self.edge_index),
            edge_attr=t(self.edge_attr),
            y=t(self.y),
            node_sim=t(self.node_sim),
            node_shared=t(self.node_shared),
            node_energy=t(self.node_energy),
            node_eta=t(self.node_eta),
            sim_energy=t(self.sim_energy),
            sim_eta=t(self.sim_eta),
            sim_pid=t(self.sim_pid),
            event=int(self.event),
        )


def build_graph(ev: EventArrays, cfg: BuildConfig) -> GraphArrays | None:
    """Graph of one event; ``None`` for an event with no (valid) trackster."""
    nodes = ev.nodes
    n_all = len(nodes["raw_energy"])
    if n_all == 0:
        return None
    finite = np.ones(n_all, dtype=bool)
    for b in NODE_BRANCHES:
        finite &= np.isfinite(nodes[b])
    valid = finite & (nodes["raw_energy"] > 0)
    keep = np.flatnonzero(valid)
    if len(keep) == 0:
        return None
    nodes = {k: v[keep] for k, v in nodes.items()}
    x = node_features(nodes)
    ei = candidate_edges(
        nodes["barycenter_eta"], nodes["barycenter_phi"], nodes["barycenter_z"], cfg.candidates
    )
    ea = edge_features(nodes, ei)
    all_sim, all_shared = dominant_sim(
        ev.nodes["raw_energy"],
        ev.assoc_offsets,
        ev.assoc_sim,
        ev.assoc_score,
        ev.assoc_shared,
        cfg.truth,
    )
    node_sim, node_shared = all_sim[keep], all_shared[keep]
    y = edge_labels(node_sim, ei)
    # energy of each sim particle as seen by the reconstruction (sum of shared energies)
    n_sim = len(ev.sim["regressed_energy"])
    owner = np.repeat(np.arange(n_all), np.diff(ev.assoc_offsets))
    use = valid[owner] & (ev.assoc_sim >= 0) & (ev.assoc_sim < n_sim)
    sim_energy = np.bincount(
        ev.assoc_sim[use], weights=ev.assoc_shared[use], minlength=n_sim
    ).astype(np.float32)
    counts = np.bincount(node_sim[node_sim >= 0], minlength=n_sim)
    return GraphArrays(
        event=ev.event,
        x=x,
        edge_index=ei,
        edge_attr=ea,
        y=y,
        node_sim=node_sim,
        node_shared=node_shared.astype(np.float32),
        node_energy=nodes["raw_energy"].astype(np.float32),
        node_eta=nodes["barycenter_eta"].astype(np.float32),
        sim_energy=sim_energy,
        sim_eta=ev.sim["barycenter_eta"].astype(np.float32),
        sim_pid=ev.sim["pdgID"].astype(np.int64),
        nan_rows=int((~finite).sum()),
        true_pairs=int((counts * (counts - 1) // 2).sum()),
    )


def _check_finite(g: GraphArrays, ev: EventArrays) -> None:
    for name, arr in (("node features", g.x), ("edge features", g.edge_attr)):
        if not np.isfinite(arr).all():
            raise InputError(ev.file, f"non-finite {name} in entry {ev.entry}")


def _split_of(event_key: str, cfg: BuildConfig) -> str:
    h = hashlib.blake2b(f"{cfg.split_seed}:{event_key}".encode(), digest_size=8).digest()
    u = int.from_bytes(h, "little") / 2**64
    f_train, f_val, _ = cfg.split_fractions
    return "train" if u < f_train else "val" if u < f_train + f_val else "test"


_WORKER_CFG: BuildConfig | None = None


def _init_worker(cfg: BuildConfig) -> None:
    global _WORKER_CFG
    _WORKER_CFG = cfg
    # The parent (the CLI) turns SIGTERM into KeyboardInterrupt; workers must die on it instead,
    # or Pool.terminate() can wait forever for a worker blocked on the task queue's lock.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


Task = tuple[str, int, int]  # (file, first entry, end entry)


def _work(task: Task) -> list[tuple[str, int, GraphArrays | None]]:
    """Read entries ``[start, stop)`` of one file and build their graphs (runs in a worker)."""
    assert _WORKER_CFG is not None
    path, start, stop = task
    out = []
    for ev in iter_events(
        [path], _WORKER_CFG.ntuple, step_size=stop - start, entry_range=(start, stop)
    ):
        g = build_graph(ev, _WORKER_CFG)
        if g is not None:
            _check_finite(g, ev)
        out.append((ev.file, ev.entry, g))
    return out


def _tasks(paths, cfg: BuildConfig) -> list[Task]:
    """Chunks of ``step_size`` entries over all files; opens and checks every file first."""
    tasks: list[Task] = []
    remaining = cfg.max_events
    for path in expand_paths(paths):
        n = file_entries(path, cfg.ntuple)
        for start in range(0, n, cfg.step_size):
            stop = min(start + cfg.step_size, n)
            if remaining is not None:
                stop = min(stop, start + remaining)
                remaining -= stop - start
            tasks.append((str(path), start, stop))
            if remaining == 0:
                return tasks
    return tasks


def _iter_graphs(paths, cfg: BuildConfig) -> Iterator[tuple[str, int, GraphArrays | None]]:
    """Graphs in file/entry order; with ``workers > 1`` each worker reads and builds whole chunks."""
    tasks = _tasks(paths, cfg)
    if cfg.workers <= 1 or len(tasks) <= 1:
        _init_worker(cfg)
        for task in tasks:
            yield from _work(task)
        return
    ctx = mp.get_context("fork")
    pool = ctx.Pool(min(cfg.workers, len(tasks)), initializer=_init_worker, initargs=(cfg,))
    try:
        for chunk in pool.imap(_work, tasks):
            yield from chunk
        pool.close()
    finally:
        pool.terminate()
        pool.join()


@dataclass
class _Stats:
    events: int = 0
    empty_events: int = 0
    nan_rows: int = 0
    nodes: list[int] = field(default_factory=list)
    edges: list[int] = field(default_factory=list)
    positives: int = 0
    true_pairs: int = 0
    per_split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    sums: dict[str, np.ndarray] = field(default_factory=dict)

    def add_moments(self, key: str, arr: np.ndarray) -> None:
        a = arr.astype(np.float64)
        s = np.stack([np.full(a.shape[1], len(a), dtype=np.float64), a.sum(0), (a * a).sum(0)])
        self.sums[key] = self.sums.get(key, 0) + s

    def scalers(self) -> dict[str, list[float]]:
        out = {}
        for key, dim in (("node", len(NODE_FEATURES)), ("edge", len(EDGE_FEATURES))):
            s = self.sums.get(key)
            if s is None or s[0, 0] == 0:
                mean, std = np.zeros(dim), np.ones(dim)
            else:
                n = s[0]
                mean = s[1] / n
                std = np.sqrt(np.maximum(s[2] / n - mean**2, 0))
                std = np.where(std > 1e-6, std, 1.0)
            out[f"{key}_mean"] = mean.tolist()
            out[f"{key}_std"] = std.tolist()
        return out

    def summary(self) -> dict[str, Any]:
        nodes = np.array(self.nodes or [0])
        edges = np.array(self.edges or [0])
        n_edges = int(edges.sum())
        return {
            "events": self.events,
            "empty_events_skipped": self.empty_events,
            "nan_rows_skipped": self.nan_rows,
            "events_per_split": self.per_split,
            "nodes_per_event_mean": float(nodes.mean()),
            "nodes_per_event_max": int(nodes.max()),
            "edges_per_event_mean": float(edges.mean()),
            "edges_per_event_max": int(edges.max()),
            "positive_edge_fraction": self.positives / n_edges if n_edges else 0.0,
            "candidate_efficiency": self.positives / self.true_pairs
            if self.true_pairs
            else float("nan"),
            "true_pairs_without_candidate": self.true_pairs - self.positives,
        }


def build_dataset(
    paths: Sequence[str | Path], out: str | Path, cfg: BuildConfig | None = None
) -> Path:
    """Read ntuples, build graphs and write the dataset folder ``out`` atomically."""
    import torch
    from tqdm.auto import tqdm

    cfg = cfg or BuildConfig()
    out = Path(out)
    stats = _Stats()
    with atomic_path(out, suffix="") as tmp:
        buffers: dict[str, list] = {s: [] for s in SPLITS}
        shards: dict[str, list[str]] = {s: [] for s in SPLITS}
        for s in SPLITS:
            (tmp / s).mkdir(parents=True)

        def flush(split: str) -> None:
            if not buffers[split]:
                return
            name = f"{split}/shard-{len(shards[split]):05d}.pt"
            torch.save(buffers[split], tmp / name)
            shards[split].append(name)
            buffers[split] = []

        for file, entry, g in tqdm(
            _iter_graphs(paths, cfg), desc="graphs", unit="evt", disable=None
        ):
            if g is None:
                stats.empty_events += 1
                continue
            split = _split_of(f"{Path(file).name}:{entry}", cfg)
            stats.events += 1
            stats.per_split[split] += 1
            stats.nan_rows += g.nan_rows
            stats.nodes.append(len(g.x))
            stats.edges.append(g.edge_index.shape[1])
            stats.positives += int(g.y.sum())
            stats.true_pairs += g.true_pairs
            if split == "train":
                stats.add_moments("node", g.x)
                if len(g.edge_attr):
                    stats.add_moments("edge", g.edge_attr)
            buffers[split].append(g.to_data())
            if len(buffers[split]) >= cfg.shard_size:
                flush(split)
        for s in SPLITS:
            flush(s)
        if stats.events == 0:
            raise InputError(", ".join(map(str, paths)), "no event with a valid trackster")
        meta = {
            "node_features": list(NODE_FEATURES),
            "edge_features": list(EDGE_FEATURES),
            "scalers": stats.scalers(),
            "summary": stats.summary(),
            "shards": shards,
            "sources": [str(p) for p in paths],
            "config": cfg.model_dump(mode="json"),
            "provenance": provenance(),
        }
        write_json(tmp / "meta.json", meta)
    log.info("dataset written to %s", out)
    return out


class GraphDataset:
    """A dataset folder written by :func:`build_dataset`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        meta_path = self.root / "meta.json"
        if not meta_path.exists():
            raise InputError(self.root, "not a ticl-fpga dataset (no meta.json)")
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(meta_path, f"invalid JSON ({exc.msg})") from None
        self.node_features: list[str] = self.meta["node_features"]
        self.edge_features: list[str] = self.meta["edge_features"]

    @property
    def scalers(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=np.float32) for k, v in self.meta["scalers"].items()}

    @property
    def summary(self) -> dict[str, Any]:
        return self.meta["summary"]

    def iter_split(self, split: str) -> Iterator[Any]:
        """Graphs of a split, one shard in memory at a time."""
        import torch

        if split not in SPLITS:
            raise InputError(self.root, f"unknown split '{split}' (one of {', '.join(SPLITS)})")
        for name in self.meta["shards"][split]:
            yield from torch.load(self.root / name, weights_only=False)

    def split(self, split: str) -> list[Any]:
        return list(self.iter_split(split))


def load_dataset(root: str | Path) -> GraphDataset:
    return GraphDataset(root)


def format_summary(summary: dict[str, Any]) -> str:
    """Human-readable summary table."""
    s = summary
    lines = [
        f"events               {s['events']}  (train/val/test {s['events_per_split']['train']}/"
        f"{s['events_per_split']['val']}/{s['events_per_split']['test']})",
        f"skipped              {s['empty_events_skipped']} empty events, {s['nan_rows_skipped']} NaN/inf trackster rows",
        f"nodes per event      mean {s['nodes_per_event_mean']:.1f}  max {s['nodes_per_event_max']}",
        f"edges per event      mean {s['edges_per_event_mean']:.1f}  max {s['edges_per_event_max']}",
        f"positive edges       {100 * s['positive_edge_fraction']:.2f} %",
        f"candidate efficiency {100 * s['candidate_efficiency']:.2f} % of true trackster pairs have a candidate edge "
        f"({s['true_pairs_without_candidate']} true pairs lost)",
    ]
    return "\n".join(lines)
