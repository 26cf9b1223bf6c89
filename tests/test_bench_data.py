"""The data benchmark measures its workers, not a copy of the parent's high-water mark."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import time

import pytest

from ticl_fpga.bench.data import PeakMemory, measure_build
from ticl_fpga.data.synthetic import GeneratorConfig, generate

MB = 2**20


def _allocate(n_mb: int) -> None:
    block = b"\x01" * (n_mb * MB)  # written, so resident and private to this process
    time.sleep(1.0)
    del block


def test_peak_memory_sees_a_worker_allocate():
    before = PeakMemory()
    before.sample()
    with PeakMemory(interval=0.05) as peak:
        child = mp.get_context("fork").Process(target=_allocate, args=(120,))
        child.start()
        child.join()
    assert child.exitcode == 0
    s = peak.summary_mb()
    assert s["workers_seen"] == 1
    assert s["peak_uss_worker_mb"] >= 110  # the worker's own 120 MB
    assert s["peak_rss_worker_mb"] >= s["peak_uss_worker_mb"]
    # the parent did not grow by the worker's allocation, the total did
    assert peak.parent_rss < before.parent_rss + 60 * MB
    assert s["peak_total_mb"] >= before.parent_rss / MB + 110


def test_no_workers_means_no_worker_numbers():
    with PeakMemory(interval=0.05) as peak:
        time.sleep(0.1)
    s = peak.summary_mb()
    assert s["workers_seen"] == 0 and s["peak_rss_worker_mb"] is None
    assert peak.total == peak.parent_rss > 0  # the total is the parent alone


def test_a_child_that_is_not_python_is_not_a_worker():
    """The provenance ``git`` (here ``sleep``) is a child process, not a pool worker."""
    with PeakMemory(interval=0.05) as peak:
        subprocess.run(["sleep", "0.5"], check=True)
    s = peak.summary_mb()
    assert s["workers_seen"] == 0 and s["peak_uss_worker_mb"] is None


@pytest.mark.slow
def test_measure_build_sees_exactly_the_pool_workers(tmp_path):
    """400 events in chunks of 200: two pool workers with 2 processes, none when serial (the
    provenance ``git`` child is not one)."""
    root = tmp_path / "e.root"
    generate(GeneratorConfig(n_events=400, pileup=0, seed=5), root)
    serial = measure_build(root, tmp_path / "w1", 1)
    assert serial["workers_seen"] == 0 and serial["peak_uss_worker_mb"] is None
    pool = measure_build(root, tmp_path / "w2", 2)
    assert pool["workers_seen"] == 2
    assert pool["peak_rss_worker_mb"] >= pool["peak_uss_worker_mb"] > 1
    assert pool["peak_total_mb"] > pool["peak_uss_worker_mb"]


def test_a_fresh_interpreter_reports_its_own_peak_not_its_parents():
    """Linux carries ru_maxrss over fork + exec; VmHWM belongs to the new address space."""
    block = b"\x01" * (1024 * MB)  # this process's peak is now over 1 GB
    probe = (
        "import resource; from ticl_fpga.bench.data import own_peak_rss; "
        "print(own_peak_rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    own, inherited = map(int, out.stdout.split())
    del block
    assert inherited >= 1024 * MB  # the parent's peak, reported as the child's
    assert 0 < own < 900 * MB  # the interpreter with torch imported, well below the parent
