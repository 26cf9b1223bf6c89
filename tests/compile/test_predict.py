"""C simulation on raw graphs (scalers + input quantization), windowing, tracing and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.compile.helpers import NODE_DIM, calibrated_qmodel, edge_case_graphs, random_graph
from ticl_fpga.compile.capacity import Capacity, pad_graph
from ticl_fpga.compile.to_qonnx import export_qonnx, quantize_inputs
from ticl_fpga.errors import InputError

CAP = Capacity(n_max=10, e_max=24)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from ticl_fpga.compile.build import HlsBuildConfig, build_hls

    tmp = tmp_path_factory.mktemp("hls")
    model = calibrated_qmodel("w6a6", seed=3, niters=2, node_hidden=8, edge_hidden=6, head_hidden=4)
    rng = np.random.default_rng(0)
    model.set_scalers(
        rng.normal(size=NODE_DIM), rng.uniform(0.5, 2, NODE_DIM), np.zeros(4), np.full(4, 1.5)
    )
    qonnx_model = export_qonnx(model, CAP, tmp / "gnn.onnx")
    hls_model = build_hls(qonnx_model, HlsBuildConfig(capacity=CAP, trace=True), tmp / "prj")
    return model, qonnx_model, hls_model, tmp


def _raw_logits(model, x, ei, ea):
    with torch.no_grad():
        return model(torch.as_tensor(x), torch.as_tensor(ei), torch.as_tensor(ea)).numpy()


@pytest.mark.slow
def test_raw_inputs_quantized_like_brevitas(built):
    from ticl_fpga.compile.predict import hls_predict
    from ticl_fpga.compile.to_qonnx import model_metadata

    model, qonnx_model, hls_model, _ = built
    _, scalers = model_metadata(qonnx_model)
    graphs = list(edge_case_graphs(CAP.n_max, CAP.e_max).values())
    res = hls_predict(hls_model, graphs, CAP, on_grid=False, scalers=scalers)
    for (x, ei, ea), got in zip(graphs, res.logits, strict=True):
        np.testing.assert_array_equal(got, _raw_logits(model, x, ei, ea))


@pytest.mark.slow
def test_windowing_and_refusal(built):
    from ticl_fpga.compile.predict import hls_predict

    model, _, hls_model, _ = built
    big = random_graph(25, 40, seed=9)
    xq, eq = quantize_inputs(model, big[0], big[2])
    res = hls_predict(hls_model, [(xq, big[1], eq)], CAP)
    lost = np.isnan(res.logits[0])
    assert res.n_windowed_graphs == 1 and res.lost_fraction == lost.mean() > 0
    assert np.isfinite(res.logits[0][~lost]).all()
    with pytest.raises(
        InputError, match="25 nodes / 40 edges exceed the capacity n_max=10, e_max=24"
    ):
        hls_predict(hls_model, [(xq, big[1], eq)], CAP, on_overflow="refuse")


@pytest.mark.slow
def test_trace_matches_qonnx_every_layer(built):
    from ticl_fpga.compile.predict import trace_compare

    model, qonnx_model, hls_model, _ = built
    x, ei, ea = random_graph(8, 20, seed=11)
    xq, eq = quantize_inputs(model, x, ea)
    first, equal = trace_compare(hls_model, qonnx_model, pad_graph(xq, ei, eq, CAP))
    assert first is None, f"first diverging layer: {first}"
    assert len(equal) > 10 and all(equal.values())


@pytest.mark.slow
def test_cli_build_writes_project(built, tmp_path, capsys):
    import json

    from ticl_fpga.cli import main

    _, _, _, tmp = built
    rc = main(
        [
            "hls",
            "build",
            str(tmp / "gnn.onnx"),
            "--out",
            str(tmp_path / "prj"),
            "--no-synth",
            "--reuse-factor",
            "2",
            "--edge-parallelism",
            "2",
        ]
    )
    assert rc == 0
    assert (tmp_path / "prj" / "firmware" / "nnet_utils" / "nnet_gnn.h").is_file()
    saved = (tmp_path / "prj" / "hls_build.yaml").read_text()
    assert "reuse_factor: 2" in saved and "edge_parallelism: 2" in saved
    report = json.loads((tmp_path / "prj" / "latency.json").read_text())
    total = report["total"]
    assert report["edge_parallelism"] == 2 and (tmp_path / "prj" / "latency.md").is_file()
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert (
        f"expected latency {total['latency_cycles']} cycles, II {total['interval_cycles']} cycles"
        in line
    )
    dense = [ly for ly in report["layers"] if ly["kind"] == "GNNDense"]
    assert dense and all(ly["loops"][0]["ii"] == 2 for ly in dense)  # II = reuse factor


def test_cli_rejects_missing_model(tmp_path, capsys):
    from ticl_fpga.cli import main

    assert main(["hls", "build", str(tmp_path / "nope.onnx"), "--out", str(tmp_path / "p")]) == 2
    assert "no such QONNX model" in capsys.readouterr().err
