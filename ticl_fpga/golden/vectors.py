"""Make, save, load and verify golden cases: QONNX model, quant state, graphs and integer outputs.

A case folder ``golden/<case>/`` holds ``model.onnx`` (cleaned QONNX at fixed capacity),
``quant_state.npz`` (the Brevitas state dict; spec and recipe are in the manifest) and
``graphs.npz`` with, per graph ``<g>``: raw inputs ``<g>.x``/``<g>.edge_index``/``<g>.edge_attr``,
quantized input codes ``<g>.x_code``/``<g>.edge_attr_code`` and expected output codes
``<g>.logit_code`` (value / LSB, integers).  ``golden/manifest.json`` records shapes, types, seeds,
library versions and the sha256 of every file.  Files are written byte-deterministically (fixed
zip timestamps), so regenerating an unchanged case leaves its hashes unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ticl_fpga.compile.capacity import pad_graph
from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.errors import TiclFpgaError
from ticl_fpga.golden.cases import DATASET, GOLDEN_DIR, GoldenCase

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
FILES = ("model.onnx", "quant_state.npz", "graphs.npz")
REGENERATE = "ticl-fpga golden regenerate"


class GoldenError(TiclFpgaError):
    """Committed golden files are missing, corrupt or out of date with the manifest."""


# --------------------------------------------------------------------------- files


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez_compressed`` with sorted keys and fixed timestamps: same arrays, same bytes."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())
    return path


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def fixed_to_json(t: Fixed) -> dict[str, Any]:
    return {
        "cpp": t.cpp(),
        "signed": t.signed,
        "width": t.width,
        "integer": t.integer,
        "rounding": t.rounding,
        "saturation": t.saturation,
        "lsb": t.lsb,
    }


def fixed_from_json(d: dict[str, Any]) -> Fixed:
    return Fixed(d["signed"], d["width"], d["integer"], d["rounding"], d["saturation"])


def to_codes(values: np.ndarray, lsb: float, *, where: str = "values") -> np.ndarray:
    """Integer codes ``value / lsb``; raises if a value is not on the grid (never rounds silently)."""
    v = np.asarray(values, dtype=np.float64) / lsb
    codes = np.round(v)
    if not np.array_equal(codes, v):
        bad = int((codes != v).sum())
        raise GoldenError(f"{where}: {bad} values are not multiples of the LSB {lsb:g}")
    return codes.astype(np.int64)


def library_versions() -> dict[str, str]:
    """Versions of the libraries that produced (and must reproduce) the golden files."""
    import importlib.metadata as md

    out = {}
    for pkg in ("ticl-fpga", "torch", "brevitas", "qonnx", "hls4ml", "onnx", "numpy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# --------------------------------------------------------------------------- model types


def golden_types(qonnx_model) -> dict[str, Fixed]:
    """Exact types of the inputs ``x``, ``edge_attr`` and of the output ``logits``."""
    from ticl_fpga.compile.convert import qonnx_to_layers

    layers, _inputs, outputs, _state = qonnx_to_layers(qonnx_model)
    types = {ly["name"]: ly["input_fixed"] for ly in layers if ly["class_name"] == "Input"}
    by_name = {ly["name"]: ly for ly in layers}
    types["logits"] = Fixed(*by_name[outputs[0]]["out_fixed"])
    return {k: types[k] for k in ("x", "edge_attr", "logits")}


# --------------------------------------------------------------------------- loaded case


@dataclass
class GoldenGraph:
    """One golden graph: raw inputs, quantized input codes and expected output codes."""

    name: str
    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    x_code: np.ndarray
    edge_attr_code: np.ndarray
    logit_code: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_index.shape[1])


@dataclass
class GoldenVectors:
    """A loaded (hash-verified) golden case."""

    case: GoldenCase
    entry: dict[str, Any]
    folder: Path
    state: dict[str, np.ndarray]
    graphs: dict[str, GoldenGraph]
    types: dict[str, Fixed] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.case.name

    @property
    def qonnx_path(self) -> Path:
        return self.folder / "model.onnx"

    def spec(self):
        from ticl_fpga.model.spec import GNNSpec

        return GNNSpec.from_dict(self.entry["spec"], source=f"{MANIFEST} [{self.name}.spec]")

    def recipe(self):
        from ticl_fpga.quantize.recipe import Recipe

        return Recipe.from_dict(self.entry["recipe"], source=f"{MANIFEST} [{self.name}.recipe]")

    def quant_model(self, state: dict[str, np.ndarray] | None = None):
        """The Brevitas model rebuilt from spec + recipe + saved state dict (eval mode)."""
        from ticl_fpga.quantize.qmodel import build_quant_model

        model = build_quant_model(self.spec(), self.recipe())
        state = self.state if state is None else state
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
        return model.eval()

    def qonnx_model(self):
        from ticl_fpga.compile.to_qonnx import load_qonnx

        return load_qonnx(self.qonnx_path)

    def on_grid(self, g: GoldenGraph) -> tuple[np.ndarray, np.ndarray]:
        """The quantized (normalized) inputs as values: codes x LSB."""
        return g.x_code * self.types["x"].lsb, g.edge_attr_code * self.types["edge_attr"].lsb

    def padded(self, g: GoldenGraph):
        xq, eq = self.on_grid(g)
        return pad_graph(xq, g.edge_index, eq, self.case.capacity)


def load_manifest(golden_dir: str | Path = GOLDEN_DIR) -> dict[str, Any]:
    path = Path(golden_dir) / MANIFEST
    if not path.is_file():
        raise GoldenError(f"{path}: no golden manifest; run `{REGENERATE}`")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise GoldenError(f"{path}: not valid JSON ({exc.msg}); run `{REGENERATE}`") from None
    if manifest.get("format") != FORMAT:
        raise GoldenError(
            f"{path} [format]: {manifest.get('format')!r} is not {FORMAT}; run `{REGENERATE}`"
        )
    return manifest


def verify_files(name: str, entry: dict[str, Any], golden_dir: str | Path) -> None:
    """Every file of a case exists and has the sha256 the manifest records."""
    folder = Path(golden_dir) / name
    for fname, want in entry["files"].items():
        path = folder / fname
        if not path.is_file():
            raise GoldenError(
                f"{path}: missing golden file; run `{REGENERATE} --case {name}` to recreate it"
            )
        got = sha256_file(path)
        if got != want:
            raise GoldenError(
                f"{path}: sha256 {got[:12]} differs from {MANIFEST} ({want[:12]}); the golden "
                f"files changed without the manifest: if on purpose run `{REGENERATE} --case {name}`"
            )


def load_case(name: str, golden_dir: str | Path = GOLDEN_DIR) -> GoldenVectors:
    """Load a committed case after checking every file against the manifest's hashes."""
    from ticl_fpga.golden.cases import get_case

    manifest = load_manifest(golden_dir)
    if name not in manifest["cases"]:
        raise GoldenError(f"{Path(golden_dir) / MANIFEST}: no case {name!r}; run `{REGENERATE}`")
    entry = manifest["cases"][name]
    verify_files(name, entry, golden_dir)
    case = GoldenCase.from_dict(entry["case"], source=f"{MANIFEST} [{name}.case]")
    if name in _registered_names() and get_case(name) != case:
        raise GoldenError(
            f"{Path(golden_dir) / MANIFEST} [{name}.case]: differs from the registry in "
            f"ticl_fpga/golden/cases.py; run `{REGENERATE} --case {name}`"
        )
    folder = Path(golden_dir) / name
    arrays = load_npz(folder / "graphs.npz")
    graphs = {}
    for gname in entry["graphs"]:
        graphs[gname] = GoldenGraph(
            name=gname,
            **{k: arrays[f"{gname}.{k}"] for k in GoldenGraph.__dataclass_fields__ if k != "name"},
        )
    types = {k: fixed_from_json(v) for k, v in entry["types"].items()}
    return GoldenVectors(
        case=case,
        entry=entry,
        folder=folder,
        state=load_npz(folder / "quant_state.npz"),
        graphs=graphs,
        types=types,
    )


def _registered_names() -> set[str]:
    from ticl_fpga.golden.cases import CASES

    return set(CASES)


# --------------------------------------------------------------------------- generation


def _feature_graphs(ds, case: GoldenCase) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Dataset events that fit the capacity, then synthetic edge cases (deterministic)."""
    cap = case.capacity
    out: dict[str, tuple] = {}
    for split in ("test", "val", "train"):
        for g in ds.split(split):
            if len(out) >= case.n_events:
                break
            if g.num_nodes <= cap.n_max and g.edge_index.shape[1] <= cap.e_max:
                name = f"event{int(g.event)}"
                if name in out:  # the same event number from another file, run or lumi block
                    name = f"{name}_{len(out)}"
                out[name] = (
                    g.x.numpy().astype(np.float32),
                    g.edge_index.numpy().astype(np.int64),
                    g.edge_attr.numpy().astype(np.float32),
                )
    sc = ds.scalers
    rng = np.random.default_rng(1000 + case.seed)

    def feats(n: int, e: int, scale: float = 1.5):
        x = sc["node_mean"] + sc["node_std"] * rng.normal(size=(n, len(sc["node_mean"]))) * scale
        ea = sc["edge_mean"] + sc["edge_std"] * rng.normal(size=(e, len(sc["edge_mean"]))) * scale
        return x.astype(np.float32), ea.astype(np.float32)

    def edges(n_from: int, e: int) -> np.ndarray:
        return rng.integers(0, max(n_from, 1), size=(2, e)).astype(np.int64)

    n4 = max(cap.n_max // 4, 1)
    x, ea = feats(n4, 0)
    out["no_edges"] = (x, np.zeros((2, 0), np.int64), ea)
    x, ea = feats(1, 2)
    out["one_node"] = (x, np.zeros((2, 2), np.int64), ea)
    n_iso = max(cap.n_max - 1, 2)
    x, ea = feats(n_iso, cap.e_max // 3)
    out["isolated"] = (x, edges(n_iso // 2, cap.e_max // 3), ea)
    x, ea = feats(cap.n_max, cap.e_max)
    out["full"] = (x, edges(cap.n_max, cap.e_max), ea)
    x, ea = feats(n4 * 2, cap.e_max // 2, scale=40.0)
    out["saturate"] = (x, edges(n4 * 2, cap.e_max // 2), ea)
    return out


def build_case_model(case: GoldenCase, ds):
    """Seeded random init, scalers from the dataset, calibration on its train split, finalized."""
    from ticl_fpga.model.spec import GNNSpec
    from ticl_fpga.quantize.qmodel import build_quant_model, finalize_calibration
    from ticl_fpga.quantize.recipe import load_recipe

    torch.manual_seed(case.seed)
    spec = GNNSpec(
        node_dim=len(ds.node_features), edge_dim=len(ds.edge_features), **case.spec_kwargs()
    )
    model = build_quant_model(spec, load_recipe(case.recipe))
    sc = ds.scalers
    model.set_scalers(sc["node_mean"], sc["node_std"], sc["edge_mean"], sc["edge_std"])
    model.train()
    with torch.no_grad():
        for g in ds.split("train"):
            model(g.x, g.edge_index, g.edge_attr)
    finalize_calibration(model)
    return model.eval()


def brevitas_logits(model, x, edge_index, edge_attr, *, normalized: bool = False) -> np.ndarray:
    """Brevitas logits on one (unpadded) graph; raw features unless ``normalized``."""
    t = (
        torch.as_tensor(np.asarray(x), dtype=torch.float32),
        torch.as_tensor(np.asarray(edge_index), dtype=torch.int64),
        torch.as_tensor(np.asarray(edge_attr), dtype=torch.float32),
    )
    with torch.no_grad():
        out = model.forward_normalized(*t) if normalized else model(*t)
    return out.double().numpy()


def make_case(case: GoldenCase, ds, out_dir: str | Path) -> dict[str, Any]:
    """Generate one case into ``out_dir`` (an empty folder); returns its manifest entry.

    The exact integer execution of the QONNX graph (:mod:`ticl_fpga.compile.reference`) is the
    reference; the bit-width analysis must accept the model, and QONNX (float32) and Brevitas
    (float32, on raw and on quantized inputs) must agree with the reference bit for bit, or nothing
    is returned.
    """
    from ticl_fpga.compile.bitwidth import analyse_and_check
    from ticl_fpga.compile.reference import ExactGraph
    from ticl_fpga.compile.to_qonnx import execute_qonnx, export_qonnx, quantize_inputs

    out_dir = Path(out_dir)
    model = build_case_model(case, ds)
    qonnx_model = export_qonnx(model, case.capacity, out_dir / "model.onnx")
    bits = analyse_and_check(qonnx_model, source=f"golden case {case.name}")
    exact = ExactGraph(qonnx_model)
    types = golden_types(qonnx_model)
    arrays: dict[str, np.ndarray] = {}
    graphs_meta: dict[str, dict] = {}
    for gname, (x, ei, ea) in _feature_graphs(ds, case).items():
        xq, eq = quantize_inputs(model, x, ea)
        p = pad_graph(xq, ei, eq, case.capacity)
        ref = exact.logits(p.x, p.edge_index, p.edge_attr)[: p.e_real]
        for label, other in (
            ("qonnx", np.asarray(execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr))),
            ("raw", brevitas_logits(model, x, ei, ea)),
            ("quantized", brevitas_logits(model, xq, ei, eq, normalized=True)),
        ):
            other = np.asarray(other, dtype=np.float64).reshape(-1)[: p.e_real]
            if not np.array_equal(ref, other):
                what = "QONNX" if label == "qonnx" else f"Brevitas ({label} inputs)"
                raise GoldenError(
                    f"case {case.name}, graph {gname}: {what} differs from the exact reference; "
                    "not writing golden vectors for a model the paths disagree on"
                )
        codes = to_codes(ref, types["logits"].lsb, where=f"{case.name}/{gname} logits")
        arrays.update(
            {
                f"{gname}.x": x,
                f"{gname}.edge_index": ei,
                f"{gname}.edge_attr": ea,
                f"{gname}.x_code": to_codes(xq, types["x"].lsb).astype(np.int32),
                f"{gname}.edge_attr_code": to_codes(eq, types["edge_attr"].lsb).astype(np.int32),
                f"{gname}.logit_code": codes.astype(np.int32),
            }
        )
        graphs_meta[gname] = {
            "nodes": int(x.shape[0]),
            "edges": int(ei.shape[1]),
            "distinct_logit_codes": int(len(np.unique(codes))),
        }
    save_npz(out_dir / "graphs.npz", arrays)
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    save_npz(out_dir / "quant_state.npz", state)
    return {
        "case": case.model_dump(mode="json"),
        "spec": model.spec.model_dump(mode="json"),
        "recipe": model.quant_recipe.model_dump(mode="json"),
        "types": {k: fixed_to_json(v) for k, v in types.items()},
        "bits": {
            "max_bits": bits.max_bits,
            "widest": bits.widest.label,
            "layers": {
                t.label: t.width
                for t in bits.tensors.values()
                if t.op in ("Gemm", "ScatterND", "ScatterElements")
            },
        },
        "graphs": graphs_meta,
        "shapes": {k: list(v.shape) for k, v in sorted(arrays.items())},
        "files": {f: sha256_file(out_dir / f) for f in FILES},
        "dataset": dict(DATASET),
    }
