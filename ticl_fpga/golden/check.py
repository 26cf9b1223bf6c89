"""Three-way bit-accuracy check (Brevitas, QONNX, C simulation) against golden integer codes.

Every path's logits are turned into output codes (value / LSB) and compared with the committed
codes at zero tolerance.  When a path differs, the report names the first layer where it leaves
the reference (``golden/localize.py``; names from ``golden/mapping.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ticl_fpga.compile.capacity import PaddedGraph
from ticl_fpga.compile.csim import own_symbols
from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.golden.localize import localize as localize_mismatch
from ticl_fpga.golden.mapping import gemm_layer_map
from ticl_fpga.golden.vectors import GoldenVectors, brevitas_logits

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- C simulation


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
    with own_symbols():
        hls_model.compile()
    return hls_model


def csim_logits(hls_model, padded: list[PaddedGraph]) -> list[np.ndarray]:
    from ticl_fpga.compile.csim import run_csim

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
                localize_mismatch(m, path, qmodel, qonnx_model, hls_model, p, spec, trace_compare)
            elif not m.note:
                m.note = "not localized (only the first mismatch of each path is)"
            report.mismatches.append(m)
    for m in report.mismatches:
        log.error("%s", m.describe())
    return report


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
