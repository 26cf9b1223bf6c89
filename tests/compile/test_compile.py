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
    from ticl_fpga.compile.reference import ExactGraph

    exact = ExactGraph(qonnx_model)
    golden = {
        "inputs": [[p.x, p.edge_index, p.edge_attr] for p in padded],
        "outputs": [exact.logits(p.x, p.edge_index, p.edge_attr) for p in padded],
    }
    for p, ref in zip(padded, golden["outputs"], strict=True):  # float32 QONNX is exact here
        np.testing.assert_array_equal(
            execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr), ref
        )
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
        np.testing.assert_array_equal(got, ref_padded[:e], err_msg=f"{name}: C sim vs exact")
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


# --------------------------------------------------------------------------- exactness rules


def test_round_shift_is_round_half_to_even():
    from ticl_fpga.compile.reference import round_shift

    c = np.arange(-70, 71, dtype=np.int64)
    for d in (1, 2, 3, 5):
        np.testing.assert_array_equal(round_shift(c, d), np.round(c / 2.0**d).astype(np.int64))
        np.testing.assert_array_equal(
            round_shift(c.astype(object), d).astype(np.int64), np.round(c / 2.0**d)
        )


def test_analysis_bounds_every_reference_tensor(tmp_path):
    """Interval soundness: every code the exact reference computes lies in the analysed interval,
    and the hls4ml types taken from the analysis hold every value."""
    from tests.compile.test_many_graphs import stress_graphs
    from ticl_fpga.compile.bitwidth import analyse
    from ticl_fpga.compile.reference import Codes, ExactGraph

    model = calibrated_qmodel("w6a6", niters=2, node_hidden=8, edge_hidden=6, head_hidden=4)
    cap = Capacity(n_max=10, e_max=40)
    qonnx_model = export_qonnx(model, cap, tmp_path / "m.onnx")
    report = analyse(qonnx_model).check()
    exact = ExactGraph(qonnx_model)
    checked = 0
    for scale in (0.5, 50.0):
        for x, ei, ea in stress_graphs(cap, seed=3, scale=scale):
            xq, eq = quantize_inputs(model, x, ea)
            p = pad_graph(xq, ei, eq, cap)
            for name, v in exact.codes(p.x, p.edge_index, p.edge_attr).items():
                if not isinstance(v, Codes) or name not in report.tensors:
                    continue
                t = report.tensors[name]
                assert v.exp == t.exp, name
                c = v.codes.reshape(-1, v.codes.shape[-1]) if v.codes.ndim > 1 else v.codes[None]
                lo = t.lo if len(t.lo) == c.shape[-1] else t.lo.min()
                hi = t.hi if len(t.hi) == c.shape[-1] else t.hi.max()
                assert np.all(c >= lo) and np.all(c <= hi), name
                assert t.fixed().holds(v.value()), name
                checked += 1
    assert checked > 50


def _wide_scatter_model(tmp_path, e_max: int):
    """16-bit edge activations summed over e_max edges: 16 + log2(e_max) bits at aggr.0."""
    from ticl_fpga.model.spec import GNNSpec
    from ticl_fpga.quantize.qmodel import build_quant_model
    from ticl_fpga.quantize.recipe import LayerBits, Recipe

    recipe = Recipe(
        name="wide_edges",
        default=LayerBits(weight_bits=4, bias_bits=8, act_bits=6),
        layers={"edge_mlp.*": LayerBits(act_bits=16), "head_hidden": LayerBits(weight_bits=2)},
    )
    spec = GNNSpec(node_dim=6, edge_dim=4, niters=1, node_hidden=8, edge_hidden=4, head_hidden=4)
    model = build_quant_model(spec, recipe)  # the recipe-level bound accepts it
    import torch

    model.train()
    with torch.no_grad():
        for s in range(3):
            g = random_graph(20, 60, seed=s)
            model(*(torch.as_tensor(a) for a in g))
    model.eval()
    return export_qonnx(model, Capacity(n_max=16, e_max=e_max), tmp_path / f"wide{e_max}.onnx")


def test_refused_before_any_project_is_written(tmp_path):
    from ticl_fpga.cli import main
    from ticl_fpga.compile.bitwidth import BitWidthError, analyse
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls
    from ticl_fpga.errors import TiclFpgaError

    ok = analyse(_wide_scatter_model(tmp_path, 64))
    assert not ok.failures()  # 64 edges: 22 bits, exact in float32
    model = _wide_scatter_model(tmp_path, 1024)
    with pytest.raises(
        BitWidthError, match=r"\[aggr\.0\]: ScatterND needs 26 magnitude bits"
    ) as err:
        analyse(model).check()
    assert isinstance(err.value, TiclFpgaError) and "\n" not in str(err.value)
    out = tmp_path / "prj"
    with pytest.raises(BitWidthError, match="aggr.0"):
        build_hls(model, HlsBuildConfig(capacity=Capacity(n_max=16, e_max=1024)), out)
    assert not out.exists()
    path = tmp_path / "wide1024.onnx"
    assert main(["hls", "build", str(path), "--out", str(out), "--no-synth"]) == 2
    assert not out.exists()


def test_recipe_refuses_accumulator_wider_than_float32():
    from ticl_fpga.errors import ConfigError
    from ticl_fpga.model.spec import GNNSpec
    from ticl_fpga.quantize.qmodel import build_quant_model
    from ticl_fpga.quantize.recipe import LayerBits, Recipe

    recipe = Recipe(name="too_wide", default=LayerBits(weight_bits=12, bias_bits=16, act_bits=12))
    with pytest.raises(ConfigError, match=r"\[layers\.edge_mlp\.0\]: accumulator needs \d+ bits"):
        build_quant_model(GNNSpec(node_dim=6, edge_dim=4, niters=1), recipe)


def test_non_finite_features_refused_on_every_path(tmp_path):
    from ticl_fpga.compile.predict import to_input_grid
    from ticl_fpga.compile.reference import ExactGraph

    model = calibrated_qmodel("w4a4", niters=1, node_hidden=8, edge_hidden=4, head_hidden=4)
    cap = Capacity(n_max=10, e_max=20)
    qonnx_model = export_qonnx(model, cap, tmp_path / "m.onnx")
    x, ei, ea = random_graph(6, 10, seed=0)
    xq, eq = quantize_inputs(model, x, ea)
    p = pad_graph(xq, ei, eq, cap)
    bad_x = x.copy()
    bad_x[2, 3] = np.nan
    bad_ea = ea.copy()
    bad_ea[1, 0] = np.inf
    px = p.x.copy()
    px[2, 3] = np.nan
    scalers = {
        "node_mean": [0.0] * 6,
        "node_std": [1.0] * 6,
        "edge_mean": [0.0] * 4,
        "edge_std": [1.0] * 4,
    }
    from ticl_fpga.compile.build import input_types_of

    types = input_types_of(qonnx_model)
    for call, col in (
        (lambda: quantize_inputs(model, bad_x, ea), r"x\[:, 3\]"),
        (lambda: quantize_inputs(model, x, bad_ea), r"edge_attr\[:, 0\]"),
        (lambda: to_input_grid(bad_x, ea, scalers, types), r"x\[:, 3\]"),
        (lambda: execute_qonnx(qonnx_model, px, p.edge_index, p.edge_attr), r"x\[:, 3\]"),
        (lambda: ExactGraph(qonnx_model).logits(px, p.edge_index, p.edge_attr), r"x\[:, 3\]"),
    ):
        with pytest.raises(InputError, match=col):
            call()


def test_zero_checked_graphs_is_an_error(tmp_path):
    from ticl_fpga.compile.build import CsimCheckError, check_csim, golden_for_build

    model = calibrated_qmodel("w4a4", niters=1, node_hidden=8, edge_hidden=4, head_hidden=4)
    cap = Capacity(n_max=4, e_max=6)
    qonnx_model = export_qonnx(model, cap, tmp_path / "m.onnx")
    too_big = [random_graph(10, 30, seed=1)]
    scalers_ok = golden_for_build(qonnx_model, None)  # generated graphs: never empty
    assert len(scalers_ok["inputs"]) >= 8
    with pytest.raises(CsimCheckError, match="0 graphs"):
        golden_for_build(qonnx_model, too_big, source="data")
    with pytest.raises(CsimCheckError, match="0 graphs"):
        check_csim(None, {"inputs": [], "outputs": []})
