"""``ticl-fpga rtl build``: QONNX graph -> streaming Verilog + Verilator co-simulation + report.

Output folder::

    gnn.qonnx.onnx  the QONNX model the Verilog implements
    rtl/            gnn_top.v, layers/dense_*.v (da4ml), lib/*.v (hls/verilog, da4ml primitives), files.f
    manifest.json   modules, layers (kind, stage, lanes, widths, parameters), memories, stages, ports
    sim/            Verilator testbench and binary (obj_dir/tb), the last simulation's vectors
    csim/           the hls4ml C simulation used for the comparison (unless disabled)
    report.json     checks (RTL == exact QONNX reference == QONNX float32 == C simulation),
    report.md       measured latency / initiation interval in clock cycles, the schedule

Every output is compared bit for bit on all ``e_max`` edge rows of every padded graph (padding
included); the check graphs are dataset graphs that fit the capacity, else the edge-case graphs
``hls build`` generates (:func:`ticl_fpga.compile.build.generated_graphs`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ticl_fpga.rtl import RtlError

log = logging.getLogger(__name__)

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
MANIFEST = "manifest.json"
#: Output-folder kind (ticl_fpga.io marker): a rebuild replaces only its own earlier output.
KIND = "rtl-build"


@dataclass
class CheckGraphs:
    """Padded graphs on the input grid, with names."""

    names: list[str]
    inputs: list[list[np.ndarray]]  # [x, edge_index, edge_attr] per graph (values on the grid)
    e_real: list[int]
    golden_codes: list[np.ndarray | None]


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")
    tmp.replace(path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def check_graphs_from(
    qonnx_model, graphs=None, *, on_grid: bool = False, n: int = 8
) -> CheckGraphs:
    """Dataset graphs (raw features, or ``on_grid``) that fit, else the generated edge cases."""
    from ticl_fpga.compile.build import generated_graphs, golden_from_graphs, input_types_of
    from ticl_fpga.compile.to_qonnx import model_metadata

    capacity, _ = model_metadata(qonnx_model)
    if graphs is None:
        types = input_types_of(qonnx_model)
        dims = (
            int(qonnx_model.get_tensor_shape("x")[1]),
            int(qonnx_model.get_tensor_shape("edge_attr")[1]),
        )
        graphs, on_grid = generated_graphs(capacity, types, dims), True
        names = [f"generated{k}" for k in range(len(graphs))]
    else:
        graphs = list(graphs)
        names = None
    from ticl_fpga.compile.predict import _arrays

    fitting = [g for g in graphs if _fits(_arrays(g), capacity)][:n]
    if not fitting:
        raise RtlError(
            f"no check graph fits the capacity n_max={capacity.n_max}, e_max={capacity.e_max}"
        )
    golden = golden_from_graphs(qonnx_model, fitting, on_grid=on_grid)
    names = names[: len(fitting)] if names else [f"graph{k}" for k in range(len(fitting))]
    e_real = [int(_arrays(g)[1].shape[1]) for g in fitting]
    return CheckGraphs(names, golden["inputs"], e_real, [None] * len(fitting))


def _fits(arrays, capacity) -> bool:
    x, ei, _ea, _ = arrays
    return x.shape[0] <= capacity.n_max and ei.shape[1] <= capacity.e_max


def check_graphs_from_golden(vectors) -> CheckGraphs:
    """The graphs of a golden case (:func:`ticl_fpga.golden.vectors.load_case`) with their codes."""
    names, inputs, e_real, codes = [], [], [], []
    for name, g in vectors.graphs.items():
        p = vectors.padded(g)
        names.append(name)
        inputs.append([p.x, p.edge_index, p.edge_attr])
        e_real.append(g.n_edges)
        codes.append(np.asarray(g.logit_code, dtype=np.int64))
    return CheckGraphs(names, inputs, e_real, codes)


def _codes(values: np.ndarray, lsb: float, what: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64) / lsb
    c = np.round(v)
    if not np.array_equal(c, v):
        raise RtlError(f"{what}: values are not on the grid of LSB {lsb:g}")
    return c.astype(np.int64)


def rtl_build(
    qonnx_model,
    out_dir: str | Path,
    *,
    edge_parallelism: int = 1,
    checks: CheckGraphs | None = None,
    csim: bool = True,
    jobs: int = 2,
    cutoff: float | None = None,
    source: str = "<qonnx>",
) -> dict:
    """Write the Verilog of ``qonnx_model``, simulate it on ``checks`` and write the report.

    Returns the report (``report.json``); ``report["ok"]`` is False if any output differs.
    """
    from ticl_fpga.compile.to_qonnx import load_qonnx
    from ticl_fpga.io import atomic_path

    model = load_qonnx(qonnx_model)
    with atomic_path(Path(out_dir), kind=KIND) as tmp:
        tmp.mkdir()
        report = _build_into(
            model,
            tmp,
            edge_parallelism=edge_parallelism,
            checks=checks,
            csim=csim,
            jobs=jobs,
            cutoff=cutoff,
            source=source,
        )
    return report


def _build_into(model, out_dir: Path, *, edge_parallelism, checks, csim, jobs, cutoff, source):
    from ticl_fpga.compile.reference import ExactGraph
    from ticl_fpga.compile.to_qonnx import execute_qonnx, model_metadata
    from ticl_fpga.rtl.emit import emit_design
    from ticl_fpga.rtl.graph import build_design
    from ticl_fpga.rtl.sim import build_sim, run_sim

    t_start = time.perf_counter()
    capacity, _ = model_metadata(model)
    model.save(str(out_dir / "gnn.qonnx.onnx"))
    design = build_design(model, edge_parallelism)
    emitted = emit_design(design, out_dir / "rtl", cutoff=cutoff)
    manifest = make_manifest(design, emitted, capacity, source)
    _write_json(out_dir / MANIFEST, manifest)
    t_emit = time.perf_counter()
    binary = build_sim(out_dir / "rtl", out_dir / "sim", emitted.ports, jobs=jobs)
    t_verilate = time.perf_counter()

    checks = checks or check_graphs_from(model)
    types = {k: v for k, v in manifest["types"].items()}
    lsb_x, lsb_e, lsb_o = (2.0 ** -types[k]["frac"] for k in ("x", "edge_attr", "logits"))
    sim_in = [
        (_codes(x, lsb_x, "x"), np.asarray(ei, dtype=np.int64), _codes(ea, lsb_e, "edge_attr"))
        for x, ei, ea in checks.inputs
    ]
    t0 = time.perf_counter()
    res = run_sim(binary, sim_in, out_dir / "sim")
    t_sim = time.perf_counter() - t0
    rtl = res.codes

    ref = ExactGraph(model)
    hls_expected = None
    paths: dict[str, list[np.ndarray]] = {
        "exact QONNX reference": [
            _codes(ref.logits(*g), lsb_o, "exact logits") for g in checks.inputs
        ],
        "QONNX (float32)": [
            _codes(np.asarray(execute_qonnx(model, *g)).reshape(-1), lsb_o, "QONNX logits")
            for g in checks.inputs
        ],
    }
    if csim:
        from ticl_fpga.compile.build import HlsBuildConfig, build_hls
        from ticl_fpga.compile.capacity import PaddedGraph
        from ticl_fpga.golden.check import csim_logits

        p_hls = design.p if design.p & (design.p - 1) == 0 and design.p <= 64 else 1
        cfg = HlsBuildConfig(capacity=capacity, edge_parallelism=p_hls, trace=False, synth=False)
        hls_model = build_hls(model, cfg, out_dir / "csim")
        hls_expected = _hls_expectation(out_dir / "csim", p_hls)
        padded = [PaddedGraph(x, ei, ea, x.shape[0], ei.shape[1]) for x, ei, ea in checks.inputs]
        paths["C simulation"] = [
            _codes(v, lsb_o, "C simulation logits") for v in csim_logits(hls_model, padded)
        ]
    if any(c is not None for c in checks.golden_codes):
        paths["golden codes"] = checks.golden_codes
    comparisons = {}
    mismatches = []
    for path, outs in paths.items():
        n_bad = 0
        n_cmp = 0
        for k, o in enumerate(outs):
            if o is None:
                continue
            o = np.asarray(o).reshape(-1)
            got = rtl[k][: o.size]
            diff = int((got != o).sum())
            n_cmp += o.size
            if diff:
                n_bad += 1
                mismatches.append(
                    {
                        "graph": checks.names[k],
                        "path": path,
                        "edges_differing": diff,
                        "first_edge": int(np.flatnonzero(got != o)[0]),
                    }
                )
        comparisons[path] = {
            "graphs": len([o for o in outs if o is not None]),
            "values": n_cmp,
            "graphs_differing": n_bad,
        }
    lat, ii = res.latency, res.interval
    expected = manifest["schedule"]
    report = {
        "ok": not mismatches,
        "source": source,
        "capacity": {"n_max": capacity.n_max, "e_max": capacity.e_max},
        "edge_parallelism": design.p,
        "graphs": len(checks.inputs),
        "edges_compared_per_graph": design.e_max,
        "comparisons": comparisons,
        "mismatches": mismatches[:50],
        "cycles": {
            # latency of a graph entering an idle design (later graphs also wait for the stages)
            "latency": int(lat[0]),
            "latency_min": int(lat.min()),
            "latency_max": int(lat.max()),
            # steady state: graphs back to back (the second graph only waits for the first load)
            "interval": int(ii.max()) if ii.size else None,
            "interval_min": int(ii.min()) if ii.size else None,
            "interval_max": int(ii.max()) if ii.size else None,
            "expected_latency": expected["latency"],
            "expected_interval": expected["interval"],
            "first_output": int((res.first_out - res.start).min()),
        },
        "hls_expected": hls_expected,
        "stages": manifest["stages"],
        "timing_s": {
            "emit": round(t_emit - t_start, 2),
            "verilate": round(t_verilate - t_emit, 2),
            "simulate": round(t_sim, 3),
        },
    }
    _write_json(out_dir / REPORT_JSON, report)
    _write_text(out_dir / REPORT_MD, report_md(report, manifest))
    log.info(
        "RTL %s: %d graphs, latency %d cycles, II %s cycles",
        "bit-exact" if report["ok"] else "DIFFERS",
        len(checks.inputs),
        int(lat[0]),
        report["cycles"]["interval"],
    )
    return report


def _hls_expectation(project: Path, p: int) -> dict | None:
    """The HLS project's expected cycles (``latency.json`` of :mod:`ticl_fpga.compile.latency`)."""
    path = project / "latency.json"
    if not path.is_file():
        return None
    total = json.loads(path.read_text()).get("total", {})
    return {
        "edge_parallelism": p,
        "latency": total.get("latency_cycles"),
        "interval": total.get("interval_cycles"),
        "sequential": total.get("sequential_cycles"),
    }


def make_manifest(design, emitted, capacity, source: str) -> dict:
    """What per-layer synthesis and the cost model need: modules, layers, widths, sizes."""
    from ticl_fpga.rtl.emit import MAX_GATHER_PORTS

    t = design.tensors
    load = max(design.n_rows, design.edge_beats)
    stages = [
        {
            "index": s.index,
            "domain": s.domain,
            "lanes": s.lanes,
            "rows_issued": s.issue,
            "pipeline_depth": s.depth,
            "cycles": s.length,
        }
        for s in emitted.stages
    ]
    mems = []
    for name, ten in t.items():
        if not ten.stored or ten.domain == "index":
            continue
        rows = design.n_rows if ten.domain == "node" else design.e_max
        scatter = ten.producer is not None and design.layer(ten.producer).kind.startswith("scatter")
        mems.append(
            {
                "tensor": name,
                "domain": ten.domain,
                "rows": rows,
                "feats": ten.feats,
                "width": ten.width,
                "bits": rows * ten.feats * ten.width * (design.p if scatter else 1),
                "kind": "scatter memories (one per lane, with live bits)"
                if scatter
                else ("node memory" if ten.domain == "node" else "edge memory"),
                "module": (
                    "gnn_scatter"
                    if scatter
                    else "gnn_gather"
                    if ten.domain == "node"
                    else "gnn_row_mem"
                ),
                "gather_ports": len(ten.gathered_by) * design.p,
                # gnn_gather instances holding the tensor (emit.MAX_GATHER_PORTS ports each)
                "copies": max(1, -(-len(ten.gathered_by) * design.p // MAX_GATHER_PORTS))
                if ten.domain == "node" and not scatter
                else 1,
            }
        )
    types = {}
    for key, name in (("x", "x"), ("edge_attr", "edge_attr"), ("logits", design.output)):
        f = t[name].fixed
        types[key] = {"cpp": f.cpp(), "signed": f.signed, "width": f.width, "frac": f.frac}
    compute = sum(s.length for s in emitted.stages)
    return {
        "format": 1,
        "source": source,
        "top": "gnn_top",
        "top_file": "rtl/gnn_top.v",
        "files": [f"rtl/{f}" for f in emitted.files],
        "capacity": {"n_max": capacity.n_max, "e_max": capacity.e_max, "node_rows": design.n_rows},
        "edge_parallelism": design.p,
        "ports": emitted.ports,
        "types": types,
        "schedule": {
            "load_cycles": load,
            "stage_cycles": compute,
            "latency": load + compute,
            "interval": max(compute + 1, load),
            "note": "load (node rows and edge beats in parallel), one idle clock, then the stages "
            "one after the other; the inputs are double-buffered, so the next graph loads while "
            "the stages run and a new graph starts every max(stages + 1, load) clocks",
        },
        "stages": stages,
        "layers": emitted.layers,
        "memories": mems,
        "modules": [{**m, "file": f"rtl/{m['file']}"} for m in emitted.modules],
    }


def report_md(report: dict, manifest: dict) -> str:
    c = report["cycles"]
    lines = [
        "# RTL build report",
        "",
        f"Source: `{report['source']}`; capacity {report['capacity']['n_max']} nodes (+1 sink row) "
        f"x {report['capacity']['e_max']} edges; {report['edge_parallelism']} edge(s) per clock.",
        "",
        f"**{'Bit-exact' if report['ok'] else 'MISMATCH'}**: Verilator simulation of `rtl/gnn_top.v` "
        f"on {report['graphs']} padded graphs, all {report['edges_compared_per_graph']} edge rows "
        "of each compared with:",
        "",
        "| path | graphs | values | graphs differing |",
        "|---|---|---|---|",
    ]
    for path, r in report["comparisons"].items():
        lines.append(f"| {path} | {r['graphs']} | {r['values']} | {r['graphs_differing']} |")
    lines += [
        "",
        "## Cycles (measured in simulation)",
        "",
        "| quantity | measured | expected from the schedule |",
        "|---|---|---|",
        f"| latency, first input beat to last output, idle design (cycles) | {c['latency']} | "
        f"{c['expected_latency']} |",
        f"| initiation interval, graphs back to back, steady state (cycles) | {c['interval']} | "
        f"{c['expected_interval']} |",
        f"| latency of queued graphs (cycles) | {c['latency_min']}-{c['latency_max']} | |",
        f"| first output after the first input beat (cycles) | {c['first_output']} | |",
        "",
    ]
    h = report.get("hls_expected")
    if h:
        lines += [
            f"The streaming hls4ml project at P = {h['edge_parallelism']} expects "
            f"{h['latency']} cycles of latency and a new graph every {h['interval']} cycles "
            f"(its layers overlap in a DATAFLOW region; {h['sequential']} cycles if they ran one "
            "after another, as the RTL stages do); estimates from trip counts and pragma IIs "
            "(`csim/latency.md`), not a measurement.",
            "",
        ]
    lines += [
        "## Stages",
        "",
        "| stage | domain | lanes | rows issued | pipeline depth | cycles |",
        "|---|---|---|---|---|---|",
        f"| load | node rows + edge beats | | | | {manifest['schedule']['load_cycles']} |",
    ]
    for s in report["stages"]:
        lines.append(
            f"| {s['index']} | {s['domain']} | {s['lanes']} | {s['rows_issued']} | "
            f"{s['pipeline_depth']} | {s['cycles']} |"
        )
    dense = [m for m in manifest["modules"] if m["kind"] == "dense"]
    lines += [
        "",
        "## Dense layers (da4ml distributed arithmetic, one row per clock per lane)",
        "",
        "| module | in -> out | pipeline stages | latency | shift-add ops |",
        "|---|---|---|---|---|",
    ]
    for m in dense:
        lines.append(
            f"| `{m['module']}` | {m['n_in']} -> {m['n_out']} | {m['pipeline_stages']} | "
            f"{m['latency']} | {m['adders']} |"
        )
    if report["mismatches"]:
        lines += ["", "## Mismatches", ""]
        for m in report["mismatches"]:
            lines.append(
                f"- {m['graph']}: differs from {m['path']} on {m['edges_differing']} edges "
                f"(first edge {m['first_edge']})"
            )
    lines.append("")
    return "\n".join(lines)
