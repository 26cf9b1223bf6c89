"""Benchmark-scale RTL check: the default spec at 64 x 256, co-simulated on 200 dataset graphs.

``rtl_benchmark`` is what ``ticl-fpga bench`` calls (opt-in: the Verilator build of the default
model takes minutes).  Graphs larger than the capacity are split into eta windows, as the C
simulation does in ``hls predict``, so every window is a real sub-graph of an event.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from ticl_fpga.compile.capacity import Capacity

log = logging.getLogger(__name__)


def default_quant_model(recipe: str = "w6a6", seed: int = 0, sparsity: float = 0.8):
    """The default-spec quantized model: seeded init, globally magnitude-pruned to ``sparsity``
    (the project's pruning target), calibrated on random graphs."""
    import torch

    from ticl_fpga.data.features import EDGE_FEATURES, NODE_FEATURES
    from ticl_fpga.model.spec import GNNSpec
    from ticl_fpga.quantize.prune import prune_to, remove_pruning
    from ticl_fpga.quantize.qmodel import build_quant_model
    from ticl_fpga.quantize.recipe import load_recipe

    torch.manual_seed(seed)
    spec = GNNSpec(node_dim=len(NODE_FEATURES), edge_dim=len(EDGE_FEATURES))
    qmodel = build_quant_model(spec, load_recipe(recipe))
    if sparsity > 0:
        prune_to(qmodel, sparsity)
        remove_pruning(qmodel)
    qmodel.train()
    with torch.no_grad():
        for _ in range(4):
            qmodel(
                torch.randn(40, spec.node_dim),
                torch.randint(0, 40, (2, 120)),
                torch.randn(120, spec.edge_dim),
            )
    return qmodel.eval()


def window_graphs(graphs, capacity: Capacity, n: int) -> list[tuple]:
    """Up to ``n`` (sub)graphs that fit ``capacity``: whole graphs, else their eta windows."""
    from ticl_fpga.compile.capacity import windows
    from ticl_fpga.compile.predict import _arrays

    out: list[tuple] = []
    for graph in graphs:
        x, ei, ea, order = _arrays(graph)
        if x.shape[0] <= capacity.n_max and ei.shape[1] <= capacity.e_max:
            out.append((x, ei, ea))
        else:
            wins, _lost = windows(x.shape[0], ei, capacity, order)
            out += [w.subgraph(x, ei, ea) for w in wins]
        if len(out) >= n:
            break
    return out[:n]


def rtl_benchmark(
    work: str | Path,
    *,
    dataset: str | Path | None = None,
    split: str = "test",
    qmodel=None,
    recipe: str = "w6a6",
    n_graphs: int = 200,
    capacity: Capacity | None = None,
    edge_parallelism: int = 1,
    csim: bool = True,
) -> dict[str, Any]:
    """Export, write the RTL, verilate, and check ``n_graphs`` dataset graphs bit for bit.

    Without ``dataset`` a small PU-0 synthetic dataset is generated under ``work``.  Returns the
    RTL report (``report.json``) with the build times; ``report["ok"]`` says whether every graph
    matched the exact reference, QONNX and the C simulation on every edge row.
    """
    from ticl_fpga.compile.to_qonnx import export_qonnx
    from ticl_fpga.data.dataset import load_dataset
    from ticl_fpga.rtl.build import check_graphs_from, rtl_build

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    cap = capacity or Capacity()
    qmodel = qmodel or default_quant_model(recipe)
    if dataset is None:
        from ticl_fpga.data.synthetic import tiny_dataset

        dataset = tiny_dataset(work / "data", n_events=60, pileup=50, seed=3)
    graphs = window_graphs(load_dataset(dataset).split(split), cap, n_graphs)
    if len(graphs) < n_graphs:
        graphs = window_graphs(
            [g for s in ("train", "val", "test") for g in load_dataset(dataset).split(s)],
            cap,
            n_graphs,
        )
    log.info("RTL benchmark: %d graphs at %d x %d", len(graphs), cap.n_max, cap.e_max)
    t0 = time.perf_counter()
    model = export_qonnx(qmodel, cap, work / "bench.qonnx.onnx")
    checks = check_graphs_from(model, graphs, n=n_graphs)
    report = rtl_build(
        model,
        work / "rtl_bench",
        edge_parallelism=edge_parallelism,
        checks=checks,
        csim=csim,
        source=f"default spec ({recipe}), {len(graphs)} graphs of {dataset}",
    )
    report["total_s"] = round(time.perf_counter() - t0, 1)
    report["edges_real"] = int(np.sum(checks.e_real))
    return report
