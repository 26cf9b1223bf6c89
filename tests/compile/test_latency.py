"""Expected latency / II of the streaming project, from trip counts and the IIs of the pragmas."""

from __future__ import annotations

import json
import math

import pytest

from tests.compile.helpers import calibrated_qmodel
from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.compile.latency import (
    JSON_NAME,
    MD_NAME,
    Loop,
    layer_loops,
    model_latency,
    summary_line,
)
from ticl_fpga.compile.to_qonnx import export_qonnx

CAP = Capacity(n_max=12, e_max=40)


def test_loop_cycles_from_trips_ii_and_depth():
    assert Loop("L", trips=40, ii=1, depth=3).cycles == 42
    assert Loop("L", trips=10, ii=4, depth=5).cycles == 41
    assert Loop("L", trips=0, ii=1, depth=3).cycles == 0


def test_layer_loops_follow_the_pragmas():
    (dense,) = layer_loops("GNNDense", rows=40, lanes=4, n_in=22, reuse_factor=3)
    assert (dense.trips, dense.ii) == (10, 3) and dense.depth == 2 + math.ceil(math.log2(23))
    assert layer_loops("GNNGather", rows=40, lanes=1)[0].ii == 1
    assert layer_loops("GNNGather", rows=40, lanes=2)[0].ii == 1  # two ports per feature bank
    assert layer_loops("GNNGather", rows=40, lanes=8)[0].ii == 4
    edges, merge = layer_loops("GNNScatter", rows=40, lanes=4, n_nodes=13)
    assert (edges.trips, edges.ii) == (10, 1) and (merge.trips, merge.ii) == (13, 1)
    assert merge.depth == layer_loops("GNNScatter", rows=40, lanes=1, n_nodes=13)[1].depth + 2
    assert layer_loops("GNNRelu", rows=41, lanes=4)[0].trips == 11  # partial last group
    with pytest.raises(ValueError, match="no latency model"):
        layer_loops("Softmax", rows=1)


@pytest.fixture(scope="module")
def qonnx_model(tmp_path_factory):
    model = calibrated_qmodel("w6a6", seed=2, niters=2, node_hidden=8, edge_hidden=6, head_hidden=4)
    return export_qonnx(model, CAP, tmp_path_factory.mktemp("lat") / "gnn.onnx")


def _build(q, out, **kw):
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls

    return build_hls(q, HlsBuildConfig(capacity=CAP, **kw), out, compile=False)


def test_report_is_the_longest_path_through_the_layers(qonnx_model, tmp_path):
    hls_model = _build(qonnx_model, tmp_path)
    layers = model_latency(hls_model)
    by_name = {ly.name: ly for ly in layers}
    for ly in layers:
        assert ly.start == max((by_name[i].finish for i in ly.inputs if i in by_name), default=0), (
            ly.name
        )
    report = json.loads((tmp_path / JSON_NAME).read_text())
    total = report["total"]
    assert total["latency_cycles"] == max(ly.finish for ly in layers)
    assert total["interval_cycles"] == max(ly.latency for ly in layers)
    assert total["sequential_cycles"] == sum(ly.latency for ly in layers)
    assert total["interval_cycles"] < total["latency_cycles"] < total["sequential_cycles"]
    assert total["latency_ns"] == pytest.approx(total["latency_cycles"] * 5.0)
    kinds = {ly["kind"] for ly in report["layers"]}
    assert {"GNNGather", "GNNScatter", "GNNDense", "GNNConcat", "GNNRequant"} <= kinds
    gathers = [ly for ly in report["layers"] if ly["kind"] == "GNNGather"]
    assert all(ly["loops"][0]["trips"] == CAP.e_max for ly in gathers)
    scatters = [ly for ly in report["layers"] if ly["kind"] == "GNNScatter"]
    assert all(ly["loops"][1]["trips"] == CAP.n_rows for ly in scatters)
    md = (tmp_path / MD_NAME).read_text()
    assert all(f"| {ly.name} |" in md for ly in layers)
    assert summary_line(tmp_path).startswith(
        f"expected latency {total['latency_cycles']} cycles, II {total['interval_cycles']} cycles"
    )
    assert summary_line(tmp_path / "nowhere") is None


def test_edge_parallelism_divides_the_row_loops(qonnx_model, tmp_path):
    one = model_latency(_build(qonnx_model, tmp_path / "p1", edge_parallelism=1))
    four = model_latency(_build(qonnx_model, tmp_path / "p4", edge_parallelism=4))
    for a, b in zip(one, four, strict=True):
        assert a.name == b.name and b.lanes == 4
        assert b.loops[0].trips == math.ceil(a.loops[0].trips / 4), a.name
    assert max(ly.finish for ly in four) < max(ly.finish for ly in one) / 2
