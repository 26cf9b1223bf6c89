"""Brevitas == QONNX == hls4ml C simulation == committed golden integers, at zero tolerance."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.golden.conftest import CASE_NAMES
from ticl_fpga.golden.cases import CASES
from ticl_fpga.golden.check import check_case
from ticl_fpga.golden.vectors import (
    GoldenError,
    brevitas_logits,
    load_case,
    load_manifest,
    sha256_file,
)


def test_manifest_covers_registry_and_versions():
    manifest = load_manifest()
    assert set(manifest["cases"]) == set(CASES), "run `ticl-fpga golden regenerate`"
    assert len(CASES) >= 3 and any(c.aggr == "max" for c in CASES.values())
    for pkg in ("torch", "brevitas", "qonnx", "hls4ml"):
        assert manifest["versions"][pkg]
    for entry in manifest["cases"].values():
        assert {"no_edges", "full", "isolated", "one_node"} <= set(entry["graphs"])
        full = entry["graphs"]["full"]
        cap = entry["case"]["capacity"]
        assert (full["nodes"], full["edges"]) == (cap["n_max"], cap["e_max"])


@pytest.mark.parametrize("name", CASE_NAMES)
def test_brevitas_qonnx_golden(golden, name):
    vectors = golden(name)
    report = check_case(vectors)
    assert report.ok, report.describe()
    assert report.n_graphs == len(vectors.graphs) >= 7
    # the comparison is not vacuous: real edges, varied codes
    codes = np.concatenate([g.logit_code for g in vectors.graphs.values()])
    assert len(codes) == report.n_edges > 100 and len(np.unique(codes)) > 3


@pytest.mark.parametrize("name", CASE_NAMES)
def test_rebuilt_brevitas_equals_golden_codes(golden, name):
    vectors = golden(name)
    model = vectors.quant_model()
    lsb = vectors.types["logits"].lsb
    for g in vectors.graphs.values():
        got = brevitas_logits(model, g.x, g.edge_index, g.edge_attr) / lsb
        np.testing.assert_array_equal(got, g.logit_code, err_msg=f"{name}/{g.name}")


@pytest.mark.slow
@pytest.mark.parametrize("name", CASE_NAMES)
def test_csim_equals_golden(golden, csim, name):
    vectors = golden(name)
    hls_model = csim(name)
    report = check_case(vectors, hls_model=hls_model)
    assert report.ok, report.describe()
    assert report.paths == ["exact", "brevitas", "qonnx", "csim"]
    from ticl_fpga.golden.check import csim_logits

    lsb = vectors.types["logits"].lsb
    graphs = list(vectors.graphs.values())
    outs = csim_logits(hls_model, [vectors.padded(g) for g in graphs])
    for g, out in zip(graphs, outs, strict=True):
        np.testing.assert_array_equal(out[: g.n_edges] / lsb, g.logit_code, err_msg=g.name)


def test_hash_mismatch_fails_with_regenerate_command(tmp_path):
    src = load_case(CASE_NAMES[0]).folder.parent
    dst = tmp_path / "golden"
    shutil.copytree(src, dst)
    graphs = dst / CASE_NAMES[0] / "graphs.npz"
    graphs.write_bytes(graphs.read_bytes() + b"\0")
    with pytest.raises(GoldenError, match="ticl-fpga golden regenerate --case") as err:
        load_case(CASE_NAMES[0], dst)
    assert "graphs.npz" in str(err.value) and "sha256" in str(err.value)
    (dst / CASE_NAMES[1] / "model.onnx").unlink()
    with pytest.raises(GoldenError, match="missing golden file"):
        load_case(CASE_NAMES[1], dst)


def test_committed_hashes_are_the_files():
    manifest = load_manifest()
    root = load_case(CASE_NAMES[0]).folder.parent
    for name, entry in manifest["cases"].items():
        for fname, want in entry["files"].items():
            assert sha256_file(root / name / fname) == want


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bit_widths_recorded_and_float32_exact(golden, name):
    """The golden cases pass the bit-width analysis, and the manifest records what it found."""
    from ticl_fpga.compile.bitwidth import FLOAT32_EXACT_BITS, analyse

    vectors = golden(name)
    report = analyse(vectors.qonnx_model())
    entry = load_manifest()["cases"][name]["bits"]
    assert entry["max_bits"] == report.max_bits and entry["widest"] == report.widest.label
    assert all(t.float32_exact for t in report.tensors.values())
    assert report.widest.magnitude_bits <= FLOAT32_EXACT_BITS
    # every golden logit is what the exact integer reference computes
    from ticl_fpga.compile.reference import ExactGraph

    ref = ExactGraph(vectors.qonnx_model())
    lsb = vectors.types["logits"].lsb
    for g in vectors.graphs.values():
        p = vectors.padded(g)
        got = ref.logits(p.x, p.edge_index, p.edge_attr)[: g.n_edges] / lsb
        np.testing.assert_array_equal(got, g.logit_code, err_msg=f"{name}/{g.name}")
