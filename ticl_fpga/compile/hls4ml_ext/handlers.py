"""QONNX node handlers: one function per ONNX op type, registered in :data:`HANDLERS`.

Each handler reads one node of the cleaned QONNX graph and either emits an hls4ml layer dict
(``class_name`` one of :mod:`.layers`), records a constant (quantized weights), or aliases its
output to its input (shape-only ops).  Types come from :mod:`.fixed`: only ``Quant`` rounds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from onnx import NodeProto, helper

from ticl_fpga.compile.hls4ml_ext import fixed
from ticl_fpga.compile.hls4ml_ext.fixed import Fixed


class ConversionError(ValueError):
    """A QONNX node the graph converter cannot map exactly."""


@dataclass
class GraphState:
    """Conversion state: tensor name -> layer output, type, shape; constants."""

    model: object  # qonnx ModelWrapper
    layers: list[dict] = field(default_factory=list)
    producer: dict[str, str] = field(default_factory=dict)  # tensor -> hls4ml layer name
    types: dict[str, Fixed] = field(default_factory=dict)
    shapes: dict[str, list[int]] = field(default_factory=dict)
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    const_types: dict[str, Fixed] = field(default_factory=dict)
    index_inputs: set[str] = field(default_factory=set)  # tensors holding node indices
    expanded_index: set[str] = field(default_factory=set)  # [E, F] broadcasts of an [E, 1] index

    def shape(self, tensor: str) -> list[int]:
        if tensor not in self.shapes:
            self.shapes[tensor] = [int(d) for d in self.model.get_tensor_shape(tensor)]
        return self.shapes[tensor]

    def const(self, tensor: str) -> np.ndarray | None:
        if tensor in self.consts:
            return self.consts[tensor]
        value = self.model.get_initializer(tensor)
        if value is not None:
            self.consts[tensor] = np.asarray(value)
        return self.consts.get(tensor)

    def layer(self, tensor: str) -> str:
        if tensor not in self.producer:
            raise ConversionError(f"tensor {tensor!r} has no hls4ml producer (unsupported pattern)")
        return self.producer[tensor]

    def type_of(self, node: NodeProto, tensor: str) -> Fixed:
        """The fixed-point type of ``tensor``, an input of ``node`` that an earlier layer wrote."""
        if tensor not in self.types:
            raise ConversionError(
                f"{node.name}: input {tensor!r} has no hls4ml producer (unsupported pattern)"
            )
        return self.types[tensor]

    def emit(
        self, class_name: str, node: NodeProto, inputs: list[str], out: Fixed, **attrs
    ) -> None:
        name = layer_name(node.output[0])
        self.layers.append(
            {
                "class_name": class_name,
                "name": name,
                "inputs": [self.layer(t) for t in inputs],
                "outputs": [name],
                "out_shape": self.shape(node.output[0]),
                "out_fixed": astuple(out),
                "onnx_node": node.name,
                "onnx_output": node.output[0],
                **attrs,
            }
        )
        self.producer[node.output[0]] = name
        self.types[node.output[0]] = out

    def alias(self, node: NodeProto, source: str) -> None:
        out = node.output[0]
        if source in self.consts or self.model.get_initializer(source) is not None:
            raise ConversionError(f"{node.name}: shape op on a constant was not folded by cleanup")
        self.producer[out] = self.layer(source)
        self.types[out] = self.types[source]
        if source in self.index_inputs:
            self.index_inputs.add(out)


def astuple(t: Fixed) -> tuple:
    return (t.signed, t.width, t.integer, t.rounding, t.saturation)


def layer_name(tensor: str) -> str:
    """A C identifier for the layer producing ``tensor``."""
    name = re.sub(r"\W", "_", tensor)
    return name if not name[0].isdigit() else f"t_{name}"


def attrs_of(node: NodeProto) -> dict:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


Handler = Callable[[GraphState, NodeProto], None]
HANDLERS: dict[str, Handler] = {}


def register_handler(op_type: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        HANDLERS[op_type] = fn
        return fn

    return deco


def _quant_type(state: GraphState, node: NodeProto) -> Fixed:
    a = attrs_of(node)
    scale, zp, bits = (state.const(t) for t in node.input[1:4])
    if scale is None or zp is None or bits is None:
        raise ConversionError(f"{node.name}: Quant parameters must be constants")
    if scale.size != 1 or zp.size != 1:
        raise ConversionError(f"{node.name}: only per-tensor (scalar) scales map to ap_fixed")
    try:
        return fixed.from_quant(
            scale=float(scale.reshape(-1)[0]),
            zero_point=float(zp.reshape(-1)[0]),
            bits=float(bits.reshape(-1)[0]),
            signed=bool(a.get("signed", 1)),
            narrow=bool(a.get("narrow", 0)),
            rounding=str(a.get("rounding_mode", "ROUND")),
            where=node.name,
        )
    except ValueError as exc:
        raise ConversionError(str(exc)) from None


@register_handler("Quant")
def quant(state: GraphState, node: NodeProto) -> None:
    """Quantized constants are evaluated; quantized graph inputs set the input type; others requant."""
    t = _quant_type(state, node)
    src = node.input[0]
    value = state.const(src)
    if value is not None:
        from qonnx.custom_op.general.intquant import int_quant

        a = attrs_of(node)
        q = int_quant(
            value.astype(np.float32),
            state.const(node.input[1]),
            state.const(node.input[2]),
            state.const(node.input[3]),
            a.get("signed", 1),
            a.get("narrow", 0),
            a.get("rounding_mode", "ROUND"),
        )
        q = np.asarray(q, dtype=np.float64)
        if not t.holds(q):
            raise ConversionError(f"{node.name}: quantized constant not representable as {t.cpp()}")
        state.consts[node.output[0]] = q
        state.const_types[node.output[0]] = t
        return
    if src in {i.name for i in state.model.graph.input}:
        # The input layer already has this type (inputs are fed on the grid, see quantize_inputs).
        layer = next(ly for ly in state.layers if ly["name"] == state.layer(src))
        layer["input_fixed"] = t
        state.types[src] = t
        state.alias(node, src)
        return
    state.emit("GNNRequant", node, [src], t)


@register_handler("Relu")
def relu(state: GraphState, node: NodeProto) -> None:
    t = state.type_of(node, node.input[0])
    state.emit("GNNRelu", node, [node.input[0]], t.exact())


@register_handler("Gemm")
def gemm(state: GraphState, node: NodeProto) -> None:
    """``Y = A B^T + C`` with quantized constant ``B`` and ``C`` -> per-row dense."""
    a = attrs_of(node)
    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
        raise ConversionError(f"{node.name}: only Gemm with alpha=beta=1, transA=0 is supported")
    w = state.consts.get(node.input[1])
    if w is None or node.input[1] not in state.const_types:
        raise ConversionError(
            f"{node.name}: weights must be a quantized constant (Quant on an initializer)"
        )
    w = w if a.get("transB", 0) else w.T  # -> [n_out, n_in]
    if len(node.input) > 2:
        b = state.consts.get(node.input[2])
        if b is None or node.input[2] not in state.const_types:
            raise ConversionError(f"{node.name}: bias must be a quantized constant")
        bt = state.const_types[node.input[2]]
    else:
        b, bt = np.zeros(w.shape[0]), Fixed(False, 1, 1)
    wt = state.const_types[node.input[1]]
    data = state.type_of(node, node.input[0])
    acc = fixed.dense_accumulator(data=data, weight=wt.exact(), bias=bt.exact(), fan_in=w.shape[1])
    state.emit(
        "GNNDense",
        node,
        [node.input[0]],
        acc,
        weight_data=np.ascontiguousarray(w),
        weight_fixed=astuple(wt.exact()),
        bias_data=np.asarray(b, dtype=np.float64).reshape(-1),
        bias_fixed=astuple(bt.exact()),
        accum_fixed=astuple(acc),
    )


@register_handler("Gather")
def gather(state: GraphState, node: NodeProto) -> None:
    """``edge_index[k]`` (scalar constant ``k``, axis 0): the src or dst row."""
    k = state.const(node.input[1])
    if (
        node.input[0] not in state.index_inputs
        or k is None
        or k.size != 1
        or attrs_of(node).get("axis", 0) != 0
    ):
        raise ConversionError(
            f"{node.name}: only Gather of a constant row of edge_index is supported"
        )
    state.emit(
        "GNNIndexRow",
        node,
        [node.input[0]],
        state.type_of(node, node.input[0]),
        row=int(k.reshape(-1)[0]),
    )
    state.index_inputs.add(node.output[0])


@register_handler("Unsqueeze")
@register_handler("Squeeze")
@register_handler("Reshape")
@register_handler("Identity")
@register_handler("Flatten")
def reshape(state: GraphState, node: NodeProto) -> None:
    """Shape-only ops: io_parallel tensors are flat, so the output aliases the input."""
    state.alias(node, node.input[0])


def _index_vector(state: GraphState, node: NodeProto, tensor: str) -> None:
    shape = state.shape(tensor)
    if tensor not in state.index_inputs or len(shape) != 2 or shape[1] != 1:
        raise ConversionError(f"{node.name}: indices must be an [E, 1] view of an edge_index row")


@register_handler("GatherND")
def gather_nd(state: GraphState, node: NodeProto) -> None:
    """``h[index]`` with ``index [E, 1]``: node rows onto edges."""
    if attrs_of(node).get("batch_dims", 0) != 0:
        raise ConversionError(f"{node.name}: batch_dims must be 0")
    _index_vector(state, node, node.input[1])
    state.emit(
        "GNNGather",
        node,
        [node.input[0], node.input[1]],
        state.type_of(node, node.input[0]).exact(),
    )


@register_handler("ScatterND")
def scatter_nd(state: GraphState, node: NodeProto) -> None:
    """Zeros with rows ``index [E, 1]`` reduced by add (sum) or max: aggregation onto nodes."""
    _index_vector(state, node, node.input[1])
    _scatter(state, node)


def _scatter(state: GraphState, node: NodeProto) -> None:
    reduction = attrs_of(node).get("reduction", "none")
    init = state.const(node.input[0])
    if init is None or np.any(init != 0):
        raise ConversionError(f"{node.name}: ScatterND must start from constant zeros")
    if reduction not in ("add", "max"):
        raise ConversionError(f"{node.name}: reduction {reduction!r} is not supported (add, max)")
    data = state.type_of(node, node.input[2])
    n_edges = state.shape(node.input[2])[0]
    if reduction == "add":
        out = fixed.sum_of(data, n_edges)
    else:
        out = data.exact()  # max of values >= 0 starting from 0: same type
        if data.signed:
            raise ConversionError(
                f"{node.name}: max aggregation needs non-negative (unsigned) inputs"
            )
    state.emit(
        "GNNScatter",
        node,
        [node.input[2], node.input[1]],
        out,
        reduction="sum" if reduction == "add" else "max",
    )


@register_handler("Concat")
def concat(state: GraphState, node: NodeProto) -> None:
    axis = attrs_of(node).get("axis", -1)
    rank = len(state.shape(node.output[0]))
    if rank != 2 or axis not in (1, -1):
        raise ConversionError(
            f"{node.name}: only feature-axis concatenation of [R, F] tensors is supported"
        )
    if len(node.input) not in (2, 3):
        raise ConversionError(f"{node.name}: Concat of {len(node.input)} inputs (2 or 3 supported)")
    out = fixed.union([state.type_of(node, t) for t in node.input])
    state.emit("GNNConcat", node, list(node.input), out)


@register_handler("Expand")
def expand(state: GraphState, node: NodeProto) -> None:
    """``index [E, 1] -> [E, F]`` (every column equal): keep the ``[E]`` index row."""
    _index_vector(state, node, node.input[0])
    out_shape = state.shape(node.output[0])
    if len(out_shape) != 2 or out_shape[0] != state.shape(node.input[0])[0]:
        raise ConversionError(
            f"{node.name}: only feature-axis broadcast of an edge index is supported"
        )
    state.alias(node, node.input[0])
    state.expanded_index.add(node.output[0])


@register_handler("ScatterElements")
def scatter_elements(state: GraphState, node: NodeProto) -> None:
    """Zeros with rows ``index [E, F]`` (a broadcast ``[E, 1]`` index) reduced by add or max, axis 0."""
    if attrs_of(node).get("axis", 0) != 0:
        raise ConversionError(f"{node.name}: ScatterElements must scatter along axis 0")
    if node.input[1] not in state.expanded_index:
        raise ConversionError(f"{node.name}: indices must be a broadcast edge_index row")
    _scatter(state, node)
