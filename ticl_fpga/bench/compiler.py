"""Compiler benchmark: QONNX export, hls4ml conversion + C-simulation compile, C-simulation rate."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ticl_fpga.compile.build import HlsBuildConfig, build_hls
from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.compile.csim import own_symbols
from ticl_fpga.compile.predict import hls_predict
from ticl_fpga.compile.to_qonnx import export_qonnx, quantize_inputs
from ticl_fpga.rtl.bench import default_quant_model

log = logging.getLogger(__name__)


def compiler_benchmark(
    work: str | Path,
    *,
    recipe: str = "w6a6",
    n_graphs: int = 50,
    capacity: Capacity | None = None,
    qmodel=None,
) -> dict[str, Any]:
    """Time the default model (or ``qmodel``) through export, conversion, compile and C simulation."""
    work = Path(work)
    cap = capacity or Capacity()
    n_max, e_max = cap.n_max, cap.e_max
    if qmodel is None:
        qmodel = default_quant_model(recipe, seed=0, sparsity=0.0)
    node_dim, edge_dim = qmodel.spec.node_dim, qmodel.spec.edge_dim
    t0 = time.perf_counter()
    export_qonnx(qmodel, cap, work / "bench.qonnx.onnx")
    t_export = time.perf_counter() - t0
    t0 = time.perf_counter()
    hls_model = build_hls(
        work / "bench.qonnx.onnx", HlsBuildConfig(capacity=cap), work / "bench_hls", compile=False
    )
    t_convert = time.perf_counter() - t0
    t0 = time.perf_counter()
    with own_symbols():
        hls_model.compile()
    t_compile = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    graphs = []
    for _ in range(n_graphs):
        n = int(rng.integers(n_max // 2, n_max + 1))
        e = int(rng.integers(e_max // 2, e_max + 1))
        x, ea = quantize_inputs(
            qmodel, torch.randn(n, node_dim), torch.randn(e, edge_dim), normalized=True
        )
        graphs.append((np.asarray(x), rng.integers(0, n, (2, e)), np.asarray(ea)))
    t0 = time.perf_counter()
    hls_predict(hls_model, graphs, cap)
    t_csim = time.perf_counter() - t0
    out = {
        "recipe": recipe,
        "capacity": {"n_max": n_max, "e_max": e_max},
        "qonnx_export_s": t_export,
        "hls_conversion_s": t_convert,
        "csim_compile_s": t_compile,
        "conversion_plus_compile_s": t_export + t_convert + t_compile,
        "csim_graphs_per_s": n_graphs / t_csim,
    }
    log.info("compiler benchmark: %s", out)
    return out
