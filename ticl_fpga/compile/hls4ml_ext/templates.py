"""Config and function-call templates of the graph layers (C++ in ``hls/nnet_gnn.h``).

Streaming layout: every function call is preceded by the ``ARRAY_PARTITION`` pragma of the
array it writes, partitioned by feature (``cyclic factor = F * P`` on the flat ``[R * F]`` array:
bank ``(r mod P, f)`` holds feature ``f`` of every P-th row), never by row.  hls4ml's io_parallel
writer would declare every intermediate array ``complete`` (one register per element and row);
the templates clear that default (``pragma = None`` on the output variable) and write their own.
Model inputs and outputs keep hls4ml's io_parallel port pragmas (``ap_vld`` wires).
"""

from __future__ import annotations

from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate

from ticl_fpga.compile.hls4ml_ext.layers import (
    GNNConcat,
    GNNDense,
    GNNGather,
    GNNIndexRow,
    GNNRelu,
    GNNRequant,
    GNNScatter,
    rows_and_features,
)
from ticl_fpga.compile.latency import gather_read_ii

INCLUDE = ["nnet_utils/nnet_gnn.h"]

_ELEMENTWISE_CONFIG = """struct config{index} : nnet::{base} {{
    static const unsigned n_elem = {n_elem};
    static const unsigned n_rows = {n_rows};
    static const unsigned n_feat = {n_feat};
    static const unsigned n_lanes = {n_lanes};
}};\n"""

_DENSE_CONFIG = """struct config{index} : nnet::gnn_dense_config {{
    static const unsigned n_rows = {n_rows};
    static const unsigned n_in = {n_in};
    static const unsigned n_out = {n_out};
    static const unsigned reuse_factor = {reuse};
    static const unsigned n_lanes = {n_lanes};
    typedef {accum_t.name} accum_t;
    typedef {weight_t} weight_t;
    typedef {bias_t} bias_t;
}};\n"""

_INDEX_ROW_CONFIG = """struct config{index} : nnet::gnn_index_row_config {{
    static const unsigned n_rows = {n_rows};
    static const unsigned n_cols = {n_cols};
    static const unsigned row = {row};
    static const unsigned n_lanes = {n_lanes};
}};\n"""

_GATHER_CONFIG = """struct config{index} : nnet::gnn_gather_config {{
    static const unsigned n_nodes = {n_nodes};
    static const unsigned n_edges = {n_edges};
    static const unsigned n_feat = {n_feat};
    static const unsigned n_lanes = {n_lanes};
    static const unsigned read_ii = {read_ii};
}};\n"""

_SCATTER_CONFIG = """struct config{index} : nnet::gnn_scatter_config {{
    static const unsigned n_nodes = {n_nodes};
    static const unsigned n_edges = {n_edges};
    static const unsigned n_feat = {n_feat};
    static const unsigned n_lanes = {n_lanes};
    static const bool is_max = {is_max};
}};\n"""

_CONCAT_CONFIG = """struct config{index} : nnet::gnn_concat_config {{
    static const unsigned n_rows = {n_rows};
    static const unsigned n_feat1 = {n_feat1};
    static const unsigned n_feat2 = {n_feat2};
    static const unsigned n_feat3 = {n_feat3};
    static const unsigned n_lanes = {n_lanes};
}};\n"""


def _inputs(node) -> list:
    return [node.get_input_variable(name) for name in node.inputs]


def _lanes(node) -> int:
    return int(node.get_attr("edge_parallelism"))


def stream_partition_pragma(name: str, shape, lanes: int) -> str | None:
    """The ``ARRAY_PARTITION`` of a streamed ``[R, F]`` array: by feature and row modulo ``lanes``."""
    rows, feats = rows_and_features(shape)
    factor = feats * lanes
    if factor <= 1:
        return None  # one memory, one element per clock
    if rows <= lanes:
        return f"#pragma HLS ARRAY_PARTITION variable={name} complete dim=1"
    return f"#pragma HLS ARRAY_PARTITION variable={name} cyclic factor={factor} dim=1"


def _with_partition(node, call: str) -> list[str]:
    """``call`` preceded by the partition pragma of the layer's output array (not a model port)."""
    out = node.get_output_variable()
    if out.name in {v.name for v in node.model.get_output_variables()}:
        return [call]
    out.pragma = None  # drop hls4ml's io_parallel default ('partition' = complete, every element)
    pragma = stream_partition_pragma(out.name, out.shape, _lanes(node))
    return [pragma, call] if pragma else [call]


class ElementwiseConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__((GNNRequant, GNNRelu))

    def format(self, node) -> str:
        params = self._default_config_params(node)
        params["base"] = (
            "gnn_requant_config" if node.class_name == "GNNRequant" else "gnn_relu_config"
        )
        out = node.get_output_variable()
        rows, feats = rows_and_features(out.shape)
        params.update(n_elem=out.size_cpp(), n_rows=rows, n_feat=feats, n_lanes=_lanes(node))
        return _ELEMENTWISE_CONFIG.format(**params)


class ElementwiseFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__((GNNRequant, GNNRelu), include_header=INCLUDE)

    def format(self, node) -> list[str]:
        params = self._default_function_params(node)
        fn = "gnn_requant" if node.class_name == "GNNRequant" else "gnn_relu"
        return _with_partition(
            node,
            "nnet::{fn}<{input_t}, {output_t}, {config}>({input}, {output});".format(
                fn=fn, **params
            ),
        )


class DenseConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__(GNNDense)

    def format(self, node) -> str:
        params = self._default_config_params(node)
        n_out, n_in = node.get_attr("weight_data").shape
        params.update(
            n_rows=rows_and_features(node.get_output_variable().shape)[0],
            n_in=n_in,
            n_out=n_out,
            n_lanes=_lanes(node),
            weight_t=node.get_weights("weight").type.name,
            bias_t=node.get_weights("bias").type.name,
        )
        return _DENSE_CONFIG.format(**params)


class DenseFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__(GNNDense, include_header=INCLUDE)

    def format(self, node) -> list[str]:
        params = self._default_function_params(node)
        params["w"] = node.get_weights("weight").name
        params["b"] = node.get_weights("bias").name
        return _with_partition(
            node,
            "nnet::gnn_dense<{input_t}, {output_t}, {config}>({input}, {output}, {w}, {b});".format(
                **params
            ),
        )


class IndexRowConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__(GNNIndexRow)

    def format(self, node) -> str:
        params = self._default_config_params(node)
        n_rows, n_cols = node.get_input_variable().shape
        params.update(n_rows=n_rows, n_cols=n_cols, row=node.get_attr("row"), n_lanes=_lanes(node))
        return _INDEX_ROW_CONFIG.format(**params)


class IndexRowFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__(GNNIndexRow, include_header=INCLUDE)

    def format(self, node) -> list[str]:
        params = self._default_function_params(node)
        return _with_partition(
            node,
            "nnet::gnn_index_row<{input_t}, {output_t}, {config}>({input}, {output});".format(
                **params
            ),
        )


class GatherScatterConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__((GNNGather, GNNScatter))

    def format(self, node) -> str:
        params = self._default_config_params(node)
        data, index = _inputs(node)
        out = node.get_output_variable()
        params["n_lanes"] = _lanes(node)
        if node.class_name == "GNNGather":
            params.update(
                n_nodes=data.shape[0],
                n_edges=out.shape[0],
                n_feat=rows_and_features(out.shape)[1],
                read_ii=gather_read_ii(_lanes(node)),
            )
            return _GATHER_CONFIG.format(**params)
        params.update(
            n_nodes=out.shape[0],
            n_edges=data.shape[0],
            n_feat=rows_and_features(out.shape)[1],
            is_max="true" if node.get_attr("reduction") == "max" else "false",
        )
        return _SCATTER_CONFIG.format(**params)


class GatherScatterFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__((GNNGather, GNNScatter), include_header=INCLUDE)

    def format(self, node) -> list[str]:
        data, index = _inputs(node)
        out = node.get_output_variable()
        fn = "gnn_gather" if node.class_name == "GNNGather" else "gnn_scatter"
        return _with_partition(
            node,
            f"nnet::{fn}<{data.type.name}, {index.type.name}, {out.type.name}, config{node.index}>"
            f"({data.name}, {index.name}, {out.name});",
        )


class ConcatConfigTemplate(LayerConfigTemplate):
    def __init__(self) -> None:
        super().__init__(GNNConcat)

    def format(self, node) -> str:
        params = self._default_config_params(node)
        feats = [rows_and_features(v.shape)[1] for v in _inputs(node)] + [0]
        params.update(
            n_rows=rows_and_features(node.get_output_variable().shape)[0],
            n_feat1=feats[0],
            n_feat2=feats[1],
            n_feat3=feats[2],
            n_lanes=_lanes(node),
        )
        return _CONCAT_CONFIG.format(**params)


class ConcatFunctionTemplate(FunctionCallTemplate):
    def __init__(self) -> None:
        super().__init__(GNNConcat, include_header=INCLUDE)

    def format(self, node) -> list[str]:
        ins = _inputs(node)
        out = node.get_output_variable()
        types = ", ".join([v.type.name for v in ins] + [out.type.name])
        args = ", ".join([v.name for v in ins] + [out.name])
        return _with_partition(
            node, f"nnet::gnn_concat{len(ins)}<{types}, config{node.index}>({args});"
        )


TEMPLATES = (
    ElementwiseConfigTemplate,
    ElementwiseFunctionTemplate,
    DenseConfigTemplate,
    DenseFunctionTemplate,
    IndexRowConfigTemplate,
    IndexRowFunctionTemplate,
    GatherScatterConfigTemplate,
    GatherScatterFunctionTemplate,
    ConcatConfigTemplate,
    ConcatFunctionTemplate,
)
