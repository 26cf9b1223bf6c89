"""QONNX export and hls4ml C simulation are bit-exact with the Brevitas GNN."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.compile.helpers import brevitas_logits, calibrated_qmodel, edge_case_graphs, random_graph
from ticl_fpga.compile.capacity import Capacity, pad_graph, windows
from ticl_fpga.compile.hls4ml_ext import fixed
from ticl_fpga.compile.to_qonnx import execute_qonnx, export_qonnx, quantize_inputs
from ticl_fpga.errors import InputError

CONFIGS = {
    # id: (recipe, spec kwargs, capacity)
    "w6a6_default": ("w6a6", {}, Capacity(n_max=24, e_max=64)),
    "w4a4_niters2": (
        "w4a4",
        dict(niters=2, node_hidden=16, edge_hidden=8, head_hidden=8),
        Capacity(n_max=12, e_max=30),
    ),
    "w8a8_niters1_max": (
        "w8a8",
        dict(niters=1, node_hidden=12, edge_hidden=6, head_hidden=6, aggr="max"),
        Capacity(n_max=10, e_max=20),
    ),
}


def test_fixed_types_from_quant():
    t = fixed.from_quant(
        scale=2**-4, zero_point=0, bits=6, signed=False, narrow=False, rounding="ROUND", where="q"
    )
    assert t.cpp() == "ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"
    assert t.max == 4 - 2**-4 and t.min == 0
    with pytest.raises(ValueError, match="power of two"):
        fixed.from_quant(
            scale=0.3, zero_point=0, bits=6, signed=True, narrow=False, rounding="ROUND", where="q"
        )
    acc = fixed.dense_accumulator(
        data=t, weight=fixed.Fixed(True, 6, 0), bias=fixed.Fixed(True, 12, 0), fan_in=100
    )
    assert acc.max >= 100 * t.max * 0.5 + 0.5 and acc.frac == 12  # bias LSB 2**-12 is the finest


def test_pad_graph_sink_and_refusal():
    cap = Capacity(n_max=4, e_max=5)
    x, ei, ea = random_graph(3, 2, seed=0)
    g = pad_graph(x, ei, ea, cap)
    assert g.x.shape == (5, x.shape[1]) and g.edge_index.shape == (2, 5)
    assert (g.edge_index[:, 2:] == cap.sink).all() and (g.x[3:] == 0).all()
    with pytest.raises(InputError, match="5 nodes / 2 edges exceed the capacity n_max=4"):
        pad_graph(*random_graph(5, 2, seed=0), cap)


def test_windows_cover_every_node_and_report_lost_edges():
    cap = Capacity(n_max=4, e_max=6)
    ei = np.array([[0, 1, 2, 3, 4, 5, 6, 0], [1, 2, 3, 4, 5, 6, 7, 7]])
    wins, lost = windows(8, ei, cap)
    assert sorted(np.concatenate([w.nodes for w in wins]).tolist()) == list(range(8))
    assert all(len(w.nodes) <= 4 and len(w.edges) <= 6 for w in wins)
    assert lost.tolist() == [False, False, False, True, False, False, False, True]


def test_qonnx_matches_brevitas_on_real_edges(tmp_path):
    model = calibrated_qmodel("w4a4", niters=2, node_hidden=8, edge_hidden=4, head_hidden=4)
    cap = Capacity(n_max=10, e_max=20)
    qonnx_model = export_qonnx(model, cap, tmp_path / "gnn.onnx")
    assert (tmp_path / "gnn.onnx").is_file()
    assert not model.training, "export must leave the model in eval()"
    for name, (x, ei, ea) in edge_case_graphs(cap.n_max, cap.e_max).items():
        xq, eq = quantize_inputs(model, x, ea)
        g = pad_graph(xq, ei, eq, cap)
        got = execute_qonnx(qonnx_model, g.x, g.edge_index, g.edge_attr)[: g.e_real]
        np.testing.assert_array_equal(got, brevitas_logits(model, xq, ei, eq), err_msg=name)
        # padding cannot change real edges: same as Brevitas on the unpadded graph with raw inputs
        np.testing.assert_array_equal(
            got, model(*map(_t, (x, ei, ea))).detach().numpy(), err_msg=name
        )


def _t(a):
    import torch

    return torch.as_tensor(a)


@pytest.mark.slow
@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_hls_csim_bit_exact(tmp_path, config):
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls
    from ticl_fpga.compile.predict import hls_predict

    recipe, spec_kw, cap = CONFIGS[config]
    model = calibrated_qmodel(recipe, **spec_kw)
    t0 = time.perf_counter()
    qonnx_model = export_qonnx(model, cap, tmp_path / "gnn.onnx")
    graphs = edge_case_graphs(cap.n_max, cap.e_max)
    on_grid = {
        k: (quantize_inputs(model, x, ea)[0], ei, quantize_inputs(model, x, ea)[1])
        for k, (x, ei, ea) in graphs.items()
    }
    padded = [pad_graph(*g, cap) for g in on_grid.values()]
    golden = {
        "inputs": [[p.x, p.edge_index, p.edge_attr] for p in padded],
        "outputs": [execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr) for p in padded],
    }
    hls_model = build_hls(
        qonnx_model, HlsBuildConfig(capacity=cap), tmp_path / "prj", golden=golden
    )
    elapsed = time.perf_counter() - t0
    print(f"{config}: export + convert + compile {elapsed:.1f}s")
    assert (tmp_path / "prj" / "hls_build.yaml").is_file()
    assert (tmp_path / "prj" / "tb_data" / "tb_input_features.dat").is_file()
    result = hls_predict(hls_model, list(on_grid.values()), cap)
    for (name, (x, ei, ea)), got, ref_padded in zip(
        on_grid.items(), result.logits, golden["outputs"], strict=True
    ):
        e = ei.shape[1]
        np.testing.assert_array_equal(got, ref_padded[:e], err_msg=f"{name}: C sim vs QONNX")
        np.testing.assert_array_equal(
            got, brevitas_logits(model, x, ei, ea), err_msg=f"{name}: C sim vs Brevitas"
        )
    assert result.lost_fraction == 0.0


def test_overlapping_windows_keep_boundary_edges_and_assign_each_edge_once():
    cap = Capacity(n_max=4, e_max=6)
    ei = np.array([[0, 1, 2, 3, 4, 5, 6, 0], [1, 2, 3, 4, 5, 6, 7, 7]])
    wins, lost = windows(8, ei, cap, overlap=2)
    assert lost.tolist() == [False] * 7 + [True]  # only the long 0-7 edge is lost
    assigned = np.concatenate([w.edges for w in wins])
    assert sorted(assigned.tolist()) == list(range(7))  # every kept edge in exactly one window
    for w in wins:
        sub_x, sub_ei, _ = w.subgraph(np.arange(8.0)[:, None], ei, np.zeros((8, 1)))
        assert len(sub_x) <= 4 and (sub_ei >= 0).all() and (sub_ei < len(sub_x)).all()
