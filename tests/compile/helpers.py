"""Test helpers: calibrated random quantized GNNs and graphs with edge cases."""

from __future__ import annotations

import numpy as np
import torch

from ticl_fpga.golden.vectors import brevitas_logits as golden_brevitas_logits
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.qmodel import build_quant_model
from ticl_fpga.quantize.recipe import load_recipe

NODE_DIM, EDGE_DIM = 6, 4


def calibrated_qmodel(recipe: str, *, seed: int = 0, **spec_kw):
    """A randomly initialised Brevitas GNN, calibrated with a few train() passes, in eval()."""
    torch.manual_seed(seed)
    spec = GNNSpec(node_dim=NODE_DIM, edge_dim=EDGE_DIM, **spec_kw)
    model = build_quant_model(spec, load_recipe(recipe))
    gen = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(4):
            n, e = 20, 60
            x = torch.randn(n, NODE_DIM, generator=gen)
            ea = torch.randn(e, EDGE_DIM, generator=gen)
            ei = torch.randint(0, n, (2, e), generator=gen)
            model(x, ei, ea)
    model.eval()
    return model


def random_graph(n: int, e: int, *, seed: int, isolated: int = 0):
    """Raw features; the last ``isolated`` nodes have no edges."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, NODE_DIM)).astype(np.float32) * 1.5
    ea = rng.normal(size=(e, EDGE_DIM)).astype(np.float32) * 1.5
    ei = rng.integers(0, max(n - isolated, 1), size=(2, e)).astype(np.int64)
    return x, ei, ea


def edge_case_graphs(n_max: int, e_max: int) -> dict[str, tuple]:
    return {
        "random": random_graph(n_max // 2, e_max // 2, seed=1),
        "no_edges": random_graph(max(n_max // 3, 1), 0, seed=2),
        "full": random_graph(n_max, e_max, seed=3),
        "isolated": random_graph(n_max - 1, e_max // 3, seed=4, isolated=4),
        "one_node": random_graph(1, 3, seed=5),
    }


def brevitas_logits(model, x, ei, ea) -> np.ndarray:
    """Brevitas logits of normalized inputs (the one implementation, in golden.vectors)."""
    return golden_brevitas_logits(model, x, ei, ea, normalized=True)
