"""The logged validation AUC is the project's one AUC of the model on the validation split."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.evaluate.metrics import roc_auc
from ticl_fpga.train.fit import fit, load_trained_model


def test_logged_val_auc_is_roc_auc_of_the_best_model(dataset_dir, tiny_cfg, tmp_path):
    run = fit(dataset_dir, tiny_cfg, tmp_path / "run")
    (best,) = (run / "checkpoints").glob("best-*.ckpt")
    epoch = int(best.stem.split("-")[1].split("=")[-1])
    with next((run / "logs").rglob("metrics.csv")).open() as f:
        rows = [r for r in csv.DictReader(f) if r.get("val_auc") and int(r["epoch"]) == epoch]
    assert len(rows) == 1
    model = load_trained_model(run)  # the best checkpoint's weights
    val = load_dataset(dataset_dir).split("val")
    with torch.no_grad():
        logits = np.concatenate([model(g.x, g.edge_index, g.edge_attr).numpy() for g in val])
    labels = np.concatenate([g.y.numpy() for g in val]) > 0.5
    assert 0 < labels.sum() < len(labels)
    assert float(rows[0]["val_auc"]) == pytest.approx(roc_auc(logits, labels), abs=1e-6)
