"""torch threads follow --threads, then TICL_FPGA_THREADS, then OMP_NUM_THREADS, then free cores."""

from __future__ import annotations

import os

import pytest
import torch

from ticl_fpga import runtime
from ticl_fpga.cli import main
from ticl_fpga.errors import ConfigError


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv(runtime.ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield monkeypatch
    torch.set_num_threads(before)


def test_order_of_the_settings(clean_env):
    clean_env.setattr(runtime, "free_cores", lambda: 1)
    assert runtime.configure_threads() == 1
    clean_env.setenv("OMP_NUM_THREADS", "2")
    assert runtime.configure_threads() == 2
    clean_env.setenv(runtime.ENV, "3")
    assert runtime.configure_threads() == 3
    assert torch.get_num_threads() == 3 and os.environ["OMP_NUM_THREADS"] == "3"
    assert runtime.configure_threads(2) == 2
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize(("idle", "allowed", "expected"), [(0.3, 2, 1), (1.6, 2, 2), (7.9, 4, 4)])
def test_free_cores_rounds_and_clamps(monkeypatch, idle, allowed, expected):
    monkeypatch.setattr(runtime, "idle_cores", lambda interval=0.2: idle)
    monkeypatch.setattr(runtime, "allowed_cores", lambda: allowed)
    assert runtime.free_cores() == expected


def test_idle_cores_is_within_the_allowed_cores():
    idle = runtime.idle_cores(0.05)
    assert idle is not None and 0.0 <= idle <= len(os.sched_getaffinity(0))
    assert 1 <= runtime.allowed_cores() <= len(os.sched_getaffinity(0))


def test_bad_values_are_one_line_errors(clean_env, capsys):
    clean_env.setenv(runtime.ENV, "zero")
    with pytest.raises(ConfigError, match="TICL_FPGA_THREADS"):
        runtime.configure_threads()
    assert main(["bench", "--stages", "data"]) == 2
    assert "TICL_FPGA_THREADS: torch threads must be a positive integer" in capsys.readouterr().err
    assert main(["--threads", "0", "bench"]) == 2
