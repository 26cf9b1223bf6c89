"""Measured-cost model of a dense layer: LUT / FF / DSP from non-zero weights and bit widths.

Dense layers are written as da4ml distributed-arithmetic adder graphs (``rtl/dense_da.py``):
no multipliers, one shift-and-add per non-zero signed digit of each weight, shared where
subexpressions repeat.  Their cost is therefore driven by

* ``ops = nnz * digits(b_w)``: non-zero weights times the mean number of non-zero canonical
  signed digits of a ``b_w``-bit weight (measured on the weights, or ``(b_w + 1) / 3`` when only
  the width is known), and
* the adder width ``b_a + b_w + log2(fan_in)`` (input bits, weight bits, growth of the sum),

so the model is ``LUT = c_in * ops * b_a + c_w * ops * (b_w + log2(fan_in))`` (the input bits
weigh apart from the rest of the adder width: a layer with 8-bit inputs costs more per adder bit
than one with 6-bit inputs), ``FF = c_ff * ops * width + c_io * io_bits`` (``io_bits``: the
registered input row and output row), ``DSP = 0``.  The coefficients are fitted (least squares,
relative error) on ``synth_xilinx`` runs of

* dense layers of this model's shapes with weights drawn like trained ones (Gaussian,
  magnitude-pruned, quantized to a power-of-two scale; :data:`FIT_POINTS`), and
* the default model's own dense layers as the firmware bench synthesised them
  (:func:`model_rows`; their weights have more signed digits per weight than the drawn ones),

and committed in ``cost_model.yaml`` with each point's error in the fit and left out of it
(leave-one-out).  :func:`fit_points` synthesises the drawn layers; :func:`refit_from_bench`
refits on them and a firmware bench's results (``write_coefficients(refit_from_bench(...))``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

COEFF_FILE = Path(__file__).with_name("cost_model.yaml")


# --------------------------------------------------------------------------- features


def csd_digits(codes: np.ndarray) -> int:
    """Total number of non-zero canonical-signed-digit (NAF) digits of integer ``codes``."""
    total = 0
    for v in np.abs(np.asarray(codes, dtype=np.int64)).ravel():
        v = int(v)
        while v:
            if v & 1:
                total += 1
                v = v - 1 if (v & 3) == 1 else v + 1
            v >>= 1
    return total


def mean_digits(bits: int) -> float:
    """Expected non-zero CSD digits of a non-zero ``bits``-bit weight when only its width is known."""
    return (bits + 1) / 3.0


def adder_width(b_a: int, b_w: int, fan_in: int) -> float:
    return b_a + b_w + math.log2(max(fan_in, 2))


@dataclass(frozen=True)
class LayerShape:
    """What the cost model needs to know about one dense layer."""

    fan_in: int
    fan_out: int
    nonzero: int
    weight_bits: int
    input_bits: int
    digits: float | None = None  # total non-zero CSD digits if the weights are known

    @property
    def ops(self) -> float:
        if self.digits is not None:
            return float(self.digits)
        return self.nonzero * mean_digits(self.weight_bits)

    @property
    def width(self) -> float:
        return adder_width(self.input_bits, self.weight_bits, self.fan_in)

    @property
    def io_bits(self) -> float:
        acc = self.input_bits + self.weight_bits + math.ceil(math.log2(max(self.fan_in, 2)))
        return self.fan_in * self.input_bits + self.fan_out * acc


# --------------------------------------------------------------------------- prediction

#: The LUT model's terms (coefficient names, in :func:`_lut_features` order).
LUT_TERMS = ("lut_per_op_input_bit", "lut_per_op_weight_bit")


def _lut_features(shape: LayerShape) -> list[float]:
    """ops x input bits, ops x (weight bits + growth of the sum)."""
    return [
        shape.ops * shape.input_bits,
        shape.ops * (shape.weight_bits + math.log2(max(shape.fan_in, 2))),
    ]


@lru_cache(maxsize=1)
def coefficients() -> dict[str, Any]:
    """The committed fit (``cost_model.yaml``)."""
    import yaml

    return yaml.safe_load(COEFF_FILE.read_text())


def predict(shape: LayerShape, coeffs: dict[str, Any] | None = None) -> dict[str, float]:
    """LUT / FF / DSP of one dense layer instance (fitted model)."""
    c = coeffs or coefficients()
    k = c["coefficients"]
    x = shape.ops * shape.width
    if shape.nonzero == 0:
        return {"lut": 0.0, "ff": 0.0, "dsp": 0.0}
    return {
        # a fit of one coefficient (before the input-bit term) weighs every adder bit alike
        "lut": float(
            np.dot(
                _lut_features(shape), [k.get(n, k.get("lut_per_op_bit", 0.0)) for n in LUT_TERMS]
            )
        ),
        "ff": k["ff_per_op_bit"] * x + k["ff_per_io_bit"] * shape.io_bits,
        "dsp": 0.0,
    }


# --------------------------------------------------------------------------- fit data


@dataclass(frozen=True)
class FitPoint:
    """One synthesis of the fit: a dense layer of this model's shapes."""

    name: str
    fan_in: int
    fan_out: int
    weight_bits: int
    input_bits: int
    input_signed: bool
    sparsity: float
    seed: int = 0


#: The fit set: the default spec's layer shapes (node_enc 19x64, edge_enc 10x32, edge_mlp /
#: head_hidden 160x32, head_out 32x1) at the recipes' bit widths and sparsities.  The dense layers
#: of the default model itself (``ticl-fpga bench --stages firmware``) are the held-out check.
FIT_POINTS: tuple[FitPoint, ...] = (
    FitPoint("head_out_w6_s0", 32, 1, 6, 6, False, 0.0),
    FitPoint("edge_enc_w6_s0", 10, 32, 6, 8, True, 0.0),
    FitPoint("node_enc_w6_s80", 19, 64, 6, 8, True, 0.8),
    FitPoint("node_enc_w8_s50", 19, 64, 8, 8, True, 0.5),
    FitPoint("head_hidden_w6_s95", 160, 32, 6, 6, False, 0.95),
    FitPoint("edge_mlp_w4_s80", 160, 32, 4, 6, False, 0.8),
)


def trained_like_weights(
    fan_in: int, fan_out: int, bits: int, sparsity: float, seed: int = 0
) -> np.ndarray:
    """Integer weight codes ``[fan_out, fan_in]`` like a trained, magnitude-pruned layer.

    Gaussian weights, the smallest ``sparsity`` fraction set to zero, the rest quantized to
    ``bits`` signed bits on a power-of-two scale that puts the largest weight near full range.
    """
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(fan_out, fan_in))
    k = int(round(sparsity * w.size))
    if k:
        thr = np.sort(np.abs(w).ravel())[k - 1]
        w[np.abs(w) <= thr] = 0.0
    qmax = 2 ** (bits - 1) - 1
    scale = 2.0 ** math.ceil(math.log2(np.abs(w).max() / qmax)) if np.any(w) else 1.0
    return np.clip(np.round(w / scale), -qmax - 1, qmax).astype(np.int64)


def dense_unit(
    name: str,
    codes: np.ndarray,
    *,
    weight_bits: int,
    input_bits: int,
    input_signed: bool,
    count: int = 1,
):
    """A :class:`~ticl_fpga.rtl.synth.SynthUnit` of the dense layer ``y = x codes^T`` (RTL backend)."""
    from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
    from ticl_fpga.rtl.dense_da import build_dense, da_sources
    from ticl_fpga.rtl.synth import SynthUnit

    n_out, n_in = codes.shape
    frac_w = weight_bits - 1
    data = Fixed(input_signed, input_bits, 2 if not input_signed else 3)
    acc_w = input_bits + weight_bits + math.ceil(math.log2(max(n_in, 2))) + 1
    acc = Fixed(True, acc_w, acc_w - (data.frac + frac_w))
    weight = codes.astype(np.float64) / 2.0**frac_w
    dr = build_dense(f"dense_{name}", weight, np.zeros(n_out), data, acc)
    sources = {f"da4ml_{k}": v for k, v in da_sources().items()}
    sources.update(dr.files)
    return SynthUnit(name=name, top=dr.module, sources=sources, count=count, kind="dense")


def point_shape(p: FitPoint, codes: np.ndarray) -> LayerShape:
    """The model's features of a fit point: from nnz and bits only (what prune/scan know)."""
    return LayerShape(
        fan_in=p.fan_in,
        fan_out=p.fan_out,
        nonzero=int(np.count_nonzero(codes)),
        weight_bits=p.weight_bits,
        input_bits=p.input_bits,
    )


def point_unit(p: FitPoint):
    """The synthesis unit of a fit point, its cost-model shape and its weight codes."""
    codes = trained_like_weights(p.fan_in, p.fan_out, p.weight_bits, p.sparsity, p.seed)
    unit = dense_unit(
        p.name,
        codes,
        weight_bits=p.weight_bits,
        input_bits=p.input_bits,
        input_signed=p.input_signed,
    )
    return unit, point_shape(p, codes), codes


def fit_points(
    points: Sequence[FitPoint] = FIT_POINTS,
    *,
    jobs: int = 2,
    cache_dir: str | Path | None = None,
    timeout: float | None = None,
) -> list[dict[str, Any]]:
    """Synthesise every fit point (cached); returns one row per point (features + measured)."""
    from ticl_fpga.rtl.synth import synthesize_units

    made = [point_unit(p) for p in points]
    units, shapes, all_codes = [m[0] for m in made], [m[1] for m in made], [m[2] for m in made]
    results = synthesize_units(
        units, jobs=jobs, cache_dir=cache_dir, timeout=timeout, order="given"
    )
    rows = []
    for p, s, r, codes in zip(points, shapes, results, all_codes, strict=True):
        rows.append(
            {
                "name": p.name,
                "fan_in": p.fan_in,
                "fan_out": p.fan_out,
                "weight_bits": p.weight_bits,
                "input_bits": p.input_bits,
                "sparsity": p.sparsity,
                "nonzero": s.nonzero,
                "csd_digits": csd_digits(codes),
                "ops_x_width": s.ops * s.width,
                "io_bits": s.io_bits,
                "lut": r.resources["lut"],
                "ff": r.resources["ff"],
                "dsp": r.resources["dsp"],
                "carry": r.resources["carry"],
                "logic_depth": r.logic_depth,
                "seconds": r.seconds,
            }
        )
    return rows


def _row_shape(r: dict[str, Any]) -> LayerShape:
    return LayerShape(r["fan_in"], r["fan_out"], r["nonzero"], r["weight_bits"], r["input_bits"])


def _fit_coefficients(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    shapes = [_row_shape(r) for r in rows]
    lut = np.array([r["lut"] for r in rows], dtype=float)
    ff = np.array([r["ff"] for r in rows], dtype=float)
    w = 1.0 / np.maximum(lut, 1.0)
    a = np.array([_lut_features(s) for s in shapes]) * w[:, None]
    c_lut, *_ = np.linalg.lstsq(a, lut * w, rcond=None)
    x = np.array([s.ops * s.width for s in shapes])
    io = np.array([s.io_bits for s in shapes])
    wf = 1.0 / np.maximum(ff, 1.0)
    (c_ff, c_io), *_ = np.linalg.lstsq(np.stack([x * wf, io * wf], axis=1), ff * wf, rcond=None)
    return {
        **{n: float(max(v, 0.0)) for n, v in zip(LUT_TERMS, c_lut, strict=True)},
        "ff_per_op_bit": float(max(c_ff, 0.0)),
        "ff_per_io_bit": float(max(c_io, 0.0)),
    }


def fit(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Least-squares fit (relative errors) of the coefficients on measured rows, with each row's
    error in the fit and left out of it (``lut_loo_rel_err``: refitted without that row)."""
    rows = list(rows)
    doc: dict[str, Any] = {"coefficients": _fit_coefficients(rows)}
    errs = []
    for i, r in enumerate(rows):
        pr = predict(_row_shape(r), doc)
        loo = {"coefficients": _fit_coefficients(rows[:i] + rows[i + 1 :])}
        pl = predict(_row_shape(r), loo)
        errs.append(
            {
                "name": r["name"],
                "lut": r["lut"],
                "lut_fit": round(pr["lut"]),
                "lut_rel_err": (pr["lut"] - r["lut"]) / max(r["lut"], 1),
                "lut_loo_rel_err": (pl["lut"] - r["lut"]) / max(r["lut"], 1),
                "ff": r["ff"],
                "ff_fit": round(pr["ff"]),
                "ff_rel_err": (pr["ff"] - r["ff"]) / max(r["ff"], 1),
            }
        )
    doc["points"] = rows
    doc["errors"] = errs
    doc["lut_rms_rel_err"] = float(np.sqrt(np.mean([e["lut_rel_err"] ** 2 for e in errs])))
    doc["lut_loo_rms_rel_err"] = float(np.sqrt(np.mean([e["lut_loo_rel_err"] ** 2 for e in errs])))
    doc["ff_rms_rel_err"] = float(np.sqrt(np.mean([e["ff_rel_err"] ** 2 for e in errs])))
    doc["lut_max_rel_err"] = float(max(abs(e["lut_rel_err"]) for e in errs))
    return doc


def model_rows(layers: Sequence[dict[str, Any]], units: Sequence[dict[str, Any]]) -> list[dict]:
    """Fit rows from the default model's dense layers as the firmware bench synthesised them.

    ``layers``: :func:`ticl_fpga.quantize.cost.cost_of_model`'s layers (spec order);
    ``units``: the bench's dense units (``default_synthesis.units``) in the same order.  Only
    units with a Yosys result are used (a layer filled in by this model is not data)."""
    rows = []
    for lay, u in zip(layers, units, strict=False):
        if not str(u.get("source", "")).startswith("Yosys"):
            continue
        s = LayerShape(
            int(lay["fan_in"]),
            int(lay["fan_out"]),
            int(lay["nonzero_weights"]),
            int(lay["weight_bits"]),
            int(lay["input_bits"]),
        )
        r = u["resources"]
        rows.append(
            {
                "name": f"model:{lay['name']}",
                "fan_in": s.fan_in,
                "fan_out": s.fan_out,
                "weight_bits": s.weight_bits,
                "input_bits": s.input_bits,
                "sparsity": round(1 - s.nonzero / (s.fan_in * s.fan_out), 4),
                "nonzero": s.nonzero,
                "ops_x_width": s.ops * s.width,
                "io_bits": s.io_bits,
                "lut": r["lut"],
                "ff": r["ff"],
                "dsp": r["dsp"],
                "carry": r["carry"],
                "logic_depth": u.get("logic_depth"),
                "module": u.get("top"),
            }
        )
    return rows


def refit_from_bench(results_json: str | Path) -> dict[str, Any]:
    """The committed drawn points (already synthesised) plus the default model's dense layers as
    measured by the firmware bench (``benchmarks/results.json``), refitted; write the result with
    :func:`write_coefficients`."""
    import json

    from ticl_fpga.bench.firmware import _gemm_index, _recipe, default_pruned_model
    from ticl_fpga.quantize.cost import cost_of_model

    drawn = [p for p in coefficients()["points"] if not str(p["name"]).startswith("model:")]
    fw = json.loads(Path(results_json).read_text())["firmware"]
    q = default_pruned_model()
    layers = cost_of_model(q, _recipe(q), n_nodes=1, n_edges=1)["layers"]
    units = sorted(
        (u for u in fw["default_synthesis"]["units"] if u["kind"] == "dense"),
        key=lambda u: _gemm_index(u["top"]),
    )
    doc = fit(drawn + model_rows(layers, units))
    doc["yosys"] = coefficients().get("yosys")
    return doc


def write_coefficients(doc: dict[str, Any], path: str | Path = COEFF_FILE) -> Path:
    import yaml

    from ticl_fpga.io import write_text

    head = (
        "# Dense-layer cost model fitted on Yosys synth_xilinx runs (ticl_fpga/rtl/cost_model.py).\n"
        "# LUT = ops * (lut_per_op_input_bit * b_a + lut_per_op_weight_bit * (b_w + log2 fan_in));\n"
        "# FF = ff_per_op_bit * ops * width + ff_per_io_bit * io_bits; ops = nnz * (b_w + 1) / 3\n"
    )
    p = write_text(path, head + yaml.safe_dump(doc, sort_keys=False))
    coefficients.cache_clear()
    return p
