"""Fixtures for the quantization tests: a tiny real dataset and a quickly trained float model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.data.synthetic import tiny_dataset
from ticl_fpga.model.gnn import EdgeClassifierGNN, build_float_model
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.qat import QATConfig, train_epochs

#: Small enough to train in a second, big enough to learn something.
TINY_SPEC = dict(node_hidden=16, edge_hidden=8, head_hidden=8, niters=1)
FAST = QATConfig(epochs=2, lr=2e-3, batch_size=8, calib_batches=4)


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory) -> Path:
    return tiny_dataset(
        tmp_path_factory.mktemp("qdata"), n_events=80, seed=3, split_fractions=(0.6, 0.25, 0.15)
    )


@pytest.fixture(scope="session")
def splits(dataset_dir) -> dict[str, list]:
    ds = load_dataset(dataset_dir)
    return {s: ds.split(s) for s in ("train", "val", "test")}


def _train_float(dataset_dir: Path, splits: dict, **spec_kw) -> EdgeClassifierGNN:
    ds = load_dataset(dataset_dir)
    spec = GNNSpec(
        node_dim=len(ds.node_features), edge_dim=len(ds.edge_features), **{**TINY_SPEC, **spec_kw}
    )
    torch.manual_seed(0)
    model = build_float_model(spec)
    sc = ds.scalers
    model.set_scalers(sc["node_mean"], sc["node_std"], sc["edge_mean"], sc["edge_std"])
    train_epochs(model, splits["train"], config=QATConfig(epochs=15, lr=3e-3, batch_size=8))
    return model.eval()


@pytest.fixture(scope="session")
def float_model(dataset_dir, splits) -> EdgeClassifierGNN:
    return _train_float(dataset_dir, splits)


@pytest.fixture(scope="session")
def float_run(tmp_path_factory, float_model, dataset_dir) -> Path:
    """A float training run folder in the format of ``ticl_fpga.train.fit``."""
    from ticl_fpga.train.config import TrainConfig
    from ticl_fpga.train.fit import MODEL_FILE, save_trained_model

    ds = load_dataset(dataset_dir)
    run = tmp_path_factory.mktemp("float_run")
    save_trained_model(
        run / MODEL_FILE,
        float_model,
        TrainConfig(),
        node_features=ds.node_features,
        edge_features=ds.edge_features,
    )
    return run
