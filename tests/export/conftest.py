"""Fixtures: a run folder with a (briefly) trained model for the export tests."""

from __future__ import annotations

import pytest

from ticl_fpga.data.synthetic import tiny_dataset
from ticl_fpga.train.config import load_train_config
from ticl_fpga.train.fit import fit


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    data = tiny_dataset(tmp_path_factory.mktemp("export_data"), n_events=30, seed=3)
    cfg = load_train_config("quick")
    cfg.epochs, cfg.progress_bar = 1, False
    return fit(data, cfg, tmp_path_factory.mktemp("export_run") / "run")


def _random_graph(n: int, e: int, node_dim: int, edge_dim: int, seed: int = 0):
    import torch

    gen = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, node_dim, generator=gen) * 3 + 1,
        torch.randint(0, max(n, 1), (2, e), generator=gen),
        torch.randn(e, edge_dim, generator=gen) * 3 + 1,
    )


@pytest.fixture(scope="session")
def random_graph():
    """``random_graph(n, e, node_dim, edge_dim, seed) -> (x, edge_index, edge_attr)`` raw-like inputs."""
    return _random_graph
