"""Data benchmark: ntuple generation, chunked reading and parallel graph building rates."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from ticl_fpga.data.dataset import BuildConfig, build_dataset, load_dataset
from ticl_fpga.data.ntuple import iter_events
from ticl_fpga.data.synthetic import GeneratorConfig, generate
from ticl_fpga.io import write_json

log = logging.getLogger(__name__)


def own_peak_rss() -> int:
    """Peak RSS (bytes) of this process's own address space: ``VmHWM`` (Linux), else 0.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries it over ``fork`` and ``exec``, so a
    fresh interpreter started by a large process reports that process's peak as its own.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class PeakMemory(threading.Thread):
    """Samples this process and its workers every ``interval`` s.

    ``getrusage(RUSAGE_CHILDREN)`` cannot measure a forked worker: the child starts with its
    parent's high-water mark, so both read the same.  Sampling the live workers can:
    ``worker_rss`` includes pages shared with the parent, ``worker_uss`` is the worker's own
    memory, and ``total`` (parent RSS + every worker's USS) is what the build occupies.

    A worker is a child process running this Python (a forked or spawned pool process); other
    children, such as the ``git`` that records provenance, are not workers and are not counted.
    """

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.parent_rss = self.worker_rss = self.worker_uss = self.total = 0
        self.workers_seen: set[int] = set()
        self._halt = threading.Event()
        self._proc = psutil.Process()
        self._exe = self._proc.exe()

    def _workers(self) -> list[psutil.Process]:
        out = []
        for child in self._proc.children(recursive=True):
            try:
                if child.exe() == self._exe:
                    out.append(child)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return out

    def sample(self) -> None:
        total = self._proc.memory_info().rss
        self.parent_rss = max(self.parent_rss, total)
        for child in self._workers():
            try:
                mem = child.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            self.workers_seen.add(child.pid)
            self.worker_rss = max(self.worker_rss, mem.rss)
            self.worker_uss = max(self.worker_uss, mem.uss)
            total += mem.uss
        self.total = max(self.total, total)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.sample()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._halt.set()
        self.join()

    def summary_mb(self) -> dict[str, float | int | None]:
        mb = 2.0**-20
        seen = bool(self.workers_seen)
        # the kernel's high-water mark catches a parent peak between two samples
        parent = max(self.parent_rss, own_peak_rss())
        return {
            "peak_rss_parent_mb": parent * mb,
            "peak_rss_worker_mb": self.worker_rss * mb if seen else None,
            "peak_uss_worker_mb": self.worker_uss * mb if seen else None,
            "peak_total_mb": self.total * mb,
            "workers_seen": len(self.workers_seen),
        }


def measure_build(root: str | Path, out: str | Path, workers: int) -> dict[str, Any]:
    """Build ``root`` into ``out`` on ``workers`` processes: seconds and peak memory (MB)."""
    t0 = time.perf_counter()
    with PeakMemory() as peak:
        build_dataset([root], out, BuildConfig(workers=workers))
    return {"seconds": time.perf_counter() - t0, **peak.summary_mb()}


_BUILD_SCRIPT = (
    "import json, sys; from ticl_fpga.bench.data import measure_build; "
    "print(json.dumps(measure_build(sys.argv[1], sys.argv[2], int(sys.argv[3]))))"
)


def _build_in_fresh_process(root: Path, out: Path, workers: int) -> dict[str, Any]:
    """Build in a new interpreter so its memory is the builder's alone."""
    proc = subprocess.run(
        [sys.executable, "-c", _BUILD_SCRIPT, str(root), str(out), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def data_benchmark(
    work: str | Path, *, n_events: int = 1000, pileup: int = 200, workers: int = 2
) -> dict[str, Any]:
    """Generate ``n_events`` at ``pileup``, read them back with uproot, build graphs on ``workers``."""
    work = Path(work)
    root = work / f"bench_pu{pileup}_{n_events}.root"
    # the generation rate is measured when the file is made and kept beside it for reruns
    rate_file = root.with_suffix(".generate.json")
    if not root.exists():
        t0 = time.perf_counter()
        generate(GeneratorConfig(n_events=n_events, pileup=pileup, seed=123), root)
        rate = n_events / (time.perf_counter() - t0)
        write_json(rate_file, {"generate_events_per_s": rate})
    try:
        generate_rate = json.loads(rate_file.read_text())["generate_events_per_s"]
    except (OSError, ValueError, KeyError):
        generate_rate = None  # a file made elsewhere: its rate is unknown

    t0 = time.perf_counter()
    n_read = sum(1 for _ in iter_events([root], step_size=200))
    t_read = time.perf_counter() - t0

    out: dict[str, Any] = {
        "events": n_events,
        "pileup": pileup,
        "file_mb": root.stat().st_size / 2**20,
        "generate_events_per_s": generate_rate,
        "read_events_per_s": n_read / t_read,
    }
    for w in sorted({1, workers}):
        shutil.rmtree(work / f"bench_ds_w{w}", ignore_errors=True)
        r = _build_in_fresh_process(root, work / f"bench_ds_w{w}", w)
        out[f"build_events_per_s_{w}workers"] = n_events / r["seconds"]
        for key in (
            "peak_rss_parent_mb",
            "peak_rss_worker_mb",
            "peak_uss_worker_mb",
            "peak_total_mb",
        ):
            out[f"{key}_{w}workers"] = r[key]
    summary = load_dataset(work / f"bench_ds_w{workers}").summary
    out["nodes_per_event_mean"] = summary["nodes_per_event_mean"]
    out["edges_per_event_mean"] = summary["edges_per_event_mean"]
    log.info("data benchmark: %s", out)
    return out
