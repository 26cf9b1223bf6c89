"""Fixtures: a tiny real dataset (synthetic ntuple -> graphs) shared by the training tests."""

from __future__ import annotations

import pytest

from ticl_fpga.data.synthetic import tiny_dataset
from ticl_fpga.train.config import load_train_config


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("train_data"), n_events=60, seed=1)


@pytest.fixture
def tiny_cfg():
    """A very small, fast config: 2 epochs of a 1-iteration model."""
    cfg = load_train_config("quick")
    cfg.node_hidden, cfg.edge_hidden, cfg.head_hidden, cfg.niters = 16, 8, 8, 1
    cfg.epochs = 2
    cfg.progress_bar = False
    return cfg
