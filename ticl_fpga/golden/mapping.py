"""Names across the three representations: model layer (``node_mlp.0``), ONNX node (``Gemm_3``),
hls4ml layer; used to say where a path diverges in words a reader can find in the model."""

from __future__ import annotations

from typing import Any


def linear_order(spec) -> list[str]:
    """Linear layers in forward (data-flow) order."""
    shapes = spec.linear_shapes()
    return [name for name in spec.layer_names() if name in shapes]


def gemm_layer_map(qonnx_model, spec) -> dict[str, str]:
    """ONNX ``Gemm`` node name -> model layer name (``node_mlp.0``), checked by weight shape."""
    from ticl_fpga.compile.to_qonnx import load_qonnx

    model = load_qonnx(qonnx_model)
    shapes = spec.linear_shapes()
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    order = linear_order(spec)
    out: dict[str, str] = {}
    if len(gemms) != len(order):
        return out
    for node, name in zip(gemms, order, strict=True):
        w_shape = model.get_tensor_shape(node.input[1])
        if w_shape is not None and sorted(w_shape) == sorted(shapes[name]):
            out[node.name] = name
    return out


def onnx_order(qonnx_model) -> list[Any]:
    from ticl_fpga.compile.to_qonnx import load_qonnx

    return list(load_qonnx(qonnx_model).graph.node)


def describe_onnx_node(qonnx_model, spec, node_name: str) -> str:
    """``Gemm_3 (node_mlp.0)`` or ``Quant_17 (after edge_mlp.0)``."""
    mapping = gemm_layer_map(qonnx_model, spec)
    if node_name in mapping:
        return f"{node_name} ({mapping[node_name]})"
    last = None
    for node in onnx_order(qonnx_model):
        if node.name in mapping:
            last = mapping[node.name]
        if node.name == node_name:
            break
    return f"{node_name} (after {last})" if last else node_name


def describe_hls_layer(hls_model, qonnx_model, spec, layer_name: str) -> str:
    """An hls4ml layer name with its ONNX node and model layer."""
    for layer in hls_model.get_layers():
        if layer.name == layer_name:
            onnx_node = layer.get_attr("onnx_node")
            if onnx_node:
                return f"{layer_name} [{layer.class_name}] = " + describe_onnx_node(
                    qonnx_model, spec, onnx_node
                )
            return f"{layer_name} [{layer.class_name}]"
    return layer_name
