"""QONNX graph -> streaming schedule: tensors by domain (node rows / edge rows), layers, stages.

The layer list is the one the hls4ml converter uses (:func:`ticl_fpga.compile.convert.qonnx_to_layers`),
so the RTL has exactly the same types: only requantization rounds or saturates.

Schedule.  Node-domain layers (rows ``n_max + 1``, one row per clock) and edge-domain layers
(``e_max`` rows, ``P`` per clock) alternate in *stages*: a stage streams every row of its domain
once through a fused pipeline of row-wise layers (dense, relu, requant, concat).  A gather
(node -> edge) reads node tensors written by an earlier node stage; a scatter (edge -> node)
accumulates during an edge stage and is read by the next node stage.  Tensors used by a later
stage (or gathered) are stored in row memories; the others are wires between pipeline registers.
Stage numbers: even = node stage, odd = edge stage; empty stages are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.rtl import RtlError

NODE, EDGE, INDEX = "node", "edge", "index"

#: Clock cycles of the row-wise layers (dense layers get theirs from da4ml).
LATENCY = {"relu": 0, "concat": 0, "requant": 1, "gather": 1, "read": 1}


@dataclass
class Tensor:
    name: str
    domain: str  # node, edge or index
    feats: int
    fixed: Fixed
    producer: str | None = None  # layer name (None: graph input)
    stage: int = -1  # stage computing it (-1: graph input, loaded before stage 0)
    consumers: list[str] = field(default_factory=list)
    stored: bool = False  # kept in a row memory (read by a later stage)
    gathered_by: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return self.fixed.width

    @property
    def frac(self) -> int:
        return self.fixed.frac


@dataclass
class Layer:
    name: str
    kind: str  # input, index_row, dense, relu, requant, concat, gather, scatter_sum, scatter_max
    inputs: list[str]
    output: str
    attrs: dict = field(default_factory=dict)
    stage: int = -1


@dataclass
class Design:
    """The graph as tensors + layers + stages, at a given capacity and edge parallelism."""

    n_rows: int  # node rows (n_max + 1, the last one the padding sink)
    e_max: int
    p: int  # edges per clock
    index_bits: int
    tensors: dict[str, Tensor]
    layers: list[Layer]
    inputs: dict[str, str]  # x, edge_index, edge_attr -> tensor
    output: str
    stages: list[int] = field(default_factory=list)

    @property
    def edge_beats(self) -> int:
        return self.e_max // self.p

    def rows_per_clock(self, domain: str) -> int:
        return 1 if domain == NODE else self.p

    def beats(self, domain: str) -> int:
        return self.n_rows if domain == NODE else self.edge_beats

    def stage_domain(self, stage: int) -> str:
        return NODE if stage % 2 == 0 else EDGE

    def layer(self, name: str) -> Layer:
        return next(ly for ly in self.layers if ly.name == name)

    def stage_layers(self, stage: int) -> list[Layer]:
        return [ly for ly in self.layers if ly.stage == stage]


_KIND = {
    "GNNDense": "dense",
    "GNNRelu": "relu",
    "GNNRequant": "requant",
    "GNNConcat": "concat",
    "GNNGather": "gather",
    "GNNIndexRow": "index_row",
}


def build_design(qonnx_model, edge_parallelism: int = 1) -> Design:
    """Walk the QONNX model into a :class:`Design` with ``edge_parallelism`` edges per clock."""
    from ticl_fpga.compile.convert import qonnx_to_layers
    from ticl_fpga.compile.hls4ml_ext.handlers import ConversionError

    try:
        hls_layers, _inputs, outputs, _state = qonnx_to_layers(qonnx_model)
    except ConversionError as exc:
        raise RtlError(f"QONNX graph cannot be converted: {exc}") from None
    tensors: dict[str, Tensor] = {}
    layers: list[Layer] = []
    inputs: dict[str, str] = {}
    for hl in hls_layers:
        cls = hl["class_name"]
        name = hl["name"]
        if cls == "Input":
            fx = hl["input_fixed"]
            shape = hl["input_shape"]
            if name == "edge_index":
                tensors[name] = Tensor(name, INDEX, 2, fx.exact())
                e_max = int(shape[1])
            else:
                dom = NODE if name == "x" else EDGE
                tensors[name] = Tensor(name, dom, int(shape[1]), fx.exact())
                if name == "x":
                    n_rows = int(shape[0])
            inputs[name] = name
            continue
        if cls == "GNNScatter":
            kind = "scatter_max" if hl["reduction"] == "max" else "scatter_sum"
        elif cls in _KIND:
            kind = _KIND[cls]
        else:
            raise RtlError(f"layer {name}: no RTL module for {cls}")
        out = Fixed(*hl["out_fixed"])
        ins = list(hl["inputs"])
        shape = hl["out_shape"]
        attrs: dict = {}
        if kind == "index_row":
            dom, feats = INDEX, 1
            attrs["row"] = int(hl["row"])
        elif kind == "gather":
            dom, feats = EDGE, int(shape[1])
        elif kind.startswith("scatter"):
            dom, feats = NODE, int(shape[1])
        else:
            dom = tensors[ins[0]].domain
            feats = int(shape[1]) if len(shape) > 1 else 1
        if kind == "dense":
            attrs.update(
                weight=np.asarray(hl["weight_data"], dtype=np.float64),
                bias=np.asarray(hl["bias_data"], dtype=np.float64),
            )
        if kind == "requant":
            attrs["sym"] = out.saturation == "SAT_SYM"
        tensors[name] = Tensor(name, dom, feats, out.exact(), producer=name)
        layers.append(Layer(name, kind, ins, name, attrs))
    for ly in layers:
        for t in ly.inputs:
            tensors[t].consumers.append(ly.name)
    p = int(edge_parallelism)
    if p < 1 or e_max % p:
        raise RtlError(f"edge parallelism {p} must be >= 1 and divide e_max = {e_max}")
    design = Design(
        n_rows=n_rows,
        e_max=e_max,
        p=p,
        index_bits=tensors["edge_index"].width,
        tensors=tensors,
        layers=layers,
        inputs=inputs,
        output=outputs[0],
    )
    _schedule(design)
    return design


def _first_stage(domain: str, after: int) -> int:
    """Smallest stage of ``domain`` (node: even, edge: odd) strictly after ``after``."""
    s = after + 1
    want = 0 if domain == NODE else 1
    return s if s % 2 == want else s + 1


def _schedule(d: Design) -> None:
    t = d.tensors
    for ly in d.layers:
        ins = [t[i] for i in ly.inputs]
        if ly.kind == "index_row":
            ly.stage = -1  # read from the edge_index memory by every edge stage that needs it
        elif ly.kind == "gather":
            ly.stage = _first_stage(EDGE, max(ins[0].stage, -1))
        elif ly.kind.startswith("scatter"):
            # accumulates during the edge stage of its input; its result is read by a later stage
            ly.stage = ins[0].stage
        else:
            dom = t[ly.output].domain
            data_stages = [
                x.stage if x.producer is None or not _is_scatter(d, x) else x.stage + 1 for x in ins
            ]
            ly.stage = max([_first_stage(dom, -1)] + data_stages)
        out = t[ly.output]
        out.stage = ly.stage
    # scatter results: computed in stage s (edge), readable from stage s + 1 (node)
    for ly in d.layers:
        out = t[ly.output]
        if ly.kind == "index_row":
            continue
        for cname in out.consumers:
            c = d.layer(cname)
            if ly.kind.startswith("scatter") or c.stage > ly.stage or c.kind == "gather":
                out.stored = True
            if c.kind == "gather" and cname not in out.gathered_by and ly.output == c.inputs[0]:
                out.gathered_by.append(cname)
        if ly.output == d.output and ly.kind.startswith("scatter"):
            raise RtlError("the graph output must be an edge tensor")
    for name in ("x", "edge_attr"):
        t[name].stored = True
    if t[d.output].domain != EDGE:
        raise RtlError(f"graph output {d.output} is not an edge tensor")
    stages = sorted(
        {ly.stage for ly in d.layers if ly.stage >= 0 and not ly.kind.startswith("scatter")}
    )
    d.stages = stages
    for ly in d.layers:
        if ly.kind.startswith("scatter"):
            readers = {d.layer(c).stage for c in t[ly.output].consumers}
            if len(readers) > 1:
                raise RtlError(
                    f"{ly.name}: scatter result read by several stages {sorted(readers)}"
                )


def _is_scatter(d: Design, x: Tensor) -> bool:
    return x.producer is not None and d.layer(x.producer).kind.startswith("scatter")


def clog2(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 2))))
