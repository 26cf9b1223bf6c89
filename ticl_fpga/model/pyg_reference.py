"""A plain PyG implementation of the same interaction network, for speed comparisons only.

Built the way a PyG user would write it (``MessagePassing`` with ``propagate`` in both edge
directions, ``torch_geometric.nn.Linear``), with exactly the layer sizes of
:class:`~ticl_fpga.model.gnn.EdgeClassifierGNN`; :func:`from_gnn` copies a trained model's
weights so both give the same logits (tested), which makes the benchmark a like-for-like one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import Linear, MessagePassing

from ticl_fpga.model.gnn import EdgeClassifierGNN
from ticl_fpga.model.spec import GNNSpec


class InteractionLayer(MessagePassing):
    """Edge update from both end nodes, then node update from incoming and outgoing edges."""

    def __init__(self, *, node_hidden: int, edge_hidden: int, aggr: str = "sum") -> None:
        super().__init__(aggr=aggr)
        self.edge_mlp = Linear(2 * node_hidden + edge_hidden, edge_hidden)
        self.node_mlp = Linear(node_hidden + 2 * edge_hidden, node_hidden)

    def forward(self, h: Tensor, edge_index: Tensor, e: Tensor) -> tuple[Tensor, Tensor]:
        src, dst = edge_index[0], edge_index[1]
        e = F.relu(self.edge_mlp(torch.cat([h[src], h[dst], e], dim=1)))
        size = (h.size(0), h.size(0))
        m_in = self.propagate(edge_index, e=e, size=size)
        m_out = self.propagate(edge_index.flip(0), e=e, size=size)
        h = F.relu(self.node_mlp(torch.cat([h, m_in, m_out], dim=1)))
        return h, e

    def message(self, e: Tensor) -> Tensor:  # noqa: D401 - PyG hook
        return e


class PyGEdgeClassifier(nn.Module):
    """``forward(x, edge_index, edge_attr) -> logits [E]`` on standardised features."""

    def __init__(self, *, spec: GNNSpec) -> None:
        super().__init__()
        H, He, Hh = spec.node_hidden, spec.edge_hidden, spec.head_hidden
        self.spec = spec
        self.node_enc = Linear(spec.node_dim, H)
        self.edge_enc = Linear(spec.edge_dim, He)
        self.layers = nn.ModuleList(
            [
                InteractionLayer(node_hidden=H, edge_hidden=He, aggr=spec.aggr)
                for _ in range(spec.niters)
            ]
        )
        self.head_hidden = Linear(2 * H + He, Hh)
        self.head_out = Linear(Hh, 1)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        h = F.relu(self.node_enc(x))
        e = F.relu(self.edge_enc(edge_attr))
        for layer in self.layers:
            h, e = layer(h, edge_index, e)
        src, dst = edge_index[0], edge_index[1]
        z = F.relu(self.head_hidden(torch.cat([h[src], h[dst], e], dim=1)))
        return self.head_out(z).squeeze(1)


def build_pyg_reference(spec: GNNSpec) -> PyGEdgeClassifier:
    return PyGEdgeClassifier(spec=spec)


@torch.no_grad()
def from_gnn(model: EdgeClassifierGNN) -> PyGEdgeClassifier:
    """A PyG reference carrying ``model``'s float weights (same logits on standardised inputs)."""
    ref = PyGEdgeClassifier(spec=model.spec)
    pairs = [
        ("node_enc", model.node_enc),
        ("edge_enc", model.edge_enc),
        ("head_hidden", model.head_hidden),
        ("head_out", model.head_out),
    ]
    for name, src in pairs:
        getattr(ref, name).weight.copy_(src.weight)
        getattr(ref, name).bias.copy_(src.bias)
    for i, layer in enumerate(ref.layers):
        for dst, src in ((layer.edge_mlp, model.edge_mlp[i]), (layer.node_mlp, model.node_mlp[i])):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
    return ref.eval()
