"""Three-way bit-accuracy check (Brevitas, QONNX, C simulation) against golden integer codes.

Every path's logits are turned into output codes (value / LSB) and compared with the committed
codes at zero tolerance.  When a path differs, the report names the first layer where it leaves
the reference: Brevitas vs QONNX by comparing each linear layer's output (forward hooks vs the
QONNX execution context), C simulation vs QONNX with hls4ml's per-layer trace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ticl_fpga.compile.capacity import PaddedGraph
from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.golden.vectors import GoldenVectors, brevitas_logits

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- layer names


def linear_order(spec) -> list[str]:
    """Linear layers in forward (data-flow) order."""
    names = ["node_enc", "edge_enc"]
    for i in range(spec.niters):
        names += [f"edge_mlp.{i}", f"node_mlp.{i}"]
    return names + ["head_hidden", "head_out"]


def gemm_layer_map(qonnx_model, spec) -> dict[str, str]:
    """ONNX ``Gemm`` node name -> model layer name (``node_mlp.0``), checked by weight shape."""
    from ticl_fpga.compile.to_qonnx import load_qonnx

    model = load_qonnx(qonnx_model)
    shapes = spec.linear_shapes()
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    order = linear_order(spec)
    out: dict[str, str] = {}
    if len(gemms) != len(order):
        return out
    for node, name in zip(gemms, order, strict=True):
        w_shape = model.get_tensor_shape(node.input[1])
        if w_shape is not None and sorted(w_shape) == sorted(shapes[name]):
            out[node.name] = name
    return out


def _onnx_order(qonnx_model) -> list[Any]:
    from ticl_fpga.compile.to_qonnx import load_qonnx

    return list(load_qonnx(qonnx_model).graph.node)


def describe_onnx_node(qonnx_model, spec, node_name: str) -> str:
    """``Gemm_3 (node_mlp.0)`` or ``Quant_17 (after edge_mlp.0)``."""
    mapping = gemm_layer_map(qonnx_model, spec)
    if node_name in mapping:
        return f"{node_name} ({mapping[node_name]})"
    last = None
    for node in _onnx_order(qonnx_model):
        if node.name in mapping:
            last = mapping[node.name]
        if node.name == node_name:
            break
    return f"{node_name} (after {last})" if last else node_name


def describe_hls_layer(hls_model, qonnx_model, spec, layer_name: str) -> str:
    """An hls4ml layer name with its ONNX node and model layer."""
    for layer in hls_model.get_layers():
        if layer.name == layer_name:
            onnx_node = layer.get_attr("onnx_node")
            if onnx_node:
                return f"{layer_name} [{layer.class_name}] = " + describe_onnx_node(
                    qonnx_model, spec, onnx_node
                )
            return f"{layer_name} [{layer.class_name}]"
    return layer_name


# --------------------------------------------------------------------------- divergence


def brevitas_layer_outputs(qmodel, padded: PaddedGraph) -> dict[str, np.ndarray]:
    """Output of every linear layer of the Brevitas model on a padded, on-grid graph."""
    outputs: dict[str, np.ndarray] = {}
    handles = []
    for name in linear_order(qmodel.spec):
        module = qmodel.get_submodule(name)
        handles.append(
            module.register_forward_hook(
                lambda _m, _i, out, _n=name: outputs.__setitem__(_n, out.detach().double().numpy())
            )
        )
    try:
        outputs["logits"] = brevitas_logits(
            qmodel, padded.x, padded.edge_index, padded.edge_attr, normalized=True
        )
    finally:
        for h in handles:
            h.remove()
    return outputs


def first_divergence_brevitas_qonnx(qmodel, qonnx_model, padded: PaddedGraph) -> str | None:
    """The first linear layer (forward order) whose Brevitas and QONNX outputs differ.

    ``None`` when every layer and the logits agree; ``"output quantizer (out_quant)"`` when only
    the final requantization differs.
    """
    from ticl_fpga.compile.to_qonnx import OUTPUT_NAME, execute_qonnx

    ctx = execute_qonnx(
        qonnx_model, padded.x, padded.edge_index, padded.edge_attr, full_context=True
    )
    ours = brevitas_layer_outputs(qmodel, padded)
    mapping = gemm_layer_map(qonnx_model, qmodel.spec)
    by_layer = {layer: node for node, layer in mapping.items()}
    gemm_out = {n.name: n.output[0] for n in _onnx_order(qonnx_model) if n.op_type == "Gemm"}
    for name in linear_order(qmodel.spec):
        node = by_layer.get(name)
        if node is None:
            continue
        ref = np.asarray(ctx[gemm_out[node]], dtype=np.float64)
        if ref.shape != ours[name].shape or not np.array_equal(ref, ours[name]):
            return f"{name} ({node})"
    if not np.array_equal(np.asarray(ctx[OUTPUT_NAME], dtype=np.float64), ours["logits"]):
        return "output quantizer (out_quant)"
    return None


# --------------------------------------------------------------------------- C simulation


def narrowed(t: Fixed, integer: int) -> Fixed:
    """``t`` with only ``integer`` integer bits (same fraction): overflows wrap, for tests."""
    return Fixed(t.signed, t.frac + integer, integer)


def too_narrow_accumulator(vectors: GoldenVectors, layer: str, *, missing_bits: int = 1) -> Fixed:
    """An accumulator type for ``layer`` with ``missing_bits`` too few integer bits for the golden
    graphs (from the largest |value| of that layer in the QONNX execution); same fraction bits."""
    import math

    from ticl_fpga.compile.to_qonnx import execute_qonnx
    from ticl_fpga.errors import ConfigError

    qonnx_model = vectors.qonnx_model()
    by_layer = {v: k for k, v in gemm_layer_map(qonnx_model, vectors.spec()).items()}
    if layer not in by_layer:
        raise ConfigError(f"no dense layer {layer!r}; known: {', '.join(by_layer)}")
    node = next(n for n in qonnx_model.graph.node if n.name == by_layer[layer])
    peak = 0.0
    for g in vectors.graphs.values():
        p = vectors.padded(g)
        ctx = execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr, full_context=True)
        peak = max(peak, float(np.abs(np.asarray(ctx[node.output[0]])).max()))
    # signed ap_fixed<W, I> holds [-2**(I-1), 2**(I-1)): the smallest I that holds ``peak``
    need = math.floor(math.log2(peak)) + 2 if peak > 0 else 1
    exact = next(
        Fixed(*ly["accum_fixed"])
        for ly in _layers(qonnx_model)
        if ly.get("onnx_node") == node.name and "accum_fixed" in ly
    )
    return narrowed(exact, need - missing_bits)


def _layers(qonnx_model) -> list[dict]:
    from ticl_fpga.compile.convert import qonnx_to_layers

    return qonnx_to_layers(qonnx_model)[0]


def build_csim(
    qonnx_model,
    out_dir: str | Path,
    *,
    trace: bool = True,
    accum_overrides: dict[str, Fixed] | None = None,
):
    """Write + compile the C simulation of a QONNX model (capacity from its metadata).

    ``accum_overrides`` maps a dense layer (model name ``node_mlp.0``, ONNX node ``Gemm_3`` or
    hls4ml layer name) to an accumulator type that replaces the exact one before compilation:
    the way to prove that a too-narrow accumulator is caught.
    """
    from hls4ml.backends.fpga.fpga_types import APTypeConverter

    from ticl_fpga.compile.build import HlsBuildConfig, build_hls
    from ticl_fpga.compile.to_qonnx import load_qonnx, model_metadata
    from ticl_fpga.errors import ConfigError
    from ticl_fpga.model.spec import GNNSpec

    qonnx_model = load_qonnx(qonnx_model)
    capacity, _ = model_metadata(qonnx_model)
    cfg = HlsBuildConfig(capacity=capacity, trace=trace, synth=False)
    hls_model = build_hls(qonnx_model, cfg, out_dir, compile=False)
    if accum_overrides:
        spec = GNNSpec.model_validate_json(qonnx_model.get_metadata_prop("ticl_fpga.spec"))
        mapping = gemm_layer_map(qonnx_model, spec)
        left = dict(accum_overrides)
        for layer in hls_model.get_layers():
            if layer.class_name != "GNNDense":
                continue
            onnx_node = layer.get_attr("onnx_node")
            for key in (layer.name, onnx_node, mapping.get(onnx_node)):
                if key in left:
                    t = left.pop(key)
                    accum = layer.get_attr("accum_t")
                    accum.precision = APTypeConverter().convert(t.hls())
                    log.warning("accumulator of %s overridden to %s", layer.name, t.cpp())
                    break
        if left:
            raise ConfigError(f"accum_overrides: no dense layer named {', '.join(left)}")
    hls_model.compile()
    return hls_model


def csim_logits(hls_model, padded: list[PaddedGraph]) -> list[np.ndarray]:
    from ticl_fpga.compile.predict import run_csim

    return run_csim(hls_model, padded)


# --------------------------------------------------------------------------- report


@dataclass
class Mismatch:
    """One path differing from the golden codes on one graph."""

    case: str
    graph: str
    path: str
    n_diff: int
    n_edges: int
    max_code_diff: int
    first_layer: str | None = None
    note: str = ""

    def describe(self) -> str:
        where = f"first diverging layer: {self.first_layer}" if self.first_layer else self.note
        return (
            f"{self.case}/{self.graph}: {self.path} differs from golden on {self.n_diff}/"
            f"{self.n_edges} edges (max |code diff| {self.max_code_diff}); {where}"
        )


@dataclass
class CaseReport:
    """Result of checking one case: which paths ran, on how many graphs/edges, the mismatches."""

    case: str
    paths: list[str]
    n_graphs: int = 0
    n_edges: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def describe(self) -> str:
        head = (
            f"{self.case}: {' == '.join(self.paths)} == golden on {self.n_graphs} graphs, "
            f"{self.n_edges} edges"
        )
        if self.ok:
            return head + ": OK"
        return f"{self.case}: FAILED ({len(self.mismatches)} mismatches)\n  " + "\n  ".join(
            m.describe() for m in self.mismatches
        )


def _codes(values: np.ndarray, lsb: float) -> tuple[np.ndarray, int]:
    v = np.asarray(values, dtype=np.float64) / lsb
    codes = np.round(v)
    return codes.astype(np.int64), int((codes != v).sum())


def check_case(
    vectors: GoldenVectors,
    *,
    qmodel=None,
    qonnx_model=None,
    hls_model=None,
    localize: bool = True,
) -> CaseReport:
    """Compare Brevitas, QONNX and (if ``hls_model``) the C simulation with the golden codes.

    Defaults: the Brevitas model rebuilt from the committed state dict and the committed QONNX
    model; pass others (e.g. perturbed ones) to check them instead.  The Brevitas path also checks
    the input quantization (raw features -> committed input codes).
    """
    from ticl_fpga.compile.predict import trace_compare
    from ticl_fpga.compile.to_qonnx import execute_qonnx, quantize_inputs

    qmodel = vectors.quant_model() if qmodel is None else qmodel
    qonnx_model = vectors.qonnx_model() if qonnx_model is None else qonnx_model
    spec = vectors.spec()
    lsb = vectors.types["logits"].lsb
    from ticl_fpga.compile.reference import ExactGraph

    exact = ExactGraph(qonnx_model)
    paths = ["exact", "brevitas", "qonnx"] + (["csim"] if hls_model is not None else [])
    report = CaseReport(case=vectors.name, paths=paths)
    graphs = list(vectors.graphs.values())
    padded = [vectors.padded(g) for g in graphs]
    csim = csim_logits(hls_model, padded) if hls_model is not None else None
    localized: set[str] = set()
    for gi, (g, p) in enumerate(zip(graphs, padded, strict=True)):
        report.n_graphs += 1
        report.n_edges += g.n_edges
        xq, eq = quantize_inputs(qmodel, g.x, g.edge_attr)
        outs = {
            "exact": exact.logits(p.x, p.edge_index, p.edge_attr)[: g.n_edges],
            "brevitas": brevitas_logits(qmodel, g.x, g.edge_index, g.edge_attr),
            "qonnx": np.asarray(execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr))[
                : g.n_edges
            ],
        }
        if csim is not None:
            outs["csim"] = csim[gi][: g.n_edges]
        input_bad = not (
            np.array_equal(xq, g.x_code * vectors.types["x"].lsb)
            and np.array_equal(eq, g.edge_attr_code * vectors.types["edge_attr"].lsb)
        )
        for path, values in outs.items():
            codes, off_grid = _codes(values, lsb)
            diff = np.abs(codes - g.logit_code.astype(np.int64))
            n_diff = int((diff > 0).sum()) + off_grid
            if path == "brevitas" and input_bad:
                n_diff = max(n_diff, 1)
            if n_diff == 0:
                continue
            m = Mismatch(
                case=vectors.name,
                graph=g.name,
                path=path,
                n_diff=n_diff,
                n_edges=g.n_edges,
                max_code_diff=int(diff.max()) if diff.size else 0,
            )
            if path == "brevitas" and input_bad:
                m.note = "input quantization (node_in/edge_in) differs from the golden input codes"
            if localize and not m.note and path not in localized:
                localized.add(path)  # once per path: a C-simulation trace recompiles
                _localize(m, path, qmodel, qonnx_model, hls_model, p, spec, trace_compare)
            elif not m.note:
                m.note = "not localized (only the first mismatch of each path is)"
            report.mismatches.append(m)
    for m in report.mismatches:
        log.error("%s", m.describe())
    return report


def _localize(m, path, qmodel, qonnx_model, hls_model, p, spec, trace_compare) -> None:
    if path == "exact":
        m.note = "the exact integer reference differs from golden: the QONNX model changed"
        return
    if path in ("brevitas", "qonnx"):
        layer = first_divergence_brevitas_qonnx(qmodel, qonnx_model, p)
        if layer is not None:
            m.first_layer = layer
        else:
            m.note = (
                "Brevitas and QONNX agree with each other but not with golden: the model or a "
                "library changed; compare with `ticl-fpga golden regenerate --check`"
            )
    elif path == "csim":
        try:
            first, _equal = trace_compare(hls_model, qonnx_model, p)
        except Exception as exc:  # noqa: BLE001 - tracing is diagnostic only
            m.note = f"no per-layer trace ({exc.__class__.__name__}: build with trace=True)"
            return
        if first is None:
            m.note = "every traced layer matches QONNX (was the project built with trace=True?)"
        else:
            m.first_layer = describe_hls_layer(hls_model, qonnx_model, spec, first)


def check_golden(
    names: list[str] | None = None,
    golden_dir: str | Path | None = None,
    *,
    work_dir: str | Path | None = None,
    csim: bool = True,
) -> list[CaseReport]:
    """Check every committed case (C simulation built under ``work_dir`` when ``csim``)."""
    import tempfile

    from ticl_fpga.golden.cases import GOLDEN_DIR
    from ticl_fpga.golden.vectors import load_case, load_manifest

    golden_dir = Path(golden_dir) if golden_dir is not None else GOLDEN_DIR
    names = names or list(load_manifest(golden_dir)["cases"])
    reports = []
    with tempfile.TemporaryDirectory(prefix="ticl_golden_check_") as tmp:
        base = Path(work_dir) if work_dir is not None else Path(tmp)
        for name in names:
            vectors = load_case(name, golden_dir)
            hls_model = build_csim(vectors.qonnx_model(), base / name, trace=True) if csim else None
            report = check_case(vectors, hls_model=hls_model)
            log.info("%s", report.describe())
            reports.append(report)
    return reports


def perturb_state(state: dict[str, np.ndarray], key: str, *, index=(0, 0), delta: float = 1.0):
    """A copy of a state dict with one weight changed (for regression tests of the checker)."""
    out = {k: np.array(v, copy=True) for k, v in state.items()}
    out[key][index] = out[key][index] + delta
    return out
