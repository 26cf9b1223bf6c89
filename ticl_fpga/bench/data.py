"""Data benchmark: ntuple generation, chunked reading and parallel graph building rates."""

from __future__ import annotations

import logging
import resource
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _peak_rss_mb() -> dict[str, float]:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"peak_rss_parent_mb": self_kb / 1024, "peak_rss_worker_mb": child_kb / 1024}


def data_benchmark(
    work: str | Path, *, n_events: int = 1000, pileup: int = 200, workers: int = 2
) -> dict[str, Any]:
    """Generate ``n_events`` at ``pileup``, read them back with uproot, build graphs on ``workers``."""
    from ticl_fpga.data.dataset import BuildConfig, build_dataset, load_dataset
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
        t0 = time.perf_counter()
        ds = build_dataset([root], work / f"bench_ds_w{w}", BuildConfig(workers=w))
        dt = time.perf_counter() - t0
        out[f"build_events_per_s_{w}workers"] = n_events / dt
        out["nodes_per_event_mean"] = load_dataset(ds).summary["nodes_per_event_mean"]
        out["edges_per_event_mean"] = load_dataset(ds).summary["edges_per_event_mean"]
    out.update(_peak_rss_mb())
    log.info("data benchmark: %s", out)
    return out
