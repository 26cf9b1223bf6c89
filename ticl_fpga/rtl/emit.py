"""Write the streaming Verilog of a :class:`~ticl_fpga.rtl.graph.Design`.

Output (under ``rtl/``): ``gnn_top.v`` (controller, memories, one instance per layer and lane),
``layers/<dense layer>.v`` (da4ml adder graph + wrapper, one file per dense layer), ``lib/`` (the
parameterised modules of ``hls/verilog`` and da4ml's primitives) and ``files.f`` (compile order).
Every tensor inside a stage is a bus of ``lanes x features x width`` bits (lane 0 and feature 0
in the least significant bits); its *time* is the clock offset after the row was issued, and
inputs of a layer are delayed (``gnn_delay``) to the latest of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ticl_fpga.resources import verilog_dir
from ticl_fpga.rtl import RtlError
from ticl_fpga.rtl.dense_da import DenseRtl, build_dense, da_sources
from ticl_fpga.rtl.graph import INDEX, LATENCY, NODE, Design, Tensor

log = logging.getLogger(__name__)

TOP = "gnn_top"
CW = 16  # counter width (rows, beats, cycles of a stage)
#: Most gather (random read) ports of one ``gnn_gather`` instance: a node memory gathered by
#: more lanes is written as copies of at most this many ports each, all written alike (Yosys
#: 0.70's ``memory_libmap`` runs out of memory on one memory with 33 read ports, the 64 x 256,
#: P = 16 design's; it maps 9 by replicating the memory per read port, as the copies do).
MAX_GATHER_PORTS = 8


def verilog_lib_dir() -> Path:
    """``hls/verilog``: the parameterised layer modules (package data)."""
    return verilog_dir()


def ident(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


@dataclass
class StageInfo:
    stage: int
    index: int  # controller stage number (1-based)
    domain: str
    lanes: int
    issue: int  # rows/beats issued
    depth: int = 0  # time of the last write/output (pipeline depth)

    @property
    def length(self) -> int:
        return self.issue + self.depth + 1


@dataclass
class Emitted:
    """What :func:`emit_design` wrote: files and the schedule/manifest data."""

    files: list[str]  # compile order, relative to the rtl folder
    stages: list[StageInfo]
    layers: list[dict]
    modules: list[dict]
    ports: dict
    dense: dict[str, DenseRtl] = field(default_factory=dict)


class _Top:
    def __init__(self, d: Design, dense: dict[str, DenseRtl]):
        self.d = d
        self.dense = dense
        self.decl: list[str] = []
        self.body: list[str] = []
        self.max_delay = 0
        self.delays: dict[tuple, str] = {}
        self.layers: list[dict] = []

    def wire(self, name: str, width: int) -> str:
        self.decl.append(f"  wire [{width - 1}:0] {name};")
        return name

    def inst(self, module: str, name: str, params: dict, ports: dict) -> None:
        ps = ",\n".join(f"      .{k}({v})" for k, v in params.items())
        pp = ",\n".join(f"      .{k}({v})" for k, v in ports.items())
        head = f"  {module} #(\n{ps}\n  ) {name} (\n" if params else f"  {module} {name} (\n"
        self.body.append(f"{head}{pp}\n  );")


def _bits(t: Tensor, lanes: int) -> int:
    return lanes * t.feats * t.width


def emit_design(d: Design, out_dir: str | Path, *, cutoff: float | None = None) -> Emitted:
    """Write the Verilog of ``d`` under ``out_dir`` (created); returns the schedule and manifest."""
    out_dir = Path(out_dir)
    (out_dir / "layers").mkdir(parents=True, exist_ok=True)
    (out_dir / "lib").mkdir(parents=True, exist_ok=True)
    t = d.tensors
    dense: dict[str, DenseRtl] = {}
    for ly in d.layers:
        if ly.kind == "dense":
            kw = {} if cutoff is None else {"cutoff": cutoff}
            dense[ly.name] = build_dense(
                f"dense_{ident(ly.name)}",
                ly.attrs["weight"],
                ly.attrs["bias"],
                t[ly.inputs[0]].fixed,
                t[ly.output].fixed,
                **kw,
            )
    top = _Top(d, dense)
    stages = [
        StageInfo(
            s,
            i + 1,
            d.stage_domain(s),
            d.rows_per_clock(d.stage_domain(s)),
            d.beats(d.stage_domain(s)),
        )
        for i, s in enumerate(d.stages)
    ]
    by_stage = {si.stage: si for si in stages}
    _emit_stages(top, d, by_stage)
    text = _top_text(top, d, stages)
    files = []
    lib = verilog_lib_dir()
    for src in sorted(lib.glob("*.v")):
        (out_dir / "lib" / src.name).write_text(src.read_text())
        files.append(f"lib/{src.name}")
    for name, code in da_sources().items():
        (out_dir / "lib" / f"da4ml_{name}.v").write_text(code)
        files.append(f"lib/da4ml_{name}.v")
    for dr in dense.values():
        code = "\n".join(dr.files[m] for m in sorted(dr.files, key=lambda m: (m != dr.module, m)))
        (out_dir / "layers" / f"{dr.module}.v").write_text(code)
        files.append(f"layers/{dr.module}.v")
    (out_dir / f"{TOP}.v").write_text(text)
    files.append(f"{TOP}.v")
    (out_dir / "files.f").write_text("\n".join(files) + "\n")
    modules = [
        {
            "module": dr.module,
            "file": f"layers/{dr.module}.v",
            "kind": "dense",
            "n_in": dr.n_in,
            "n_out": dr.n_out,
            "latency": dr.latency,
            "pipeline_stages": dr.stages,
            "adders": dr.adders,
        }
        for dr in dense.values()
    ] + [
        {"module": p.stem, "file": f"lib/{p.name}", "kind": "library"}
        for p in sorted(lib.glob("*.v"))
    ]
    ports = _ports(d)
    return Emitted(files, stages, top.layers, modules, ports, dense)


def _ports(d: Design) -> dict:
    t = d.tensors
    x, ea, out = t["x"], t["edge_attr"], t[d.output]
    return {
        "x": {"feats": x.feats, "width": x.width, "frac": x.frac, "signed": x.fixed.signed},
        "edge_attr": {
            "feats": ea.feats,
            "width": ea.width,
            "frac": ea.frac,
            "signed": ea.fixed.signed,
        },
        "index_bits": d.index_bits,
        "out": {
            "feats": out.feats,
            "width": out.width,
            "frac": out.frac,
            "signed": out.fixed.signed,
        },
        "p": d.p,
        "n_rows": d.n_rows,
        "e_max": d.e_max,
        "edge_beats": d.edge_beats,
    }


# --------------------------------------------------------------------------- stages


def _emit_stages(top: _Top, d: Design, by_stage: dict[int, StageInfo]) -> None:
    t = d.tensors
    # memories of stored tensors (write ports are filled in by the producing stage)
    mem_write: dict[str, tuple[str, str, str]] = {}
    gather_ports: dict[str, list[str]] = {}  # node tensor -> gather layer names (P ports each)
    for ly in d.layers:
        if ly.kind == "gather":
            src = t[ly.inputs[0]]
            if src.producer is not None and d.layer(src.producer).kind.startswith("scatter"):
                raise RtlError(f"{ly.name}: gather of a scatter result needs a node layer between")
            gather_ports.setdefault(src.name, []).append(ly.name)
    wires: dict[tuple[int, str], tuple[str, int]] = {}  # (stage, tensor) -> (bus, time)
    gather_idx: dict[str, list[str]] = {k: [] for k in gather_ports}
    gather_out: dict[str, str] = {}
    scatter_in: dict[str, tuple[str, str, str]] = {}
    out_sig = None

    def read(stage: int, name: str) -> tuple[str, int]:
        """Bus and time of tensor ``name`` as seen by stage ``stage``."""
        key = (stage, name)
        if key in wires:
            return wires[key]
        ten = t[name]
        si = by_stage[stage]
        if ten.domain == INDEX:
            row = d.layer(name).attrs["row"]
            bus = "ei_src" if row == 0 else "ei_dst"
            wires[key] = (bus, LATENCY["read"])
            return wires[key]
        if not ten.stored:
            raise RtlError(f"stage {stage}: tensor {name} is neither computed here nor stored")
        if ten.domain != si.domain:
            raise RtlError(
                f"stage {stage}: tensor {name} ({ten.domain}) read by a {si.domain} stage"
            )
        wires[key] = (f"rd_{ident(name)}", LATENCY["read"])
        return wires[key]

    def at(stage: int, name: str, time: int) -> str:
        bus, t0 = read(stage, name)
        if time == t0:
            return bus
        if time < t0:
            raise RtlError(f"internal: {name} needed at {time} < {t0}")
        k = (stage, name, time)
        if k not in top.delays:
            lanes = by_stage[stage].lanes
            ten = t[name]
            width = (
                lanes
                * (1 if ten.domain == INDEX else ten.feats)
                * (d.index_bits if ten.domain == INDEX else ten.width)
            )
            q = top.wire(f"s{stage}_{ident(name)}_t{time}", width)
            top.inst(
                "gnn_delay",
                f"dly_s{stage}_{ident(name)}_t{time}",
                {"W": width, "D": time - t0},
                {"clk": "clk", "d": bus, "q": q},
            )
            top.delays[k] = q
        return top.delays[k]

    for s in d.stages:
        si = by_stage[s]
        L = si.lanes
        depth = 0
        for ly in d.stage_layers(s):
            out = t[ly.output]
            oname = f"s{s}_{ident(ly.output)}"
            info = {
                "layer": ly.name,
                "kind": ly.kind,
                "stage": si.index,
                "domain": si.domain,
                "lanes": L,
                "out_feats": out.feats,
                "out_type": out.fixed.cpp(),
            }
            if ly.kind == "dense":
                src = t[ly.inputs[0]]
                _, t0 = read(s, src.name)
                x = at(s, src.name, t0)
                dr = top.dense[ly.name]
                y = top.wire(oname, _bits(out, L))
                for lane in range(L):
                    top.inst(
                        dr.module,
                        f"u_{ident(ly.name)}_l{lane}",
                        {},
                        {
                            "clk": "clk",
                            "x": f"{x}[{(lane + 1) * src.feats * src.width - 1}:{lane * src.feats * src.width}]",
                            "y": f"{y}[{(lane + 1) * out.feats * out.width - 1}:{lane * out.feats * out.width}]",
                        },
                    )
                time = t0 + dr.latency
                info.update(
                    module=dr.module,
                    file=f"rtl/layers/{dr.module}.v",
                    latency=dr.latency,
                    in_feats=src.feats,
                    in_type=src.fixed.cpp(),
                    instances=L,
                )
            elif ly.kind == "relu":
                src = t[ly.inputs[0]]
                _, t0 = read(s, src.name)
                y = top.wire(oname, _bits(out, L))
                params = {"N": L * out.feats, "W": out.width, "S": int(out.fixed.signed)}
                top.inst(
                    "gnn_relu", f"u_{ident(ly.name)}", params, {"in": at(s, src.name, t0), "out": y}
                )
                time = t0 + LATENCY["relu"]
                info.update(module="gnn_relu", params=params, latency=0)
            elif ly.kind == "requant":
                src = t[ly.inputs[0]]
                _, t0 = read(s, src.name)
                y = top.wire(oname, _bits(out, L))
                params = {
                    "N": L * out.feats,
                    "WI": src.width,
                    "FI": src.frac,
                    "SI": int(src.fixed.signed),
                    "WO": out.width,
                    "FO": out.frac,
                    "SO": int(out.fixed.signed),
                    "SYM": int(ly.attrs.get("sym", False)),
                }
                top.inst(
                    "gnn_requant",
                    f"u_{ident(ly.name)}",
                    params,
                    {"clk": "clk", "in": at(s, src.name, t0), "out": y},
                )
                time = t0 + LATENCY["requant"]
                info.update(module="gnn_requant", params=params, latency=1)
            elif ly.kind == "concat":
                srcs = [t[n] for n in ly.inputs]
                t0 = max(read(s, x.name)[1] for x in srcs)
                y = top.wire(oname, _bits(out, L))
                params = {"L": L}
                ports = {}
                for k, x in enumerate(srcs, start=1):
                    params.update(
                        {
                            f"F{k}": x.feats,
                            f"W{k}": x.width,
                            f"FR{k}": x.frac,
                            f"S{k}": int(x.fixed.signed),
                        }
                    )
                    ports[f"in{k}"] = at(s, x.name, t0)
                if len(srcs) == 2:
                    params.update({"F3": 0, "W3": 1, "FR3": 0, "S3": 0})
                    ports["in3"] = "1'b0"
                for x in srcs:
                    if x.frac > out.frac:
                        raise RtlError(f"{ly.name}: input {x.name} has more fractional bits")
                params.update({"WO": out.width, "FO": out.frac})
                ports["out"] = y
                top.inst("gnn_concat", f"u_{ident(ly.name)}", params, ports)
                time = t0
                info.update(module="gnn_concat", params=params, latency=0)
            elif ly.kind == "gather":
                node, idx = t[ly.inputs[0]], ly.inputs[1]
                _, ti = read(s, idx)
                gather_idx[node.name].append(at(s, idx, ti))
                y = top.wire(oname, _bits(out, L))
                gather_out[ly.name] = y
                time = ti + LATENCY["gather"]
                info.update(
                    module="gnn_gather",
                    memory=f"mem_{ident(node.name)}",
                    latency=1,
                    params={
                        "N": d.n_rows,
                        "W": node.feats * node.width,
                        "NP": L,
                        "IW": d.index_bits,
                    },
                )
            elif ly.kind.startswith("scatter"):
                src, idx = t[ly.inputs[0]], ly.inputs[1]
                _, td = read(s, src.name)
                _, ti = read(s, idx)
                tt = max(td, ti)
                scatter_in[ly.name] = (at(s, src.name, tt), at(s, idx, tt), f"en_s{s}_t{tt}")
                top.max_delay = max(top.max_delay, tt)
                time = tt
                info.update(
                    module=f"gnn_{ly.kind}",
                    latency=1,
                    in_type=src.fixed.cpp(),
                    params=_scatter_params(d, ly, src, out),
                )
                depth = max(depth, tt)
                top.layers.append(info)
                continue
            else:  # index_row never belongs to a stage
                raise RtlError(f"{ly.name}: unexpected {ly.kind} in stage {s}")
            wires[(s, ly.output)] = (y, time)
            info["time"] = time
            top.layers.append(info)
            if out.stored:
                mem_write[ly.output] = (y, f"en_s{s}_t{time}", f"cnt_d{time}")
                depth = max(depth, time)
                top.max_delay = max(top.max_delay, time)
            if ly.output == d.output:
                out_sig = (y, f"en_s{s}_t{time}", f"cnt_d{time}")
                depth = max(depth, time)
                top.max_delay = max(top.max_delay, time)
        si.depth = depth
    top.mem_write = mem_write
    top.gather_ports = gather_ports
    top.gather_idx = gather_idx
    top.gather_out = gather_out
    top.scatter_in = scatter_in
    top.out_sig = out_sig
    if out_sig is None:
        raise RtlError("the graph output is not computed by any stage")


def _scatter_params(d: Design, ly, src: Tensor, out: Tensor) -> dict:
    p = {
        "MAX": int(ly.kind == "scatter_max"),
        "N": d.n_rows,
        "F": out.feats,
        "WI": src.width,
        "WO": out.width,
        "P": d.p,
        "IW": d.index_bits,
        "AW": CW,
    }
    if src.frac != out.frac:
        raise RtlError(f"{ly.name}: scatter changes fractional bits ({src.frac} -> {out.frac})")
    # max starts from 0: the converter only accepts unsigned inputs for it (SI = 0)
    p["SI"] = int(src.fixed.signed) if ly.kind == "scatter_sum" else 0
    return p


# --------------------------------------------------------------------------- top text


def _top_text(top: _Top, d: Design, stages: list[StageInfo]) -> str:
    t = d.tensors
    x, ea, out = t["x"], t["edge_attr"], t[d.output]
    P, IW = d.p, d.index_bits
    T = max(top.max_delay, 1)
    ns = len(stages)
    issue = "{" + ", ".join(f"{CW}'d{si.issue}" for si in reversed(stages)) + "}"
    length = "{" + ", ".join(f"{CW}'d{si.length}" for si in reversed(stages)) + "}"
    lines = [
        f"// {TOP}: streaming GNN edge classifier, written by ticl-fpga rtl build.",
        f"// Capacity {d.n_rows} node rows (the last one the padding sink) and {d.e_max} edges, "
        f"{P} edge(s) per clock, {ns} stages.",
        "// Load: node rows one per clock on in_x, edges P per clock on in_src/in_dst/in_edge_attr",
        "// (both while in_ready; inputs are double-buffered, so the next graph loads while this one",
        "// is processed); logits leave P per clock on out_data (beat out_beat).",
        f"module {TOP} (",
        "    input clk,",
        "    input rst,",
        "    output in_ready,",
        "    input in_node_valid,",
        f"    input [{x.feats * x.width - 1}:0] in_x,",
        "    input in_edge_valid,",
        f"    input [{P * IW - 1}:0] in_src,",
        f"    input [{P * IW - 1}:0] in_dst,",
        f"    input [{P * ea.feats * ea.width - 1}:0] in_edge_attr,",
        "    output out_valid,",
        f"    output [{CW - 1}:0] out_beat,",
        f"    output [{P * out.feats * out.width - 1}:0] out_data,",
        "    output done",
        ");",
        "  // ------------------------------------------------------------ controller",
        "  wire node_we, edge_we, issue, clear, lbank, cbank;",
        f"  wire [{CW - 1}:0] node_waddr, edge_waddr, cnt;",
        "  wire [7:0] stage;",
        "  gnn_controller #(",
        f"      .NS({ns}), .CW({CW}), .SW(8), .ISSUE({issue}), .LENGTH({length}),",
        f"      .NODE_BEATS({d.n_rows}), .EDGE_BEATS({d.edge_beats})",
        "  ) ctrl (",
        "      .clk(clk), .rst(rst), .in_node_valid(in_node_valid), .in_edge_valid(in_edge_valid),",
        "      .in_ready(in_ready), .node_we(node_we), .edge_we(edge_we), .node_waddr(node_waddr),",
        "      .edge_waddr(edge_waddr), .lbank(lbank), .cbank(cbank), .stage(stage), .cnt(cnt),",
        "      .issue(issue), .clear(clear),",
        "      .done(done)",
        "  );",
        "  // row counter, delayed: the row issued at cycle c is at time k in cycle c+k",
        f"  reg [{CW - 1}:0] cnt_sr[0:{T - 1}];",
        "  integer k;",
        "  always @(posedge clk) begin",
        "    cnt_sr[0] <= cnt;",
        f"    for (k = 1; k < {T}; k = k + 1) begin",
        "      cnt_sr[k] <= cnt_sr[k-1];",
        "    end",
        "  end",
        f"  wire [{CW - 1}:0] cnt_d0 = cnt;",
    ]
    for k in range(1, T + 1):
        lines.append(f"  wire [{CW - 1}:0] cnt_d{k} = cnt_sr[{k - 1}];")
    for si in stages:
        # each stage has its own valid chain: rows of the previous stage still in its delay
        # registers must not enable this stage's writes
        st = si.stage
        lines.append(f"  wire st{st} = (stage == 8'd{si.index});  // {si.domain} stage")
        lines.append(f"  reg [{T}:1] v_s{st};")
        lines.append("  always @(posedge clk)")
        lines.append(
            f"    v_s{st} <= {{v_s{st}[{T - 1}:1], issue && st{st}}};"
            if T > 1
            else f"    v_s{st} <= issue && st{st};"
        )
        lines.append(f"  wire en_s{st}_t0 = issue && st{st};")
        for k in range(1, T + 1):
            lines.append(f"  wire en_s{st}_t{k} = v_s{st}[{k}];")
    lines.append("  // ------------------------------------------------------------ edge_index")
    lines.append(f"  wire [{P * IW - 1}:0] ei_src, ei_dst;")
    lines.append(
        f"  gnn_edge_index #(.BEATS({d.edge_beats}), .P({P}), .IW({IW}), .AW({CW})) mem_edge_index (\n"
        "      .clk(clk), .we(edge_we), .wbank(lbank), .waddr(edge_waddr), .src_in(in_src),\n"
        "      .dst_in(in_dst), .rbank(cbank), .raddr(cnt), .src(ei_src), .dst(ei_dst)\n  );"
    )
    lines.append("  // ------------------------------------------------------------ stage wires")
    lines += top.decl
    lines.append("  // ------------------------------------------------------------ memories")
    mems = []
    for name, ten in t.items():
        if not ten.stored or ten.domain == INDEX:
            continue
        prod = d.layer(ten.producer) if ten.producer else None
        if prod is not None and prod.kind.startswith("scatter"):
            continue
        mems.append(name)
    for name in mems:
        ten = t[name]
        n = ident(name)
        # graph inputs are double-buffered: the next graph loads while this one is processed
        banks, wb, rb = 2, "lbank", "cbank"
        if name == "x":
            we, wa, wd = "node_we", "node_waddr", "in_x"
        elif name == "edge_attr":
            we, wa, wd = "edge_we", "edge_waddr", "in_edge_attr"
        else:
            wd, we, wa = top.mem_write[name]
            banks, wb, rb = 1, "1'b0", "1'b0"
        if ten.domain == NODE:
            w = ten.feats * ten.width
            gl = top.gather_ports.get(name, [])
            np_ = max(1, len(gl) * d.p)
            idx = top.gather_idx.get(name, [])
            idx_bus = "{" + ", ".join(reversed(idx)) + "}" if idx else f"{IW}'d0"
            gout = f"g_{n}"
            lines.append(f"  wire [{w - 1}:0] rd_{n};")
            lines.append(f"  wire [{np_ * w - 1}:0] {gout};")
            if np_ <= MAX_GATHER_PORTS:
                lines.append(
                    f"  gnn_gather #(.N({d.n_rows}), .W({w}), .NP({np_}), .IW({IW}), .AW({CW}), "
                    f".BANKS({banks})) mem_{n} (\n"
                    f"      .clk(clk), .we({we}), .wbank({wb}), .waddr({wa}), .wdata({wd}), "
                    f".rbank({rb}),\n"
                    f"      .raddr(cnt), .rdata(rd_{n}),\n"
                    f"      .idx({idx_bus}), .gdata({gout})\n  );"
                )
            else:
                # copies of the memory, each with MAX_GATHER_PORTS of the gather ports; the row
                # read port of the first one is used
                lines.append(f"  wire [{np_ * IW - 1}:0] gi_{n} = {idx_bus};")
                for c, lo in enumerate(range(0, np_, MAX_GATHER_PORTS)):
                    cp = min(MAX_GATHER_PORTS, np_ - lo)
                    rd = f"rd_{n}" if c == 0 else ""
                    lines.append(
                        f"  gnn_gather #(.N({d.n_rows}), .W({w}), .NP({cp}), .IW({IW}), "
                        f".AW({CW}), .BANKS({banks})) mem_{n}{f'_c{c}' if c else ''} (\n"
                        f"      .clk(clk), .we({we}), .wbank({wb}), .waddr({wa}), .wdata({wd}), "
                        f".rbank({rb}),\n"
                        f"      .raddr(cnt), .rdata({rd}),\n"
                        f"      .idx(gi_{n}[{(lo + cp) * IW - 1}:{lo * IW}]), "
                        f".gdata({gout}[{(lo + cp) * w - 1}:{lo * w}])\n  );"
                    )
            for j, gname in enumerate(gl):
                lanes = d.p
                lo = j * lanes * w
                lines.append(
                    f"  assign {top.gather_out[gname]} = {gout}[{lo + lanes * w - 1}:{lo}];"
                )
        else:
            w = d.p * ten.feats * ten.width
            lines.append(f"  wire [{w - 1}:0] rd_{n};")
            lines.append(
                f"  gnn_row_mem #(.DEPTH({d.edge_beats}), .W({w}), .AW({CW}), .BANKS({banks})) "
                f"mem_{n} (\n"
                f"      .clk(clk), .we({we}), .wbank({wb}), .waddr({wa}), .wdata({wd}), .rbank({rb}),\n"
                f"      .raddr(cnt), .rdata(rd_{n})\n  );"
            )
    lines.append("  // ------------------------------------------------------------ scatters")
    for ly in d.layers:
        if not ly.kind.startswith("scatter"):
            continue
        n = ident(ly.output)
        out_t = t[ly.output]
        data, idx, en = top.scatter_in[ly.name]
        params = _scatter_params(d, ly, t[ly.inputs[0]], out_t)
        ps = ", ".join(f".{k}({v})" for k, v in params.items())
        lines.append(f"  wire [{out_t.feats * out_t.width - 1}:0] rd_{n};")
        lines.append(
            f"  gnn_scatter #({ps}) u_{n} (\n"
            f"      .clk(clk), .clear(clear), .valid({en}), .idx({idx}), .data({data}),\n"
            f"      .raddr(cnt), .rdata(rd_{n})\n  );"
        )
    lines.append(
        "  // ------------------------------------------------------------ stage pipelines"
    )
    lines += top.body
    y, en, cnt = top.out_sig
    lines += [
        "  // ------------------------------------------------------------ output",
        f"  assign out_valid = {en};",
        f"  assign out_beat = {cnt};",
        f"  assign out_data = {y};",
        "endmodule",
        "",
    ]
    return "\n".join(lines)
