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
