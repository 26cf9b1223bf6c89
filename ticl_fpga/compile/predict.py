"""Run the hls4ml C simulation on graphs: pad or window to capacity, quantize inputs, collect logits.

Also the per-layer trace comparison against the QONNX execution context, which names the first
layer whose output differs.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

from ticl_fpga.compile.capacity import Capacity, PaddedGraph, fits, split_to_fit
from ticl_fpga.compile.csim import (
    _arrays,
    _flat,
    check_finite,
    own_symbols,
    run_csim,
    to_input_grid,
)
from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.errors import InputError

log = logging.getLogger(__name__)


def input_types(hls_model) -> dict[str, Fixed]:
    """The exact input types of a built project (``x``, ``edge_attr``)."""
    out = {}
    for layer in hls_model.get_layers():
        if layer.class_name == "Input" and layer.get_attr("input_fixed") is not None:
            f = layer.get_attr("input_fixed")
            out[layer.name] = f if isinstance(f, Fixed) else Fixed(*f)
    return out


@dataclass
class PredictResult:
    """Logits per graph (NaN where an edge fell outside every window) and windowing statistics."""

    logits: list[np.ndarray]
    n_edges: int = 0
    n_lost: int = 0
    n_windowed_graphs: int = 0
    sizes: list[tuple[int, int]] = field(default_factory=list)

    @property
    def lost_fraction(self) -> float:
        return self.n_lost / self.n_edges if self.n_edges else 0.0


def hls_predict(
    hls_model,
    graphs,
    capacity: Capacity,
    *,
    on_grid: bool = True,
    scalers: dict | None = None,
    on_overflow: Literal["window", "refuse"] = "window",
    window_overlap: int = 0,
    progress: bool = False,
) -> PredictResult:
    """Logits of the C simulation for each graph.

    ``graphs``: ``(x, edge_index, edge_attr)`` tuples or PyG ``Data``.  With ``on_grid`` the
    features are already quantized (:func:`~ticl_fpga.compile.to_qonnx.quantize_inputs`);
    otherwise they are raw and are standardised with ``scalers`` (``node_mean``, ``node_std``,
    ``edge_mean``, ``edge_std``, float32 like the model) and quantized onto the input grid.
    Graphs larger than ``capacity`` are split into windows of consecutive nodes (by eta when known,
    sharing ``window_overlap`` nodes) or refused.
    """
    types = input_types(hls_model)
    result = PredictResult(logits=[])
    if on_grid:
        graphs = list(graphs)
        for graph in graphs:
            x, _, ea, _ = _arrays(graph)
            check_finite(x, "x")
            check_finite(ea, "edge_attr")
    jobs: list[tuple[int, np.ndarray, PaddedGraph]] = []  # (graph, edge ids, padded)
    for gi, graph in enumerate(
        tqdm(graphs, desc="hls predict", disable=None if progress else True)
    ):
        x, ei, ea, order = _arrays(graph)
        if not on_grid:
            if scalers is None:
                raise InputError(
                    "<graphs>", "raw features need the model's scalers to be quantized"
                )
            x, ea = to_input_grid(x, ea, scalers, types)
        n, e = x.shape[0], ei.shape[1]
        result.sizes.append((n, e))
        result.n_edges += e
        result.logits.append(np.full(e, np.nan))
        if not fits(n, e, capacity):
            if on_overflow == "refuse":
                raise InputError(
                    f"<graph {gi}>",
                    f"{n} nodes / {e} edges exceed the capacity n_max={capacity.n_max}, e_max={capacity.e_max}",
                )
            result.n_windowed_graphs += 1
        parts, lost = split_to_fit(x, ei, ea, capacity, order, overlap=window_overlap)
        result.n_lost += int(lost.sum())
        jobs.extend((gi, p.edges, p.padded(capacity)) for p in parts)
    outs = run_csim(hls_model, [j[2] for j in jobs])
    for (gi, edges, padded), y in zip(jobs, outs, strict=True):
        result.logits[gi][edges] = y[: padded.e_real]
    if result.n_windowed_graphs:
        log.info(
            "%d graphs split into windows; %.2f%% of candidate edges lost to windowing",
            result.n_windowed_graphs,
            100 * result.lost_fraction,
        )
    return result


def load_hls_project(project: str | Path):
    """Re-open a project written by ``ticl-fpga hls build``: rebuild and compile it from its
    saved QONNX model and build config (hls4ml keeps no loadable model on disk)."""
    import yaml

    from ticl_fpga.compile.build import HlsBuildConfig, build_hls
    from ticl_fpga.compile.to_qonnx import load_qonnx

    project = Path(project)
    qonnx_path, cfg_path = project / "gnn.qonnx.onnx", project / "hls_build.yaml"
    if not qonnx_path.is_file() or not cfg_path.is_file():
        raise InputError(
            project,
            "not a project written by 'ticl-fpga hls build' (gnn.qonnx.onnx/hls_build.yaml)",
        )
    cfg = HlsBuildConfig.from_dict(
        yaml.safe_load(cfg_path.read_text())["config"], source=str(cfg_path)
    )
    return build_hls(load_qonnx(qonnx_path), cfg, project)


def trace_compare(
    hls_model, qonnx_model, padded: PaddedGraph
) -> tuple[str | None, dict[str, bool]]:
    """Compare every traced layer output with the QONNX execution context (same tensor names).

    Requires a project built with ``trace=True``.  Returns the first diverging layer (in graph
    order, ``None`` if all match) and a per-layer equality map.
    """
    from ticl_fpga.compile.to_qonnx import execute_qonnx

    ctx = execute_qonnx(
        qonnx_model, padded.x, padded.edge_index, padded.edge_attr, full_context=True
    )
    inputs = [a.reshape(1, -1) for a in _flat(padded)]
    # trace() recompiles and reloads the library: a fresh stamp gives the traced build its own
    # file (a path already loaded would return the untraced library), loaded with own symbols
    hls_model.config.config["Stamp"] = uuid.uuid4().hex[-8:]
    with own_symbols():
        _, trace = hls_model.trace(inputs)
    equal: dict[str, bool] = {}
    first = None
    for layer in hls_model.get_layers():
        if layer.name not in trace:
            continue
        ref = np.asarray(ctx[layer.get_attr("onnx_output")], dtype=np.float64).reshape(-1)
        got = np.asarray(trace[layer.name], dtype=np.float64).reshape(-1)
        ok = ref.shape == got.shape and bool(np.array_equal(ref, got))
        equal[layer.name] = ok
        if not ok and first is None:
            first = layer.name
            n_diff = int((ref != got).sum()) if ref.shape == got.shape else -1
            log.debug(
                "trace: first diverging layer %s (%s): shapes %s / %s, %d values differ",
                layer.name,
                layer.get_attr("onnx_output"),
                ref.shape,
                got.shape,
                n_diff,
            )
    return first, equal
