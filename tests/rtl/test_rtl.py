"""Open RTL backend: schedule and integer model (fast), layer modules and whole designs in
Verilator against the exact QONNX reference, QONNX, the C simulation and the golden codes (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ticl_fpga.compile.reference import ExactGraph, round_shift
from ticl_fpga.golden.vectors import load_case
from ticl_fpga.rtl import RtlError
from ticl_fpga.rtl.graph import EDGE, NODE, build_design
from ticl_fpga.rtl.model import run_codes

CASE = "w6a6_niters2"


@pytest.fixture(scope="module")
def vectors():
    return load_case(CASE)


def _codes(vectors, g):
    p = vectors.padded(g)
    tx, te = vectors.types["x"], vectors.types["edge_attr"]
    return (
        p,
        np.round(p.x / tx.lsb).astype(np.int64),
        np.round(p.edge_attr / te.lsb).astype(np.int64),
    )


def test_schedule_alternates_node_and_edge_stages(vectors):
    d = build_design(vectors.qonnx_model(), 2)
    assert d.stages == sorted(d.stages) and len(d.stages) == 2 * (1 + d_niters(vectors))
    for ly in d.layers:
        if ly.kind == "gather":
            # a gather reads a node tensor finished in an earlier (node) stage
            src = d.tensors[ly.inputs[0]]
            assert d.stage_domain(ly.stage) == EDGE and src.stage < ly.stage and src.stored
        if ly.kind.startswith("scatter"):
            readers = [d.layer(c).stage for c in d.tensors[ly.output].consumers]
            assert all(d.stage_domain(s) == NODE and s > ly.stage for s in readers)
    assert d.tensors[d.output].domain == EDGE


def d_niters(vectors) -> int:
    return int(vectors.entry["case"]["niters"])


def test_edge_parallelism_must_divide_capacity(vectors):
    with pytest.raises(RtlError, match="divide"):
        build_design(vectors.qonnx_model(), 3)


def test_integer_model_equals_exact_reference(vectors):
    """The RTL's arithmetic (integer model of the design) == exact QONNX reference, every graph."""
    d = build_design(vectors.qonnx_model(), 1)
    ref = ExactGraph(vectors.qonnx_model())
    lsb = vectors.types["logits"].lsb
    for g in vectors.graphs.values():
        p, xc, ec = _codes(vectors, g)
        got = run_codes(d, xc, p.edge_index, ec)[d.output].reshape(-1)
        exact = ref.logits(p.x, p.edge_index, p.edge_attr) / lsb
        np.testing.assert_array_equal(got, exact)
        np.testing.assert_array_equal(got[: g.n_edges], g.logit_code)


def test_emit_writes_one_file_per_dense_layer_and_manifest(vectors, tmp_path):
    from ticl_fpga.compile.to_qonnx import model_metadata
    from ticl_fpga.rtl.build import make_manifest
    from ticl_fpga.rtl.emit import emit_design

    model = vectors.qonnx_model()
    d = build_design(model, 2)
    em = emit_design(d, tmp_path / "rtl")
    man = make_manifest(d, em, model_metadata(model)[0], "golden")
    json.dumps(man)
    files = (tmp_path / "rtl" / "files.f").read_text().split()
    assert files[-1] == "gnn_top.v"
    for f in files:
        assert (tmp_path / "rtl" / f).is_file()
    dense = [ly for ly in d.layers if ly.kind == "dense"]
    assert len([m for m in man["modules"] if m["kind"] == "dense"]) == len(dense)
    # every layer placed in a stage is in the manifest with its module and lanes
    placed = {ly["layer"]: ly for ly in man["layers"]}
    for ly in d.layers:
        if ly.kind != "index_row":
            assert placed[ly.name]["lanes"] == (2 if d.stage_domain(ly.stage) == EDGE else 1)
    top = (tmp_path / "rtl" / "gnn_top.v").read_text()
    assert top.count("dense_Gemm_2_out0 u_Gemm_2_out0_l") == 2  # one instance per edge lane


# --------------------------------------------------------------------------- Verilator (slow)


@pytest.mark.slow
def test_requant_rounds_half_to_even_and_saturates(tmp_path):
    """gnn_requant on every input code of small widths: ties go to even; saturation; narrow."""
    from ticl_fpga.compile.reference import quant_limits
    from ticl_fpga.rtl.emit import verilog_lib_dir
    from ticl_fpga.rtl.unit import build_unit, pack, run_unit, unpack

    cases = [  # WI FI SI WO FO SO SYM
        (9, 4, 1, 4, 1, 1, 0),  # signed, drop 3 bits, saturate
        (9, 4, 1, 4, 1, 1, 1),  # narrow (symmetric) range
        (8, 5, 0, 3, 0, 0, 0),  # unsigned, drop 5 bits
        (6, 1, 1, 8, 2, 0, 0),  # signed -> unsigned, shift left
    ]
    n = 4
    lib = verilog_lib_dir()
    for k, (wi, fi, si, wo, fo, so, sym) in enumerate(cases):
        inst = (
            f"gnn_requant #(.N({n}), .WI({wi}), .FI({fi}), .SI({si}), .WO({wo}), .FO({fo}), "
            f".SO({so}), .SYM({sym})) u (.clk(clk), .in(in), .out(out));"
        )
        binary = build_unit(tmp_path / f"q{k}", [lib / "gnn_requant.v"], inst, n * wi, n * wo, 1)
        lo, hi = (-(1 << (wi - 1)), 1 << (wi - 1)) if si else (0, 1 << wi)
        codes = np.arange(lo, hi, dtype=np.int64)
        codes = np.concatenate([codes, np.zeros((-len(codes)) % n, dtype=np.int64)]).reshape(-1, n)
        got = unpack(run_unit(binary, pack(codes, wi)), n, wo, bool(so))
        sh = fi - fo
        r = round_shift(codes, sh) if sh > 0 else codes << -sh
        qlo, qhi = quant_limits(wo, bool(so), bool(sym))
        want = np.clip(r, qlo, qhi)
        np.testing.assert_array_equal(got, want, err_msg=str(cases[k]))
        if sh > 0:  # the vectors hold ties, where half-up rounding would differ
            ties = (codes & ((1 << sh) - 1)) == (1 << (sh - 1))
            half_up = np.clip((codes + (1 << (sh - 1))) >> sh, qlo, qhi)
            assert ties.any() and np.any(half_up[ties] != want[ties])


def _scatter_reference(ops, *, op, n, f, wi, si, wo, p):
    """Rows read by gnn_scatter for a stream of (clear, valid, idx[p], data[p, f], raddr): the
    register read happens before the clock's writes; lanes combine on read; an index >= n is
    ignored; clear empties every row (0 for a sum and for a max from 0)."""
    mask = (1 << wo) - 1
    banks = np.zeros((p, n, f), dtype=np.int64)
    out = []
    for clear, valid, idx, data, raddr in ops:
        if raddr < n:
            row = banks[:, raddr].max(axis=0) if op == "max" else banks[:, raddr].sum(axis=0)
        else:
            row = np.zeros(f, dtype=np.int64)
        out.append(row & mask)
        if clear:
            banks[:] = 0
        elif valid:
            for lane in range(p):
                if idx[lane] < n:
                    v = data[lane]
                    if si:
                        v = np.where(v >= 1 << (wi - 1), v - (1 << wi), v)
                    if op == "max":
                        banks[lane, idx[lane]] = np.maximum(banks[lane, idx[lane]], v)
                    else:
                        banks[lane, idx[lane]] = (banks[lane, idx[lane]] + v) & mask
    return np.array(out)


@pytest.mark.slow
@pytest.mark.parametrize(
    "op,p,si,wo",
    [("sum", 1, 1, 7), ("sum", 2, 1, 7), ("sum", 2, 0, 9), ("max", 1, 0, 4), ("max", 3, 0, 5)],
)
def test_scatter_memory_matches_reference(tmp_path, op, p, si, wo):
    """gnn_scatter (lane memories + live bits) on random streams built to hit its corners: the
    same node on consecutive clocks in one lane and across lanes, indices >= N, clear between
    writes and while writing, reads of rows never written and of addresses >= N."""
    from ticl_fpga.rtl.emit import verilog_lib_dir
    from ticl_fpga.rtl.unit import build_unit, run_unit, unpack

    n, f, wi, iw, aw = 5, 3, 4, 3, 4
    lib = verilog_lib_dir()
    dw = p * f * wi
    in_bits = 2 + p * iw + dw + aw
    inst = (
        f"gnn_scatter #(.MAX({int(op == 'max')}), .N({n}), .F({f}), .WI({wi}), .SI({si}), "
        f".WO({wo}), .P({p}), .IW({iw}), .AW({aw})) u (.clk(clk), .clear(in[0]), .valid(in[1]), "
        f".idx(in[{1 + p * iw}:2]), .data(in[{1 + p * iw + dw}:{2 + p * iw}]), "
        f".raddr(in[{in_bits - 1}:{in_bits - aw}]), .rdata(out));"
    )
    binary = build_unit(
        tmp_path / "u", [lib / "gnn_scatter.v", lib / "gnn_cast.v"], inst, in_bits, f * wo, 1
    )
    rng = np.random.default_rng(7 + p)
    ops, words = [], []
    for c in range(600):
        clear = int(rng.random() < 0.04 or c in (0, 300))
        valid = int(rng.random() < 0.8)
        # few hot indices: runs of the same node in a lane and across lanes; 6, 7 are >= N
        idx = rng.choice([0, 0, 1, 4, 4, 2, 3, 6, 7], size=p)
        data = rng.integers(0, 1 << wi, size=(p, f))
        raddr = int(rng.choice([0, 1, 2, 3, 4, 4, 5, 15]))
        ops.append((clear, valid, idx, data, raddr))
        v = clear | valid << 1
        for lane in range(p):
            v |= int(idx[lane]) << (2 + lane * iw)
        for k, d in enumerate(data.ravel()):
            v |= int(d) << (2 + p * iw + k * wi)
        v |= raddr << (in_bits - aw)
        words.append(format(v, "x"))
    got = unpack(run_unit(binary, words), f, wo, False)
    want = _scatter_reference(ops, op=op, n=n, f=f, wi=wi, si=si, wo=wo, p=p)
    assert np.any(want != 0) and np.any(want[1:] != want[:-1])
    np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_dense_adder_graph_is_exact(vectors, tmp_path):
    """A da4ml dense layer (pruned weights) streamed one row per clock == integer matmul."""
    from ticl_fpga.rtl.dense_da import build_dense, da_sources
    from ticl_fpga.rtl.unit import build_unit, pack, run_unit, unpack

    d = build_design(vectors.qonnx_model(), 1)
    ly = next(ly for ly in d.layers if ly.kind == "dense" and d.tensors[ly.inputs[0]].fixed.signed)
    xi, yo = d.tensors[ly.inputs[0]].fixed, d.tensors[ly.output].fixed
    w = ly.attrs["weight"]
    assert np.any(w == 0)  # pruned
    dr = build_dense("dense_dut", w, ly.attrs["bias"], xi, yo)
    (tmp_path / "dense_dut.v").write_text("\n".join(dr.files.values()))
    for name, code in da_sources().items():
        (tmp_path / f"{name}.v").write_text(code)
    srcs = [tmp_path / "dense_dut.v"] + [tmp_path / f"{n}.v" for n in da_sources()]
    binary = build_unit(
        tmp_path / "u",
        srcs,
        "dense_dut u (.clk(clk), .x(in), .y(out));",
        dr.n_in * xi.width,
        dr.n_out * yo.width,
        dr.latency,
    )
    rng = np.random.default_rng(0)
    lo, hi = -(1 << (xi.width - 1)), 1 << (xi.width - 1)
    x = rng.integers(lo, hi, size=(300, dr.n_in))
    x[0], x[1] = hi - 1, lo  # extremes
    got = unpack(run_unit(binary, pack(x, xi.width)), dr.n_out, yo.width, True)
    wc = np.round(w * 2.0 ** (yo.frac - xi.frac)).astype(np.int64)
    bc = np.round(ly.attrs["bias"] * 2.0**yo.frac).astype(np.int64)
    np.testing.assert_array_equal(got, x @ wc.T + bc)


def _build_golden_p2(vectors, out, **kw):
    """``rtl_build`` of the golden case at 2 edges per clock, checked on its golden graphs."""
    from ticl_fpga.rtl.build import check_graphs_from_golden, rtl_build

    return rtl_build(
        vectors.qonnx_model(),
        out,
        edge_parallelism=2,
        checks=check_graphs_from_golden(vectors),
        source=CASE,
        **kw,
    )


@pytest.mark.slow
def test_golden_case_bit_exact_in_verilator(vectors, tmp_path):
    """The whole streaming design, 2 edges per clock: RTL == exact reference == QONNX == C
    simulation == golden codes on every golden graph (all padded edge rows), cycles measured."""
    report = _build_golden_p2(vectors, tmp_path / "out")
    assert report["ok"], report["mismatches"]
    comps = report["comparisons"]
    assert set(comps) == {
        "exact QONNX reference",
        "QONNX (float32)",
        "C simulation",
        "golden codes",
    }
    assert all(c["graphs"] == len(vectors.graphs) for c in comps.values())
    c = report["cycles"]
    assert c["latency"] == c["expected_latency"] and c["interval"] == c["expected_interval"]
    assert c["interval"] < c["latency"]  # the next graph loads while this one is processed
    assert (tmp_path / "out" / "report.md").read_text().count("Bit-exact") == 1
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["edge_parallelism"] == 2 and man["stages"][1]["lanes"] == 2


@pytest.mark.slow
def test_gather_copies_bit_exact_in_verilator(vectors, tmp_path, monkeypatch):
    """A node memory gathered by more lanes than emit.MAX_GATHER_PORTS is written as copies of
    gnn_gather (here 2 ports each: 4 ports at P = 2 -> 2 copies): still bit-exact, same cycles."""
    import ticl_fpga.rtl.emit as emit

    monkeypatch.setattr(emit, "MAX_GATHER_PORTS", 2)
    report = _build_golden_p2(vectors, tmp_path / "out", csim=False)
    top = (tmp_path / "out" / "rtl" / "gnn_top.v").read_text()
    assert ".NP(2)" in top and ".NP(4)" not in top and "_c1 (" in top
    assert report["ok"], report["mismatches"]
    assert report["comparisons"]["golden codes"]["graphs"] == len(vectors.graphs)
    c = report["cycles"]
    assert c["latency"] == c["expected_latency"] and c["interval"] == c["expected_interval"]
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    node_mems = [m for m in man["memories"] if m["module"] == "gnn_gather" and m["gather_ports"]]
    assert node_mems and all(m["copies"] == 2 for m in node_mems)


@pytest.mark.slow
def test_max_aggregation_case_bit_exact_in_verilator(tmp_path):
    """The max-aggregation golden case, one edge per clock (gnn_scatter with MAX = 1): RTL ==
    exact reference == golden codes on every golden graph, cycles as scheduled."""
    from ticl_fpga.rtl.build import check_graphs_from_golden, rtl_build

    case = load_case("w6a6_max_niters1")
    model = case.qonnx_model()
    assert any(ly.kind == "scatter_max" for ly in build_design(model, 1).layers)
    report = rtl_build(
        model,
        tmp_path / "out",
        edge_parallelism=1,
        checks=check_graphs_from_golden(case),
        csim=False,
        source="w6a6_max_niters1",
    )
    assert report["ok"], report["mismatches"]
    assert report["comparisons"]["golden codes"]["graphs"] == len(case.graphs)
    c = report["cycles"]
    assert c["latency"] == c["expected_latency"] and c["interval"] == c["expected_interval"]


def test_cli_bad_input_is_one_line_exit_2(vectors, tmp_path, capsys):
    from ticl_fpga.cli import main

    bad = tmp_path / "bad.onnx"
    bad.write_text("not a model")
    assert main(["rtl", "build", str(bad), "--out", str(tmp_path / "o1")]) == 2
    assert (
        main(
            [
                "rtl",
                "build",
                str(vectors.qonnx_path),
                "--out",
                str(tmp_path / "o2"),
                "--edge-parallelism",
                "3",
                "--no-csim",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not a QONNX model" in err[0] and "divide e_max" in err[1]
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
