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
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field, model_validator
from torch_geometric.data import Data
from tqdm.auto import tqdm

from ticl_fpga.config import StrictModel, provenance
from ticl_fpga.data.candidates import CandidateConfig, candidate_edges
from ticl_fpga.data.cmssw import event_graph, read_extras
from ticl_fpga.data.features import (
    EDGE_FEATURES,
    NODE_FEATURES,
    edge_features,
    feature_names,
    node_features,
)
from ticl_fpga.data.ntuple import EventArrays, EventKey, expand_paths, file_entries, iter_events
from ticl_fpga.data.schema import NODE_BRANCHES, NtupleSchema
from ticl_fpga.data.truth import TruthConfig, dominant_sim, edge_labels
from ticl_fpga.errors import InputError
from ticl_fpga.io import atomic_path, check_output, write_json

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


class BuildConfig(StrictModel):
    """How ntuples become graphs."""

    ntuple: NtupleSchema = NtupleSchema()
    candidates: CandidateConfig = CandidateConfig()
    truth: TruthConfig = TruthConfig()
    feature_set: Literal["ticl_fpga", "cmssw"] = Field(
        "ticl_fpga", description="ticl_fpga (19/10 features) or cmssw (the producer's 29/5)"
    )
    gnn_training: bool = Field(
        True, description="cmssw: read a GNNTraining tree when the file has one"
    )
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    split_seed: int = 0
    split_key: Literal["file_name", "event_id"] = Field(
        "file_name",
        description="file_name: file name + entry (changes when a file is renamed); event_id: "
        "the file's UUID + run:lumi:event (survives renaming)",
    )
    workers: int = Field(2, ge=1)
    step_size: int = Field(200, ge=1, description="events per uproot chunk")
    shard_size: int = Field(500, ge=1, description="events per shard file")
    max_events: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _fractions(self) -> BuildConfig:
        f = self.split_fractions
        if any(not (0 <= x <= 1) for x in f) or abs(sum(f) - 1) > 1e-6:
            raise ValueError(f"split_fractions {list(f)} must be in [0, 1] and sum to 1")
        if f[0] == 0:
            raise ValueError("split_fractions: the train fraction must be > 0")
        return self


@dataclass
class GraphArrays(EventKey):
    """One event's graph as numpy arrays (what workers send back)."""

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
            run=int(self.run),
            lumi=int(self.lumi),
            event_key=self.key,
        )


def build_graph(ev: EventArrays, cfg: BuildConfig, extra: Any = None) -> GraphArrays | None:
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
    match = None
    if cfg.feature_set == "ticl_fpga" and cfg.candidates.source == "geometry":
        x = node_features(nodes)
        ei = candidate_edges(
            nodes["barycenter_eta"], nodes["barycenter_phi"], nodes["barycenter_z"], cfg.candidates
        )
        ea = edge_features(nodes, ei)
    else:  # cmssw features and/or TICLGraph candidates (ticl_fpga/data/cmssw.py)
        x, ei, ea, match = event_graph(ev, extra, keep, cfg)
    all_sim, all_shared = dominant_sim(
        ev.nodes["raw_energy"],
        ev.assoc_offsets,
        ev.assoc_sim,
        ev.assoc_score,
        ev.assoc_shared,
        cfg.truth,
    )
    node_sim, node_shared = all_sim[keep], all_shared[keep]
    if match is not None and cfg.truth.rule == "seed":
        node_sim = match  # GNNTraining's node_match_idx: the same rule, as the dumper applied it
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
        run=ev.run,
        lumi=ev.lumi,
        file_id=ev.file_id,
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
    """Pool initializer: runs in each worker process only, never in the parent."""
    global _WORKER_CFG
    _WORKER_CFG = cfg
    # The parent (the CLI) turns SIGTERM into KeyboardInterrupt; workers must die on it instead,
    # or Pool.terminate() can wait forever for a worker blocked on the task queue's lock.  Ctrl-C
    # reaches the whole process group: the parent handles it and terminates the pool.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


Task = tuple[str, int, int]  # (file, first entry, end entry)


def _work(task: Task, cfg: BuildConfig | None = None) -> list[tuple[str, int, GraphArrays | None]]:
    """Read entries ``[start, stop)`` of one file and build their graphs (in a worker, or in
    the parent with ``cfg`` given)."""
    cfg = cfg or _WORKER_CFG
    assert cfg is not None
    path, start, stop = task
    out = []
    extras = None
    if cfg.feature_set != "ticl_fpga" or cfg.candidates.source != "geometry":
        extras = read_extras(path, cfg, start, stop)
    for ev in iter_events([path], cfg.ntuple, step_size=stop - start, entry_range=(start, stop)):
        g = build_graph(ev, cfg, None if extras is None else extras[ev.entry - start])
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
        for task in tasks:  # in this process: its signal handlers stay as they are
            yield from _work(task, cfg)
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

    def scalers(self, node_dim: int = len(NODE_FEATURES), edge_dim: int = len(EDGE_FEATURES)):
        out = {}
        for key, dim in (("node", node_dim), ("edge", edge_dim)):
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
    paths: Sequence[str | Path],
    out: str | Path,
    cfg: BuildConfig | None = None,
    *,
    force: bool = False,
) -> Path:
    """Read ntuples, build graphs and write the dataset folder ``out`` atomically.

    ``out`` must not be, contain or lie inside an input, and an existing ``out`` is replaced only
    if it is an earlier dataset (or ``force``).
    """
    cfg = cfg or BuildConfig()
    files = expand_paths(paths)
    out = check_output(out, kind="dataset", inputs=files, force=force, folder=True)
    stats = _Stats()
    with atomic_path(out, suffix="", kind="dataset", force=force) as tmp:
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
            _iter_graphs(files, cfg), desc="graphs", unit="evt", disable=None
        ):
            if g is None:
                stats.empty_events += 1
                continue
            key = g.key if cfg.split_key == "event_id" else f"{Path(file).name}:{entry}"
            split = _split_of(key, cfg)
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
            "feature_set": cfg.feature_set,
            "node_features": list(feature_names(cfg.feature_set)[0]),
            "edge_features": list(feature_names(cfg.feature_set)[1]),
            "scalers": stats.scalers(*map(len, feature_names(cfg.feature_set))),
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
    """A dataset folder written by :func:`build_dataset`; checked when opened."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(
                self.root, "no such dataset folder (no meta.json; ticl-fpga data build writes one)"
            )
        meta_path = self.root / "meta.json"
        self.meta_path = meta_path
        if not meta_path.is_file():
            raise InputError(self.root, "not a ticl-fpga dataset (no meta.json)")
        try:
            self._meta_bytes = meta_path.read_bytes()
            self.meta: dict[str, Any] = json.loads(self._meta_bytes)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(meta_path, f"truncated or not JSON ({_one_line(exc)})") from None
        if not isinstance(self.meta, dict):
            raise InputError(meta_path, "not a dataset description (expected a JSON object)")
        for key, kind in (
            ("node_features", list),
            ("edge_features", list),
            ("scalers", dict),
            ("summary", dict),
            ("shards", dict),
        ):
            if not isinstance(self.meta.get(key), kind):
                raise InputError(meta_path, f"missing or not a {kind.__name__}", field=key)
        self.node_features: list[str] = self.meta["node_features"]
        self.edge_features: list[str] = self.meta["edge_features"]
        for split in SPLITS:
            names = self.meta["shards"].get(split)
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise InputError(
                    meta_path, "missing or not a list of shard files", f"shards.{split}"
                )
            for name in names:
                shard = self.root / name
                if self.root.resolve() not in shard.resolve().parents:
                    raise InputError(meta_path, f"shard {name} lies outside the dataset", "shards")
                if not shard.is_file():
                    raise InputError(
                        shard, "missing shard; rebuild the dataset (ticl-fpga data build)"
                    )
        self._check_scalers()

    def _check_scalers(self) -> None:
        dims = {"node": len(self.node_features), "edge": len(self.edge_features)}
        for key in ("node_mean", "node_std", "edge_mean", "edge_std"):
            field = f"scalers.{key}"
            raw = self.meta["scalers"].get(key)
            try:
                arr = np.asarray(raw, dtype=np.float64)
            except (TypeError, ValueError):
                raise InputError(self.meta_path, "not a list of numbers", field=field) from None
            if arr.shape != (dims[key.split("_")[0]],):
                raise InputError(
                    self.meta_path,
                    f"has shape {arr.shape}, expected ({dims[key.split('_')[0]]},)",
                    field=field,
                )
            if not np.isfinite(arr).all():
                i = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise InputError(self.meta_path, f"non-finite value at index {i}", field=field)
            if key.endswith("std") and (arr < 0).any():
                raise InputError(self.meta_path, "negative standard deviation", field=field)

    @property
    def fingerprint(self) -> str:
        """A short hash of ``meta.json``: which dataset a run was trained on."""
        return hashlib.sha256(self._meta_bytes).hexdigest()[:16]

    @property
    def scalers(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=np.float32) for k, v in self.meta["scalers"].items()}

    @property
    def summary(self) -> dict[str, Any]:
        return self.meta["summary"]

    def iter_split(self, split: str) -> Iterator[Any]:
        """Graphs of a split, one shard in memory at a time."""
        if split not in SPLITS:
            raise InputError(self.root, f"unknown split '{split}' (one of {', '.join(SPLITS)})")
        for name in self.meta["shards"][split]:
            path = self.root / name
            try:
                graphs = torch.load(path, weights_only=False)
            except FileNotFoundError:
                raise InputError(path, "missing shard; rebuild the dataset") from None
            except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad shard
                raise InputError(
                    path, f"truncated or corrupt shard ({_one_line(exc)}); rebuild the dataset"
                ) from None
            if not isinstance(graphs, list) or not all(
                hasattr(g, "x") and hasattr(g, "edge_index") for g in graphs
            ):
                raise InputError(path, "not a list of graphs; rebuild the dataset")
            yield from graphs

    def split(self, split: str) -> list[Any]:
        return list(self.iter_split(split))


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:200]


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
