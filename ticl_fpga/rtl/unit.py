"""Verilate one module alone and stream vectors through it: unit tests of the layer modules
(requantization ties, dense adder graphs) against integer references, and debugging."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from ticl_fpga.rtl import RtlError
from ticl_fpga.rtl.sim import LINT_OFF, tool_env, verilator_root


def pack(codes: np.ndarray, width: int) -> list[str]:
    """Rows of integer codes -> hex strings of ``n x width`` bits (element 0 least significant)."""
    out = []
    for row in np.atleast_2d(np.asarray(codes, dtype=object)):
        v = 0
        for j, c in enumerate(row):
            v |= (int(c) & ((1 << width) - 1)) << (j * width)
        out.append(format(v, "x"))
    return out


def unpack(hexes: list[str], n: int, width: int, signed: bool) -> np.ndarray:
    rows = []
    for h in hexes:
        v = int(h, 16)
        row = []
        for j in range(n):
            c = (v >> (j * width)) & ((1 << width) - 1)
            if signed and c >> (width - 1):
                c -= 1 << width
            row.append(c)
        rows.append(row)
    return np.array(rows, dtype=np.int64)


def build_unit(
    work: str | Path,
    sources: list[Path],
    instance: str,
    in_bits: int,
    out_bits: int,
    latency: int,
    *,
    clocked: bool = True,
) -> Path:
    """``unit_top`` with ports ``in``/``out`` around ``instance`` (Verilog text using them)."""
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    top = (
        f"module unit_top (input clk, input [{in_bits - 1}:0] in, output [{out_bits - 1}:0] out);\n"
        f"{instance}\nendmodule\n"
    )
    (work / "unit_top.v").write_text(top)
    (work / "unit_config.h").write_text(
        f"#pragma once\nstatic const int IN_BITS = {in_bits};\n"
        f"static const int OUT_BITS = {out_bits};\nstatic const int LATENCY = {latency};\n"
    )
    shutil.copyfile(Path(__file__).with_name("unit_tb.cpp"), work / "unit_tb.cpp")
    cmd = [
        str(verilator_root() / "bin" / "verilator"),
        "--cc",
        "--exe",
        "--build",
        "-j",
        "2",
        *LINT_OFF,
        "--top-module",
        "unit_top",
        "--Mdir",
        str(work / "obj_dir"),
        "-CFLAGS",
        f"-I{work}",
        "-o",
        "tb",
        str(work / "unit_top.v"),
        *[str(s) for s in sources],
        str(work / "unit_tb.cpp"),
    ]
    res = subprocess.run(cmd, env=tool_env(), capture_output=True, text=True, cwd=work)
    if res.returncode != 0:
        raise RtlError("unit build failed: " + (res.stdout + res.stderr)[-800:])
    return work / "obj_dir" / "tb"


def run_unit(binary: Path, vectors: list[str]) -> list[str]:
    work = Path(binary).parent
    (work / "in.txt").write_text("\n".join(vectors) + "\n")
    subprocess.run([str(binary), str(work / "in.txt"), str(work / "out.txt")], check=True)
    return (work / "out.txt").read_text().split()
