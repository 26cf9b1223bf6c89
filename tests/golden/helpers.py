"""Test-only tools for the golden checker: break a model on purpose and see the check catch it."""

from __future__ import annotations

import math

import numpy as np

from ticl_fpga.compile.convert import qonnx_to_layers
from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.compile.to_qonnx import execute_qonnx
from ticl_fpga.errors import ConfigError
from ticl_fpga.golden.mapping import gemm_layer_map
from ticl_fpga.golden.vectors import GoldenVectors


def narrowed(t: Fixed, integer: int) -> Fixed:
    """``t`` with only ``integer`` integer bits (same fraction): overflows wrap, for tests."""
    return Fixed(t.signed, t.frac + integer, integer)


def too_narrow_accumulator(vectors: GoldenVectors, layer: str, *, missing_bits: int = 1) -> Fixed:
    """An accumulator type for ``layer`` with ``missing_bits`` too few integer bits for the golden
    graphs (from the largest |value| of that layer in the QONNX execution); same fraction bits."""
    qonnx_model = vectors.qonnx_model()
    by_layer = {v: k for k, v in gemm_layer_map(qonnx_model, vectors.spec()).items()}
    if layer not in by_layer:
        raise ConfigError(f"no dense layer {layer!r}; known: {', '.join(by_layer)}")
    node = next(n for n in qonnx_model.graph.node if n.name == by_layer[layer])
    peak = 0.0
    for g in vectors.graphs.values():
        p = vectors.padded(g)
        ctx = execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr, full_context=True)
        peak = max(peak, float(np.abs(np.asarray(ctx[node.output[0]])).max()))
    # signed ap_fixed<W, I> holds [-2**(I-1), 2**(I-1)): the smallest I that holds ``peak``
    need = math.floor(math.log2(peak)) + 2 if peak > 0 else 1
    exact = next(
        Fixed(*ly["accum_fixed"])
        for ly in _layers(qonnx_model)
        if ly.get("onnx_node") == node.name and "accum_fixed" in ly
    )
    return narrowed(exact, need - missing_bits)


def _layers(qonnx_model) -> list[dict]:
    return qonnx_to_layers(qonnx_model)[0]


def perturb_state(state: dict[str, np.ndarray], key: str, *, index=(0, 0), delta: float = 1.0):
    """A copy of a state dict with one weight changed (for regression tests of the checker)."""
    out = {k: np.array(v, copy=True) for k, v in state.items()}
    out[key][index] = out[key][index] + delta
    return out
