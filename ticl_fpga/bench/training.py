"""Training benchmark: graphs per second per epoch of the Lightning fit loop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning as L

from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.train.config import load_train_config
from ticl_fpga.train.fit import fit


def training_benchmark(
    dataset_dir: str | Path, work: str | Path, *, config: str = "default", epochs: int = 2
) -> dict[str, Any]:
    """Train ``epochs`` epochs of ``config`` on ``dataset_dir`` and time each training epoch."""

    class EpochTimer(L.Callback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            self._t0 = time.perf_counter()

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            self.times.append(time.perf_counter() - self._t0)

    cfg = load_train_config(config)
    cfg.epochs = epochs
    cfg.progress_bar = False
    timer = EpochTimer()
    fit(dataset_dir, cfg, Path(work) / f"bench_train_{config}", resume=False, callbacks=[timer])
    n_train = load_dataset(dataset_dir).summary["events_per_split"]["train"]
    best = min(timer.times)
    return {
        "config": config,
        "train_graphs": n_train,
        "epoch_seconds": timer.times,
        "graphs_per_s": n_train / best,
        "batch_size": cfg.batch_size,
        "spec": {
            "node_hidden": cfg.node_hidden,
            "edge_hidden": cfg.edge_hidden,
            "niters": cfg.niters,
        },
    }
