"""hls4ml layer classes for graph tensors ``[rows, features]`` (registered via ``register_layer``).

Each layer carries its exact output type (derived by :mod:`.fixed` from the QONNX quantizers), so
no tensor falls back to hls4ml's default precision.
"""

from __future__ import annotations

from hls4ml.model.attributes import ConfigurableAttribute, TypeAttribute
from hls4ml.model.layers import Layer
from hls4ml.model.types import NamedType

from ticl_fpga.compile.hls4ml_ext.fixed import Fixed

#: HLSConfig key (model-wide, or per layer name) of the rows processed per clock.
EDGE_PARALLELISM_KEY = "EdgeParallelism"


def rows_and_features(shape) -> tuple[int, int]:
    """``[R, F]`` of a graph tensor (a 1-D ``[R]`` tensor has one feature)."""
    shape = [int(d) for d in shape]
    feats = shape[-1] if len(shape) >= 2 else 1
    rows = 1
    for d in shape[:-1] if len(shape) >= 2 else shape:
        rows *= d
    return rows, feats


def check_edge_parallelism(value) -> int:
    """Rows (edges or nodes) per clock: a power of two from 1 to 64."""
    from ticl_fpga.errors import ConfigError

    p = int(value)
    if p < 1 or p > 64 or p & (p - 1):
        raise ConfigError(f"edge_parallelism must be a power of two from 1 to 64, got {value}")
    return p


class GNNLayer(Layer):
    """Base: output shape ``out_shape`` with exact type ``out_fixed`` (a :class:`Fixed` as tuple).

    ``edge_parallelism`` (P): rows streamed per clock; per layer (``LayerName`` config key
    ``EdgeParallelism``) or model-wide (``HLSConfig["Model"]["EdgeParallelism"]``), default 1.
    """

    _expected_attributes = [ConfigurableAttribute("edge_parallelism", default=1)]

    def fixed(self, key: str) -> Fixed:
        return Fixed(*self.get_attr(key))

    def initialize(self) -> None:
        if self.get_attr("edge_parallelism") is None:
            model_cfg = self.model.config.config.get("HLSConfig", {}).get("Model", {})
            self.set_attr("edge_parallelism", model_cfg.get(EDGE_PARALLELISM_KEY, 1))
        self.set_attr("edge_parallelism", check_edge_parallelism(self.get_attr("edge_parallelism")))
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
        if self.get_attr("reuse_factor") is None:
            # hls4ml's own layers get it from a backend initializer; ours read the same config
            # (layer name, layer type, then the model's ReuseFactor).
            self.set_attr("reuse_factor", int(self.model.config.get_reuse_factor(self)))
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
