"""The written hls4ml project streams: feature-partitioned arrays, pipelined row loops, dataflow top.

Vendor HLS is not installed here, so these tests read the C++ that ``hls build`` writes and check
the pragmas and structure that decide the hardware; the C simulation at several
``edge_parallelism`` values checks that the lane/forwarding logic is bit-exact.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.compile.helpers import calibrated_qmodel, edge_case_graphs, random_graph
from ticl_fpga.compile.capacity import Capacity, pad_graph
from ticl_fpga.compile.to_qonnx import execute_qonnx, export_qonnx, quantize_inputs
from ticl_fpga.errors import ConfigError

CAP = Capacity(n_max=10, e_max=30)  # e_max not a multiple of 4: the last lane group is partial

_DECL = re.compile(r"^\s+(\w+) (layer\d+_out)\[(\d+)(?:\*(\d+))?\];", re.M)


@pytest.fixture(scope="module")
def qonnx_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stream")
    model = calibrated_qmodel("w6a6", seed=5, niters=1, node_hidden=8, edge_hidden=6, head_hidden=4)
    return model, export_qonnx(model, CAP, tmp / "gnn.onnx")


def _write(qonnx_model, out, **kw):
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls

    return build_hls(qonnx_model, HlsBuildConfig(capacity=CAP, **kw), out, compile=False)


def _top(out) -> str:
    return (out / "firmware" / "ticl_gnn.cpp").read_text()


@pytest.mark.parametrize("lanes", [1, 2, 4])
def test_intermediate_arrays_partitioned_by_feature_not_by_row(qonnx_model, tmp_path, lanes):
    _, q = qonnx_model
    _write(q, tmp_path, edge_parallelism=lanes)
    cpp = _top(tmp_path)
    decls = _DECL.findall(cpp)
    assert len(decls) > 20
    edge_arrays = 0
    for _type, name, rows, feats in decls:
        rows, feats = int(rows), int(feats or 1)
        pragmas = re.findall(rf"#pragma HLS ARRAY_\w+ variable={name}\b.*", cpp)
        # never one register per element: no complete partition/reshape of a multi-row array
        assert not any("complete" in p for p in pragmas) or rows <= lanes, (name, pragmas)
        if feats * lanes == 1:
            assert pragmas == [], (name, pragmas)
        else:
            assert pragmas == [
                f"#pragma HLS ARRAY_PARTITION variable={name} cyclic factor={feats * lanes} dim=1"
            ], (name, pragmas)
        edge_arrays += rows == CAP.e_max and feats > 1
    assert edge_arrays >= 4  # gathered, concatenated and dense [E_max, F] tensors
    # the pragma is written before the call that fills the array, in the top function's scope
    for _type, name, _rows, _feats in decls:
        first_call = re.search(rf"nnet::gnn_\w+<[^;]*\b{name}\b", cpp)
        assert first_call is not None, name
        pragma = cpp.find(f"variable={name} ")
        assert pragma == -1 or pragma < first_call.start(), name


def test_top_is_dataflow_and_layers_keep_their_loop_pragmas(qonnx_model, tmp_path):
    _, q = qonnx_model
    hls_model = _write(q, tmp_path, edge_parallelism=2, reuse_factor=3)
    cpp = _top(tmp_path)
    top_pragmas = re.findall(r"#pragma HLS (\w+)", cpp.split("insert load weights")[0])
    assert "DATAFLOW" in top_pragmas and "PIPELINE" not in top_pragmas
    params = (tmp_path / "firmware" / "parameters.h").read_text()
    n_dense = cpp.count("nnet::gnn_dense<")
    # one call per Gemm of the model: a dense layer is never copied per row
    assert n_dense == sum(ly.class_name == "GNNDense" for ly in hls_model.get_layers()) >= 5
    assert params.count("static const unsigned n_lanes = 2;") == len(
        re.findall(r"struct config\d+ : nnet::gnn_", params)
    )
    # the model-wide reuse factor reaches every dense layer
    assert params.count("static const unsigned reuse_factor = 3;") == n_dense
    header = (tmp_path / "firmware" / "nnet_utils" / "nnet_gnn.h").read_text()

    def pragmas_after(label: str) -> list[str]:
        block = header.split(f"{label}:\n", 1)[1]
        return re.findall(r"#pragma HLS ([^\n]+)", block.split("for (", 2)[1].split("for (")[0])

    assert pragmas_after("GatherEdges") == ["PIPELINE II=CONFIG_T::read_ii"]
    assert pragmas_after("ScatterEdges")[0] == "PIPELINE II=1"
    assert "DEPENDENCE variable=partial inter RAW distance=2 true" in pragmas_after("ScatterEdges")
    assert pragmas_after("DenseRows") == ["PIPELINE II=CONFIG_T::reuse_factor"]
    for label in ("GatherEdges", "ScatterEdges", "DenseRows", "ReluRows", "ConcatRows"):
        assert not any("UNROLL" in p for p in pragmas_after(label)), label
    # no PIPELINE on whole functions and no fully unrolled row loop anywhere in the header
    assert "ScatterInit" not in header
    assert re.search(r"#pragma HLS INLINE\n", header) is None  # every layer is its own process


def test_edge_parallelism_must_be_a_power_of_two():
    from ticl_fpga.compile.build import HlsBuildConfig
    from ticl_fpga.compile.hls4ml_ext.layers import check_edge_parallelism

    with pytest.raises(ConfigError, match="power of two"):
        HlsBuildConfig.from_dict({"edge_parallelism": 3}, source="test")
    # the same rule where hls4ml reads HLSConfig EdgeParallelism (per layer or model-wide)
    with pytest.raises(ConfigError, match="power of two"):
        check_edge_parallelism(6)
    assert check_edge_parallelism("8") == 8


def _star_graphs():
    """Edges that hit the same node back to back (forwarding) and every other edge (distance 2)."""
    x, _, ea = random_graph(CAP.n_max, CAP.e_max, seed=21)
    star = np.stack([np.arange(CAP.e_max) % CAP.n_max, np.zeros(CAP.e_max, dtype=np.int64)])
    alt = np.stack([np.zeros(CAP.e_max, dtype=np.int64), np.arange(CAP.e_max) % 2 + 1])
    blocks = np.stack([np.arange(CAP.e_max) // 7, np.arange(CAP.e_max) // 4]) % CAP.n_max
    return {"star": (x, star, ea), "alternate": (x, alt, ea), "blocks": (x, blocks, ea)}


@pytest.mark.slow
@pytest.mark.parametrize("lanes,aggr", [(1, "sum"), (4, "sum"), (2, "max")])
def test_streaming_csim_bit_exact(tmp_path, lanes, aggr):
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls, check_csim

    model = calibrated_qmodel(
        "w6a6", seed=7, niters=2, node_hidden=8, edge_hidden=6, head_hidden=4, aggr=aggr
    )
    q = export_qonnx(model, CAP, tmp_path / "gnn.onnx")
    graphs = {**edge_case_graphs(CAP.n_max, CAP.e_max), **_star_graphs()}
    padded = []
    for x, ei, ea in graphs.values():
        xq, eq = quantize_inputs(model, x, ea)
        padded.append(pad_graph(xq, ei, eq, CAP))
    golden = {
        "inputs": [[p.x, p.edge_index, p.edge_attr] for p in padded],
        "outputs": [execute_qonnx(q, p.x, p.edge_index, p.edge_attr) for p in padded],
    }
    hls_model = build_hls(
        q, HlsBuildConfig(capacity=CAP, edge_parallelism=lanes), tmp_path / "prj", golden=golden
    )
    assert check_csim(hls_model, golden) == 0
