from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from ticl_fpga.export.onnx import INPUT_NAMES, export_onnx, export_run_onnx, onnx_session
from ticl_fpga.model.gnn import build_float_model
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.train.fit import load_trained_model

#: (N, E) graph sizes every export is checked on, E = 0 included.
SIZES = [(1, 0), (6, 0), (1, 1), (9, 16), (40, 200), (800, 4000)]
SIZE_IDS = [f"N{n}_E{e}" for n, e in SIZES]


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    return export_run_onnx(run_dir, tmp_path_factory.mktemp("onnx") / "model.onnx")


def _run(session, x, ei, ea):
    return session.run(
        None, dict(zip(INPUT_NAMES, (x.numpy(), ei.numpy(), ea.numpy()), strict=True))
    )[0]


def test_dynamic_axes(exported):
    model = onnx.load(str(exported))
    onnx.checker.check_model(model)
    dims = {
        i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
        for i in model.graph.input
    }
    assert isinstance(dims["x"][0], str) and isinstance(dims["edge_attr"][0], str)
    assert dims["edge_index"][1] == dims["edge_attr"][0]


@pytest.mark.parametrize(("n", "e"), SIZES, ids=SIZE_IDS)
def test_onnxruntime_matches_eager(run_dir, exported, random_graph, n, e):
    model = load_trained_model(run_dir)
    session = onnx_session(exported)
    x, ei, ea = random_graph(n, e, model.spec.node_dim, model.spec.edge_dim, seed=n + e)
    out = _run(session, x, ei, ea)
    ref = torch.sigmoid(model(x, ei, ea)).detach().numpy()
    assert out.shape == (e,)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("aggr", ["mean", "max"])
def test_other_aggregations(aggr, tmp_path, random_graph):
    """Repeated destination indices must be summed/maxed, not overwritten."""
    torch.manual_seed(0)
    model = build_float_model(
        GNNSpec(
            node_dim=4, edge_dim=3, node_hidden=8, edge_hidden=8, head_hidden=8, niters=2, aggr=aggr
        )
    ).eval()
    session = onnx_session(export_onnx(model, tmp_path / "m.onnx"))
    x, ei, ea = random_graph(10, 80, 4, 3)
    np.testing.assert_allclose(
        _run(session, x, ei, ea),
        torch.sigmoid(model(x, ei, ea)).detach().numpy(),
        rtol=0,
        atol=1e-5,
    )


def test_cli_export_onnx(run_dir, tmp_path):
    from ticl_fpga.cli import main

    out = tmp_path / "m.onnx"
    assert main(["-q", "export", "onnx", str(run_dir), "-o", str(out)]) == 0
    onnx.checker.check_model(onnx.load(str(out)))
