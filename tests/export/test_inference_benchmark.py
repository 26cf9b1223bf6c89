"""Smoke test of the inference benchmark (a function check, not a timing test)."""

from __future__ import annotations

from ticl_fpga.bench.inference import format_table, run_inference_benchmark


def test_run_inference_benchmark_returns_rates(run_dir):
    res = run_inference_benchmark(run_dir, sizes={"tiny": (10, 30)}, seconds=0.05, gpu=False)
    row = res["cpu_results"]["tiny"]
    for key in ("eager", "torchscript", "pyg_reference"):
        assert row[key]["events_per_s"] > 0
    assert row["torchscript_over_eager"] > 0
    assert "tiny" in format_table(res)
