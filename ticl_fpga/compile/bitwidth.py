"""Bit-width analysis of an exported QONNX GNN: interval arithmetic on integer codes.

One analysis, used everywhere exactness is decided:

* the hls4ml project's types (:func:`ticl_fpga.compile.build.build_hls` takes every data-path
  tensor's type, and every ``Gemm`` accumulator, from :meth:`BitWidthReport.fixed`);
* ``ticl-fpga quantize check`` and ``hls build``, which refuse (:class:`BitWidthError`, one line
  naming the layer and the bits it needs) any model whose exact values do not all fit float32's
  24-bit significand -- Brevitas and QONNX compute in float32, so on every accepted model they are
  exact and equal the integer reference (:mod:`ticl_fpga.compile.reference`) and the C simulation;
* the golden tests (:mod:`ticl_fpga.golden`), which record and check the bits of every case.

Every tensor is ``code * 2**exp``; the analysis tracks ``exp`` and, per feature column, the
interval ``[lo, hi]`` of the codes over *all* inputs at the capacity (any features on the input
grid, any edges, including all ``e_max`` edges into one node).  A ``Gemm`` is bounded with its
actual quantized weights: the largest partial sum is ``sum_k |w_jk| max|x_k| + |b_j|`` in units of
the accumulator LSB (``2**min(exp_x + exp_w, exp_b)``); a scatter-sum over ``E`` edges multiplies
the bound by ``E``; a concatenation aligns its parts on the finest LSB.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.compile.reference import ReferenceError, _attrs, pow2_exponent, quant_limits
from ticl_fpga.errors import TiclFpgaError
from ticl_fpga.quantize.recipe import FLOAT32_EXACT_BITS

# FLOAT32_EXACT_BITS (24, shared with the recipe check): float32 has a 24-bit significand, so every
# integer up to 2**24 is exact and a fixed-point tensor (and every partial sum of a dot product)
# whose codes stay within 2**24 is computed exactly by Brevitas and QONNX, in any summation order.


class BitWidthError(TiclFpgaError):
    """A tensor's exact value needs more bits than the float32 executions compute exactly."""


@dataclass
class TensorBits:
    """Bits of one tensor: exponent, per-column code interval, largest partial-sum magnitude."""

    tensor: str
    op: str
    label: str
    exp: int
    lo: np.ndarray
    hi: np.ndarray
    mag: float  # largest |code| of any value or partial sum computed for this tensor

    @property
    def signed(self) -> bool:
        return bool(np.min(self.lo, initial=0) < 0)

    @property
    def magnitude_bits(self) -> int:
        """Bits of the largest magnitude: ``mag < 2**magnitude_bits``."""
        return max(int(math.floor(math.log2(self.mag))) + 1, 1) if self.mag >= 1 else 1

    @property
    def width(self) -> int:
        """Width of the exact two's-complement (or unsigned) type."""
        return self.magnitude_bits + (1 if self.signed else 0)

    @property
    def float32_exact(self) -> bool:
        return self.mag <= 2.0**FLOAT32_EXACT_BITS

    def fixed(self) -> Fixed:
        """The exact ``ap_[u]fixed`` type (no rounding, no saturation)."""
        return Fixed(self.signed, self.width, self.width + self.exp)

    def as_dict(self) -> dict:
        return {
            "tensor": self.tensor,
            "op": self.op,
            "layer": self.label,
            "exp": self.exp,
            "signed": self.signed,
            "bits": self.width,
            "max_code": float(self.mag),
            "float32_exact": self.float32_exact,
        }


@dataclass
class BitWidthReport:
    """The analysis of one graph: :class:`TensorBits` per data tensor (in graph order)."""

    tensors: dict[str, TensorBits] = field(default_factory=dict)

    def fixed(self, tensor: str) -> Fixed | None:
        t = self.tensors.get(tensor)
        return None if t is None else t.fixed()

    @property
    def widest(self) -> TensorBits:
        return max(self.tensors.values(), key=lambda t: t.mag)

    @property
    def max_bits(self) -> int:
        return self.widest.width

    def failures(self) -> list[TensorBits]:
        return [t for t in self.tensors.values() if not t.float32_exact]

    def check(self, source: str = "<qonnx model>") -> BitWidthReport:
        """Raise :class:`BitWidthError` naming the first layer float32 cannot compute exactly."""
        bad = self.failures()
        if bad:
            t = bad[0]
            more = f" (and {len(bad) - 1} more tensors)" if len(bad) > 1 else ""
            raise BitWidthError(
                f"{source} [{t.label}]: {t.op} needs {t.magnitude_bits} magnitude bits "
                f"({t.width}-bit {'signed' if t.signed else 'unsigned'}), more than float32's "
                f"{FLOAT32_EXACT_BITS}, so Brevitas/QONNX would round{more}; lower weight/act bits, "
                "the capacity, or the input/activation scale spread"
            )
        return self

    def summary(self) -> list[dict]:
        return [t.as_dict() for t in self.tensors.values()]


def layer_labels(model) -> dict[str, str]:
    """ONNX node name -> project layer name (``node_enc``, ``aggr.1``...) where it can be told."""
    from ticl_fpga.model.spec import GNNSpec

    labels: dict[str, str] = {}
    raw = model.get_metadata_prop("ticl_fpga.spec")
    if raw is None:
        return labels
    spec = GNNSpec.model_validate_json(raw)
    linears = ["node_enc", "edge_enc"]
    for i in range(spec.niters):
        linears += [f"edge_mlp.{i}", f"node_mlp.{i}"]
    linears += ["head_hidden", "head_out"]
    gemms = [n.name for n in model.graph.node if n.op_type == "Gemm"]
    if len(gemms) == len(linears):
        labels.update(dict(zip(gemms, linears, strict=True)))
    scatters = [n.name for n in model.graph.node if n.op_type in ("ScatterND", "ScatterElements")]
    if len(scatters) == 2 * spec.niters:
        labels.update({s: f"aggr.{k // 2}" for k, s in enumerate(scatters)})
    return labels


@dataclass
class _I:
    """Interval of a data tensor: exponent, per-last-axis code bounds."""

    exp: int
    lo: np.ndarray
    hi: np.ndarray

    def mag(self) -> float:
        return float(max(np.abs(self.lo).max(initial=0), np.abs(self.hi).max(initial=0)))

    def at(self, exp: int) -> tuple[np.ndarray, np.ndarray]:
        f = 2.0 ** (self.exp - exp)
        return self.lo * f, self.hi * f

    def resized(self, n: int) -> _I:
        if len(self.lo) == n:
            return self
        return _I(self.exp, np.full(n, self.lo.min(initial=0)), np.full(n, self.hi.max(initial=0)))


def analyse(qonnx_model) -> BitWidthReport:
    """Interval analysis of every data tensor of an exported GNN (see the module docstring)."""
    from onnx import numpy_helper

    from ticl_fpga.compile.to_qonnx import load_qonnx

    model = load_qonnx(qonnx_model)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    labels = layer_labels(model)
    inputs = {t.name for t in model.graph.input}
    report = BitWidthReport()
    iv: dict[str, _I] = {}
    consts: dict[str, tuple[np.ndarray, int]] = {}  # quantized constants: codes, exp

    def last_dim(tensor: str) -> int:
        shape = model.get_tensor_shape(tensor)
        return int(shape[-1]) if shape else 1

    def record(node, out: _I, mag: float | None = None) -> None:
        name = node.output[0]
        iv[name] = out
        report.tensors[name] = TensorBits(
            tensor=name,
            op=node.op_type,
            label=labels.get(node.name, node.name),
            exp=out.exp,
            lo=out.lo,
            hi=out.hi,
            mag=out.mag() if mag is None else float(mag),
        )

    for node in model.graph.node:
        op = node.op_type
        ins = list(node.input)
        a = _attrs(node)
        try:
            if op == "Quant":
                scale, zp, bits = (inits.get(t) for t in ins[1:4])
                if scale is None or zp is None or bits is None:
                    raise ReferenceError(f"{node.name}: Quant parameters must be constants")
                if np.any(zp != 0):
                    raise ReferenceError(f"{node.name}: zero point is not 0")
                e = pow2_exponent(scale, node.name)
                lo, hi = quant_limits(
                    int(np.asarray(bits).reshape(-1)[0]),
                    bool(a.get("signed", 1)),
                    bool(a.get("narrow", 0)),
                )
                if ins[0] in inits:  # a quantized weight or bias: its exact codes
                    v = np.asarray(inits[ins[0]], dtype=np.float32).astype(np.float64)
                    codes = np.clip(np.round(np.ldexp(v, -e)), lo, hi)
                    consts[node.output[0]] = (codes, e)
                    continue
                n = last_dim(node.output[0])
                record(node, _I(e, np.full(n, float(lo)), np.full(n, float(hi))))
            elif op == "Gemm":
                A = iv[ins[0]]
                w, e_w = consts[ins[1]]
                w = w if a.get("transB", 0) else w.T  # [n_out, n_in]
                b, e_b = consts[ins[2]] if len(ins) > 2 else (np.zeros(w.shape[0]), A.exp + e_w)
                e_out = min(A.exp + e_w, e_b)
                lo_a, hi_a = A.resized(w.shape[1]).at(A.exp)
                fp, fb = 2.0 ** (A.exp + e_w - e_out), 2.0 ** (e_b - e_out)
                hi = (np.maximum(w * lo_a, w * hi_a).sum(axis=1)) * fp + b * fb
                lo = (np.minimum(w * lo_a, w * hi_a).sum(axis=1)) * fp + b * fb
                amax = np.maximum(np.abs(lo_a), np.abs(hi_a))
                mag = (np.abs(w) @ amax) * fp + np.abs(b) * fb
                record(node, _I(e_out, lo, hi), float(mag.max(initial=0)))
            elif op == "Relu":
                A = iv[ins[0]]
                record(node, _I(A.exp, np.maximum(A.lo, 0), np.maximum(A.hi, 0)))
            elif op == "Concat":
                parts = [iv[t] for t in ins]
                e = min(p.exp for p in parts)
                lo = np.concatenate([p.at(e)[0] for p in parts])
                hi = np.concatenate([p.at(e)[1] for p in parts])
                record(node, _I(e, lo, hi))
            elif op in ("ScatterND", "ScatterElements"):
                U = iv[ins[2]]
                n_rows = int(model.get_tensor_shape(ins[2])[0])
                red = a.get("reduction", "none")
                init = inits.get(ins[0])
                if init is None or np.any(init != 0):
                    raise ReferenceError(f"{node.name}: scatter must start from constant zeros")
                if red == "add":
                    lo, hi = np.minimum(U.lo * n_rows, 0), np.maximum(U.hi * n_rows, 0)
                    mag = n_rows * U.mag()
                elif red in ("max", "none"):
                    lo, hi = np.minimum(U.lo, 0), np.maximum(U.hi, 0)
                    mag = None
                else:
                    raise ReferenceError(f"{node.name}: reduction {red!r} is not supported")
                record(node, _I(U.exp, lo, hi), mag)
            elif op in ("Gather", "GatherND", "Unsqueeze", "Squeeze", "Reshape", "Identity"):
                if ins[0] in iv:  # data: same codes, maybe another shape
                    A = iv[ins[0]]
                    record(node, A.resized(last_dim(node.output[0])))
            elif op in ("Flatten", "Expand"):
                if ins[0] in iv:
                    A = iv[ins[0]]
                    record(node, A.resized(last_dim(node.output[0])))
            else:
                raise ReferenceError(f"{node.name}: op {op} is not supported")
        except KeyError as exc:
            if ins and ins[0] in inputs and op != "Quant":
                continue  # index arithmetic on edge_index
            raise ReferenceError(
                f"{node.name}: input {exc.args[0]!r} is not a quantized tensor"
            ) from None
    return report


def analyse_and_check(qonnx_model, source: str = "<qonnx model>") -> BitWidthReport:
    """:func:`analyse`, then refuse (:class:`BitWidthError`) what float32 cannot hold exactly."""
    return analyse(qonnx_model).check(source)


def bits_json(report: BitWidthReport) -> str:
    return json.dumps(report.summary(), indent=1)


def check_quant_model(qmodel, capacity, source: str = "<quantized model>") -> BitWidthReport:
    """Export a Brevitas GNN at ``capacity`` (to a temporary file) and run :func:`analyse_and_check`."""
    import tempfile
    from pathlib import Path

    from ticl_fpga.compile.to_qonnx import export_qonnx

    with tempfile.TemporaryDirectory(prefix="ticl_bits_") as tmp:
        model = export_qonnx(qmodel, capacity, Path(tmp) / "gnn.qonnx.onnx")
    return analyse_and_check(model, source=source)


#: Layers whose output type is the exact type of the bit-width analysis (``GNNRequant`` keeps its
#: quantizer type, which carries the rounding and saturation modes; index rows are not data).
_ANALYSED = ("GNNDense", "GNNRelu", "GNNConcat", "GNNGather", "GNNScatter")


def apply_bit_widths(layers: list[dict], bits) -> None:
    """Set every data-path layer's type (and each dense accumulator) from the bit-width analysis.

    The analysis (:mod:`ticl_fpga.compile.bitwidth`) bounds every partial sum with the actual
    quantized weights, so the types are exact (no overflow, no rounding) and no wider than needed.
    """
    from ticl_fpga.compile.hls4ml_ext.handlers import astuple

    for layer in layers:
        if layer["class_name"] not in _ANALYSED:
            continue
        t = bits.fixed(layer.get("onnx_output", ""))
        if t is None:
            raise BitWidthError(
                f"layer {layer['name']}: the bit-width analysis has no type for "
                f"{layer.get('onnx_output')!r}"
            )
        layer["out_fixed"] = astuple(t)
        if layer["class_name"] == "GNNDense":
            layer["accum_fixed"] = astuple(t)


def analysed_layers(qonnx_model, source: str = "<qonnx model>"):
    """``qonnx_to_layers`` with every data-path type taken from the checked analysis.

    What ``hls build`` converts; other backends (e.g. RTL) should start from this too.  Returns
    ``(layers, inputs, outputs, report)``.
    """
    from ticl_fpga.compile.convert import qonnx_to_layers
    from ticl_fpga.compile.to_qonnx import load_qonnx

    qonnx_model = load_qonnx(qonnx_model)
    report = analyse_and_check(qonnx_model, source=source)
    layers, inputs, outputs, _state = qonnx_to_layers(qonnx_model)
    apply_bit_widths(layers, report)
    return layers, inputs, outputs, report
