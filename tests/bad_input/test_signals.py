"""Ctrl-C and SIGTERM sent to a real ``ticl-fpga`` process: exit 130/143, one line, nothing
half-written, and the same command resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bad_input.conftest import snapshot, unchanged

MANY_EPOCHS = """\
node_hidden: 8
edge_hidden: 8
head_hidden: 8
niters: 1
epochs: 400
patience: 400
batch_size: 4
progress_bar: false
"""


def _start(*argv, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ticl_fpga", *map(str, argv)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(cond, proc: subprocess.Popen, timeout: float) -> None:
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"exited {proc.returncode} early:\n{err[-3000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("timed out waiting")
        time.sleep(0.2)


def _errors(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("ticl-fpga:")]


@pytest.mark.slow
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_training_interrupted_then_resumed(sig, code, good_ds, tmp_path):
    cfg = tmp_path / "many.yaml"
    cfg.write_text(MANY_EPOCHS)
    run = tmp_path / "run"
    last = run / "checkpoints" / "last.ckpt"
    ds_before = snapshot(good_ds)
    proc = _start("train", good_ds, "-o", run, "--config", cfg, cwd=tmp_path)
    _wait_for(last.is_file, proc, timeout=240)
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-3000:]
    assert len(_errors(err)) == 1 and "re-run" in _errors(err)[0], err[-2000:]
    assert not (run / "model.pt").exists()
    assert not [p for p in tmp_path.rglob(".*.tmp")], "no temporary file left"
    unchanged(ds_before, good_ds)
    # the same command resumes (a few more epochs only, so the test stays short)
    import torch

    epoch = torch.load(last, weights_only=False)["epoch"]
    proc = _start(
        "-v", "train", good_ds, "-o", run, "--config", cfg, "--epochs", epoch + 2, cwd=tmp_path
    )
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "resuming from" in err
    assert (run / "model.pt").is_file()


@pytest.mark.slow
def test_demo_ctrl_c_during_training(tmp_path):
    """After the in-process graph build (demo --quick) Ctrl-C must still stop training."""
    out = tmp_path / "demo"
    proc = _start("demo", "--quick", "--out", out, cwd=tmp_path)
    _wait_for(lambda: (out / "train" / "train_config.yaml").is_file(), proc, timeout=400)
    proc.send_signal(signal.SIGINT)  # training (a few seconds here) has just started
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert not (out / "index.md").exists()
    assert (out / "stages" / "graphs.json").is_file()
    assert not (out / "stages" / "compare.json").exists(), "the run stopped"


@pytest.mark.slow
def test_hls_build_interrupted_keeps_the_old_project(tmp_path):
    """SIGTERM during the C-simulation compile: the earlier project is untouched, no half one."""
    from ticl_fpga.golden.cases import GOLDEN_DIR

    cases = sorted(p for p in GOLDEN_DIR.iterdir() if (p / "model.onnx").is_file())
    a, b = cases[0] / "model.onnx", cases[1] / "model.onnx"
    prj = tmp_path / "prj"
    proc = _start("hls", "build", a, "--out", prj, "--no-synth", cwd=tmp_path)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    before = snapshot(prj)
    proc = _start("hls", "build", b, "--out", prj, "--no-synth", cwd=tmp_path)
    _wait_for(lambda: any(tmp_path.glob(".prj.ticl-*/firmware")), proc, timeout=300)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-3000:]
    unchanged(before, prj)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prj"], "no half project left"


@pytest.mark.slow
def test_hls_predict_never_writes_its_project(good_ds, tmp_path, cli):
    """Re-opening a project recompiles it: in a scratch copy, so the project (an input) is
    unchanged byte for byte; the output .npz is written."""
    from ticl_fpga.golden.cases import GOLDEN_DIR

    model = sorted(GOLDEN_DIR.glob("*/model.onnx"))[0]
    prj = tmp_path / "prj"
    assert cli("hls", "build", model, "--out", prj, "--no-synth")[0] == 0
    before = snapshot(prj, good_ds)
    rc, err = cli("hls", "predict", prj, "--dataset", good_ds, "--out", tmp_path / "o.npz")
    assert rc == 0, err
    unchanged(before, prj, good_ds)
    assert (tmp_path / "o.npz").is_file()
