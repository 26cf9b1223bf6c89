from __future__ import annotations

import pytest
import torch

from ticl_fpga.model.gnn import build_float_model
from ticl_fpga.model.pyg_reference import build_pyg_reference, from_gnn
from ticl_fpga.model.spec import GNNSpec


@pytest.mark.parametrize("aggr", ["sum", "mean", "max"])
@pytest.mark.parametrize("niters", [0, 2], ids=["niters0", "niters2"])
def test_same_logits_as_gnn(aggr, niters):
    torch.manual_seed(0)
    spec = GNNSpec(
        node_dim=5,
        edge_dim=3,
        node_hidden=16,
        edge_hidden=8,
        head_hidden=8,
        niters=niters,
        aggr=aggr,
    )
    model = build_float_model(spec).eval()
    model.set_scalers(torch.rand(5), torch.rand(5) + 0.5, torch.rand(3), torch.rand(3) + 0.5)
    ref = from_gnn(model)
    x, ei, ea = torch.randn(40, 5), torch.randint(0, 40, (2, 150)), torch.randn(150, 3)
    xn, ean = model.normalize(x, ea)
    torch.testing.assert_close(ref(xn, ei, ean), model(x, ei, ea), rtol=1e-5, atol=1e-5)


def test_same_parameter_count():
    spec = GNNSpec(node_dim=19, edge_dim=10)
    n_gnn = sum(p.numel() for p in build_float_model(spec).parameters())
    n_ref = sum(p.numel() for p in build_pyg_reference(spec).parameters())
    assert n_gnn == n_ref
