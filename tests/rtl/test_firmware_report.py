"""The firmware benchmark's tables (``ticl_fpga/bench/firmware.py``) from known numbers."""

from __future__ import annotations

import pytest

from tests.rtl.test_synth import REG_ADD, needs_yosys
from ticl_fpga.bench.firmware import ANCHORS, DEVICES, _fits, _size, markdown, summary_rows

RES = {"lut": 1000, "ff": 2000, "carry": 10, "dsp": 0, "bram": 1.5, "lutram": 4, "srl": 2}


def _fw():
    unit = {
        "source": "Yosys synth_xilinx",
        "name": "dense_Gemm_0_out0",
        "top": "dense_Gemm_0_out0",
        "kind": "dense",
        "count": 1,
        "resources": RES,
        "logic_depth": 12,
        "seconds": 3.0,
        "cached": False,
    }
    fitted = {
        **unit,
        "name": "dense_Gemm_1_out0",
        "source": "cost model (fitted; not measured)",
        "logic_depth": None,
    }
    row = {
        "n_max": 64,
        "e_max": 256,
        "p": 1,
        **RES,
        "latency_cycles": 1948,
        "ii_cycles": 1694,
        "latency_cycles_schedule": 1948,
        "ii_cycles_schedule": 1950,
        "cycles_source": "Verilator",
        "graphs_per_s": 200e6 / 1694,
        "resources_source": "measured",
        "fits": "VU9P",
        "events_per_s_pu0": 200e6 / 1694 / 2,
        "windows_per_endcap_pu200": 5.0,
        "events_per_s_pu200": 200e6 / 1694 / 10,
        "edges_lost_pu200": 0.1,
        "latency_cycles_verilator": 1948,
        "ii_cycles_verilator": 1694,
    }
    return {
        "tool": "Yosys synth_xilinx (before place and route; not a Vivado report)",
        "yosys": "Yosys 0.70",
        "timing_proxy": "ltp",
        "recipe": "w6a6",
        "sparsity": 0.8,
        "nonzero_weights": 11987,
        "default": {"n_max": 64, "e_max": 256, "p": 1},
        "default_row": row,
        "default_synthesis": {
            "total": {**RES, "logic_depth": 12},
            "units": [unit, fitted],
            "dense_lut": 2000,
            "graph_lut": 0,
            "glue_lut": 0,
            "dense_logic_depth_max": 12,
            "units_measured": 1,
            "units_fitted": 1,
            "units_not_measured": [],
        },
        "dense_model_check": [
            {
                "layer": "node_enc",
                "module": "dense_Gemm_0_out0",
                "lut": 1000,
                "lut_model": 1100,
                "lut_rel_err": 0.1,
                "ff": 2000,
                "ff_model": 1900,
            }
        ],
        "pruned_vs_16bit_dense": {
            "pruned_dense_lut_measured": 2000,
            "pruned_dense_lut_model": 2100,
            "dense16_lut_model": 40000,
            "ratio_model": 19.0,
            "ratio_measured_over_model_reference": 20.0,
            "note": "n",
            "bops_ratio_vs_16bit_dense": 10.7,
        },
        "table": [row],
        "devices": DEVICES,
        "anchors": ANCHORS,
        "seconds": {"emit": 1, "synthesis_default": 2, "pileup_windows": 3, "total": 6},
    }


def test_markdown_and_readme_rows():
    fw = _fw()
    md = markdown(fw)
    assert "Yosys synth_xilinx" in md and "not a Vivado report" in md
    # measured cycles, the schedule's in brackets; LUTRAM beside LUT
    assert (
        "| 64 x 256 | 1 | 1e+03 | 2e+03 | 4 | 0 | 2 | 1948 (1948) | 1694 (1950) | Verilator |" in md
    )
    sched = {**fw["table"][0], "cycles_source": "schedule", "latency_cycles": 1948}
    assert "| 1948 | 1694 | schedule |" in markdown({**fw, "table": [sched]})
    assert "cost model (fitted" in md and "Elabd et al. 2022" in md and "not retrieved" in md
    rows = summary_rows(fw)
    assert rows[0][1] == "1000 / 4 / 2000 / 0 / 1.5" and rows[0][2] == "fits VU9P"
    assert rows[1][1] == "1948 / 1694" and "Verilator" in rows[1][0]
    assert rows[3][1].endswith("(20.0x)")


def test_device_fit_and_scaling_size():
    assert _fits({"lut": 1.5e6, "ff": 1e6, "dsp": 0, "bram": 10}) == "VU13P"
    assert _fits({"lut": 1e6, "ff": 1e6, "dsp": 0, "bram": 10}) == "VU9P"
    assert _fits({"lut": 2e6, "ff": 1e6, "dsp": 0, "bram": 10}) == "none"
    # distributed RAM occupies LUTs
    assert _fits({"lut": 1e6, "lutram": 3e5, "ff": 1e6, "dsp": 0, "bram": 10}) == "VU13P"
    # size of a scatter instance: rows x features x bits x lanes (index/address widths ignored)
    assert (
        _size({"N": 65, "F": 32, "WO": 14, "P": 4, "IW": 7, "AW": 16, "SI": 0}) == 65 * 32 * 14 * 4
    )


@needs_yosys
@pytest.mark.slow
def test_synthesis_within_budget_measures_every_unit(tmp_path):
    """The firmware bench's budgeted runner gives the same numbers as the plain runner."""
    from ticl_fpga.bench.firmware import _synthesize_within
    from ticl_fpga.rtl.synth import SynthUnit, synthesize_units

    units = [
        SynthUnit(f"w{w}", "reg_add", {"reg_add": REG_ADD}, params={"W": w}, kind="graph")
        for w in (4, 7)
    ]
    measured, skipped = _synthesize_within(units, 2, tmp_path / "cache", None)
    plain = synthesize_units(units, jobs=1, cache_dir=tmp_path / "cache2")
    assert not skipped
    assert [m.resources for m in measured] == [p.resources for p in plain]
    assert measured[0].resources["ff"] == 5 and measured[1].resources["ff"] == 8


def test_resources_label_from_unit_sources():
    from ticl_fpga.bench.firmware import resources_label

    assert resources_label({"dense_Gemm_0_out0": "measured", "glue": "measured"}) == (
        "measured",
        [],
    )
    label, scaled = resources_label(
        {"dense_Gemm_0_out0": "measured", "glue": "scaled", "gnn_scatter_F32": "scaled"}
    )
    assert label == "measured+scaled" and scaled == ["glue", "gnn_scatter_F32"]
    assert resources_label({}) == ("missing", [])


def test_markdown_names_scaled_units_and_schedule_cycles():
    fw = _fw()
    other = {
        **fw["table"][0],
        "p": 16,
        "cycles_source": "schedule",
        "resources_source": "measured+scaled",
        "units_not_synthesised": ["glue"],
        "cycles_note": "Verilator build ran past 600 s",
    }
    fw["seconds"] = {**fw["seconds"], "row_synthesis_budget": 900, "verilator_budget": 600}
    md = markdown({**fw, "table": [fw["table"][0], other]})
    assert "| measured+scaled |" in md and "| 1948 | 1694 | schedule |" in md
    assert (
        "- 64 x 256, P = 16: scaled units: glue; cycles from the schedule "
        "(Verilator build ran past 600 s)" in md
    )
    assert "budget (900 s in this bench)" in md and "budget (600 s per row" in md
    # a fully measured table has no such list
    assert "Row notes" not in markdown(_fw())


def test_markdown_says_which_glue_is_per_module_and_how_it_compares():
    fw = _fw()
    p16 = {
        **fw["table"][0],
        "p": 16,
        "glue_lut": 54321.0,
        "glue_synthesis": "per module (41 distinct modules, 59 instances, and the top's own logic)",
    }
    gc = {
        "row": "64 x 256, P = 4",
        "lut_flat": 20000,
        "lut_per_module": 21000,
        "ff_flat": 30000,
        "ff_per_module": 29700,
        "lut_rel_diff": 0.05,
        "ff_rel_diff": -0.01,
    }
    md = markdown({**fw, "table": [fw["table"][0], p16], "glue_check": gc})
    assert "- 64 x 256, P = 16: glue 54321 LUT synthesised per module (41 distinct" in md
    assert "21000 LUT / 29700 FF against 20000 / 30000 in one flat synthesis (+5.0% / -1.0%)" in md
    assert "P = 16: glue" not in markdown(fw)
    skipped = markdown({**fw, "rows_skipped": ["28 x 56, P = 16 (P must divide E_max)"]})
    assert "No row: 28 x 56, P = 16 (P must divide E_max)." in skipped


@needs_yosys
def test_row_synthesis_scales_the_whole_glue_when_a_module_is_missing(tmp_path):
    """A per-module glue with one module not synthesised (budget 0, empty cache): the glue is
    scaled from the default's as one unit, its modules count nothing, and it says so."""
    from ticl_fpga.bench.firmware import _glue_fields, _row_synthesis
    from ticl_fpga.rtl.synth import SynthUnit, UnitResult

    glue = UnitResult("glue", "gnn_top", "glue", {}, 1, {}, dict(RES), None, 1.0, False, "k")
    top16 = "gnn_scatter #(.P(16)) s0 (\n"
    units = [
        SynthUnit("reg_add_W4", "reg_add", {"reg_add": REG_ADD}, {"W": 4}, 3, "glue_module"),
        SynthUnit("glue", "gnn_top", {"gnn_top": top16}, kind="glue"),
    ]
    res, tags = _row_synthesis(
        units, [glue], {"glue": [glue]}, (64, 256, 1), jobs=1, cache_dir=tmp_path, budget_s=0
    )
    assert tags == {"glue": "scaled"} and res[0] == {} and res[1]["lut"] == 16 * RES["lut"]
    assert _glue_fields(units, res, tags) == {
        "glue_lut": 16 * RES["lut"],
        "glue_synthesis": "scaled",
    }


def test_glue_of_another_row_is_not_the_default_glue():
    """The glue (the top) has no parameters: another row's glue is scaled, not matched."""
    from ticl_fpga.bench.firmware import _unit_resources
    from ticl_fpga.rtl.synth import SynthUnit, UnitResult

    glue = UnitResult("glue", "gnn_top", "glue", {}, 1, {}, dict(RES), None, 1.0, False, "k")
    top4 = "gnn_scatter #(.P(4)) s0 (\n"
    u = SynthUnit("glue", "gnn_top", {"gnn_top": top4}, kind="glue")
    r, tag = _unit_resources(u, [glue], {"glue": [glue]}, (64, 256, 1))
    assert tag == "scaled" and r["lut"] == 4 * RES["lut"]


def test_verilator_cycles_remembers_a_spent_budget(tmp_path):
    """A row whose Verilator build ran past its budget is not rebuilt by a bench with the same
    or a smaller budget (it falls back to the schedule at once); a larger budget tries again."""
    import json

    from ticl_fpga.bench.firmware import verilator_cycles
    from ticl_fpga.rtl import RtlError

    (tmp_path / "cycles_failed.json").write_text(
        json.dumps({"budget_s": 600, "error": "Verilator build of x ran past 600 s"})
    )
    em = {"dir": tmp_path, "rtl": tmp_path / "rtl", "ports": {}}
    with pytest.raises(RtlError, match="ran past 600 s.*earlier bench"):
        verilator_cycles(em, budget_s=600)
    with pytest.raises(RtlError, match="budget 0 s"):  # no time: only a measurement on disk
        verilator_cycles({**em, "dir": tmp_path / "other"}, budget_s=0)
    (tmp_path / "cycles.json").write_text(json.dumps({"latency": 5, "interval": 3}))
    assert verilator_cycles(em, budget_s=600)["interval"] == 3  # a measurement wins


@needs_yosys
@pytest.mark.slow
def test_row_synthesis_reuses_identical_units_and_synthesises_the_rest(tmp_path):
    from ticl_fpga.bench.firmware import _row_synthesis
    from ticl_fpga.rtl.synth import SynthUnit, UnitResult

    ref = UnitResult("w4", "reg_add", "graph", {"W": 4}, 1, {}, dict(RES), None, 1.0, False, "k")
    units = [
        SynthUnit(f"w{w}", "reg_add", {"reg_add": REG_ADD}, params={"W": w}, kind="graph")
        for w in (4, 7)
    ]
    res, tags = _row_synthesis(
        units, [ref], {"reg_add": [ref]}, (64, 256, 1), jobs=1, cache_dir=tmp_path, budget_s=None
    )
    assert res[0] == RES  # identical to the default's unit: its synthesis
    assert res[1]["ff"] == 8 and tags == {"w4": "measured", "w7": "measured"}


@needs_yosys
def test_row_synthesis_without_budget_scales_what_is_not_cached(tmp_path):
    """Budget 0: cached units only; a unit never synthesised is scaled (and named), not run."""
    from ticl_fpga.bench.firmware import _row_synthesis
    from ticl_fpga.rtl.synth import SynthUnit, UnitResult

    ref = UnitResult("w4", "reg_add", "graph", {"W": 4}, 1, {}, dict(RES), None, 1.0, False, "k")
    units = [SynthUnit("w8", "reg_add", {"reg_add": REG_ADD}, params={"W": 8}, kind="graph")]
    res, tags = _row_synthesis(
        units, [ref], {"reg_add": [ref]}, (64, 256, 1), jobs=1, cache_dir=tmp_path, budget_s=0
    )
    assert tags == {"w8": "scaled"} and res[0]["lut"] == 2 * RES["lut"]  # size 8 / 4
    assert not list(tmp_path.glob("*.json"))  # nothing was synthesised


def test_other_sparsity_rows_and_where_they_come_from(tmp_path):
    import json

    from ticl_fpga.bench.run import _recipe_target_sparsities

    fw = {
        **_fw(),
        "other_sparsities": [
            {
                "sparsity": 0.5,
                "nonzero_weights": 30000,
                "dense_lut_model": 5250,
                "dense_lut_estimate": 5000.0,
            }
        ],
    }
    row = summary_rows(fw)[-1]
    assert (
        row[0].startswith("dense-layer LUTs, w6a6 at its target's sparsity 0.50")
        and "estimate" in row[0]
    )
    assert row[1] == "5e+03 (8.0x below 16-bit dense)"  # 40000 / 5000
    assert "Recipe w6a6 at sparsity 0.50" in markdown(fw) and "about 5000 scaled" in markdown(fw)
    # with its own dense layers synthesised: the Yosys sum, and which layers were not measured
    synth = {"dense_lut_synth": 4000.0, "dense_ff_synth": 900.0, "dense_dsp_synth": 0.0}
    fw["other_sparsities"][0].update(synth, dense_units=12, dense_units_measured=12)
    row = summary_rows(fw)[-1]
    assert row[0].endswith("sparsity 0.50 (Yosys)") and row[1] == "4e+03 (10.0x below 16-bit dense)"
    assert "through Yosys: 4000 LUT, 900 FF, 0 DSP (Yosys)" in markdown(fw)
    fw["other_sparsities"][0]["dense_units_measured"] = 10
    assert summary_rows(fw)[-1][0].endswith("(Yosys, 2 of 12 layers by the cost model)")
    fw["other_sparsities"][0]["dense_units_measured"] = 0  # nothing synthesised in the budget
    assert summary_rows(fw)[-1][0].endswith("(estimate)")
    # the distilled rows of the agreement stage, this run's first, else the last results'
    rows = [{"distill_weight": 0.0, "sparsity": 0.0}, {"distill_weight": 1.0, "sparsity": 0.5}]
    agreement = {"recipe": "w6a8", "rows": rows}
    assert _recipe_target_sparsities({"agreement": agreement}, tmp_path / "none") == (
        ("w6a8", 0.5),
    )
    (tmp_path / "r.json").write_text(
        json.dumps({"agreement": {"recipe": "w6a8", "rows": rows[1:]}})
    )
    assert _recipe_target_sparsities({}, tmp_path / "r.json") == (("w6a8", 0.5),)
    assert _recipe_target_sparsities({}, tmp_path / "none") == ()


def test_dense16_check_text():
    from ticl_fpga.bench.firmware import _dense16_text

    rows = [
        {
            "layer": "head_out_w16_s0",
            "fan_in": 32,
            "fan_out": 1,
            "bits": 16,
            "lut": 2000,
            "lut_model": 2500,
            "lut_rel_err": 0.25,
        },
        {
            "layer": "edge_enc_w16_s0",
            "fan_in": 10,
            "fan_out": 32,
            "bits": 16,
            "lut_model": 9000,
            "not_measured": "not measured: budget spent",
        },
    ]
    text = _dense16_text(rows)
    assert (
        "head_out_w16_s0 (32 x 1, 16-bit dense): 2000 LUT by Yosys, 2500 by the cost model (+25 %)"
        in text
    )
    assert "edge_enc_w16_s0 (10 x 32, 16-bit dense): not synthesised (not measured: budget" in text
    fw = {**_fw(), "dense16_check": rows}
    assert text in markdown(fw)
