"""Firmware cost of the default model: Yosys resources, cycles, events/s, and a capacity x
parallelism table beside the literature's anchors.

What is measured and what is derived (every row says which):

* **dense layers**: ``synth_xilinx`` of the RTL backend's da4ml adder graphs for the default spec
  (w6a6, pruned to :data:`SPARSITY`).  They do not depend on the capacity; an edge layer is
  instanced once per lane (``P``), so each table row multiplies the same measured units.
* **graph layers** (gathers, scatters, row memories) and the **glue** (small layers, delays,
  controller, wiring): synthesised for every row (``measure_all``, cached by unit), within a
  per-row budget; a unit left over is *scaled* from the default's by size (rows x features x
  bits x lanes) and named in the table's notes.
* **cycles**: every row's latency and initiation interval are measured in Verilator
  (:func:`verilator_cycles`: the row's RTL with ``rtl/tb.cpp``, random graphs back to back)
  within a per-row budget; a row whose build does not finish keeps its emitted schedule
  (``rtl build``'s manifest), labelled so.
* **events/s per FPGA at 200 MHz**: ``200e6 / II`` graphs per second, divided by the graphs one
  event needs: two endcaps at PU 0 (each fits), and at PU 200 the eta windows of the capacity
  (counted on synthetic PU-200 events, with the edges no window holds).
* the **16-bit dense** model of the same architecture cannot be synthesised here (its adder
  graphs are tens of times larger); its dense-layer LUTs come from the fitted cost model
  (``rtl/cost_model.yaml``), as do the pruned model's for the ratio quoted beside them.

Resources are Yosys ``synth_xilinx`` cell counts before place and route, not Vivado results;
logic depth is a timing proxy, never an Fmax.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CLOCK_HZ = 200e6
SPARSITY = 0.80
RECIPE = "w6a6"
CAPACITIES = ((28, 56), (64, 256), (128, 512))
PARALLELISM = (1, 4, 16)
DEFAULT = (64, 256, 1)
#: Rows with this many lanes or more synthesise their glue per module (``units_from_rtl``'s
#: ``hierarchical_glue``): one Yosys run of the 64 x 256, P = 4 glue took 10-18 minutes and the
#: P = 16 glue has about four times its logic.
HIERARCHICAL_GLUE_P = 16
#: The row on which per-module glue is compared with the flat glue synthesis (both measured).
GLUE_CHECK_ROW = (64, 256, 4)

#: Device classes (AMD UltraScale+ data sheet totals): LUT, FF, DSP, BRAM (36 Kb).
DEVICES = {
    "VU9P": {"lut": 1_182_240, "ff": 2_364_480, "dsp": 6_840, "bram": 2_160},
    "VU13P": {"lut": 1_728_000, "ff": 3_456_000, "dsp": 12_288, "bram": 2_688},
}

#: Elabd et al. 2022, "Graph Neural Networks for Charged Particle Tracking on FPGAs", Front. Big
#: Data 5:828666: the interaction network in hls4ml, ap_fixed<14,7>.  Their resource and latency
#: tables could not be retrieved here: the stored copies of the paper (frontiersin.org text page,
#: arXiv/catalogue listings) hold its abstract only, and its code (abdelabd/manual_GNN_conversion)
#: no result tables; so only the design points are listed, and no number is quoted unread.
ANCHORS = [
    {
        "design": "Elabd et al. 2022, throughput-optimised (pipelined)",
        "graph": "28 x 56",
        "precision": "ap_fixed<14,7>",
        "numbers": "not retrieved (only the paper's abstract and code were reachable here)",
    },
    {
        "design": "Elabd et al. 2022, resource-optimised (dataflow)",
        "graph": "448 x 896",
        "precision": "ap_fixed<14,7>",
        "numbers": "not retrieved (only the paper's abstract and code were reachable here)",
    },
]

_SIZE_SKIP = {"IW", "AW", "CW", "SI", "SO", "SYM", "S", "FI", "FO", "MAX"}


def _size(params: dict[str, int]) -> float:
    """Size of a graph module instance for scaling: product of its size parameters."""
    out = 1.0
    for k, v in params.items():
        if k not in _SIZE_SKIP:
            out *= max(int(v), 1)
    return out


# --------------------------------------------------------------------------- models


def default_pruned_model(sparsity: float = SPARSITY, recipe: str = RECIPE, seed: int = 0):
    """The default spec, quantized with ``recipe``, magnitude-pruned to ``sparsity`` (no training:
    resources depend on shapes, bits and non-zeros, not on what the weights learned)."""
    from ticl_fpga.rtl.bench import default_quant_model

    # pruned before calibration, as rtl.bench does (pruning an already pruned model to a lower
    # sparsity would keep the higher one)
    return default_quant_model(recipe, seed=seed, sparsity=sparsity).eval()


_DENSE_MEMO: dict[tuple, Any] = {}


def _memo_build_dense(orig):
    """``build_dense`` remembered by its inputs: the dense layers are the same in every row."""

    def build(module, weight, bias, data, acc, **kw):
        key = (
            module,
            np.asarray(weight).tobytes(),
            np.asarray(bias).tobytes(),
            repr(data),
            repr(acc),
            tuple(sorted(kw.items())),
        )
        if key not in _DENSE_MEMO:
            _DENSE_MEMO[key] = orig(module, weight, bias, data, acc, **kw)
        return _DENSE_MEMO[key]

    return build


#: The firmware stage's time budgets (seconds; 0 = cached results only), settable from the
#: environment: the default design's units, each other row's units, each Verilator build, the
#: 16-bit cost-model check, the default recipe's dense layers.
ENV_BUDGETS = {
    "TICL_FPGA_SYNTH_BUDGET_S": 1800.0,
    "TICL_FPGA_ROW_SYNTH_BUDGET_S": 900.0,
    "TICL_FPGA_VERILATOR_BUDGET_S": 600.0,
    "TICL_FPGA_DENSE16_BUDGET_S": 1200.0,
    "TICL_FPGA_OTHER_SYNTH_BUDGET_S": 2400.0,
}


def env_budgets() -> dict[str, float]:
    """:data:`ENV_BUDGETS` as set in the environment; a value that is not a number of seconds
    >= 0 is a :class:`~ticl_fpga.errors.ConfigError` naming the variable."""
    import math
    import os

    from ticl_fpga.errors import ConfigError

    out = {}
    for name, default in ENV_BUDGETS.items():
        text = os.environ.get(name)
        try:
            value = default if text is None else float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name}={text!r}: expected a number of seconds >= 0")
        out[name] = value
    return out


def emit_row(
    qmodel,
    n_max: int,
    e_max: int,
    p: int,
    work: Path,
    *,
    recipe: str = RECIPE,
    sparsity: float = SPARSITY,
) -> dict[str, Any]:
    """Export at the capacity, write the RTL at parallelism ``p``; returns paths and schedule.

    ``recipe`` and ``sparsity`` name the model (:func:`default_pruned_model`'s arguments): an
    earlier emission in ``work`` is reused only for the same ones."""
    import json

    from ticl_fpga.compile.capacity import Capacity
    from ticl_fpga.compile.to_qonnx import export_qonnx
    from ticl_fpga.io import write_json
    from ticl_fpga.rtl.build import make_manifest
    from ticl_fpga.rtl.emit import MAX_GATHER_PORTS, emit_design
    from ticl_fpga.rtl.graph import build_design

    row_dir = work / f"n{n_max}_e{e_max}_p{p}"
    done = row_dir / "emitted.json"
    key = {
        "recipe": recipe,
        "sparsity": sparsity,
        "seed": 0,
        "n_max": n_max,
        "e_max": e_max,
        "p": p,
        "format": 2,  # 2: gnn_scatter in memories; ports kept for the Verilator testbench
        "max_gather_ports": MAX_GATHER_PORTS,  # wider gathers written as copies
    }
    if done.exists() and (row_dir / "rtl" / "gnn_top.v").exists():
        prev = json.loads(done.read_text())
        if prev.get("key") == key:  # written by an earlier run for the same model: reuse
            return {
                "dir": row_dir,
                "rtl": row_dir / "rtl",
                "schedule": prev["schedule"],
                "memories": prev["memories"],
                "ports": prev["ports"],
            }
    row_dir.mkdir(parents=True, exist_ok=True)
    before = _rtl_digest(row_dir / "rtl")
    cap = Capacity(n_max=n_max, e_max=e_max)
    model = export_qonnx(qmodel, cap, row_dir / "model.qonnx.onnx")
    design = build_design(model, p)
    import ticl_fpga.rtl.emit as emit_mod

    orig = emit_mod.build_dense
    emit_mod.build_dense = _memo_build_dense(orig)
    try:
        emitted = emit_design(design, row_dir / "rtl")
    finally:
        emit_mod.build_dense = orig
    manifest = make_manifest(design, emitted, cap, f"default spec {recipe}")
    if _rtl_digest(row_dir / "rtl") != before:  # cycles measured on other RTL
        (row_dir / "cycles.json").unlink(missing_ok=True)
        (row_dir / "cycles_failed.json").unlink(missing_ok=True)
    write_json(
        done,
        {
            "key": key,
            "schedule": manifest["schedule"],
            "memories": manifest["memories"],
            "ports": manifest["ports"],
        },
    )
    return {
        "dir": row_dir,
        "rtl": row_dir / "rtl",
        "schedule": manifest["schedule"],
        "memories": manifest["memories"],
        "ports": manifest["ports"],
    }


def _rtl_digest(rtl: Path) -> str | None:
    """Hash of every Verilog file under ``rtl`` (None when there is none): a row emitted again
    to the same text keeps its measured cycles."""
    import hashlib

    files = sorted(Path(rtl).rglob("*.v")) if Path(rtl).is_dir() else []
    if not files:
        return None
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(rtl)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def verilator_cycles(
    em: dict[str, Any],
    *,
    n_graphs: int = 4,
    seed: int = 0,
    budget_s: float | None = None,
    jobs: int = 2,
) -> dict[str, Any]:
    """Latency and II of an emitted row measured in Verilator (``rtl/tb.cpp``): ``n_graphs``
    random full graphs fed back to back as fast as ``in_ready`` allows.  The schedule does not
    depend on the values, so random codes measure what dataset graphs would; the numbers are
    remembered in the row folder (``cycles.json``, removed when the row is emitted again).

    ``budget_s`` bounds the Verilator build and the run (each); past it :class:`RtlError` is
    raised and the attempt remembered (``cycles_failed.json``), so a later bench with the same or
    a smaller budget does not spend it again.  ``jobs``: parallel compilers of the build (a long
    build can be run beforehand with ``budget_s=None`` and ``jobs=1``; the bench then reads its
    ``cycles.json``)."""
    import json

    from ticl_fpga.io import write_json
    from ticl_fpga.rtl import RtlError
    from ticl_fpga.rtl.sim import build_sim, run_sim

    row_dir = Path(em["dir"])
    done = row_dir / "cycles.json"
    if done.exists():
        return json.loads(done.read_text())
    failed = row_dir / "cycles_failed.json"
    if failed.exists():
        prev = json.loads(failed.read_text())
        if budget_s is not None and prev.get("budget_s", 0) >= budget_s:
            raise RtlError(f"{prev['error']} (an earlier bench; budget {prev['budget_s']:.0f} s)")
    if budget_s is not None and budget_s <= 0:
        raise RtlError("not built: no Verilator time left in this bench (budget 0 s)")
    ports = em["ports"]
    rng = np.random.default_rng(seed)
    n_rows, e = int(ports["n_rows"]), int(ports["edge_beats"]) * int(ports["p"])

    def codes(t: dict, shape) -> np.ndarray:
        w = int(t["width"])
        lo, hi = (-(1 << (w - 1)), 1 << (w - 1)) if t["signed"] else (0, 1 << w)
        return rng.integers(lo, hi, size=shape)

    graphs = [
        (
            codes(ports["x"], (n_rows, ports["x"]["feats"])),
            rng.integers(0, n_rows, size=(2, e)),
            codes(ports["edge_attr"], (e, ports["edge_attr"]["feats"])),
        )
        for _ in range(n_graphs)
    ]
    t0 = time.perf_counter()
    try:
        binary = build_sim(em["rtl"], row_dir / "sim", ports, jobs=jobs, timeout=budget_s)
        res = run_sim(binary, graphs, row_dir / "sim", timeout=budget_s)
    except RtlError as exc:
        if budget_s is not None and "ran past" in str(exc):
            write_json(failed, {"budget_s": budget_s, "error": str(exc)[:300]})
        raise
    lat, ii = res.latency, res.interval
    out = {
        "source": f"Verilator ({n_graphs} random graphs back to back)",
        # a graph entering an idle design; later graphs also wait for the one before
        "latency": int(lat[0]),
        "latency_max": int(lat.max()),
        "interval": int(ii.max()),
        "interval_min": int(ii.min()),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    write_json(done, out)
    failed.unlink(missing_ok=True)
    log.info("firmware: Verilator cycles of %s: %s", row_dir.name, out)
    return out


def resources_label(unit_sources: dict[str, str]) -> tuple[str, list[str]]:
    """A row's ``resources`` label from each unit's source (``measured``, ``scaled``, ...):
    ``measured`` when every unit is synthesised, else the sorted tags joined by ``+``; and the
    units that were not synthesised (scaled or otherwise derived)."""
    if not unit_sources:
        return "missing", []
    tags = set(unit_sources.values())
    others = sorted(n for n, t in unit_sources.items() if t != "measured")
    return ("measured" if tags == {"measured"} else "+".join(sorted(tags))), others


def _budgeted_runs(
    units,
    order: Sequence[int],
    *,
    jobs: int,
    cache_dir,
    budget_s: float | None,
    on_result: Callable[[int, Any], None],
    on_error: Callable[[int, Exception], None],
    cached_only: bool = False,
    status: dict | None = None,
) -> None:
    """Synthesise ``units[i]`` for ``i`` in ``order`` in ``jobs`` threads until ``budget_s`` runs
    out (each run's timeout is what is left); ``on_result(i, result)`` or ``on_error(i, exc)``
    (a :class:`TiclFpgaError` or timeout) is called under one lock."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from ticl_fpga.errors import TiclFpgaError
    from ticl_fpga.rtl.synth import run_unit

    deadline = None if budget_s is None else time.perf_counter() + budget_s
    lock = threading.Lock()

    def one(i: int) -> None:
        left = None if deadline is None else deadline - time.perf_counter()
        try:
            r = run_unit(
                units[i],
                cache_dir=cache_dir,
                timeout=None if left is None else max(left, 1.0),
                cached_only=cached_only,
                status=status,
            )
        except (TiclFpgaError, TimeoutError) as exc:
            with lock:
                on_error(i, exc)
            return
        with lock:
            on_result(i, r)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for f in [pool.submit(one, i) for i in order]:
            f.result()


def _row_synthesis(
    row_units, measured, by_top, default, *, jobs: int, cache_dir, budget_s: float | None
) -> tuple[list[dict[str, float]], dict[str, str]]:
    """Resources of every unit of a (non-default) row: a unit identical to one of the default's
    takes that synthesis; the others (graph modules, glue) are synthesised here (cached) until
    ``budget_s`` runs out, and a unit left over is scaled from the default's (labelled)."""
    res: list[dict[str, float]] = [{} for _ in row_units]
    tags: dict[str, str] = {}
    todo = []
    for i, u in enumerate(row_units):
        same = next(
            (
                r
                for r in measured
                if r.top == u.top and r.params == u.params and r.kind == u.kind and r.kind != "glue"
            ),
            None,
        )
        if same is not None:
            res[i] = same.resources
            tags[u.name] = "measured" if same.source.startswith("Yosys") else same.source[:10]
        else:
            todo.append(i)

    def done(i: int, r) -> None:
        res[i], tags[row_units[i].name] = r.resources, "measured"
        log.info(
            "firmware row synthesis: %s %s LUT (%s)",
            row_units[i].name,
            r.resources.get("lut"),
            "cached" if r.cached else f"{r.seconds:.0f} s",
        )

    def failed(i: int, exc: Exception) -> None:
        log.warning("firmware row synthesis: %s scaled (%s)", row_units[i].name, str(exc)[:200])
        res[i], tags[row_units[i].name] = _unit_resources(row_units[i], measured, by_top, default)
        if row_units[i].kind == "glue_module":
            tags[row_units[i].name] = "missing"

    # glue last: the largest, and the one most likely to run out of the budget
    todo.sort(key=lambda i: (row_units[i].kind == "glue", _size(row_units[i].params)))
    _budgeted_runs(
        row_units,
        todo,
        jobs=jobs,
        cache_dir=cache_dir,
        budget_s=budget_s,
        cached_only=budget_s is not None and budget_s <= 0,
        on_result=done,
        on_error=failed,
    )
    parts = [i for i, u in enumerate(row_units) if u.kind in ("glue", "glue_module")]
    if len(parts) > 1 and any(tags[row_units[i].name] != "measured" for i in parts):
        # a per-module glue with a module left over: the whole glue scaled from the default's
        for i in parts:
            res[i] = {}
            tags.pop(row_units[i].name)
        g = next(i for i in parts if row_units[i].kind == "glue")
        res[g], tags["glue"] = _unit_resources(row_units[g], measured, by_top, default)
    return res, tags


def _glue_fields(row_units, per_unit, tags) -> dict[str, Any]:
    """A row's glue LUTs and how its glue was synthesised (flat, per module, or scaled)."""
    idx = [i for i, u in enumerate(row_units) if u.kind in ("glue", "glue_module")]
    mods = [i for i in idx if row_units[i].kind == "glue_module" and per_unit[i]]
    if tags.get("glue") != "measured":
        how = tags.get("glue", "missing")
    elif mods:
        how = (
            f"per module ({len(mods)} distinct modules, "
            f"{sum(row_units[i].count for i in mods)} instances, and the top's own logic)"
        )
    else:
        how = "flat"
    return {
        "glue_lut": round(sum(per_unit[i].get("lut", 0) * row_units[i].count for i in idx), 1),
        "glue_synthesis": how,
    }


def _glue_check(em, *, jobs: int, cache_dir, budget_s: float | None) -> dict[str, Any] | None:
    """Per-module glue (``hierarchical_glue``) against the flat glue synthesis of the same row,
    both Yosys; None unless every unit is synthesised (within ``budget_s``, else the cache)."""
    from ticl_fpga.rtl.synth import units_from_rtl

    flat = [u for u in units_from_rtl(em["rtl"]) if u.kind == "glue"]
    hier = [
        u for u in units_from_rtl(em["rtl"], hierarchical_glue=True) if u.kind.startswith("glue")
    ]
    units = flat + hier
    got: dict[int, Any] = {}
    _budgeted_runs(
        units,
        list(range(len(units))),
        jobs=jobs,
        cache_dir=cache_dir,
        budget_s=budget_s,
        cached_only=budget_s is not None and budget_s <= 0,
        on_result=lambda i, r: got.__setitem__(i, r),
        on_error=lambda i, exc: log.warning(
            "firmware glue check: %s not synthesised (%s)", units[i].name, str(exc)[:200]
        ),
    )
    if len(got) != len(units):
        return None
    out: dict[str, Any] = {"modules": len(hier) - 1, "instances": sum(u.count for u in hier) - 1}
    for k in ("lut", "ff", "lutram", "srl", "carry"):
        f = got[0].resources.get(k, 0)
        h = sum(got[i].resources.get(k, 0) * units[i].count for i in range(1, len(units)))
        out[f"{k}_flat"], out[f"{k}_per_module"] = f, h
    out["lut_rel_diff"] = (out["lut_per_module"] - out["lut_flat"]) / max(out["lut_flat"], 1)
    out["ff_rel_diff"] = (out["ff_per_module"] - out["ff_flat"]) / max(out["ff_flat"], 1)
    return out


# --------------------------------------------------------------------------- windows


def pileup_windows(work: Path, *, n_events: int = 10, pileup: int = 200) -> dict[str, Any]:
    """Graphs per endcap and lost edges when PU-``pileup`` endcap graphs are split into windows."""
    from ticl_fpga.compile.capacity import Capacity, windows
    from ticl_fpga.compile.predict import _arrays
    from ticl_fpga.data.dataset import load_dataset
    from ticl_fpga.data.synthetic import tiny_dataset

    ds = load_dataset(tiny_dataset(work / f"pu{pileup}", n_events=n_events, pileup=pileup, seed=5))
    graphs = [g for s in ("train", "val", "test") for g in ds.split(s)]
    out: dict[str, Any] = {"pileup": pileup, "graphs": len(graphs)}
    out["mean_nodes"] = float(np.mean([g.num_nodes for g in graphs]))
    out["mean_edges"] = float(np.mean([g.edge_index.shape[1] for g in graphs]))
    for n_max, e_max in CAPACITIES:
        cap = Capacity(n_max=n_max, e_max=e_max)
        n_win, lost, total = [], 0, 0
        for g in graphs:
            x, ei, _ea, order = _arrays(g)
            if x.shape[0] <= n_max and ei.shape[1] <= e_max:
                n_win.append(1)
                total += ei.shape[1]
                continue
            wins, lost_mask = windows(x.shape[0], ei, cap, order)
            n_win.append(len(wins))
            lost += int(lost_mask.sum())
            total += ei.shape[1]
        out[f"{n_max}x{e_max}"] = {
            "windows_per_graph": float(np.mean(n_win)),
            "edges_lost_fraction": lost / total if total else 0.0,
        }
    return out


# --------------------------------------------------------------------------- the benchmark


def firmware_benchmark(
    work: str | Path,
    *,
    jobs: int = 2,
    cache_dir: str | Path | None = None,
    measure_all: bool = True,
    rtl_result: dict | None = None,
    capacities=CAPACITIES,
    parallelism=PARALLELISM,
    default=DEFAULT,
    n_pileup_events: int = 10,
    budget_s: float | None = None,
    measure_cycles: bool = True,
    row_budget_s: float | None = None,
    verilator_budget_s: float | None = None,
    other_sparsities: Sequence[float | tuple[str, float]] = (),
) -> dict[str, Any]:
    """Synthesise the default model at ``default`` and build the capacity x parallelism table.

    ``other_sparsities`` (sparsities, or ``(recipe, sparsity)`` pairs, e.g. where the default
    recipe's full target set stops pruning): the default spec's dense-layer LUTs there by the
    cost model, and that ratio applied to the synthesised dense LUTs (an estimate, labelled so).

    Other rows: their units identical to the default's (the dense layers) take its syntheses;
    their capacity/parallelism-dependent units (graph modules, glue) are synthesised too when
    ``measure_all`` (cached; within ``row_budget_s`` per row, else scaled and labelled), and
    their cycles measured in Verilator within ``verilator_budget_s`` (else the schedule's)."""
    env = env_budgets()
    if budget_s is None:  # the bench must finish: dense layers left over use the fitted model
        budget_s = env["TICL_FPGA_SYNTH_BUDGET_S"]
    if row_budget_s is None:  # per other row: its graph modules and glue, else scaled
        row_budget_s = env["TICL_FPGA_ROW_SYNTH_BUDGET_S"]
    if verilator_budget_s is None:  # per other row: the Verilator build, else the schedule
        verilator_budget_s = env["TICL_FPGA_VERILATOR_BUDGET_S"]
    from ticl_fpga.errors import TiclFpgaError
    from ticl_fpga.quantize.cost import cost_of_model
    from ticl_fpga.rtl.synth import (
        RESOURCES,
        find_yosys,
        report,
        units_from_rtl,
        write_report,
    )

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cache_dir) if cache_dir else work / "synth_cache"
    t0 = time.perf_counter()
    qmodel = default_pruned_model()
    cost = cost_of_model(qmodel, _recipe(qmodel), n_nodes=1, n_edges=1)

    # ---- the default row: every unit measured
    t_emit = time.perf_counter()
    d = emit_row(qmodel, *default, work / "rtl")
    emit_s = time.perf_counter() - t_emit
    units = units_from_rtl(d["rtl"])
    log.info("firmware: synthesising the default design (%d units)", len(units))
    t_syn = time.perf_counter()
    measured, skipped = _synthesize_within(units, jobs, cache_dir, budget_s)
    syn_s = time.perf_counter() - t_syn
    _fill_dense_from_model(qmodel, measured)
    doc = report(
        measured,
        title=f"Default model ({RECIPE}, sparsity {SPARSITY}) at "
        f"{default[0]} x {default[1]}, P = {default[2]}",
    )
    write_report(doc, work / "synth_default")
    by_top: dict[str, list] = {}
    for r in measured:
        by_top.setdefault(r.top if r.kind != "glue" else "glue", []).append(r)

    # dense-layer check of the fitted model against these syntheses (held out of the fit)
    dense_check = _dense_model_check(qmodel, measured)

    # ---- the table
    t_emit = time.perf_counter()
    rows_emitted = {}
    rows_skipped = []
    for n_max, e_max in capacities:
        for p in parallelism:
            if e_max % p:
                rows_skipped.append(f"{n_max} x {e_max}, P = {p} (P must divide E_max)")
                continue
            key = (n_max, e_max, p)
            rows_emitted[key] = (
                d if key == tuple(default) else emit_row(qmodel, n_max, e_max, p, work / "rtl")
            )
    emit_s += time.perf_counter() - t_emit
    table = []
    t_cyc = time.perf_counter()
    syn_rows_s = 0.0
    for (n_max, e_max, p), em in rows_emitted.items():
        is_default = (n_max, e_max, p) == tuple(default)
        hier = not is_default and p >= HIERARCHICAL_GLUE_P
        row_units = units_from_rtl(em["rtl"], hierarchical_glue=hier)
        res = {k: 0.0 for k in RESOURCES}
        t_row = time.perf_counter()
        if is_default:  # ``measured`` is in the order of the default's units
            per_unit = [r.resources for r in measured]
            tags = {
                r.name: "measured" if r.source.startswith("Yosys") else r.source[:10]
                for r in measured
            }
        elif measure_all:
            per_unit, tags = _row_synthesis(
                row_units,
                measured,
                by_top,
                default,
                jobs=jobs,
                cache_dir=cache_dir,
                budget_s=row_budget_s,
            )
        else:
            unit_res = [_unit_resources(u, measured, by_top, default) for u in row_units]
            per_unit, tags = (
                [r for r, _ in unit_res],
                {u.name: t for u, (_, t) in zip(row_units, unit_res, strict=True)},
            )
        syn_rows_s += time.perf_counter() - t_row
        for u, r in zip(row_units, per_unit, strict=True):
            for k in RESOURCES:
                res[k] += r.get(k, 0) * u.count
        label, not_synth = resources_label(tags)
        glue = _glue_fields(row_units, per_unit, tags)
        if label == "measured" and glue["glue_synthesis"].startswith("per module"):
            label = "measured (glue per module)"
        sched = em["schedule"]
        lat, ii, cyc_src = int(sched["latency"]), int(sched["interval"]), "schedule"
        measured_cycles = None
        cycles_note = ""
        if is_default and not measure_cycles and rtl_result and rtl_result.get("cycles"):
            # the rtl stage's co-simulation of dataset graphs, when it ran in this bench
            c = rtl_result["cycles"]
            measured_cycles = {"source": "Verilator (rtl stage)", **c}
            lat, ii, cyc_src = int(c["latency"]), int(c["interval"]), "Verilator"
        elif measure_cycles:
            try:
                measured_cycles = verilator_cycles(
                    em, budget_s=None if is_default else verilator_budget_s
                )
                lat, ii = measured_cycles["latency"], measured_cycles["interval"]
                cyc_src = "Verilator"
            except (TiclFpgaError, OSError) as exc:
                cycles_note = str(exc)[:200]
                log.warning("firmware: Verilator cycles of %s not measured (%s)", em["dir"], exc)
        row = {
            "n_max": n_max,
            "e_max": e_max,
            "p": p,
            **{k: round(v, 1) for k, v in res.items()},
            "latency_cycles": lat,
            "ii_cycles": ii,
            "latency_cycles_schedule": int(sched["latency"]),
            "ii_cycles_schedule": int(sched["interval"]),
            "cycles_source": cyc_src,
            "graphs_per_s": CLOCK_HZ / ii,
            "resources_source": label,
            "units_not_synthesised": not_synth,
            **glue,
        }
        if cycles_note:
            row["cycles_note"] = cycles_note
        if measured_cycles is not None:
            row["latency_cycles_verilator"] = lat
            row["ii_cycles_verilator"] = ii
            row["cycles_verilator"] = measured_cycles
        row["fits"] = _fits(row)
        table.append(row)
    t_cyc = time.perf_counter() - t_cyc - syn_rows_s

    glue_check = None
    if any(r["glue_synthesis"].startswith("per module") for r in table) and (
        tuple(GLUE_CHECK_ROW) in rows_emitted
    ):
        t_row = time.perf_counter()
        glue_check = _glue_check(
            rows_emitted[tuple(GLUE_CHECK_ROW)],
            jobs=jobs,
            cache_dir=cache_dir,
            budget_s=row_budget_s,
        )
        if glue_check is not None:
            glue_check["row"] = "{} x {}, P = {}".format(*GLUE_CHECK_ROW)
        syn_rows_s += time.perf_counter() - t_row

    t_pu = time.perf_counter()
    pu = pileup_windows(work / "pileup", n_events=n_pileup_events)
    pu_s = time.perf_counter() - t_pu
    for row in table:
        key = f"{row['n_max']}x{row['e_max']}"
        wpg = pu[key]["windows_per_graph"]
        row["events_per_s_pu0"] = row["graphs_per_s"] / 2  # two endcaps, each one graph
        row["windows_per_endcap_pu200"] = wpg
        row["events_per_s_pu200"] = row["graphs_per_s"] / (2 * wpg)
        row["edges_lost_pu200"] = pu[key]["edges_lost_fraction"]

    default_row = next(r for r in table if (r["n_max"], r["e_max"], r["p"]) == tuple(default))
    ref_lut = cost["reference_fpga"]["lut"]
    out = {
        "tool": doc["tool"],
        "yosys": find_yosys().version,
        "timing_proxy": doc["timing"],
        "clock_hz": CLOCK_HZ,
        "recipe": RECIPE,
        "sparsity": cost["sparsity"],
        "nonzero_weights": cost["nonzero_weights"],
        "default": {"n_max": default[0], "e_max": default[1], "p": default[2]},
        "default_row": default_row,
        "default_synthesis": {
            "total": doc["total"],
            "units": [
                {
                    k: u[k]
                    for k in (
                        "source",
                        "name",
                        "top",
                        "kind",
                        "count",
                        "resources",
                        "logic_depth",
                        "seconds",
                        "cached",
                    )
                }
                for u in doc["units"]
            ],
            "dense_lut": sum(r.total("lut") for r in measured if r.kind == "dense"),
            "graph_lut": sum(r.total("lut") for r in measured if r.kind == "graph"),
            "glue_lut": sum(r.total("lut") for r in measured if r.kind == "glue"),
            "dense_logic_depth_max": max(
                [r.logic_depth or 0 for r in measured if r.kind == "dense"] or [0]
            ),
            "units_measured": sum(r.source.startswith("Yosys") for r in measured),
            "units_fitted": sum(r.source.startswith("cost model") for r in measured),
            "units_not_measured": sorted(skipped),
            "lut_measured_part": sum(
                r.total("lut") for r in measured if r.source.startswith("Yosys")
            ),
        },
        "dense_model_check": dense_check,
        "dense16_check": (
            _dense16_check(
                jobs=jobs,
                cache_dir=cache_dir,
                budget_s=env["TICL_FPGA_DENSE16_BUDGET_S"],
            )
            if measure_all
            else []
        ),
        "pruned_vs_16bit_dense": {
            "pruned_dense_lut_measured": sum(r.total("lut") for r in measured if r.kind == "dense"),
            "pruned_dense_units_fitted": sum(
                r.kind == "dense" and r.source.startswith("cost model") for r in measured
            ),
            "pruned_dense_lut_model": cost["fpga"]["lut"],
            "dense16_lut_model": ref_lut,
            "ratio_model": cost["lut_ratio_vs_16bit_dense"],
            "ratio_measured_over_model_reference": ref_lut
            / max(sum(r.total("lut") for r in measured if r.kind == "dense"), 1),
            "note": "16-bit dense: fitted cost model (too large to synthesise here); pruned: "
            "measured Yosys LUTs of the same layers (one lane)",
            "bops_ratio_vs_16bit_dense": cost["bops_ratio_vs_16bit_dense"],
        },
        "other_sparsities": _other_sparsities(
            other_sparsities,
            model_lut=cost["fpga"]["lut"],
            measured_lut=sum(r.total("lut") for r in measured if r.kind == "dense"),
            synthesise=(
                {
                    "work": work,
                    "default": default,
                    "jobs": jobs,
                    "cache_dir": cache_dir,
                    "budget_s": env["TICL_FPGA_OTHER_SYNTH_BUDGET_S"],
                }
                if measure_all
                else None
            ),
        ),
        "table": table,
        "glue_check": glue_check,
        "rows_skipped": rows_skipped,
        "pileup": pu,
        "devices": DEVICES,
        "anchors": ANCHORS,
        "seconds": {
            "emit": round(emit_s, 1),
            "synthesis_default": round(syn_s, 1),
            "synthesis_rows": round(syn_rows_s, 1),
            "row_synthesis_budget": row_budget_s,
            "verilator_budget": verilator_budget_s,
            "pileup_windows": round(pu_s, 1),
            "verilator_cycles": round(t_cyc, 1),
            "total": round(time.perf_counter() - t0, 1),
            "per_unit": {u.name: round(u.seconds, 1) for u in measured},
        },
    }
    return out


def _synthesize_within(units, jobs: int, cache_dir, budget_s: float | None):
    """Synthesise ``units`` (graph modules and glue first, then dense layers smallest first) until
    ``budget_s`` runs out; a dense layer left over gets the fitted cost model's numbers, any other
    unit is reported as not measured.  Returns (results in unit order, names not synthesised)."""
    from ticl_fpga.errors import TiclFpgaError
    from ticl_fpga.rtl.synth import SynthUnit, UnitResult, progress_lines, run_unit

    order = sorted(
        range(len(units)),
        key=lambda i: (units[i].kind == "dense", sum(map(len, units[i].sources.values()))),
    )
    results: dict[int, UnitResult] = {}
    skipped: dict[str, str] = {}
    running: dict[str, dict] = {}

    def done(i: int, r: UnitResult) -> None:
        results[i] = r
        log.info(
            "firmware synthesis: %s %s LUT (%s)",
            units[i].name,
            r.resources["lut"],
            "cached" if r.cached else f"{r.seconds:.0f} s",
        )

    def failed(i: int, exc: Exception) -> None:
        # a spent budget still takes cached units (a 1 s limit fails anything else)
        skipped[units[i].name] = str(exc)[:300]
        log.warning("firmware synthesis: %s not measured (%s)", units[i].name, str(exc)[:200])

    with progress_lines(
        "firmware synthesis", running, lambda: len(results) + len(skipped), len(units)
    ):
        _budgeted_runs(
            units,
            order,
            jobs=jobs,
            cache_dir=cache_dir,
            budget_s=budget_s,
            status=running,
            on_result=done,
            on_error=failed,
        )
    # a graph module that ran out of time: synthesise it with one feature and scale by F (its
    # cost is linear in the features: every feature has its own bank and adder)
    for i, u in enumerate(units):
        if i in results or u.kind != "graph" or int(u.params.get("F", 1)) <= 1:
            continue
        f = int(u.params["F"])
        small = [
            SynthUnit(
                f"{u.name}_F{k}",
                u.top,
                u.sources,
                params={**u.params, "F": k},
                count=u.count,
                kind=u.kind,
            )
            for k in (1, 2)
        ]
        try:
            r1, r2 = (run_unit(x, cache_dir=cache_dir, timeout=900, status=running) for x in small)
        except (TiclFpgaError, TimeoutError) as exc:
            log.warning("firmware synthesis: %s (F=1, 2) not measured either (%s)", u.name, exc)
            continue
        # linear in F: the F=1 cost holds what features share (row decode), F=2 - F=1 one feature
        res = {
            k: max(v + (f - 1) * (r2.resources.get(k, 0) - v), v)
            for k, v in r1.resources.items()
            if isinstance(v, int | float)
        }
        results[i] = _derived_result(
            u,
            res,
            f"extrapolated to F={f} from Yosys syntheses at F=1 and F=2 (full F ran out of time)",
            like=r1,
        )
        skipped.pop(u.name, None)
    out = []
    for i, u in enumerate(units):
        if i in results:
            out.append(results[i])
        else:
            out.append(_derived_result(u, {}, "not measured: " + skipped[u.name]))
    return out, skipped


def _derived_result(unit, resources: dict, source: str, like=None):
    """A :class:`~ticl_fpga.rtl.synth.UnitResult` for ``unit`` that is not its own synthesis
    (``like``: the synthesis it was derived from, for depth, time and cache key)."""
    from ticl_fpga.rtl.synth import UnitResult

    return UnitResult(
        name=unit.name,
        top=unit.top,
        kind=unit.kind,
        params=dict(unit.params),
        count=unit.count,
        cells={},
        resources=resources,
        logic_depth=like.logic_depth if like else None,
        seconds=like.seconds if like else 0.0,
        cached=like.cached if like else False,
        key=like.key if like else "",
        source=source,
    )


def _fill_dense_from_model(qmodel, results):
    """Dense units without a synthesis get the fitted cost model's LUT/FF/DSP (labelled)."""
    from ticl_fpga.quantize.cost import cost_of_model
    from ticl_fpga.rtl.synth import RESOURCES

    layers = cost_of_model(qmodel, _recipe(qmodel), n_nodes=1, n_edges=1)["layers"]
    dense = sorted((r for r in results if r.kind == "dense"), key=lambda r: _gemm_index(r.top))
    for lay, r in zip(layers, dense, strict=False):
        if r.source.startswith("not measured"):
            r.resources = {k: 0 for k in RESOURCES}
            r.resources.update(lut=round(lay["lut"]), ff=round(lay["ff"]), dsp=0)
            r.source = "cost model (fitted; " + r.source + ")"
    for r in results:
        if not r.resources:
            r.resources = {k: 0 for k in RESOURCES}


def _recipe(qmodel):
    from ticl_fpga.quantize.qmodel import model_recipe

    return model_recipe(qmodel)


def _unit_resources(u, measured, by_top, default) -> tuple[dict[str, float], str]:
    """Resources of a unit of another row: the measured unit if identical, else scaled."""
    for r in measured:
        # the glue (the top) has no parameters: it differs between rows by its text
        if r.top == u.top and r.params == u.params and r.kind == u.kind and u.kind != "glue":
            return r.resources, "measured" if r.source.startswith("Yosys") else r.source[:10]
    if u.kind == "glue":
        ref = by_top["glue"][0]
        # glue grows with the lanes (delays, small layers): scale by P / P_default
        p = _lanes(u)
        s = p / max(default[2], 1)
        return {k: v * s for k, v in ref.resources.items() if isinstance(v, int | float)}, "scaled"
    refs = by_top.get(u.top, [])
    if not refs:
        return {}, "missing"
    ref = max(refs, key=lambda r: _size(r.params))
    s = _size(u.params) / max(_size(ref.params), 1.0)
    return {k: v * s for k, v in ref.resources.items() if isinstance(v, int | float)}, "scaled"


def _lanes(u) -> int:
    import re

    m = re.findall(r"\.P\((\d+)\)", u.sources.get("gnn_top", ""))
    return max((int(x) for x in m), default=1)


def _fits(row: dict[str, Any]) -> str:
    """The smallest listed device holding the row; distributed RAM (LUTRAM) takes LUTs."""
    need = {**row, "lut": row.get("lut", 0) + row.get("lutram", 0)}
    for name, dev in DEVICES.items():
        if all(need.get(k, 0) <= dev[k] for k in ("lut", "ff", "dsp", "bram")):
            return name
    return "none"


def _other_sparsities(
    sparsities: Sequence[float | tuple[str, float]],
    *,
    model_lut: float,
    measured_lut: float,
    synthesise: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Dense-layer LUTs of the default spec quantized with a recipe (the firmware's own when only
    a sparsity is given) and pruned to a sparsity: cost model, scaled to the synthesis, and, with
    ``synthesise`` (``work``, ``default``, ``jobs``, ``cache_dir``, ``budget_s``), its own dense
    layers through Yosys (a layer left over by the budget takes the cost model, labelled)."""
    from ticl_fpga.quantize.cost import cost_of_model
    from ticl_fpga.rtl.synth import units_from_rtl

    out = []
    for item in sparsities:
        recipe, sp = item if isinstance(item, tuple) else (RECIPE, item)
        q = default_pruned_model(sparsity=float(sp), recipe=recipe)
        c = cost_of_model(q, _recipe(q), n_nodes=1, n_edges=1)
        entry = {
            "recipe": recipe,
            "sparsity": float(sp),
            "nonzero_weights": c["nonzero_weights"],
            "dense_lut_model": c["fpga"]["lut"],
            "dense_lut_estimate": measured_lut * c["fpga"]["lut"] / max(model_lut, 1),
        }
        if synthesise is not None:
            tag = f"{recipe}_s{round(100 * float(sp))}"
            em = emit_row(
                q,
                *synthesise["default"],
                Path(synthesise["work"]) / f"rtl_{tag}",
                recipe=recipe,
                sparsity=float(sp),
            )
            dense = [u for u in units_from_rtl(em["rtl"]) if u.kind == "dense"]
            log.info("firmware: synthesising %d dense layers of %s", len(dense), tag)
            got, _ = _synthesize_within(
                dense, synthesise["jobs"], synthesise["cache_dir"], synthesise["budget_s"]
            )
            _fill_dense_from_model(q, got)
            n_measured = sum(r.source.startswith("Yosys") for r in got)
            entry.update(
                dense_lut_synth=sum(r.total("lut") for r in got),
                dense_ff_synth=sum(r.total("ff") for r in got),
                dense_dsp_synth=sum(r.total("dsp") for r in got),
                dense_units=len(got),
                dense_units_measured=n_measured,
            )
        out.append(entry)
    return out


#: 16-bit dense layers of the default spec's smallest shapes, synthesised to check the cost model
#: where the 16-bit dense reference extrapolates it (its fit holds 4-8 bits; the whole 16-bit
#: model, ~3.7M LUT, is too large to synthesise here)
DENSE16_CHECK = (("head_out", 32, 1, False), ("edge_enc", 10, 32, True))


def _dense16_check(*, jobs: int, cache_dir, budget_s: float | None) -> list[dict[str, Any]]:
    """Yosys vs the fitted cost model on :data:`DENSE16_CHECK` at 16-bit weights and inputs."""
    from ticl_fpga.quantize.cost import REFERENCE_BITS as B
    from ticl_fpga.rtl.cost_model import FitPoint, point_unit, predict

    points = [
        FitPoint(f"{n}_w{B}_s0", fi, fo, B, B, signed, 0.0) for n, fi, fo, signed in DENSE16_CHECK
    ]
    made = [point_unit(p) for p in points]
    got, _ = _synthesize_within([m[0] for m in made], jobs, cache_dir, budget_s)
    out = []
    for p, (_, shape, _), r in zip(points, made, got, strict=True):
        row = {"layer": p.name, "fan_in": p.fan_in, "fan_out": p.fan_out, "bits": B}
        model = predict(shape)
        row["lut_model"] = round(model["lut"])
        if r.source.startswith("Yosys"):
            lut = r.resources["lut"]
            row.update(lut=lut, ff=r.resources["ff"], dsp=r.resources["dsp"])
            row["lut_rel_err"] = (model["lut"] - lut) / max(lut, 1)
        else:
            row["not_measured"] = r.source[:200]
        out.append(row)
    return out


def _dense16_text(rows: list[dict[str, Any]]) -> str:
    """One sentence: the cost model against Yosys on the 16-bit layers that could be synthesised."""
    parts = []
    for r in rows:
        shape = f"{r['layer']} ({r['fan_in']} x {r['fan_out']}, {r['bits']}-bit dense)"
        if "lut" in r:
            parts.append(
                f"{shape}: {r['lut']:.0f} LUT by Yosys, {r['lut_model']} by the cost model "
                f"({100 * r['lut_rel_err']:+.0f} %)"
            )
        else:
            parts.append(f"{shape}: not synthesised ({r['not_measured'][:80]})")
    return (
        "Check of the cost model at 16 bits, where the reference extrapolates its 4-8-bit fit, on "
        "the smallest layers (the whole 16-bit model is too large to synthesise here): "
        + "; ".join(parts)
        + "."
    )


def _dense_model_check(qmodel, measured) -> list[dict[str, Any]]:
    """Fitted cost model vs the measured syntheses of the default model's dense layers: the
    in-fit error, and for a layer in the fit its leave-one-out error (``cost_model.yaml``)."""
    from ticl_fpga.quantize.cost import cost_of_model
    from ticl_fpga.rtl.cost_model import coefficients

    cost = cost_of_model(qmodel, _recipe(qmodel), n_nodes=1, n_edges=1)
    model_layers = cost["layers"]
    dense = [r for r in measured if r.kind == "dense"]
    out = []
    loo = {e["name"]: e.get("lut_loo_rel_err") for e in coefficients().get("errors", [])}
    measured_names = {r.top for r in dense if r.source.startswith("Yosys")}
    # the RTL backend names dense modules after the QONNX Gemm nodes, in the spec's layer order
    dense_sorted = sorted(dense, key=lambda r: _gemm_index(r.top))
    for lay, r in zip(model_layers, dense_sorted, strict=False):
        if r.top not in measured_names:
            continue
        out.append(
            {
                "layer": lay["name"],
                "module": r.top,
                "lut": r.resources["lut"],
                "lut_model": round(lay["lut"]),
                "lut_rel_err": (lay["lut"] - r.resources["lut"]) / max(r.resources["lut"], 1),
                "in_fit": f"model:{lay['name']}" in loo,
                "lut_loo_rel_err": loo.get(f"model:{lay['name']}"),
                "ff": r.resources["ff"],
                "ff_model": round(lay["ff"]),
            }
        )
    return out


def _gemm_index(name: str) -> int:
    import re

    m = re.search(r"Gemm_(\d+)", name)
    return int(m[1]) if m else 10**6


# --------------------------------------------------------------------------- tables


def summary_rows(fw: dict[str, Any]) -> list[tuple[str, str, str]]:
    """README rows (measurement, value, target)."""
    r = fw["default_row"]
    s = fw["default_synthesis"]
    pv = fw["pruned_vs_16bit_dense"]
    lat, ii = r["latency_cycles"], r["ii_cycles"]
    src = r.get("cycles_source", "schedule")
    return [
        (
            f"firmware {r['n_max']}x{r['e_max']} P={r['p']}: LUT / LUTRAM / FF / DSP / BRAM "
            "(Yosys synth_xilinx)",
            f"{s['total']['lut']:.0f} / {s['total'].get('lutram', 0):.0f} / "
            f"{s['total']['ff']:.0f} / {s['total']['dsp']:.0f} / {s['total'].get('bram', 0):g}",
            f"fits {r['fits']}",
        ),
        (
            f"firmware {r['n_max']}x{r['e_max']} P={r['p']}: latency / II (cycles, {src})",
            f"{lat} / {ii}",
            "",
        ),
        (
            "firmware events/s per FPGA at 200 MHz, PU 0 / PU 200 (windows)",
            f"{r['events_per_s_pu0']:.3g} / {r['events_per_s_pu200']:.3g}",
            "",
        ),
        (
            "dense-layer LUTs, 16-bit dense (model) / pruned 6-bit (Yosys"
            + (
                f"; {pv['pruned_dense_units_fitted']} layers fitted)"
                if pv.get("pruned_dense_units_fitted")
                else ")"
            ),
            f"{pv['dense16_lut_model']:.3g} / {pv['pruned_dense_lut_measured']:.3g} "
            f"({pv['ratio_measured_over_model_reference']:.1f}x)",
            "replaces BOPs 20x",
        ),
        *(_other_sparsity_row(o, fw, pv) for o in fw.get("other_sparsities", [])),
    ]


def _other_sparsity_lut(o: dict[str, Any]) -> tuple[float, str]:
    """The dense-layer LUTs of an ``other_sparsities`` entry and what they are."""
    if o.get("dense_lut_synth") is not None and o.get("dense_units_measured"):
        if o["dense_units_measured"] == o["dense_units"]:
            return o["dense_lut_synth"], "Yosys"
        return o["dense_lut_synth"], (
            f"Yosys, {o['dense_units'] - o['dense_units_measured']} of {o['dense_units']} "
            "layers by the cost model"
        )
    return o["dense_lut_estimate"], "estimate"


def _other_sparsity_row(o: dict[str, Any], fw: dict[str, Any], pv: dict[str, Any]):
    lut, what = _other_sparsity_lut(o)
    return (
        f"dense-layer LUTs, {o.get('recipe', fw['recipe'])} at its target's "
        f"sparsity {o['sparsity']:.2f} ({what})",
        f"{lut:.3g} ({pv['dense16_lut_model'] / max(lut, 1):.1f}x below 16-bit dense)",
        "",
    )


def _glue_check_text(gc: dict[str, Any] | None) -> str:
    if not gc:
        return ""
    return (
        f"; on {gc['row']} the per-module glue is {gc['lut_per_module']:.0f} LUT / "
        f"{gc['ff_per_module']:.0f} FF against {gc['lut_flat']:.0f} / {gc['ff_flat']:.0f} in "
        f"one flat synthesis ({gc['lut_rel_diff']:+.1%} / {gc['ff_rel_diff']:+.1%})"
    )


def _depth(u: dict[str, Any]) -> str:
    if u["kind"] == "glue" or u["logic_depth"] is None:
        return "-"
    # ltp sees distributed RAM cells as combinational: its path runs through them
    return f"{u['logic_depth']}*" if u["resources"].get("lutram") else str(u["logic_depth"])


def markdown(fw: dict[str, Any]) -> str:
    s = fw["default_synthesis"]
    t = s["total"]
    pv = fw["pruned_vs_16bit_dense"]
    lines = [
        "## Firmware (Yosys synth_xilinx, RTL backend)",
        "",
        f"{fw['tool']}; {fw['yosys']}.  Timing: {fw['timing_proxy']}.",
        f"Default spec, recipe {fw['recipe']}, sparsity {fw['sparsity']:.2f} "
        f"({fw['nonzero_weights']} non-zero weights), untrained weights magnitude-pruned "
        "(resources depend on shapes, bits and non-zeros).",
        "",
        f"Default design ({fw['default']['n_max']} x {fw['default']['e_max']}, "
        f"P = {fw['default']['p']}), per unit (source column): {t['lut']:.0f} LUT, {t['ff']:.0f} FF, "
        f"{t['carry']:.0f} CARRY, {t['dsp']:.0f} DSP, {t['bram']} BRAM, {t['lutram']} LUTRAM, "
        f"{t['srl']} SRL; dense layers {s['dense_lut']:.0f} LUT, graph layers {s['graph_lut']:.0f}"
        f" LUT, glue {s['glue_lut']:.0f} LUT; deepest dense-layer stage "
        f"{s['dense_logic_depth_max']} cells (ltp, a proxy).",
        "",
        f"Units: {s['units_measured']} synthesised, {s['units_fitted']} dense layer(s) from the "
        f"fitted cost model (when the synthesis budget runs out), not measured: "
        f"{', '.join(s['units_not_measured']) or 'none'}.",
        "",
        "LUTRAM: LUTs used as distributed RAM (beside the logic LUTs).  Depth: `ltp -noff` "
        "cells between registers; * where the unit has distributed RAM, whose cells ltp treats "
        "as combinational (the path runs through the memory: not a register-to-register depth).",
        "",
        "| unit | x | LUT | FF | CARRY | DSP | BRAM | LUTRAM | SRL | depth | s | source |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for u in s["units"]:
        r = u["resources"]
        lines.append(
            f"| {u['name']} | {u['count']} | {r['lut']} | {r['ff']} | {r['carry']} | {r['dsp']} | "
            f"{r['bram']} | {r['lutram']} | {r['srl']} | "
            f"{_depth(u)} | "
            f"{'cached' if u['cached'] else round(u['seconds'])} | {u['source'][:40]} |"
        )
    lines += [
        "",
        "### Capacity x edge parallelism",
        "",
        "Resources (`resources` column): every row's units are Yosys syntheses (`measured`): "
        "the dense layers are the default row's (identical modules, instanced per lane), the "
        "capacity/parallelism-dependent units (gathers, row memories, scatters, glue) are "
        "synthesised per row; a unit not synthesised within the row's budget "
        f"({fw['seconds'].get('row_synthesis_budget', 0):.0f} s in this bench) is scaled from the default's "
        "by size (`measured+scaled`, named below the table).  Rows with P >= "
        f"{HIERARCHICAL_GLUE_P} synthesise their glue per module (each distinct small module "
        "once, times its instances, a relu feeding only a requantize together with it, plus "
        "the top's own logic with the modules as black boxes: "
        "a measurement of each module, without optimisation across module boundaries; one "
        "P = 4 glue took 10-18 min in one Yosys run, a P = 16 glue has about four times its "
        "logic)"
        + _glue_check_text(fw.get("glue_check"))
        + ".  A node memory read by more than 8 lanes is emitted as copies of an 8-port "
        "gather (Yosys 0.70's memory_libmap fails on 33 read ports); each copy's row read "
        "port is counted although only the first one's is used.  Cycles (`cycles` column): "
        "`Verilator` = measured (random graphs back to back; the schedule's figure in brackets), "
        "`schedule` = the emitted schedule where Verilator did not finish within the budget "
        f"({fw['seconds'].get('verilator_budget', 0):.0f} s per row in this bench; reasons "
        "below).  Events/s at 200 MHz: PU 0 = two "
        "endcap graphs per event; PU 200 = eta windows per endcap as counted on synthetic PU-200 "
        "events.",
        "",
        "| N x E | P | LUT | FF | LUTRAM | DSP | BRAM | latency | II | cycles | events/s PU0 "
        "| windows/endcap PU200 | events/s PU200 | edges lost PU200 | fits | resources |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in fw["table"]:
        lat = f"{r['latency_cycles']}"
        ii = f"{r['ii_cycles']}"
        src = r.get("cycles_source", "schedule")
        if src != "schedule" and "latency_cycles_schedule" in r:
            lat += f" ({r['latency_cycles_schedule']})"
            ii += f" ({r['ii_cycles_schedule']})"
        lines.append(
            f"| {r['n_max']} x {r['e_max']} | {r['p']} | {r['lut']:.3g} | {r['ff']:.3g} | "
            f"{r.get('lutram', 0):.3g} | {r['dsp']:.0f} | {r['bram']:.0f} | {lat} | {ii} | {src} | "
            f"{r['events_per_s_pu0']:.3g} | "
            f"{r['windows_per_endcap_pu200']:.1f} | {r['events_per_s_pu200']:.3g} | "
            f"{r['edges_lost_pu200']:.1%} | {r['fits']} | {r['resources_source']} |"
        )
    notes = [
        f"- {r['n_max']} x {r['e_max']}, P = {r['p']}: "
        + "; ".join(
            x
            for x in (
                "scaled units: " + ", ".join(r["units_not_synthesised"])
                if r.get("units_not_synthesised")
                else "",
                f"cycles from the schedule ({r['cycles_note']})" if r.get("cycles_note") else "",
                f"glue {r['glue_lut']:.0f} LUT synthesised {r['glue_synthesis']}"
                if r.get("glue_synthesis", "").startswith("per module")
                else "",
            )
            if x
        )
        for r in fw["table"]
        if r.get("units_not_synthesised")
        or r.get("cycles_note")
        or r.get("glue_synthesis", "").startswith("per module")
    ]
    if fw.get("rows_skipped"):
        lines += ["", "No row: " + "; ".join(fw["rows_skipped"]) + "."]
    if notes:
        lines += [
            "",
            "Row notes (what is not measured, and how the glue was synthesised):",
            "",
            *notes,
        ]
    lines += ["", "Anchors (literature):", ""]
    for a in fw["anchors"]:
        lines.append(f"- {a['design']}, {a['graph']}, {a['precision']}: {a['numbers']}.")
    lines += [
        "",
        "Devices: "
        + "; ".join(
            f"{n} {d['lut']:,} LUT, {d['ff']:,} FF, {d['dsp']:,} DSP, {d['bram']:,} BRAM"
            for n, d in fw["devices"].items()
        )
        + ".",
        "",
        "### Pruned model vs the 16-bit dense model (dense layers, one lane)",
        "",
        f"Pruned {fw['recipe']}: {pv['pruned_dense_lut_measured']:.0f} LUT, Yosys "
        + (
            f"({pv['pruned_dense_units_fitted']} of the dense layers from the fitted model, "
            "synthesis budget spent) "
            if pv.get("pruned_dense_units_fitted")
            else ""
        )
        + f"({pv['pruned_dense_lut_model']:.0f} by the cost model); 16-bit dense: "
        f"{pv['dense16_lut_model']:.0f} LUT by the cost model ({pv['note']}).  "
        f"Ratio {pv['ratio_measured_over_model_reference']:.1f}x (BOPs ratio "
        f"{pv['bops_ratio_vs_16bit_dense']:.1f}x, the literature's number).",
        *([_dense16_text(fw["dense16_check"])] if fw.get("dense16_check") else []),
        *(
            f"Recipe {o.get('recipe', fw['recipe'])} at sparsity {o['sparsity']:.2f} (where the "
            "default recipe's full target set, with agreement >= 0.98, stopped pruning in the "
            f"agreement stage): {o['nonzero_weights']} non-zero weights, "
            f"{o['dense_lut_model']:.0f} dense LUT by the cost model, about "
            f"{o['dense_lut_estimate']:.0f} scaled to the synthesis above"
            + (
                f"; its own dense layers through Yosys: {o['dense_lut_synth']:.0f} LUT, "
                f"{o['dense_ff_synth']:.0f} FF, {o['dense_dsp_synth']:.0f} DSP "
                f"({_other_sparsity_lut(o)[1]})."
                if o.get("dense_units_measured")
                else " (an estimate, not synthesised)."
            )
            for o in fw.get("other_sparsities", [])
        ),
        "",
        "Cost model (`rtl/cost_model.yaml`, input bits as their own term) vs these syntheses: "
        "a layer in the fit shows its in-fit error and its leave-one-out error (refitted "
        "without it); a layer not in the fit is held out.",
        "",
        "| layer | module | LUT | LUT model | error | left out | FF | FF model |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in fw["dense_model_check"]:
        lo = c.get("lut_loo_rel_err")
        lines.append(
            f"| {c['layer']} | {c['module']} | {c['lut']} | {c['lut_model']} | "
            f"{c['lut_rel_err']:+.0%} | {'held out' if lo is None else f'{lo:+.0%}'} | "
            f"{c['ff']} | {c['ff_model']} |"
        )
    sec = fw["seconds"]
    lines += [
        "",
        f"Time: emit {sec['emit']} s, synthesis {sec['synthesis_default']} s (2 processes), "
        f"PU-200 windows {sec['pileup_windows']} s, Verilator cycles "
        f"{sec.get('verilator_cycles', 0)} s (cached per row once measured), total {sec['total']} s.",
    ]
    return "\n".join(lines) + "\n"
