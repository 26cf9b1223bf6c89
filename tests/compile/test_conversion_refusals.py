"""Every ConversionError of the QONNX -> hls4ml handlers, hit by one change to a real QONNX graph.

The graph is a small quantized GNN exported by ``export_qonnx``; each case changes one node,
attribute or initializer and ``qonnx_to_layers`` must refuse it with a message naming the node.
(Not reachable from this graph: Expand/ScatterElements, which the exporter does not write, an input
without a Quant and a quantized constant outside its type.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from onnx import helper

from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.compile.convert import qonnx_to_layers
from ticl_fpga.compile.hls4ml_ext.handlers import ConversionError
from ticl_fpga.compile.to_qonnx import export_qonnx, load_qonnx
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.qmodel import build_quant_model
from ticl_fpga.quantize.recipe import load_recipe


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    torch.manual_seed(0)
    spec = GNNSpec(node_dim=4, edge_dim=3, node_hidden=8, edge_hidden=4, head_hidden=4, niters=1)
    qmodel = build_quant_model(spec, load_recipe("w6a6"))
    qmodel.train()
    with torch.no_grad():
        for _ in range(3):
            qmodel(torch.randn(10, 4), torch.randint(0, 10, (2, 20)), torch.randn(20, 3))
    path = tmp_path_factory.mktemp("refuse") / "m.onnx"
    export_qonnx(qmodel.eval(), Capacity(n_max=8, e_max=16), path)
    return path


def _node(model, op_type: str, i: int = 0):
    return [n for n in model.graph.node if n.op_type == op_type][i]


def _set_attr(node, name: str, value) -> None:
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def _unknown_op(m):
    _node(m, "Relu").op_type = "Sigmoid"


def _quant_param_not_constant(m):
    q = next(n for n in m.graph.node if n.op_type == "Quant" and n.input[0].startswith("Relu"))
    q.input[1] = _node(m, "Relu").output[0]


def _per_channel_scale(m):
    q = next(n for n in m.graph.node if n.op_type == "Quant" and n.input[0].startswith("Relu"))
    m.set_initializer(q.input[1], np.full(8, m.get_initializer(q.input[1]), dtype=np.float32))


def _scale_not_power_of_two(m):
    q = next(n for n in m.graph.node if n.op_type == "Quant" and n.input[0].startswith("Relu"))
    m.set_initializer(q.input[1], np.array(0.3, dtype=np.float32))


def _gemm_alpha(m):
    _set_attr(_node(m, "Gemm", 2), "alpha", 2.0)


def _gemm_float_weights(m):
    g = _node(m, "Gemm", 2)
    quant = next(n for n in m.graph.node if n.output[0] == g.input[1])
    g.input[1] = quant.input[0]  # the float initializer, not its Quant


def _gemm_float_bias(m):
    g = _node(m, "Gemm", 2)
    quant = next(n for n in m.graph.node if n.output[0] == g.input[2])
    g.input[2] = quant.input[0]


def _gather_axis(m):
    _set_attr(_node(m, "Gather"), "axis", 1)


def _gather_nd_batch_dims(m):
    _set_attr(_node(m, "GatherND"), "batch_dims", 1)


def _gather_nd_features_as_index(m):
    g = _node(m, "GatherND")
    g.input[1] = _node(m, "Concat").input[2]  # quantized edge features, not an edge_index row


def _scatter_from_ones(m):
    s = _node(m, "ScatterND")
    m.set_initializer(s.input[0], np.ones_like(m.get_initializer(s.input[0])))


def _scatter_mul(m):
    _set_attr(_node(m, "ScatterND"), "reduction", "mul")


def _scatter_max_signed(m):
    s = _node(m, "ScatterND")
    _set_attr(s, "reduction", "max")
    quant = next(n for n in m.graph.node if n.output[0] == s.input[2])
    _set_attr(quant, "signed", 1)


def _concat_four(m):
    c = _node(m, "Concat")
    c.input.append(c.input[2])


def _concat_axis0(m):
    _set_attr(_node(m, "Concat"), "axis", 0)


def _shape_op_on_constant(m):
    u = _node(m, "Unsqueeze")
    u.input[0] = _node(m, "Gather").input[1]


def _no_producer(m):
    _node(m, "Squeeze").input[0] = "ghost"


def _ghost_input(op_type: str, which: int, i: int):
    def change(m):
        _node(m, op_type, which).input[i] = "ghost"

    return change


CASES = {
    "unknown op": (_unknown_op, "Relu_0: no handler for ONNX op Sigmoid"),
    "quant parameter": (_quant_param_not_constant, "Quant_14: Quant parameters must be constants"),
    "per-channel scale": (_per_channel_scale, "Quant_14: only per-tensor (scalar) scales"),
    "scale 0.3": (_scale_not_power_of_two, "Quant_14: scale 0.3"),
    "gemm alpha": (_gemm_alpha, "Gemm_2: only Gemm with alpha=beta=1, transA=0"),
    "gemm weights": (_gemm_float_weights, "Gemm_2: weights must be a quantized constant"),
    "gemm bias": (_gemm_float_bias, "Gemm_2: bias must be a quantized constant"),
    "gather axis": (_gather_axis, "Gather_0: only Gather of a constant row of edge_index"),
    "gathernd batch_dims": (_gather_nd_batch_dims, "GatherND_0: batch_dims must be 0"),
    "gathernd index": (_gather_nd_features_as_index, "GatherND_0: indices must be an [E, 1] view"),
    "scatter init": (_scatter_from_ones, "ScatterND_0: ScatterND must start from constant zeros"),
    "scatter mul": (_scatter_mul, "ScatterND_0: reduction 'mul' is not supported"),
    "scatter max signed": (_scatter_max_signed, "ScatterND_0: max aggregation needs non-negative"),
    "concat inputs": (_concat_four, "Concat_0: Concat of 4 inputs (2 or 3 supported)"),
    "concat axis": (_concat_axis0, "Concat_0: only feature-axis concatenation"),
    "shape op on constant": (
        _shape_op_on_constant,
        "Unsqueeze_0: shape op on a constant was not folded",
    ),
    "no producer": (_no_producer, "tensor 'ghost' has no hls4ml producer"),
    # an input no earlier layer wrote: a ConversionError naming the node, not a KeyError
    "relu ghost input": (
        _ghost_input("Relu", 0, 0),
        "Relu_0: input 'ghost' has no hls4ml producer",
    ),
    "gemm ghost input": (_ghost_input("Gemm", 2, 0), "Gemm_2: input 'ghost' has no hls4ml"),
    "gathernd ghost input": (
        _ghost_input("GatherND", 0, 0),
        "GatherND_0: input 'ghost' has no hls4ml producer",
    ),
    "scatter ghost input": (
        _ghost_input("ScatterND", 0, 2),
        "ScatterND_0: input 'ghost' has no hls4ml producer",
    ),
    "concat ghost input": (
        _ghost_input("Concat", 0, 1),
        "Concat_0: input 'ghost' has no hls4ml producer",
    ),
}


def test_unchanged_graph_converts(onnx_path):
    layers, inputs, outputs, _ = qonnx_to_layers(load_qonnx(onnx_path))
    assert len(inputs) == 3 and len(outputs) == 1
    assert sum(ly["class_name"] == "GNNDense" for ly in layers) == 6


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused(onnx_path, case):
    change, message = CASES[case]
    model = load_qonnx(onnx_path)
    change(model)
    with pytest.raises(ConversionError) as err:
        qonnx_to_layers(model)
    assert str(err.value).startswith(message)  # names the node (or the tensor)
