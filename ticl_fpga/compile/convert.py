"""Cleaned QONNX graph -> hls4ml layer list of graph layers (our own frontend, hls4ml's graph).

hls4ml's ONNX frontend has no GatherND/ScatterND and treats the leading axis as a batch, so the
GNN is converted node by node with the handlers of :mod:`.hls4ml_ext.handlers`, and the resulting
layer list goes through hls4ml's own ``ModelGraph.from_layer_list`` (flows, writer, compile).
"""

from __future__ import annotations

import logging

import numpy as np

from ticl_fpga.compile.hls4ml_ext import fixed
from ticl_fpga.compile.hls4ml_ext.handlers import HANDLERS, ConversionError, GraphState, layer_name
from ticl_fpga.compile.to_qonnx import OUTPUT_NAME, load_qonnx

log = logging.getLogger(__name__)


def qonnx_to_layers(model) -> tuple[list[dict], list[str], list[str], GraphState]:
    """Convert every node; returns (layer list, input layer names, output layer names, state)."""
    model = load_qonnx(model)
    state = GraphState(model=model)
    inputs = []
    for tensor in model.graph.input:
        name = tensor.name
        shape = [int(d) for d in model.get_tensor_shape(name)]
        state.shapes[name] = shape
        layer = {
            "class_name": "Input",
            "name": layer_name(name),
            "input_shape": shape,
            "onnx_output": name,
        }
        if name == "edge_index":
            n_nodes = _node_rows(model)
            state.types[name] = fixed.index_type(n_nodes)
            layer["input_fixed"] = state.types[name]
            state.index_inputs.add(name)
        state.layers.append(layer)
        state.producer[name] = layer["name"]
        inputs.append(layer["name"])
    for node in model.graph.node:
        handler = HANDLERS.get(node.op_type)
        if handler is None:
            raise ConversionError(f"{node.name}: no handler for ONNX op {node.op_type}")
        handler(state, node)
    for layer in state.layers:
        if layer["class_name"] == "Input" and "input_fixed" not in layer:
            raise ConversionError(
                f"input {layer['name']}: no Quant follows it, its type is unknown"
            )
    outputs = [state.layer(o.name) for o in model.graph.output]
    if [o.name for o in model.graph.output] != [OUTPUT_NAME]:
        log.warning("unexpected outputs %s", [o.name for o in model.graph.output])
    return state.layers, inputs, outputs, state


def _node_rows(model) -> int:
    for tensor in model.graph.input:
        if tensor.name != "edge_index":
            return int(model.get_tensor_shape(tensor.name)[0])
    raise ConversionError("no node-feature input")


def check_types(layers: list[dict]) -> None:
    """Every data-path tensor has an explicit exact type (no hls4ml default)."""
    for layer in layers:
        if layer["class_name"] == "Input":
            continue
        if "out_fixed" not in layer:  # pragma: no cover - handlers always set it
            raise ConversionError(f"layer {layer['name']} has no explicit type")
        if layer["class_name"] == "GNNDense":
            w = fixed.Fixed(*layer["weight_fixed"])
            if not w.holds(np.asarray(layer["weight_data"])):
                raise ConversionError(
                    f"layer {layer['name']}: weights not representable as {w.cpp()}"
                )
