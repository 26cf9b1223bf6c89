"""Build one hls4ml project from a QONNX GNN: write, fill tb_data, compile the C simulation, run it.

``build_hls(qonnx_path_or_model, cfg, out_dir)`` is what ``ticl-fpga hls build`` and the golden
stage call.  Synthesis runs only where ``vitis_hls``/``vivado_hls`` is on ``PATH``.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.compile.csim import own_symbols
from ticl_fpga.config import StrictModel
from ticl_fpga.errors import ConfigError, TiclFpgaError, require

log = logging.getLogger(__name__)

#: hls4ml's model-wide default precision; every data-path tensor overrides it (see check_types).
UNUSED_DEFAULT_PRECISION = "ap_fixed<16,6>"


class HlsBuildConfig(StrictModel):
    """How to turn the QONNX model into an HLS project."""

    backend: Literal["Vitis", "Vivado"] = "Vitis"
    part: str = "xcvu13p-flga2577-2-e"
    clock_period: float = Field(5.0, gt=0)
    reuse_factor: int = Field(1, ge=1)
    edge_parallelism: int = Field(
        1,
        ge=1,
        le=64,
        description="edges/rows per clock in the streaming graph layers (power of 2)",
    )

    @field_validator("edge_parallelism")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"edge_parallelism must be a power of two, got {value}")
        return value

    strategy: Literal["Latency", "Resource"] = "Latency"
    project_name: str = Field("ticl_gnn", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    capacity: Capacity = Capacity()
    trace: bool = Field(False, description="enable per-layer tracing (hls_model.trace)")
    synth: bool = Field(True, description="run C synthesis when the HLS tool is on PATH")


def hls_config_dict(cfg: HlsBuildConfig, layers: list[dict], out_dir: Path) -> dict:
    """hls4ml configuration: backend, part, clock, io_parallel, per-layer precisions and tracing."""
    from hls4ml.utils.config import create_config

    config = create_config(
        output_dir=str(out_dir),
        project_name=cfg.project_name,
        backend=cfg.backend,
        part=cfg.part,
        clock_period=cfg.clock_period,
        io_type="io_parallel",
    )
    layer_cfg: dict[str, dict] = {}
    for layer in layers:
        entry: dict = {"Trace": cfg.trace}
        if layer["class_name"] == "Input":
            entry["Precision"] = {"result": layer["input_fixed"].cpp()}
        layer_cfg[layer["name"]] = entry
    config["HLSConfig"] = {
        "Model": {
            "Precision": UNUSED_DEFAULT_PRECISION,
            "ReuseFactor": cfg.reuse_factor,
            "Strategy": cfg.strategy,
            "BramFactor": 1_000_000_000,
            "TraceOutput": cfg.trace,
            # streaming graph layers keep their own loop pragmas (no PIPELINE on the top function)
            "PipelineStyle": "dataflow",
            "EdgeParallelism": cfg.edge_parallelism,
        },
        "LayerName": layer_cfg,
    }
    return config


def write_tb_data(
    path_in: Path, path_out: Path, inputs: list[list[np.ndarray]], outputs: list[np.ndarray]
) -> None:
    """hls4ml testbench files: one line per graph, inputs flattened and concatenated in order."""
    with open(path_in, "w") as f:
        for sample in inputs:
            f.write(
                " ".join(repr(float(v)) for arr in sample for v in np.asarray(arr).reshape(-1))
                + "\n"
            )
    with open(path_out, "w") as f:
        for out in outputs:
            f.write(" ".join(repr(float(v)) for v in np.asarray(out).reshape(-1)) + "\n")


def build_hls(
    source,
    cfg: HlsBuildConfig,
    out_dir: str | Path,
    *,
    golden: dict | None = None,
    compile: bool = True,
):
    """Convert ``source`` (QONNX path or ``ModelWrapper``) into an hls4ml project in ``out_dir``.

    ``golden`` (optional): ``{"inputs": [[x, edge_index, edge_attr], ...], "outputs": [logits, ...]}``
    padded golden vectors written to ``tb_data`` (the C simulation testbench compares against them).
    Returns the compiled ``hls4ml`` ``ModelGraph``.
    """
    require("hls4ml")
    from hls4ml.model.graph import ModelGraph

    from ticl_fpga.compile.bitwidth import analyse_and_check, apply_bit_widths
    from ticl_fpga.compile.convert import check_types, qonnx_to_layers
    from ticl_fpga.compile.hls4ml_ext import register
    from ticl_fpga.compile.to_qonnx import load_qonnx, model_metadata

    register()
    source = load_qonnx(source)
    capacity, _ = model_metadata(source)
    if capacity != cfg.capacity:
        raise ConfigError(
            f"build config capacity {cfg.capacity} differs from the exported model's {capacity}"
        )
    # Refuse what cannot be exact before anything is written (one line: layer and bits).
    bits = analyse_and_check(source, source=cfg.project_name)
    t0 = time.perf_counter()
    layers, inputs, outputs, _state = qonnx_to_layers(source)
    apply_bit_widths(layers, bits)
    check_types(layers)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = hls_config_dict(cfg, layers, out_dir)
    if golden is not None:
        tb_in, tb_out = out_dir / "golden_inputs.dat", out_dir / "golden_outputs.dat"
        write_tb_data(tb_in, tb_out, golden["inputs"], golden["outputs"])
        config["InputData"] = str(tb_in)
        config["OutputPredictions"] = str(tb_out)
    hls_model = ModelGraph.from_layer_list(config, layers, inputs, outputs)
    _check_no_default_types(hls_model)
    hls_model.write()
    from ticl_fpga.compile.latency import write_latency_report

    write_latency_report(hls_model, out_dir)
    source.save(str(out_dir / "gnn.qonnx.onnx"))
    cfg.save(out_dir / "hls_build.yaml", layers=len(layers))
    log.info(
        "wrote hls4ml project %s (%d layers) in %.1fs",
        out_dir,
        len(layers),
        time.perf_counter() - t0,
    )
    if compile:
        t1 = time.perf_counter()
        with own_symbols():
            hls_model.compile()
        log.info("compiled C simulation in %.1fs", time.perf_counter() - t1)
    return hls_model


def _check_no_default_types(hls_model) -> None:
    """No data-path tensor may fall back to hls4ml's default precision."""
    from ticl_fpga.compile.hls4ml_ext.layers import LAYERS

    for layer in hls_model.get_layers():
        if layer.class_name not in LAYERS and layer.class_name != "Input":
            raise ConfigError(
                f"hls4ml inserted an unexpected layer {layer.name} ({layer.class_name})"
            )
        for var in layer.get_variables():
            if str(var.type.precision) == UNUSED_DEFAULT_PRECISION:
                raise ConfigError(
                    f"layer {layer.name}: tensor {var.name} fell back to the default type"
                )


def hls_tool() -> str | None:
    """``vitis_hls`` or ``vivado_hls`` if on PATH."""
    for tool in ("vitis_hls", "vivado_hls"):
        if shutil.which(tool):
            return tool
    return None


def synthesize(hls_model, cfg: HlsBuildConfig) -> dict | None:
    """Run C synthesis if the HLS tool exists; otherwise log one line and return ``None``."""
    tool = hls_tool()
    if not cfg.synth:
        return None
    if tool is None:
        log.info("synthesis skipped: neither vitis_hls nor vivado_hls is on PATH")
        return None
    return hls_model.build(csim=False, synth=True, vsynth=False)


def golden_from_graphs(qonnx_model, graphs, *, on_grid: bool = False) -> dict:
    """Golden vectors for ``tb_data``: graphs that fit the capacity, padded, with exact logits.

    The logits come from the exact integer execution of the QONNX graph
    (:mod:`ticl_fpga.compile.reference`), independent of the hls4ml conversion.
    """
    from ticl_fpga.compile.capacity import pad_graph
    from ticl_fpga.compile.csim import _arrays, to_input_grid
    from ticl_fpga.compile.reference import ExactGraph
    from ticl_fpga.compile.to_qonnx import load_qonnx, model_metadata

    qonnx_model = load_qonnx(qonnx_model)
    capacity, scalers = model_metadata(qonnx_model)
    types = input_types_of(qonnx_model)
    ref = ExactGraph(qonnx_model)
    inputs, outputs = [], []
    for graph in graphs:
        x, ei, ea, _ = _arrays(graph)
        if x.shape[0] > capacity.n_max or ei.shape[1] > capacity.e_max:
            continue
        if not on_grid:
            x, ea = to_input_grid(x, ea, scalers, types)
        g = pad_graph(x, ei, ea, capacity)
        inputs.append([g.x, g.edge_index, g.edge_attr])
        outputs.append(ref.logits(g.x, g.edge_index, g.edge_attr))
    return {"inputs": inputs, "outputs": outputs}


def generated_graphs(
    capacity: Capacity, types: dict, dims: tuple[int, int], *, seed: int = 0
) -> list[tuple]:
    """Graphs at the capacity with features on the input grid, for the C simulation check.

    Random features over the whole code range (extremes included) on edge-case topologies: all
    edges into one node, repeated edges, self-loops, the capacity filled, no edges, isolated nodes,
    a single node.
    """
    from ticl_fpga.compile.csim import quantize_array

    rng = np.random.default_rng(seed)
    n, e = capacity.n_max, capacity.e_max

    def feats(rows: int, t, dim: int, extreme: bool) -> np.ndarray:
        if extreme:
            v = rng.choice([t.min, t.max], size=(rows, dim))
        else:
            v = rng.uniform(t.min, t.max, size=(rows, dim))
        return quantize_array(v, t)

    x_t, e_t = types["x"], types["edge_attr"]
    topologies: list[tuple[int, np.ndarray]] = [
        (n, rng.integers(0, n, size=(2, e))),  # capacity filled, random
        (n, np.stack([rng.integers(0, n, size=e), np.zeros(e, dtype=np.int64)])),  # all into 0
        (n, np.stack([np.zeros(e, dtype=np.int64), rng.integers(0, n, size=e)])),  # all out of 0
        (n, np.tile(np.array([[1], [2]]), (1, e))),  # one edge repeated e_max times
        (n, np.tile(np.arange(n), 2)[:e].reshape(1, -1).repeat(2, axis=0)),  # self-loops
        (max(n // 2, 1), rng.integers(0, max(n // 4, 1), size=(2, e // 2))),  # isolated nodes
        (max(n // 3, 1), np.zeros((2, 0), dtype=np.int64)),  # no edges
        (1, np.zeros((2, min(e, 3)), dtype=np.int64)),  # one node
    ]
    graphs = []
    for k, (nodes, ei) in enumerate(topologies):
        extreme = k in (1, 3)  # saturating features where the sums are largest
        x = feats(nodes, x_t, dims[0], extreme)
        ea = feats(ei.shape[1], e_t, dims[1], extreme)
        graphs.append((x, np.asarray(ei, dtype=np.int64), ea))
    return graphs


class CsimCheckError(TiclFpgaError):
    """The C simulation check could not run on any graph, or its vectors disagree."""


def golden_for_build(
    qonnx_model, graphs=None, *, n_golden: int = 8, seed: int = 0, source: str = "<dataset>"
) -> dict:
    """Testbench vectors ``hls build`` always checks: dataset graphs, else generated ones.

    With ``graphs`` (raw features): the first ``n_golden`` that fit the capacity; none fitting is
    an error.  Without: :func:`generated_graphs` at the capacity.  Logits are exact.
    """
    from ticl_fpga.compile.to_qonnx import load_qonnx, model_metadata

    qonnx_model = load_qonnx(qonnx_model)
    capacity, _ = model_metadata(qonnx_model)
    if graphs is not None:
        golden = golden_from_graphs(qonnx_model, list(graphs)[: max(n_golden * 4, n_golden)])
        golden = {k: v[:n_golden] for k, v in golden.items()}
        if not golden["inputs"]:
            raise CsimCheckError(
                f"{source}: no graph fits the capacity n_max={capacity.n_max}, "
                f"e_max={capacity.e_max}; the C simulation would be checked on 0 graphs"
            )
        return golden
    types = input_types_of(qonnx_model)
    dims = (
        int(qonnx_model.get_tensor_shape("x")[1]),
        int(qonnx_model.get_tensor_shape("edge_attr")[1]),
    )
    return golden_from_graphs(
        qonnx_model, generated_graphs(capacity, types, dims, seed=seed), on_grid=True
    )


def input_types_of(qonnx_model) -> dict:
    """Exact input types (``x``, ``edge_attr``) from the QONNX input quantizers."""
    from ticl_fpga.compile.convert import qonnx_to_layers

    layers, *_ = qonnx_to_layers(qonnx_model)
    return {ly["name"]: ly["input_fixed"] for ly in layers if ly["class_name"] == "Input"}


def check_csim(hls_model, golden: dict, qonnx_model=None) -> int:
    """Run the C simulation on the golden inputs; number of graphs whose logits differ.

    ``golden["outputs"]`` are exact logits (:func:`golden_from_graphs`).  With ``qonnx_model``
    the QONNX float32 execution is compared with them too (it must agree: the bit-width analysis
    accepted the model only if float32 is exact).  Zero graphs is an error, not a pass.
    """
    from ticl_fpga.compile.capacity import PaddedGraph
    from ticl_fpga.compile.csim import run_csim

    if not golden or not golden.get("inputs"):
        raise CsimCheckError("the C simulation would be checked on 0 graphs")
    padded = [PaddedGraph(x, ei, ea, x.shape[0], ei.shape[1]) for x, ei, ea in golden["inputs"]]
    got = run_csim(hls_model, padded)
    bad = 0
    for k, (g, r) in enumerate(zip(got, golden["outputs"], strict=True)):
        ref = np.asarray(r, dtype=np.float64).reshape(-1)
        if not np.array_equal(g, ref):
            bad += 1
            log.error(
                "graph %d: C simulation differs from the exact reference on %d of %d edges",
                k,
                int((g != ref).sum()),
                ref.size,
            )
        if qonnx_model is not None:
            from ticl_fpga.compile.to_qonnx import execute_qonnx

            x, ei, ea = golden["inputs"][k]
            q = np.asarray(execute_qonnx(qonnx_model, x, ei, ea), dtype=np.float64).reshape(-1)
            if not np.array_equal(q, ref):
                bad += 1
                log.error("graph %d: QONNX (float32) differs from the exact reference", k)
    return bad
