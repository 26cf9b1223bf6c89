"""Property-based: random graphs within capacity give bit-identical logits on every path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticl_fpga.compile.capacity import pad_graph
from ticl_fpga.compile.to_qonnx import execute_qonnx, quantize_inputs
from ticl_fpga.golden.check import csim_logits
from ticl_fpga.golden.vectors import brevitas_logits

SETTINGS = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def graphs(draw, n_max: int, e_max: int, node_dim: int, edge_dim: int):
    n = draw(st.integers(1, n_max))
    e = draw(st.integers(0, e_max))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from([0.5, 1.5, 30.0]))
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, node_dim)) * scale).astype(np.float32)
    ea = (rng.normal(size=(e, edge_dim)) * scale).astype(np.float32)
    ei = rng.integers(0, n, size=(2, e)).astype(np.int64)
    return x, ei, ea


def _check(vectors, model, qonnx_model, graph, hls_model=None):
    x, ei, ea = graph
    x = x * vectors.state["node_std"] + vectors.state["node_mean"]  # raw features around the data
    ea = ea * vectors.state["edge_std"] + vectors.state["edge_mean"]
    xq, eq = quantize_inputs(model, x, ea)
    p = pad_graph(xq, ei, eq, vectors.case.capacity)
    ref = brevitas_logits(model, x, ei, ea)
    got = np.asarray(execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr))[: p.e_real]
    np.testing.assert_array_equal(got, ref, err_msg="QONNX vs Brevitas")
    if hls_model is not None:
        np.testing.assert_array_equal(
            csim_logits(hls_model, [p])[0][: p.e_real], ref, err_msg="C sim vs Brevitas"
        )


@pytest.mark.parametrize("name", ["w4a4_niters1", "w8a8_niters3", "w6a6_max_niters1"])
def test_random_graphs_brevitas_equals_qonnx(golden, name):
    vectors = golden(name)
    model, qonnx_model = vectors.quant_model(), vectors.qonnx_model()
    spec, cap = vectors.spec(), vectors.case.capacity

    @SETTINGS
    @given(graph=graphs(cap.n_max, cap.e_max, spec.node_dim, spec.edge_dim))
    def prop(graph):
        _check(vectors, model, qonnx_model, graph)

    prop()


@pytest.mark.slow
def test_random_graphs_csim_equals_brevitas(golden, csim):
    name = "w6a6_niters2"
    vectors = golden(name)
    model, qonnx_model, hls_model = vectors.quant_model(), vectors.qonnx_model(), csim(name)
    spec, cap = vectors.spec(), vectors.case.capacity

    @SETTINGS
    @given(graph=graphs(cap.n_max, cap.e_max, spec.node_dim, spec.edge_dim))
    def prop(graph):
        _check(vectors, model, qonnx_model, graph, hls_model)

    prop()


def test_dataset_events_with_the_same_number_are_all_kept():
    """Two graphs with one event number (two files, runs or lumi blocks) give two vectors."""
    from types import SimpleNamespace

    import numpy as np
    import torch

    from ticl_fpga.golden.cases import GoldenCase
    from ticl_fpga.golden.vectors import _feature_graphs

    def graph(n, e, seed):
        gen = torch.Generator().manual_seed(seed)
        return SimpleNamespace(
            event=7,
            num_nodes=n,
            x=torch.randn(n, 3, generator=gen),
            edge_index=torch.randint(0, n, (2, e), generator=gen),
            edge_attr=torch.randn(e, 2, generator=gen),
        )

    graphs = {"test": [graph(4, 3, 0), graph(5, 2, 1)], "val": [], "train": []}
    scalers = {k: np.zeros(3 if "node" in k else 2) for k in ("node_mean", "edge_mean")}
    scalers.update({k: np.ones(3 if "node" in k else 2) for k in ("node_std", "edge_std")})
    ds = SimpleNamespace(split=graphs.__getitem__, scalers=scalers)
    out = _feature_graphs(ds, GoldenCase(name="dup", recipe="w6a6", n_events=2))
    kept = [v for k, v in out.items() if k.startswith("event7")]
    assert len(kept) == 2
    assert sorted(v[0].shape[0] for v in kept) == [4, 5]
