"""FPGA-vs-float comparison on tiny data with a random float model and its calibrated quant twin."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ticl_fpga.compile.capacity import Capacity

CAP = Capacity(n_max=12, e_max=40)  # small: some tiny events get windowed


def _models(ds):
    from ticl_fpga.model.gnn import build_float_model
    from ticl_fpga.model.spec import GNNSpec
    from ticl_fpga.quantize.qmodel import (
        build_quant_model,
        finalize_calibration,
        load_float_weights,
    )
    from ticl_fpga.quantize.recipe import load_recipe

    torch.manual_seed(0)
    spec = GNNSpec(
        node_dim=len(ds.node_features),
        edge_dim=len(ds.edge_features),
        node_hidden=8,
        edge_hidden=6,
        head_hidden=4,
        niters=1,
    )
    fmodel = build_float_model(spec)
    sc = ds.scalers
    fmodel.set_scalers(sc["node_mean"], sc["node_std"], sc["edge_mean"], sc["edge_std"])
    qmodel = build_quant_model(spec, load_recipe("w8a8"))
    load_float_weights(qmodel, fmodel.state_dict())
    qmodel.train()
    with torch.no_grad():
        for g in ds.split("train"):
            qmodel(g.x, g.edge_index, g.edge_attr)
    finalize_calibration(qmodel)
    return fmodel.eval(), qmodel.eval()


@pytest.fixture(scope="module")
def setup(tiny_ds, tmp_path_factory):
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls
    from ticl_fpga.compile.to_qonnx import export_qonnx
    from ticl_fpga.data.dataset import load_dataset
    from ticl_fpga.export.torchscript import export_torchscript

    tmp = tmp_path_factory.mktemp("compare")
    ds = load_dataset(tiny_ds)
    fmodel, qmodel = _models(ds)
    ts = export_torchscript(fmodel, tmp / "float.pt")
    qonnx = export_qonnx(qmodel, CAP, tmp / "gnn.onnx")
    hls_model = build_hls(qonnx, HlsBuildConfig(capacity=CAP, synth=False), tmp / "prj")
    return fmodel, qmodel, tmp / "gnn.onnx", hls_model, ts, tmp


@pytest.mark.slow
def test_compare_models_report(setup, tiny_ds, tmp_path):
    from ticl_fpga.compare.compare import compare_models

    fmodel, qmodel, qonnx_path, hls_model, ts, _ = setup
    out = tmp_path / "cmp"
    s = compare_models(ts, qmodel, qonnx_path, hls_model, tiny_ds, "val", out, max_events=8)
    assert s["bit_exact"] and s["bit_mismatches"] == {
        "brevitas_vs_qonnx": 0,
        "qonnx_vs_csim": 0,
        "brevitas_vs_csim": 0,
    }
    assert s["n_events"] == 8 and s["n_edges"] > 50
    assert s["float_device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert s["windowing"]["n_windowed_events"] >= 1  # capacity 12 nodes: bigger events windowed
    d = s["score_difference_fpga_vs_float"]
    # every scored (not lost) edge is in the FPGA-vs-float histogram; every edge in quant-vs-float
    assert d["n"] == s["n_edges"] - s["windowing"]["lost_edges"]
    assert s["score_difference_quant_vs_float"]["n"] == s["n_edges"]
    for rule in ("working_point", "cut_0.5"):
        dec = s["decisions"][rule]
        assert dec["agreement"] == pytest.approx(1 - dec["n_flips"] / s["n_edges"])
        # every edge falls in one energy bin (energies are positive and below 1e5 GeV)
        assert sum(dec["flip_vs_energy"]["k"]) == dec["n_flips"]
    assert s["n_events_split"] >= s["n_events"] and s["interval"]["method"] == "clopper-pearson"
    for rule in ("seed_working_point", "cut_0.5"):
        ev = s["events"][rule]
        assert np.isclose(
            ev["efficiency_difference"], ev["fpga"]["efficiency"] - ev["float"]["efficiency"]
        )
    on_disk = json.loads((out / "compare.json").read_text())
    assert on_disk["n_edges"] == s["n_edges"]
    md = (out / "compare.md").read_text()
    assert "bit exact" in md and "| working_point |" in md
    assert "decide alike at the working point" in md and "95 % CL clopper-pearson" in md
    assert f"the first 8 of {s['n_events_split']} events" in md
    for png in (
        "score_difference.png",
        "scores_fpga_vs_float.png",
        "flips_vs_energy.png",
        "flips_vs_eta.png",
    ):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".cmp*")), "no temporary output left behind"

    # the float module gives the same scores as its TorchScript export
    # (and checking bits on 2 windows only changes nothing in the scores)
    s2 = compare_models(
        fmodel,
        qmodel,
        qonnx_path,
        hls_model,
        tiny_ds,
        "val",
        tmp_path / "c2",
        max_events=8,
        bit_check=2,
    )
    assert s2["score_difference_fpga_vs_float"]["rms"] == pytest.approx(d["rms"], abs=1e-6)
    assert s2["bit_checked_windows"] == 2 < s["bit_checked_windows"]
    assert s2["decisions"]["working_point"]["agreement"] == pytest.approx(
        s["decisions"]["working_point"]["agreement"]
    )


@pytest.mark.slow
def test_compare_detects_bit_mismatch(setup, tiny_ds, tmp_path):
    from ticl_fpga.compare.compare import BitMismatchError, compare_models
    from ticl_fpga.quantize.qat import rebuild

    _, qmodel, qonnx_path, hls_model, ts, _ = setup
    bad = rebuild(qmodel)
    with torch.no_grad():
        bad.edge_enc.weight[0, 0] += 0.5
    with pytest.raises(BitMismatchError, match="brevitas_vs_qonnx"):
        compare_models(ts, bad, qonnx_path, hls_model, tiny_ds, "val", tmp_path / "c", max_events=4)
    s = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert (
        s["bit_mismatches"]["brevitas_vs_qonnx"] > 0 and s["bit_mismatches"]["qonnx_vs_csim"] == 0
    )
    assert "NOT BIT EXACT" in (tmp_path / "c" / "compare.md").read_text()


@pytest.mark.slow
def test_cli_compare(setup, tiny_ds, tmp_path, capsys):
    from ticl_fpga.cli import main
    from ticl_fpga.quantize.qat import save_quant_model

    _, qmodel, qonnx_path, _, ts, tmp = setup
    save_quant_model(qmodel, tmp_path / "quant")
    rc = main(
        [
            "compare",
            "--float",
            str(ts),
            "--quant",
            str(tmp_path / "quant"),
            "--dataset",
            str(tiny_ds),
            "--split",
            "val",
            "--out",
            str(tmp_path / "out"),
            "--qonnx",
            str(qonnx_path),
            "--hls-project",
            str(tmp / "prj"),
            "--max-events",
            "3",
        ]
    )
    assert rc == 0
    assert "bit exact" in capsys.readouterr().out
    assert (tmp_path / "out" / "compare.md").is_file()


def test_binomial_interval_known_values():
    from ticl_fpga.compare.compare import binomial_interval

    # Clopper-Pearson at the boundaries: (alpha/2)^(1/n)
    assert binomial_interval(0, 10) == (0.0, pytest.approx(1 - 0.025 ** (1 / 10)))
    assert binomial_interval(10, 10) == (pytest.approx(0.025 ** (1 / 10)), 1.0)
    assert binomial_interval(0, 10)[1] == pytest.approx(0.30850, abs=1e-5)
    lo, hi = binomial_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.18709, abs=1e-5), pytest.approx(0.81291, abs=1e-5))
    # 98 of 100 agree (tables: 0.92962, 0.99757)
    lo, hi = binomial_interval(98, 100)
    assert (lo, hi) == (pytest.approx(0.92962, abs=1e-5), pytest.approx(0.99757, abs=1e-5))
    # Wilson score interval, 5/10 and 0/10 at z = 1.95996
    lo, hi = binomial_interval(5, 10, method="wilson")
    assert (lo, hi) == (pytest.approx(0.23659, abs=1e-5), pytest.approx(0.76341, abs=1e-5))
    assert binomial_interval(0, 10, method="wilson") == (
        0.0,
        pytest.approx(0.27754, abs=1e-5),
    )
    # 68 % CL is narrower; n = 0 says nothing
    assert binomial_interval(5, 10, confidence=0.68)[0] > lo
    assert binomial_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="unknown interval"):
        binomial_interval(1, 2, method="bayes")
    with pytest.raises(ValueError, match="0 <= k <= n"):
        binomial_interval(3, 2)


def test_agreement_and_binned_flips_on_hand_counts():
    from ticl_fpga.compare.compare import agreement_summary, binned_fraction, binomial_interval

    d_float = np.array([1, 1, 0, 0, 1, 0, 1, 0, 1, 1], dtype=bool)
    d_fpga = np.array([1, 0, 0, 0, 1, 1, 1, 0, 1, 1], dtype=bool)
    a = agreement_summary(d_float, d_fpga)
    assert a["n_agree"] == 8 and a["n_edges"] == 10 and a["agreement"] == 0.8
    assert tuple(a["interval"]) == binomial_interval(8, 10)
    energy = np.array([5, 5, 5, 15, 15, 15, 15, 60, 60, 600], dtype=float)
    b = binned_fraction(energy, d_float != d_fpga, (0, 10, 50, 1e5))
    assert b["count"] == [3, 4, 3] and b["k"] == [1, 1, 0]
    assert b["mean"] == pytest.approx([1 / 3, 1 / 4, 0.0])
    assert (b["lower"][2], b["upper"][2]) == binomial_interval(0, 3)
    empty = binned_fraction(energy, d_float != d_fpga, (1e5, 1e6))
    assert empty["count"] == [0] and np.isnan(empty["mean"][0])


def test_cli_compare_bad_input(tmp_path, capsys):
    from ticl_fpga.cli import main

    rc = main(
        [
            "compare",
            "--float",
            str(tmp_path / "nope.pt"),
            "--quant",
            str(tmp_path / "q"),
            "--dataset",
            str(tmp_path / "d"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 2
    assert "nope.pt" in capsys.readouterr().err


def test_agreement_benchmark_table_rows():
    from ticl_fpga.compare.benchmark import markdown_section, summary_rows

    row = dict(
        label="with distillation",
        distill_weight=0.5,
        sparsity=0.8,
        n_events=297,
        n_edges=10000,
        n_flips=150,
        agreement=0.985,
        agreement_interval=[0.9824, 0.9873],
        interval={"method": "clopper-pearson", "confidence": 0.95},
        auc_quant=0.97,
        auc_float=0.971,
        event_efficiency_fpga=0.88,
        event_efficiency_float=0.885,
        val_agreement=0.986,
    )
    res = {
        "recipe": "w6a6",
        "split": "test",
        "targets": ["edge_efficiency_at_purity-1%"],
        "qat_epochs": 3,
        "finetune_epochs": 2,
        "goals": {"min_agreement": 0.98, "max_relative_drop": 0.01},
        "rows": [{**row, "label": "without distillation", "distill_weight": 0.0}, row],
    }
    rows = summary_rows(res)
    assert len(rows) == 4
    assert rows[2] == (
        "FPGA/float WP agreement, w6a6 with distillation (w=0.5), 297 test events",
        "98.50 % [98.24, 98.73] (95 % CL), sparsity 0.80",
        ">= 98 %",
    )
    assert "(w=" not in rows[0][0]
    assert rows[3][1] == "0.9700 / 0.8800 (0.9710 / 0.8850)"
    md = "\n".join(markdown_section(res))
    assert "| with distillation | 0.5 | 0.80 | 98.50 % | [98.24, 98.73] % | 150 / 10000 |" in md


def test_diff_stats_known_values():
    from ticl_fpga.compare.compare import HIST_BINS, _diff_stats

    d = _diff_stats(np.array([0.5, 0.2, -0.3]), np.array([0.25, 0.2, 0.7]))  # d = .25, 0, -1
    assert d["n"] == 3 and d["max_abs"] == 1.0 and d["mean"] == pytest.approx(-0.25)
    assert d["rms"] == pytest.approx(np.sqrt(1.0625 / 3))
    counts = d["histogram"]["counts"]
    assert len(counts) == HIST_BINS and sum(counts) == 3
    # 80 bins of 0.025 on [-1, 1]: -1 -> bin 0, 0 -> bin 40, 0.25 -> bin 50
    assert [i for i, c in enumerate(counts) if c] == [0, 40, 50]
    empty = _diff_stats(np.zeros(0), np.zeros(0))
    assert (empty["n"], empty["max_abs"], empty["rms"], empty["mean"]) == (0, 0.0, 0.0, 0.0)


def test_decision_stats_known_flips():
    from ticl_fpga.compare.compare import _decision_stats, binomial_interval

    fl = np.array([0.9, 0.1, 0.6, 0.4])
    fpga = np.array([0.9, 0.1, 0.4, 0.0])  # edge 2 flips; edge 3 lost (scored 0)
    labels = np.array([True, False, True, False])
    keep = np.array([True, True, True, False])
    max_e = np.array([100.0, 5.0, 5.0, 5.0])  # edge 0 above 50 GeV: working point cut 0.8
    eta = np.array([1.6, 1.6, 2.2, 2.2])
    dec = _decision_stats(
        fl, fpga, labels, max_e, eta, keep, cut=0.5, confidence=0.95, interval="wilson"
    )
    assert set(dec) == {"working_point", "cut_0.5"}
    for d in dec.values():
        assert (d["n_flips"], d["flips_on_true_edges"]) == (1, 1)
        assert (d["accepted_float"], d["accepted_fpga"]) == (2, 1)
        assert d["flip_fraction"] == 0.25 and d["agreement"] == 0.75
        assert d["agreement_on_scored_edges"] == pytest.approx(2 / 3)
        lo, hi = binomial_interval(3, 4, confidence=0.95, method="wilson")
        assert d["agreement_interval"] == [lo, hi]
        assert d["flip_interval"] == [1.0 - hi, 1.0 - lo]
        assert d["flip_vs_energy"]["k"] == [1, 0, 0, 0, 0, 0, 0]
        assert d["flip_vs_energy"]["count"] == [3, 0, 0, 0, 1, 0, 0]
        assert d["flip_vs_eta"]["k"] == [0, 0, 1, 0, 0]
    # at 0.95 the float model accepts nothing and the FPGA nothing: no flips
    high = _decision_stats(
        fl, fpga, labels, max_e, eta, keep, cut=0.95, confidence=0.95, interval="wilson"
    )["cut_0.95"]
    assert (high["n_flips"], high["accepted_float"], high["agreement"]) == (0, 0, 1.0)


def test_default_recipe_is_distilled_with_the_agreement_target():
    """The recipe used when none is named distils from float and prunes to physics + agreement."""
    from ticl_fpga.demo import DemoConfig
    from ticl_fpga.quantize.prune import parse_targets
    from ticl_fpga.quantize.recipe import DEFAULT_RECIPE, load_recipe

    recipe = load_recipe(DEFAULT_RECIPE)
    assert recipe.distill_weight > 0 and recipe.distill_focus == "working_point"
    described = parse_targets(None, recipe.prune).describe()
    assert "agreement >= 0.98" in described and "edge_efficiency_at_purity" in described
    # the demo uses it with its own full target set unless --target is given
    cfg = DemoConfig()
    assert cfg.recipe == DEFAULT_RECIPE and cfg.prune_target is None


def test_firmware_estimate_names_the_agreement_recipe(tmp_path):
    """The firmware stage's estimate at the agreement stage's stopping sparsity is made for the
    agreement stage's recipe (the default), not for the recipe the firmware stage synthesises."""
    from ticl_fpga.bench.firmware import RECIPE, _other_sparsities
    from ticl_fpga.bench.run import _recipe_target_sparsities
    from ticl_fpga.quantize.recipe import DEFAULT_RECIPE

    rows = [{"distill_weight": 0.0, "sparsity": 0.0}, {"distill_weight": 1.0, "sparsity": 0.5}]
    same = {"agreement": {"recipe": RECIPE, "rows": rows}}
    other = {"agreement": {"recipe": DEFAULT_RECIPE, "rows": rows}}
    assert _recipe_target_sparsities(same, tmp_path / "none") == ((RECIPE, 0.5),)
    assert _recipe_target_sparsities(other, tmp_path / "none") == ((DEFAULT_RECIPE, 0.5),)
    # the recipe changes the estimate: 8-bit activations cost more LUTs than 6-bit ones
    if DEFAULT_RECIPE != RECIPE:
        a, b = _other_sparsities(
            [(RECIPE, 0.5), (DEFAULT_RECIPE, 0.5)], model_lut=1, measured_lut=1
        )
        assert (a["recipe"], b["recipe"]) == (RECIPE, DEFAULT_RECIPE)
        assert a["dense_lut_model"] != b["dense_lut_model"]
