"""The golden check can fail: a perturbed weight and a too-narrow accumulator are caught and located."""

from __future__ import annotations

import numpy as np
import pytest

from tests.golden.helpers import perturb_state, too_narrow_accumulator
from ticl_fpga.golden.check import build_csim, check_case

CASE = "w6a6_niters2"


@pytest.mark.parametrize("layer", ["edge_enc", "node_mlp.1", "head_hidden"])
def test_perturbed_brevitas_weight_fails_and_names_layer(golden, layer):
    vectors = golden(CASE)
    bad = vectors.quant_model(perturb_state(vectors.state, f"{layer}.weight", delta=0.5))
    report = check_case(vectors, qmodel=bad)
    assert not report.ok
    assert {m.path for m in report.mismatches} == {"brevitas"}
    first = report.mismatches[0]
    assert first.first_layer is not None and first.first_layer.startswith(f"{layer} (Gemm_")
    assert layer in report.describe()


def test_perturbed_qonnx_weight_fails_and_names_layer(golden):
    from onnx import numpy_helper

    vectors = golden(CASE)
    model = vectors.qonnx_model()
    gemm = [n for n in model.graph.node if n.op_type == "Gemm"][3]  # node_mlp.0
    quant = next(n for n in model.graph.node if n.output[0] == gemm.input[1])
    w = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == quant.input[0]))
    w = w.copy()
    w.flat[0] += 0.5
    model.set_initializer(quant.input[0], w)
    report = check_case(vectors, qonnx_model=model)
    # the exact reference executes the same (perturbed) graph, so it fails too
    assert not report.ok and {m.path for m in report.mismatches} == {"exact", "qonnx"}
    first = next(m for m in report.mismatches if m.path == "qonnx")
    assert first.first_layer == f"node_mlp.0 ({gemm.name})"


@pytest.mark.slow
def test_narrow_accumulator_fails_in_csim_and_names_layer(golden, tmp_path):
    vectors = golden(CASE)
    acc = too_narrow_accumulator(vectors, "edge_mlp.1")
    hls_model = build_csim(
        vectors.qonnx_model(), tmp_path / "prj", accum_overrides={"edge_mlp.1": acc}
    )
    report = check_case(vectors, hls_model=hls_model)
    assert not report.ok
    assert {m.path for m in report.mismatches} == {"csim"}
    first = report.mismatches[0]
    assert first.first_layer is not None and "(edge_mlp.1)" in first.first_layer
    assert first.first_layer.startswith("Gemm_4_out0 [GNNDense]")
    assert sum(m.n_diff for m in report.mismatches) > 0
    assert np.isfinite(first.max_code_diff) and first.max_code_diff > 0


@pytest.mark.slow
def test_trace_is_its_own_when_another_csim_is_global(golden, csim, tmp_path):
    """A C simulation already in the global symbol scope (as after ROOT's interpreter re-opens
    it) must not capture a later one's trace globals: localisation still names the layer."""
    import ctypes
    import os

    ctypes.CDLL(csim(CASE)._top_function_lib._name, mode=os.RTLD_GLOBAL)
    vectors = golden(CASE)
    acc = too_narrow_accumulator(vectors, "edge_mlp.1")
    hls_model = build_csim(
        vectors.qonnx_model(), tmp_path / "prj", accum_overrides={"edge_mlp.1": acc}
    )
    first = check_case(vectors, hls_model=hls_model).mismatches[0]
    assert first.first_layer is not None and first.first_layer.startswith("Gemm_4_out0")
