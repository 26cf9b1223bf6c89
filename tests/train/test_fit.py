from __future__ import annotations

import os
import subprocess
import sys

import lightning as L
import numpy as np
import pytest
import torch
import yaml

from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.errors import InputError
from ticl_fpga.train.fit import fit, load_run, load_trained_model


def _state(run):
    return load_run(run)["state_dict"]


def test_fit_writes_run_folder(dataset_dir, tiny_cfg, tmp_path):
    run = fit(dataset_dir, tiny_cfg, tmp_path / "run")
    assert (run / "model.pt").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert list((run / "checkpoints").glob("best-*.ckpt"))
    saved = yaml.safe_load((run / "train_config.yaml").read_text())
    assert saved["config"]["epochs"] == 2
    assert "git" in saved["provenance"] and saved["scalers"]["node_mean"]
    payload = load_run(run)
    ds = load_dataset(dataset_dir)
    assert payload["edge_features"] == ds.edge_features
    assert payload["epochs_trained"] == 2
    assert np.isfinite(payload["best_val_loss"])
    model = load_trained_model(run)
    assert not model.training
    np.testing.assert_allclose(model.node_mean.numpy(), ds.scalers["node_mean"], rtol=1e-6)
    np.testing.assert_allclose(model.edge_mean.numpy(), ds.scalers["edge_mean"], rtol=1e-6)
    # the model takes raw features and gives one finite logit per edge
    g = ds.split("test")[0]
    logits = model(g.x, g.edge_index, g.edge_attr)
    assert logits.shape == (g.edge_index.size(1),) and torch.isfinite(logits).all()
    metrics = next((run / "logs").rglob("metrics.csv")).read_text()
    assert "val_loss" in metrics and "val_auc" in metrics


def test_fit_is_reproducible(dataset_dir, tiny_cfg, tmp_path):
    a = _state(fit(dataset_dir, tiny_cfg, tmp_path / "a"))
    b = _state(fit(dataset_dir, tiny_cfg, tmp_path / "b"))
    tiny_cfg.seed = 1
    c = _state(fit(dataset_dir, tiny_cfg, tmp_path / "c"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


class _Interrupt(L.Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == 1:
            raise RuntimeError("simulated interruption")


def test_resume_after_interruption(dataset_dir, tiny_cfg, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated"):
        fit(dataset_dir, tiny_cfg, run, callbacks=[_Interrupt()])
    assert not (run / "model.pt").exists()
    last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert last["epoch"] == 0
    fit(dataset_dir, tiny_cfg, run)
    resumed = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert resumed["epoch"] == 1
    assert resumed["global_step"] == 2 * last["global_step"]
    # the second invocation logged only the remaining epoch
    second = sorted((run / "logs").iterdir())[-1] / "metrics.csv"
    epochs = {line.split(",")[0] for line in second.read_text().splitlines()[1:]}
    assert epochs == {"1"}
    assert load_run(run)["epochs_trained"] == 2


def test_resume_matches_uninterrupted(dataset_dir, tiny_cfg, tmp_path):
    straight = _state(fit(dataset_dir, tiny_cfg, tmp_path / "straight"))
    with pytest.raises(RuntimeError):
        fit(dataset_dir, tiny_cfg, tmp_path / "resumed", callbacks=[_Interrupt()])
    resumed = _state(fit(dataset_dir, tiny_cfg, tmp_path / "resumed"))
    for k in straight:
        torch.testing.assert_close(straight[k], resumed[k], rtol=1e-5, atol=1e-6)


def test_bad_dataset_is_input_error(tiny_cfg, tmp_path):
    with pytest.raises(InputError, match="meta.json"):
        fit(tmp_path / "missing", tiny_cfg, tmp_path / "run")


def test_load_trained_model_needs_model(tmp_path):
    with pytest.raises(InputError, match="no trained model"):
        load_trained_model(tmp_path)
    (tmp_path / "model.pt").write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a readable model file"):
        load_trained_model(tmp_path)


def test_cli_train(dataset_dir, tmp_path):
    from ticl_fpga.cli import main

    rc = main(
        [
            "-q",
            "train",
            str(dataset_dir),
            "-o",
            str(tmp_path / "run"),
            "--config",
            "quick",
            "--epochs",
            "1",
            "--no-progress",
        ]
    )
    assert rc == 0 and (tmp_path / "run" / "model.pt").is_file()
    assert load_run(tmp_path / "run")["config"]["epochs"] == 1


def test_cli_train_bad_config_exit_2(dataset_dir, tmp_path, capsys):
    from ticl_fpga.cli import main

    rc = main(["train", str(dataset_dir), "-o", str(tmp_path / "run"), "--batch-size", "0"])
    assert rc == 2
    assert "batch_size" in capsys.readouterr().err


@pytest.mark.slow
def test_ddp_two_cpu_processes(dataset_dir, tmp_path):
    """Lightning DDP with two CPU processes (gloo), launched through the CLI as a user would."""
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "ticl_fpga",
        "train",
        str(dataset_dir),
        "-o",
        str(run),
        "--config",
        "quick",
        "--epochs",
        "2",
        "--devices",
        "2",
        "--strategy",
        "ddp",
        "--threads",
        "1",
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "GLOBAL_RANK: 1" in proc.stderr + proc.stdout
    payload = load_run(run)
    assert payload["config"]["devices"] == 2 and payload["epochs_trained"] == 2
