"""Fixtures: a tiny real dataset and a run trained on it with the quick config."""

from __future__ import annotations

import pytest

from ticl_fpga.data.synthetic import tiny_dataset
from ticl_fpga.train.config import load_train_config
from ticl_fpga.train.fit import fit


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("eval_data"), n_events=160, seed=2)


@pytest.fixture(scope="session")
def run_dir(dataset_dir, tmp_path_factory):
    cfg = load_train_config("quick")
    cfg.progress_bar = False
    cfg.epochs = 6
    return fit(dataset_dir, cfg, tmp_path_factory.mktemp("eval_run") / "run")
