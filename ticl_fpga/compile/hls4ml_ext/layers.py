"""hls4ml layer classes for graph tensors ``[rows, features]`` (registered via ``register_layer``).

Each layer carries its exact output type (derived by :mod:`.fixed` from the QONNX quantizers), so
no tensor falls back to hls4ml's default precision.
"""

from __future__ import annotations

from hls4ml.model.attributes import ConfigurableAttribute, TypeAttribute
from hls4ml.model.layers import Layer
from hls4ml.model.types import NamedType

from ticl_fpga.compile.hls4ml_ext.fixed import Fixed


class GNNLayer(Layer):
    """Base: output shape ``out_shape`` with exact type ``out_fixed`` (a :class:`Fixed` as tuple)."""

    def fixed(self, key: str) -> Fixed:
        return Fixed(*self.get_attr(key))

    def initialize(self) -> None:
        self.add_output_variable(
            list(self.get_attr("out_shape")), precision=self.fixed("out_fixed").hls()
        )


class GNNRequant(GNNLayer):
    """A QONNX ``Quant`` on activations: cast to ``ap_fixed<..., AP_RND_CONV, AP_SAT>``."""


class GNNRelu(GNNLayer):
    """Elementwise ReLU (output type = input type)."""


class GNNIndexRow(GNNLayer):
    """One row (``row`` = 0 for src, 1 for dst) of the ``edge_index [2, E]`` input."""


class GNNGather(GNNLayer):
    """``out[e] = data[index[e]]``: node rows onto edges (ONNX ``GatherND`` with ``[E, 1]`` indices)."""


class GNNScatter(GNNLayer):
    """Sum or max of edge rows onto nodes (ONNX ``ScatterND`` into zeros, reduction add/max)."""


class GNNConcat(GNNLayer):
    """Concatenation of 2 or 3 ``[R, F_i]`` tensors along features."""


class GNNDense(GNNLayer):
    """Per-row dense ``[R, n_in] -> [R, n_out]`` (ONNX ``Gemm`` with quantized weights and bias)."""

    _expected_attributes = [
        ConfigurableAttribute("reuse_factor", default=1),
        TypeAttribute("accum"),
    ]

    def initialize(self) -> None:
        super().initialize()
        self.set_attr(
            "accum_t", NamedType(f"layer{self.index}_accum_t", self.fixed("accum_fixed").hls())
        )
        self.add_weights_variable(
            name="weight",
            var_name="w{index}",
            type_name="weight{index}_t",
            precision=self.fixed("weight_fixed").hls(),
            data=self.get_attr("weight_data"),
        )
        self.add_weights_variable(
            name="bias",
            var_name="b{index}",
            type_name="bias{index}_t",
            precision=self.fixed("bias_fixed").hls(),
            data=self.get_attr("bias_data"),
        )


LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (GNNRequant, GNNRelu, GNNIndexRow, GNNGather, GNNScatter, GNNConcat, GNNDense)
}
