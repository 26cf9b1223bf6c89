"""Expected latency and initiation interval of the streaming hls4ml project, in clock cycles.

Derived from the loops of ``hls/nnet_gnn.h`` as the templates configure them: every layer walks
its rows (nodes or edges) in a loop pipelined at a fixed II, P = ``edge_parallelism`` rows per
iteration, so a loop costs ``(trips - 1) * II + depth`` cycles (``trips = ceil(rows / P)``).  The
II are the ones the pragmas ask for; the pipeline depths are first-order estimates (one cycle per
memory read or write, a binary adder tree in the dense layers), which vendor synthesis replaces
with its own numbers.  The top function is a DATAFLOW region: a layer starts when all its inputs
are complete, so the latency of one graph is the longest path through the layer graph, and a new
graph can enter every ``max(layer latency)`` cycles when the processes overlap (``interval``);
``sequential`` is the latency if they do not (every layer after the previous one).

``write_latency_report(hls_model, out_dir)`` writes ``latency.json`` and ``latency.md`` into the
project; ``summary_line(out_dir)`` is the short form for the one-line build result.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

JSON_NAME = "latency.json"
MD_NAME = "latency.md"


def _ceil_div(a: int, b: int) -> int:
    return -(-int(a) // int(b))


def _log2_ceil(n: int) -> int:
    return max(0, math.ceil(math.log2(max(int(n), 1))))


def gather_read_ii(lanes: int) -> int:
    """II of the gather loop: P random row reads from feature banks with two ports each."""
    return _ceil_div(lanes, 2)


@dataclass
class Loop:
    """One pipelined loop: ``trips`` iterations started every ``ii`` cycles, ``depth`` deep."""

    label: str
    trips: int
    ii: int
    depth: int

    @property
    def cycles(self) -> int:
        return 0 if self.trips <= 0 else (self.trips - 1) * self.ii + self.depth


@dataclass
class LayerLatency:
    """Expected cycles of one layer (one process of the DATAFLOW region)."""

    name: str
    kind: str
    rows: int
    features: int
    lanes: int
    loops: list[Loop]
    inputs: list[str] = field(default_factory=list)
    start: int = 0

    @property
    def latency(self) -> int:
        return sum(loop.cycles for loop in self.loops)

    @property
    def ii(self) -> int:
        """Cycles per row group in the main loop (the streaming rate of this layer)."""
        return max((loop.ii for loop in self.loops), default=1)

    @property
    def finish(self) -> int:
        return self.start + self.latency

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "rows": self.rows,
            "features": self.features,
            "lanes": self.lanes,
            "loops": [dict(asdict(loop), cycles=loop.cycles) for loop in self.loops],
            "ii": self.ii,
            "latency": self.latency,
            "start": self.start,
            "finish": self.finish,
            "inputs": self.inputs,
        }


def layer_loops(
    kind: str,
    *,
    rows: int,
    lanes: int = 1,
    n_in: int = 1,
    reuse_factor: int = 1,
    n_nodes: int = 0,
) -> list[Loop]:
    """The loops of one graph layer (``rows`` = rows it writes, edges it reads for a scatter)."""
    trips = _ceil_div(rows, lanes)
    if kind == "GNNDense":
        # read, multiply, adder tree over n_in products plus the bias, write
        return [Loop("DenseRows", trips, reuse_factor, 2 + _log2_ceil(n_in + 1))]
    if kind == "GNNGather":
        return [Loop("GatherEdges", trips, gather_read_ii(lanes), 2)]
    if kind == "GNNScatter":
        # edges: read-modify-write with forwarding; merge: P partials per node, one node per clock
        return [
            Loop("ScatterEdges", trips, 1, 3),
            Loop("ScatterMerge", n_nodes, 1, 2 + _log2_ceil(lanes)),
        ]
    if kind == "GNNRequant":
        return [Loop("RequantRows", trips, 1, 2)]  # round half to even, then saturate
    if kind == "GNNRelu":
        return [Loop("ReluRows", trips, 1, 1)]
    if kind == "GNNConcat":
        return [Loop("ConcatRows", trips, 1, 1)]
    if kind == "GNNIndexRow":
        return [Loop("IndexRowEdges", trips, 1, 1)]
    raise ValueError(f"no latency model for layer kind {kind!r}")


def _rows_features(shape) -> tuple[int, int]:
    from ticl_fpga.compile.hls4ml_ext.layers import rows_and_features

    return rows_and_features(shape)


def model_latency(hls_model) -> list[LayerLatency]:
    """Per-layer expected cycles of an hls4ml ``ModelGraph`` of graph layers, scheduled ASAP."""
    producer: dict[str, str] = {}
    out: dict[str, LayerLatency] = {}
    order: list[LayerLatency] = []
    for layer in hls_model.get_layers():
        for o in layer.outputs:
            producer[o] = layer.name
        if layer.class_name == "Input":
            continue
        lanes = int(layer.get_attr("edge_parallelism", 1))
        rows, feats = _rows_features(layer.get_output_variable().shape)
        kw: dict = {"rows": rows, "lanes": lanes}
        if layer.class_name == "GNNScatter":
            data = layer.get_input_variable(layer.inputs[0])
            kw["rows"] = _rows_features(data.shape)[0]
            kw["n_nodes"] = rows
        elif layer.class_name == "GNNIndexRow":
            kw["rows"] = int(layer.get_input_variable().shape[-1])
        elif layer.class_name == "GNNDense":
            kw["n_in"] = int(layer.get_attr("weight_data").shape[1])
            kw["reuse_factor"] = int(layer.get_attr("reuse_factor", 1))
        inputs = [producer[i] for i in layer.inputs if i in producer]
        ll = LayerLatency(
            name=layer.name,
            kind=layer.class_name,
            rows=kw["rows"],
            features=feats,
            lanes=lanes,
            loops=layer_loops(layer.class_name, **kw),
            inputs=inputs,
        )
        ll.start = max((out[i].finish for i in inputs if i in out), default=0)
        out[layer.name] = ll
        order.append(ll)
    return order


def fanout(layers: list[LayerLatency]) -> dict[str, int]:
    """Layers whose output array is read by more than one process (non-canonical dataflow)."""
    readers: dict[str, int] = {}
    for ll in layers:
        for i in set(ll.inputs):
            readers[i] = readers.get(i, 0) + 1
    return {k: v for k, v in readers.items() if v > 1}


def latency_report(hls_model) -> dict:
    """The report as a JSON-able dict: per-layer loops and cycles, totals, assumptions."""
    layers = model_latency(hls_model)
    cfg = hls_model.config
    clock = float(cfg.get_config_value("ClockPeriod") or 0.0)
    lanes = sorted({ll.lanes for ll in layers})
    total = max((ll.finish for ll in layers), default=0)
    slowest = max(layers, key=lambda ll: ll.latency) if layers else None
    interval = slowest.latency if slowest else 0
    sequential = sum(ll.latency for ll in layers)
    multi = fanout(layers)
    return {
        "clock_period_ns": clock,
        "edge_parallelism": lanes[0] if len(lanes) == 1 else lanes,
        "pipeline_style": str(cfg.pipeline_style),
        "layers": [ll.as_dict() for ll in layers],
        "total": {
            "latency_cycles": total,
            "latency_ns": round(total * clock, 3),
            "interval_cycles": interval,
            "interval_ns": round(interval * clock, 3),
            "bottleneck": slowest.name if slowest else None,
            "sequential_cycles": sequential,
        },
        "fanout": multi,
        "assumptions": [
            "loop cycles = (trips - 1) * II + depth, trips = ceil(rows / edge_parallelism)",
            "II as requested by the pragmas; depths are first-order estimates, not synthesis results",
            "latency = longest path through the layer graph (a layer starts when its inputs are done)",
            "interval = slowest layer, if the DATAFLOW processes overlap; sequential = sum of layers",
            f"{len(multi)} arrays are read by more than one process: Vitis HLS's dataflow checker "
            "reports them, and where it does not overlap those processes the interval is the "
            "sequential figure",
        ],
    }


def _markdown(report: dict) -> str:
    t = report["total"]
    lines = [
        "# Expected latency (clock cycles)",
        "",
        f"edge_parallelism {report['edge_parallelism']}, clock {report['clock_period_ns']} ns, "
        f"top function {report['pipeline_style']}.",
        "",
        f"- latency of one graph: **{t['latency_cycles']} cycles** ({t['latency_ns']} ns)",
        f"- initiation interval: **{t['interval_cycles']} cycles** ({t['interval_ns']} ns), "
        f"set by {t['bottleneck']}",
        f"- without overlap between layers: {t['sequential_cycles']} cycles",
        "",
        "| layer | kind | rows x features | lanes | loops (trips x II + depth) | latency | start | finish |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for ly in report["layers"]:
        loops = ", ".join(
            f"{lp['label']} {lp['trips']}x{lp['ii']}+{lp['depth']}" for lp in ly["loops"]
        )
        lines.append(
            f"| {ly['name']} | {ly['kind']} | {ly['rows']} x {ly['features']} | {ly['lanes']} | "
            f"{loops} | {ly['latency']} | {ly['start']} | {ly['finish']} |"
        )
    lines += ["", "Assumptions:", ""] + [f"- {a}" for a in report["assumptions"]] + [""]
    return "\n".join(lines)


def write_latency_report(hls_model, out_dir: str | Path) -> dict:
    """Write ``latency.json`` and ``latency.md`` into the project folder; return the report."""
    from ticl_fpga.io import write_json, write_text

    out_dir = Path(out_dir)
    report = latency_report(hls_model)
    write_json(out_dir / JSON_NAME, report)
    write_text(out_dir / MD_NAME, _markdown(report))
    t = report["total"]
    log.info(
        "expected latency %d cycles, interval %d cycles (%s)",
        t["latency_cycles"],
        t["interval_cycles"],
        t["bottleneck"],
    )
    return report


def summary_line(out_dir: str | Path) -> str | None:
    """``expected latency L cycles, II I cycles`` from the project's report, if it has one."""
    path = Path(out_dir) / JSON_NAME
    if not path.is_file():
        return None
    t = json.loads(path.read_text())["total"]
    return (
        f"expected latency {t['latency_cycles']} cycles, II {t['interval_cycles']} cycles "
        f"(per layer: {MD_NAME})"
    )
