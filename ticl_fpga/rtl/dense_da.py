"""Dense layers as distributed-arithmetic adder graphs (da4ml), pipelined one row per clock.

``y = x W^T + b`` with constant quantized weights is traced symbolically with da4ml
(``FixedVariableArray``), which solves the constant matrix-vector product as a shared
shift-and-add graph (no multipliers; pruned weights cost nothing), and split into pipeline stages
(``to_pipeline``).  The sums are exact: da4ml keeps every bit, and the wrapper written here widens
each output to the layer's accumulator type (the one the hls4ml C simulation uses), so the result
is bit-identical.  da4ml packs its ports with each element's minimal width; the wrapper maps the
uniform ``n_in x W_in`` / ``n_out x W_acc`` buses of the streaming top to that packing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.errors import require
from ticl_fpga.rtl import RtlError

log = logging.getLogger(__name__)

#: da4ml latency cutoff per pipeline stage (in its adder-delay units; smaller = more stages).
DEFAULT_CUTOFF = 4.0


@dataclass
class DenseRtl:
    """Verilog of one dense layer and what the streaming top needs to know about it."""

    module: str
    files: dict[str, str]  # module name -> Verilog text (wrapper, da4ml pipeline and its stages)
    latency: int  # clock cycles from input row to output row
    n_in: int
    n_out: int
    adders: int  # shift-add operations in the adder graph
    stages: int


def _kif(t: Fixed) -> tuple[int, int, int]:
    k = int(t.signed)
    return k, t.width - t.frac - k, t.frac


def build_dense(
    module: str,
    weight: np.ndarray,
    bias: np.ndarray,
    data: Fixed,
    acc: Fixed,
    *,
    cutoff: float = DEFAULT_CUTOFF,
) -> DenseRtl:
    """Trace, optimise and pipeline ``x @ weight.T + bias``; write ``module`` (Verilog)."""
    require("da4ml")
    from da4ml.codegen.rtl.verilog import pipeline_logic_gen
    from da4ml.trace import FixedVariableArray, HWConfig, comb_trace, to_pipeline
    from da4ml.types import minimal_kif

    weight = np.asarray(weight, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64).reshape(-1)
    n_out, n_in = weight.shape
    k, i, f = _kif(data)
    x = FixedVariableArray.from_kif(
        np.full(n_in, k), np.full(n_in, i), np.full(n_in, f), hwconf=HWConfig(1, -1, -1)
    )
    y = x @ weight.T + bias
    comb = comb_trace(x, y)
    pipe = to_pipeline(comb, cutoff, verbose=False)
    core = f"{module}_core"
    files = pipeline_logic_gen(pipe, core, timescale=None)
    latency = len(pipe.solutions) + 1  # input register + one register per stage

    # input packing: element j occupies minimal_kif(inp_qint[j]) bits (0 when unused)
    in_parts = []
    for j, q in enumerate(pipe.inp_qint):
        kk, ii, ff = minimal_kif(q)
        w = kk + ii + ff
        if w <= 0:
            continue
        if ff != data.frac or w > data.width:
            raise RtlError(f"{module}: input {j} packed as {kk},{ii},{ff}, expected {data}")
        in_parts.append(f"x[{j * data.width + w - 1}:{j * data.width}]")
    in_bits = sum(sum(minimal_kif(q)) for q in pipe.inp_qint)
    # output unpacking: element j is a (kk+ii+ff)-bit code of LSB 2^-ff -> accumulator code
    lines = []
    pos = 0
    for j, q in enumerate(pipe.out_qint):
        kk, ii, ff = minimal_kif(q)
        w = kk + ii + ff
        lo, hi = j * acc.width, (j + 1) * acc.width - 1
        if w <= 0:
            lines.append(f"    assign y[{hi}:{lo}] = {acc.width}'d0;")
            continue
        if ff > acc.frac:
            raise RtlError(f"{module}: output {j} has {ff} fractional bits > accumulator {acc}")
        # da4ml's intervals can be looser than the accumulator's bound (fan_in * max|x| * max|w|
        # + max|b|), which holds every true value: the low bits of the two's complement are exact.
        sh = acc.frac - ff
        src = f"pk_out[{pos + w - 1}:{pos}]"
        ext = acc.width - sh - w
        if ext > 0:
            fill = f"{{{ext}{{pk_out[{pos + w - 1}]}}}}" if kk else f"{ext}'d0"
            src = f"{fill}, {src}"
        elif ext < 0:  # wider than the accumulator: keep the low (exact) bits
            src = f"pk_out[{pos + w - 1 + ext}:{pos}]"
        if sh:
            src = f"{src}, {sh}'d0"
        lines.append(f"    assign y[{hi}:{lo}] = {{{src}}};")
        pos += w
    out_bits = pos
    in_assign = (
        f"    assign pk_in = {{{', '.join(reversed(in_parts))}}};"
        if in_parts
        else "    assign pk_in = 1'b0;"
    )
    wrapper = f"""// {module}: dense layer y = x W^T + b ({n_in} -> {n_out}) as a da4ml distributed-arithmetic
// adder graph, {len(pipe.solutions)} pipeline stage(s), latency {latency} clocks, one row per clock.
// x: {n_in} x {data.width}-bit codes ({data.cpp()}), y: {n_out} x {acc.width}-bit codes ({acc.cpp()}).
module {module} (
    input clk,
    input [{n_in * data.width - 1}:0] x,
    output [{n_out * acc.width - 1}:0] y
);
    // verilator lint_off UNUSEDSIGNAL
    wire [{max(in_bits, 1) - 1}:0] pk_in;
    wire [{max(out_bits, 1) - 1}:0] pk_out;
    // verilator lint_on UNUSEDSIGNAL
{in_assign}
    {core} core (.clk(clk), .model_inp(pk_in), .model_out(pk_out));
{chr(10).join(lines)}
endmodule
"""
    adders = sum(len(s.ops) for s in pipe.solutions)
    return DenseRtl(
        module=module,
        files={module: wrapper, **files},
        latency=latency,
        n_in=n_in,
        n_out=n_out,
        adders=adders,
        stages=len(pipe.solutions),
    )


def da_sources() -> dict[str, str]:
    """da4ml's primitive Verilog modules (``shift_adder`` ...) used by the adder graphs."""
    from pathlib import Path

    da4ml = require("da4ml")
    src = Path(da4ml.__file__).parent / "codegen" / "rtl" / "verilog" / "source"
    return {p.stem: p.read_text() for p in sorted(src.glob("*.v"))}
