"""Float inference throughput: eager vs TorchScript vs a plain PyG model of the same size.

``run_inference_benchmark(...) -> dict`` measures events/s on CPU (one event per call, as in
CMSSW) at PU0-like and PU200-like graph sizes, and GPU latency when CUDA is available.  Graphs are
random with the requested sizes (the model's cost depends only on N and E), or come from a
dataset folder.  ``ticl-fpga bench`` runs it with the other benchmarks.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch

from ticl_fpga.data.features import EDGE_FEATURES, NODE_FEATURES
from ticl_fpga.export.torchscript import script_model
from ticl_fpga.model.gnn import build_float_model
from ticl_fpga.model.pyg_reference import from_gnn
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.tables import markdown_table
from ticl_fpga.train.fit import load_trained_model

#: Graph sizes per event (both endcaps), (nodes, edges): the mean sizes that
#: ``ticl-fpga data build`` reports for the synthetic close-by gun at PU 0 and PU 200.
SIZES = {"PU0": (13, 36), "PU200": (815, 3300)}


def _graph(n: int, e: int, node_dim: int, edge_dim: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, node_dim, generator=gen),
        torch.randint(0, n, (2, e), generator=gen),
        torch.randn(e, edge_dim, generator=gen),
    )


def _rate(
    fn: Callable[[], Any], seconds: float, sync: Callable[[], None] = lambda: None
) -> dict[str, float]:
    """Events/s (from the median latency, robust to outliers on a shared machine), mean-based
    events/s and median latency of ``fn`` over about ``seconds`` (after 10 warm-up calls, which
    also let the TorchScript profiling executor optimise the graph)."""
    for _ in range(10):
        fn()
    sync()
    lat: list[float] = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(lat) < 5:
        t0 = time.perf_counter()
        fn()
        sync()
        lat.append(time.perf_counter() - t0)
    lat.sort()
    median = lat[len(lat) // 2]
    return {
        "events_per_s": 1.0 / median,
        "events_per_s_mean": len(lat) / sum(lat),
        "median_ms": 1e3 * median,
        "calls": len(lat),
    }


def run_inference_benchmark(
    run_dir: str | Path | None = None,
    *,
    sizes: dict[str, tuple[int, int]] | None = None,
    seconds: float = 2.0,
    threads: int | None = None,
    gpu: bool = True,
) -> dict[str, Any]:
    """Events/s of eager, TorchScript and the PyG reference for each graph size.

    ``run_dir``: a trained run (default: an untrained model of the default spec with the
    dataset's node and edge features; speed does not depend on the weights).
    """
    if run_dir is not None:
        model = load_trained_model(run_dir)
    else:
        spec = GNNSpec(node_dim=len(NODE_FEATURES), edge_dim=len(EDGE_FEATURES))
        model = build_float_model(spec).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _measure(model, script_model(model), from_gnn(model), sizes or SIZES, seconds, gpu)
    finally:
        torch.set_num_threads(previous)


def _measure(model, scripted, pyg, sizes, seconds: float, gpu: bool) -> dict[str, Any]:
    spec = model.spec
    result: dict[str, Any] = {
        "spec": spec.model_dump(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "seconds_per_point": seconds,
        "cpu_results": {},
    }
    with torch.inference_mode():
        for name, (n, e) in sizes.items():
            x, ei, ea = _graph(n, e, spec.node_dim, spec.edge_dim)
            xn, ean = model.normalize(x, ea)
            row = {
                "nodes": n,
                "edges": e,
                "eager": _rate(partial(model, x, ei, ea), seconds),
                "torchscript": _rate(partial(scripted, x, ei, ea), seconds),
                "pyg_reference": _rate(partial(pyg, xn, ei, ean), seconds),
            }
            row["torchscript_over_eager"] = (
                row["torchscript"]["events_per_s"] / row["eager"]["events_per_s"]
            )
            row["eager_over_pyg"] = (
                row["eager"]["events_per_s"] / row["pyg_reference"]["events_per_s"]
            )
            row["torchscript_over_pyg"] = (
                row["torchscript"]["events_per_s"] / row["pyg_reference"]["events_per_s"]
            )
            result["cpu_results"][name] = row
        if gpu and torch.cuda.is_available():
            dev = torch.device("cuda")
            scripted_gpu = scripted.to(dev)
            model_gpu = model.to(dev)
            result["gpu"] = torch.cuda.get_device_name(dev)
            result["gpu_results"] = {}
            for name, (n, e) in sizes.items():
                x, ei, ea = (t.to(dev) for t in _graph(n, e, spec.node_dim, spec.edge_dim))
                result["gpu_results"][name] = {
                    "nodes": n,
                    "edges": e,
                    "eager": _rate(partial(model_gpu, x, ei, ea), seconds, torch.cuda.synchronize),
                    "torchscript": _rate(
                        partial(scripted_gpu, x, ei, ea), seconds, torch.cuda.synchronize
                    ),
                }
    return result


#: columns of the tables: header -> key path into a size's result, float format
CPU_COLUMNS = {
    "eager ev/s": (("eager", "events_per_s"), ".1f"),
    "TS ev/s": (("torchscript", "events_per_s"), ".1f"),
    "PyG ev/s": (("pyg_reference", "events_per_s"), ".1f"),
    "TS/eager": (("torchscript_over_eager",), ".2f"),
    "eager/PyG": (("eager_over_pyg",), ".2f"),
}
GPU_COLUMNS = {
    "eager (ms)": (("eager", "median_ms"), ".3f"),
    "TorchScript (ms)": (("torchscript", "median_ms"), ".3f"),
}


def _size_table(results: dict[str, Any], columns: dict[str, tuple[tuple[str, ...], str]]) -> str:
    """One row per graph size: its name, N, E and each column's value."""
    rows = []
    for name, r in results.items():
        row = [name, r["nodes"], r["edges"]]
        for path, _ in columns.values():
            value = r
            for key in path:
                value = value[key]
            row.append(value)
        rows.append(row)
    fmts = ("", "", "", *(fmt for _, fmt in columns.values()))
    return markdown_table(rows, ("size", "N", "E", *columns), floatfmt=fmts)


def format_table(res: dict[str, Any]) -> str:
    """Markdown: a caption line, the CPU rates per graph size and the GPU latencies if measured."""
    parts = [
        f"{res['parameters']} parameters, {res['threads']} CPU threads, torch {res['torch']}; "
        "events/s from the median latency of one event per call.",
        "",
        _size_table(res["cpu_results"], CPU_COLUMNS),
    ]
    if res.get("gpu_results"):
        parts += [
            "",
            f"GPU {res['gpu']}, median latency:",
            "",
            _size_table(res["gpu_results"], GPU_COLUMNS),
        ]
    return "\n".join(parts)
