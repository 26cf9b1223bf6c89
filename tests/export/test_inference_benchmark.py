"""The inference benchmark measures what it says: known costs give known rates."""

from __future__ import annotations

import time

import pytest

from ticl_fpga.bench.inference import _rate, format_table, run_inference_benchmark
from ticl_fpga.data.features import EDGE_FEATURES, NODE_FEATURES


def test_rate_of_a_known_latency():
    """A call that sleeps 20 ms runs at most 50 times per second (sleep never returns early)."""
    r = _rate(lambda: time.sleep(0.02), seconds=0.2)
    assert r["calls"] >= 5
    assert r["median_ms"] >= 20.0
    assert 1e3 / r["median_ms"] == pytest.approx(r["events_per_s"])
    assert 25.0 < r["events_per_s"] <= 50.0
    assert r["events_per_s_mean"] <= 50.0


def test_run_inference_benchmark_records_sizes_and_ratios(run_dir):
    res = run_inference_benchmark(run_dir, sizes={"tiny": (10, 30)}, seconds=0.05, gpu=False)
    row = res["cpu_results"]["tiny"]
    assert (row["nodes"], row["edges"]) == (10, 30)
    rate = {k: row[k]["events_per_s"] for k in ("eager", "torchscript", "pyg_reference")}
    assert row["torchscript_over_eager"] == rate["torchscript"] / rate["eager"]
    assert row["eager_over_pyg"] == rate["eager"] / rate["pyg_reference"]
    assert row["torchscript_over_pyg"] == rate["torchscript"] / rate["pyg_reference"]
    table = format_table(res).splitlines()
    assert table[2].startswith("| size ")
    cells = [c.strip() for c in table[4].strip("|").split("|")]
    assert cells[:3] == ["tiny", "10", "30"]
    assert cells[3] == f"{rate['eager']:.1f}"


def test_default_model_takes_the_dataset_features():
    res = run_inference_benchmark(sizes={"one": (3, 2)}, seconds=0.01, gpu=False, threads=1)
    assert res["spec"]["node_dim"] == len(NODE_FEATURES)
    assert res["spec"]["edge_dim"] == len(EDGE_FEATURES)
    assert res["threads"] == 1
