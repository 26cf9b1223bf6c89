"""Issue #5's bar: C simulation == QONNX == Brevitas on every edge of at least 200 graphs.

Three configurations (the default spec with w6a6 on real dataset features, and two others with
w4a4/w8a8, other niters and sizes); graphs are synthetic events (windowed to the capacity) plus
random graphs with zero edges, full capacity and isolated nodes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ticl_fpga.compile.build import HlsBuildConfig, build_hls
from ticl_fpga.compile.capacity import Capacity, pad_graph, windows
from ticl_fpga.compile.predict import run_csim
from ticl_fpga.compile.to_qonnx import execute_qonnx, export_qonnx, quantize_inputs
from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.qmodel import build_quant_model
from ticl_fpga.quantize.recipe import load_recipe

N_GRAPHS = 200

CONFIGS = {
    "w6a6_default": ("w6a6", {}, Capacity(n_max=32, e_max=96)),
    "w4a4_niters2": (
        "w4a4",
        dict(niters=2, node_hidden=16, edge_hidden=8),
        Capacity(n_max=24, e_max=64),
    ),
    "w8a8_niters3": (
        "w8a8",
        dict(niters=3, node_hidden=12, edge_hidden=8, head_hidden=8),
        Capacity(n_max=16, e_max=48),
    ),
}


def _graphs(ds, capacity: Capacity, seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Real events (or their eta windows) followed by random edge cases, N_GRAPHS in all."""
    out = []
    for g in ds.split("test") + ds.split("val"):
        x, ei, ea = g.x.numpy(), g.edge_index.numpy(), g.edge_attr.numpy()
        order = np.argsort(g.node_eta.numpy(), kind="stable")
        out.extend(w.subgraph(x, ei, ea) for w in windows(x.shape[0], ei, capacity, order)[0])
    out = out[: N_GRAPHS // 2]
    rng = np.random.default_rng(seed)
    f_n, f_e = out[0][0].shape[1], out[0][2].shape[1]
    scale_x = np.concatenate([o[0] for o in out]).std(0) + 1e-3
    scale_e = np.concatenate([o[2] for o in out]).std(0) + 1e-3
    mean_x = np.concatenate([o[0] for o in out]).mean(0)
    mean_e = np.concatenate([o[2] for o in out]).mean(0)
    while len(out) < N_GRAPHS:
        kind = len(out) % 4
        n = capacity.n_max if kind == 1 else int(rng.integers(1, capacity.n_max + 1))
        e = (
            0
            if kind == 0
            else capacity.e_max
            if kind == 1
            else int(rng.integers(1, capacity.e_max + 1))
        )
        isolated = n // 3 if kind == 2 else 0
        x = (mean_x + 2 * scale_x * rng.normal(size=(n, f_n))).astype(np.float32)
        ea = (mean_e + 2 * scale_e * rng.normal(size=(e, f_e))).astype(np.float32)
        ei = rng.integers(0, max(n - isolated, 1), size=(2, e)).astype(np.int64)
        out.append((x, ei, ea))
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from ticl_fpga.data.synthetic import tiny_dataset

    return load_dataset(
        tiny_dataset(tmp_path_factory.mktemp("many"), n_events=120, pileup=10, seed=3)
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_csim_qonnx_brevitas_agree_on_200_graphs(name, dataset, tmp_path):
    recipe, spec_kw, capacity = CONFIGS[name]
    torch.manual_seed(0)
    spec = GNNSpec(
        node_dim=len(dataset.node_features), edge_dim=len(dataset.edge_features), **spec_kw
    )
    model = build_quant_model(spec, load_recipe(recipe))
    model.set_scalers(**dataset.scalers)
    model.train()
    with torch.no_grad():
        for g in dataset.split("train")[:16]:
            model(g.x, g.edge_index, g.edge_attr)
    model.eval()

    qonnx_model = export_qonnx(model, capacity, tmp_path / "gnn.qonnx.onnx")
    hls_model = build_hls(qonnx_model, HlsBuildConfig(capacity=capacity), tmp_path / "hls")

    graphs = _graphs(dataset, capacity, seed=len(name))
    assert len(graphs) >= N_GRAPHS
    assert any(g[1].shape[1] == 0 for g in graphs) and any(
        g[1].shape[1] == capacity.e_max for g in graphs
    )
    padded, brevitas = [], []
    for x, ei, ea in graphs:
        xq, eq = quantize_inputs(model, x, ea)  # raw features -> standardised -> input grid
        padded.append(pad_graph(np.asarray(xq), ei, np.asarray(eq), capacity))
        with torch.no_grad():
            brevitas.append(
                model(torch.from_numpy(x), torch.from_numpy(ei), torch.from_numpy(ea)).numpy()
            )
    csim = run_csim(hls_model, padded)
    n_edges = 0
    for i, (p, b, c) in enumerate(zip(padded, brevitas, csim, strict=True)):
        q = execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr)[: p.e_real]
        np.testing.assert_array_equal(q, b, err_msg=f"{name} graph {i}: QONNX != Brevitas")
        np.testing.assert_array_equal(c[: p.e_real], q, err_msg=f"{name} graph {i}: C sim != QONNX")
        n_edges += p.e_real
    assert n_edges > 10 * N_GRAPHS
    # not a trivial agreement: the outputs vary
    assert len(np.unique(np.concatenate(brevitas))) > 50
