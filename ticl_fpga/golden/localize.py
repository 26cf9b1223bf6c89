"""Localisation of a golden mismatch: the first layer where a path leaves the reference.

Brevitas vs QONNX by comparing each linear layer's output (forward hooks vs the QONNX execution
context); C simulation vs QONNX with hls4ml's per-layer trace.
"""

from __future__ import annotations

import numpy as np

from ticl_fpga.compile.capacity import PaddedGraph
from ticl_fpga.golden.mapping import describe_hls_layer, gemm_layer_map, linear_order, onnx_order
from ticl_fpga.golden.vectors import brevitas_logits


def brevitas_layer_outputs(qmodel, padded: PaddedGraph) -> dict[str, np.ndarray]:
    """Output of every linear layer of the Brevitas model on a padded, on-grid graph."""
    outputs: dict[str, np.ndarray] = {}
    handles = []
    for name in linear_order(qmodel.spec):
        module = qmodel.get_submodule(name)
        handles.append(
            module.register_forward_hook(
                lambda _m, _i, out, _n=name: outputs.__setitem__(_n, out.detach().double().numpy())
            )
        )
    try:
        outputs["logits"] = brevitas_logits(
            qmodel, padded.x, padded.edge_index, padded.edge_attr, normalized=True
        )
    finally:
        for h in handles:
            h.remove()
    return outputs


def first_divergence_brevitas_qonnx(qmodel, qonnx_model, padded: PaddedGraph) -> str | None:
    """The first linear layer (forward order) whose Brevitas and QONNX outputs differ.

    ``None`` when every layer and the logits agree; ``"output quantizer (out_quant)"`` when only
    the final requantization differs.
    """
    from ticl_fpga.compile.to_qonnx import OUTPUT_NAME, execute_qonnx

    ctx = execute_qonnx(
        qonnx_model, padded.x, padded.edge_index, padded.edge_attr, full_context=True
    )
    ours = brevitas_layer_outputs(qmodel, padded)
    mapping = gemm_layer_map(qonnx_model, qmodel.spec)
    by_layer = {layer: node for node, layer in mapping.items()}
    gemm_out = {n.name: n.output[0] for n in onnx_order(qonnx_model) if n.op_type == "Gemm"}
    for name in linear_order(qmodel.spec):
        node = by_layer.get(name)
        if node is None:
            continue
        ref = np.asarray(ctx[gemm_out[node]], dtype=np.float64)
        if ref.shape != ours[name].shape or not np.array_equal(ref, ours[name]):
            return f"{name} ({node})"
    if not np.array_equal(np.asarray(ctx[OUTPUT_NAME], dtype=np.float64), ours["logits"]):
        return "output quantizer (out_quant)"
    return None


def localize(m, path, qmodel, qonnx_model, hls_model, p, spec, trace_compare) -> None:
    if path == "exact":
        m.note = "the exact integer reference differs from golden: the QONNX model changed"
        return
    if path in ("brevitas", "qonnx"):
        layer = first_divergence_brevitas_qonnx(qmodel, qonnx_model, p)
        if layer is not None:
            m.first_layer = layer
        else:
            m.note = (
                "Brevitas and QONNX agree with each other but not with golden: the model or a "
                "library changed; compare with `ticl-fpga golden regenerate --check`"
            )
    elif path == "csim":
        try:
            first, _equal = trace_compare(hls_model, qonnx_model, p)
        except Exception as exc:  # noqa: BLE001 - tracing is diagnostic only
            m.note = f"no per-layer trace ({exc.__class__.__name__}: build with trace=True)"
            return
        if first is None:
            m.note = "every traced layer matches QONNX (was the project built with trace=True?)"
        else:
            m.first_layer = describe_hls_layer(hls_model, qonnx_model, spec, first)
