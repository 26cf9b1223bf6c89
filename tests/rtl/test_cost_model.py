"""Dense-layer cost model (``ticl_fpga/rtl/cost_model.py``): features, fit, committed coefficients."""

from __future__ import annotations

import numpy as np
import pytest

from ticl_fpga.rtl.cost_model import (
    FIT_POINTS,
    LayerShape,
    coefficients,
    csd_digits,
    fit,
    mean_digits,
    predict,
    trained_like_weights,
)


def test_csd_digits():
    # 7 = 8 - 1 (2 digits), 5 = 4 + 1 (2), 15 = 16 - 1 (2), 0 (0), -3 = -4 + 1 (2), 1 (1)
    assert csd_digits(np.array([7, 5, 15, 0, -3, 1])) == 9
    assert mean_digits(6) == pytest.approx(7 / 3)


def test_trained_like_weights():
    w = trained_like_weights(160, 32, 6, 0.8, seed=3)
    assert w.shape == (32, 160)
    assert np.count_nonzero(w) == pytest.approx(0.2 * w.size, abs=2)
    assert np.abs(w).max() <= 31 and np.abs(w).max() >= 16  # full 6-bit range used
    assert np.array_equal(w, trained_like_weights(160, 32, 6, 0.8, seed=3))


def test_predict_scales_with_ops_and_width():
    a = predict(LayerShape(160, 32, 1024, 6, 6))
    b = predict(LayerShape(160, 32, 2048, 6, 6))
    c = predict(LayerShape(160, 32, 1024, 8, 8))
    assert b["lut"] == pytest.approx(2 * a["lut"])
    assert c["lut"] > a["lut"] and c["ff"] > a["ff"]
    assert a["dsp"] == 0
    assert predict(LayerShape(160, 32, 0, 6, 6)) == {"lut": 0.0, "ff": 0.0, "dsp": 0.0}


def test_fit_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(8):
        s = LayerShape(
            int(rng.integers(8, 160)),
            int(rng.integers(1, 64)),
            int(rng.integers(10, 2000)),
            int(rng.integers(3, 9)),
            int(rng.integers(4, 9)),
        )
        x = s.ops * s.width
        rows.append(
            {
                "name": "p",
                "fan_in": s.fan_in,
                "fan_out": s.fan_out,
                "weight_bits": s.weight_bits,
                "input_bits": s.input_bits,
                "nonzero": s.nonzero,
                "ops_x_width": x,
                "io_bits": s.io_bits,
                "lut": 0.25 * x,
                "ff": 0.05 * x + 0.8 * s.io_bits,
            }
        )
    doc = fit(rows)
    k = doc["coefficients"]
    # LUT = 0.25 * ops * (b_a + b_w + log2 n): both LUT terms 0.25
    assert k["lut_per_op_input_bit"] == pytest.approx(0.25, rel=1e-6)
    assert k["lut_per_op_weight_bit"] == pytest.approx(0.25, rel=1e-6)
    assert k["ff_per_op_bit"] == pytest.approx(0.05, rel=1e-6)
    assert k["ff_per_io_bit"] == pytest.approx(0.8, rel=1e-6)
    assert doc["lut_rms_rel_err"] < 1e-9 and doc["lut_loo_rms_rel_err"] < 1e-9


def test_fit_separates_input_bits_and_leaves_each_point_out():
    """A layer family where input bits cost twice what weight bits do: the fit finds both, and
    an outlier shows up in its leave-one-out error more than in its in-fit error."""
    rows = []
    for k, (n, nnz, bw, ba) in enumerate(
        [(160, 700, 6, 6), (19, 866, 6, 8), (128, 1800, 6, 8), (32, 22, 6, 6), (160, 1024, 4, 6)]
    ):
        s = LayerShape(n, 32, nnz, bw, ba)
        lut = s.ops * (0.5 * ba + 0.25 * (bw + np.log2(n)))
        rows.append(
            {
                "name": f"p{k}",
                "fan_in": n,
                "fan_out": 32,
                "weight_bits": bw,
                "input_bits": ba,
                "nonzero": nnz,
                "lut": lut * (1.5 if k == 4 else 1.0),
                "ff": 100.0,
            }
        )
    doc = fit(rows[:4])
    assert doc["coefficients"]["lut_per_op_input_bit"] == pytest.approx(0.5, rel=1e-6)
    assert doc["coefficients"]["lut_per_op_weight_bit"] == pytest.approx(0.25, rel=1e-6)
    out = fit(rows)["errors"][4]
    assert out["lut_loo_rel_err"] < out["lut_rel_err"] < 0  # left out, it is predicted lower


def test_committed_fit_states_its_error():
    c = coefficients()
    names = {p["name"] for p in c["points"]}
    # the drawn layers and the default model's own synthesised dense layers
    assert {p.name for p in FIT_POINTS} <= names and any(n.startswith("model:") for n in names)
    assert all(p["dsp"] == 0 and p["lut"] > 0 for p in c["points"])
    # stated error: each point's relative error, and the RMS (this fit: about 11 % on LUTs)
    assert 0 < c["lut_rms_rel_err"] < 0.25 and c["lut_max_rel_err"] < 0.5
    assert 0 < c["lut_loo_rms_rel_err"] < 0.3
    for e in c["errors"]:
        assert e["lut_rel_err"] == pytest.approx((e["lut_fit"] - e["lut"]) / e["lut"], abs=0.01)
        assert "lut_loo_rel_err" in e
