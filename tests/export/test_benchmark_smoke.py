"""Smoke test of benchmarks/inference.py (a function check, not a timing test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "inference.py"


def test_run_inference_benchmark_returns_rates(run_dir):
    spec = importlib.util.spec_from_file_location("bench_inference", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run_inference_benchmark(run_dir, sizes={"tiny": (10, 30)}, seconds=0.05, gpu=False)
    row = res["cpu_results"]["tiny"]
    for key in ("eager", "torchscript", "pyg_reference"):
        assert row[key]["events_per_s"] > 0
    assert row["torchscript_over_eager"] > 0
    assert "tiny" in mod.format_table(res)
