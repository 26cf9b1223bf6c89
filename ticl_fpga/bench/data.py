"""Data benchmark: ntuple generation, chunked reading and parallel graph building rates."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


_BUILD_SCRIPT = """
import json, resource, sys, time
from ticl_fpga.data.dataset import BuildConfig, build_dataset
t0 = time.perf_counter()
build_dataset([sys.argv[1]], sys.argv[2], BuildConfig(workers=int(sys.argv[3])))
dt = time.perf_counter() - t0
print(json.dumps({
    "seconds": dt,
    "peak_rss_parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "peak_rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def _build_in_fresh_process(root: Path, out: Path, workers: int) -> dict[str, float]:
    """Build in a new interpreter so its peak memory is the builder's alone."""
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
    from ticl_fpga.data.dataset import load_dataset
    from ticl_fpga.data.ntuple import iter_events
    from ticl_fpga.data.synthetic import GeneratorConfig, generate

    work = Path(work)
    root = work / f"bench_pu{pileup}_{n_events}.root"
    t0 = time.perf_counter()
    if not root.exists():
        generate(GeneratorConfig(n_events=n_events, pileup=pileup, seed=123), root)
    t_gen = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_read = sum(1 for _ in iter_events([root], step_size=200))
    t_read = time.perf_counter() - t0

    out: dict[str, Any] = {
        "events": n_events,
        "pileup": pileup,
        "file_mb": root.stat().st_size / 2**20,
        "generate_events_per_s": n_events / t_gen if t_gen > 0 else None,
        "read_events_per_s": n_read / t_read,
    }
    for w in sorted({1, workers}):
        shutil.rmtree(work / f"bench_ds_w{w}", ignore_errors=True)
        r = _build_in_fresh_process(root, work / f"bench_ds_w{w}", w)
        out[f"build_events_per_s_{w}workers"] = n_events / r["seconds"]
        out[f"peak_rss_parent_mb_{w}workers"] = r["peak_rss_parent_mb"]
        out[f"peak_rss_worker_mb_{w}workers"] = r["peak_rss_worker_mb"]
    summary = load_dataset(work / f"bench_ds_w{workers}").summary
    out["nodes_per_event_mean"] = summary["nodes_per_event_mean"]
    out["edges_per_event_mean"] = summary["edges_per_event_mean"]
    log.info("data benchmark: %s", out)
    return out
