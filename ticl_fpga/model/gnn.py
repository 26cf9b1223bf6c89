"""The edge-classifier GNN as a plain ``nn.Module``: ``forward(x, edge_index, edge_attr) -> logits``.

Layers come from a :class:`LayerFactory`, so the float model and the Brevitas twin
(``ticl_fpga.quantize.qmodel``) are the same class built with different factories: TorchScript,
ONNX and QONNX export all see one module hierarchy.  Feature scalers fitted on the training set are
buffers of the model, so exported models take raw features.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor, nn

from ticl_fpga.model.spec import GNNSpec


def add_scalers(module: nn.Module, node_dim: int, edge_dim: int) -> None:
    """The feature-scaler buffers a float model carries (identity until :func:`copy_scalers`)."""
    module.register_buffer("node_mean", torch.zeros(node_dim))
    module.register_buffer("node_std", torch.ones(node_dim))
    module.register_buffer("edge_mean", torch.zeros(edge_dim))
    module.register_buffer("edge_std", torch.ones(edge_dim))


def copy_scalers(module: nn.Module, node_mean, node_std, edge_mean, edge_std) -> None:
    """Bake feature scalers (fitted on the training split) into ``module``'s buffers."""
    for name, value in (
        ("node_mean", node_mean),
        ("node_std", node_std),
        ("edge_mean", edge_mean),
        ("edge_std", edge_std),
    ):
        buf = getattr(module, name)
        buf.copy_(torch.as_tensor(value, dtype=buf.dtype))


class LayerFactory(Protocol):
    def linear(self, name: str, fan_in: int, fan_out: int) -> nn.Module: ...
    def relu(self, name: str) -> nn.Module: ...
    def input_quant(self, name: str) -> nn.Module: ...
    def requant(self, name: str) -> nn.Module: ...
    def output_quant(self, name: str) -> nn.Module: ...


class FloatLayers:
    """Plain PyTorch layers: the float reference."""

    def linear(self, name: str, fan_in: int, fan_out: int) -> nn.Module:
        return nn.Linear(fan_in, fan_out)

    def relu(self, name: str) -> nn.Module:
        return nn.ReLU()

    def input_quant(self, name: str) -> nn.Module:
        return nn.Identity()

    def requant(self, name: str) -> nn.Module:
        return nn.Identity()

    def output_quant(self, name: str) -> nn.Module:
        return nn.Identity()


def aggregate(values: Tensor, index: Tensor, num_nodes: int, aggr: str) -> Tensor:
    """Segment reduction of per-edge ``values [E, F]`` onto ``num_nodes`` by ``index [E]``.

    Nodes without edges get zeros.  ``max`` assumes non-negative inputs (they follow a ReLU),
    which makes a zero-initialised ``amax`` exact and the same as on the FPGA.
    """
    out = torch.zeros(num_nodes, values.size(1), dtype=values.dtype, device=values.device)
    if aggr == "max":
        idx = index.unsqueeze(1).expand(-1, values.size(1))
        return out.scatter_reduce(0, idx, values, reduce="amax", include_self=True)
    out = out.index_add(0, index, values)
    if aggr == "mean":
        deg = torch.zeros(num_nodes, dtype=values.dtype, device=values.device)
        deg = deg.index_add(0, index, torch.ones_like(index, dtype=values.dtype))
        out = out / deg.clamp(min=1.0).unsqueeze(1)
    return out


class EdgeClassifierGNN(nn.Module):
    """Interaction-network edge classifier; returns one logit per candidate edge.

    ``forward(x [N, node_dim] float32, edge_index [2, E] int64, edge_attr [E, edge_dim] float32)
    -> [E] float32 logits``.  Inputs are raw features; the baked-in scalers standardise them.
    Use :meth:`scores` (or the exported TorchScript) for probabilities.
    """

    def __init__(self, *, spec: GNNSpec, layers: LayerFactory | None = None) -> None:
        super().__init__()
        layers = layers if layers is not None else FloatLayers()
        self.spec = spec
        self.niters = spec.niters
        self.aggr = spec.aggr
        shapes = spec.linear_shapes()

        add_scalers(self, spec.node_dim, spec.edge_dim)

        self.node_in = layers.input_quant("node_in")
        self.edge_in = layers.input_quant("edge_in")
        self.node_enc = layers.linear("node_enc", *shapes["node_enc"])
        self.node_enc_act = layers.relu("node_enc")
        self.edge_enc = layers.linear("edge_enc", *shapes["edge_enc"])
        self.edge_enc_act = layers.relu("edge_enc")
        self.edge_mlp = nn.ModuleList(
            [layers.linear(f"edge_mlp.{i}", *shapes[f"edge_mlp.{i}"]) for i in range(spec.niters)]
        )
        self.edge_act = nn.ModuleList([layers.relu(f"edge_mlp.{i}") for i in range(spec.niters)])
        self.aggr_quant = nn.ModuleList([layers.requant(f"aggr.{i}") for i in range(spec.niters)])
        self.node_mlp = nn.ModuleList(
            [layers.linear(f"node_mlp.{i}", *shapes[f"node_mlp.{i}"]) for i in range(spec.niters)]
        )
        self.node_act = nn.ModuleList([layers.relu(f"node_mlp.{i}") for i in range(spec.niters)])
        self.head_hidden = layers.linear("head_hidden", *shapes["head_hidden"])
        self.head_act = layers.relu("head_hidden")
        self.head_out = layers.linear("head_out", *shapes["head_out"])
        self.out_quant = layers.output_quant("head_out")

    def set_scalers(self, node_mean, node_std, edge_mean, edge_std) -> None:
        """Bake feature scalers (fitted on the training split) into the model."""
        copy_scalers(self, node_mean, node_std, edge_mean, edge_std)

    def normalize(self, x: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        return (x - self.node_mean) / self.node_std, (edge_attr - self.edge_mean) / self.edge_std

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        xn, en = self.normalize(x, edge_attr)
        return self.forward_normalized(xn, edge_index, en)

    def forward_normalized(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        """The message-passing core on standardised features (what the FPGA computes)."""
        num_nodes = x.size(0)
        src, dst = edge_index[0], edge_index[1]
        h = self.node_enc_act(self.node_enc(self.node_in(x)))
        e = self.edge_enc_act(self.edge_enc(self.edge_in(edge_attr)))
        for edge_mlp, edge_act, aggr_quant, node_mlp, node_act in zip(
            self.edge_mlp, self.edge_act, self.aggr_quant, self.node_mlp, self.node_act, strict=True
        ):
            e = edge_act(edge_mlp(torch.cat([h[src], h[dst], e], dim=1)))
            m = torch.cat(
                [aggregate(e, dst, num_nodes, self.aggr), aggregate(e, src, num_nodes, self.aggr)],
                dim=1,
            )
            h = node_act(node_mlp(torch.cat([h, aggr_quant(m)], dim=1)))
        z = self.head_act(self.head_hidden(torch.cat([h[src], h[dst], e], dim=1)))
        return self.out_quant(self.head_out(z)).squeeze(1)

    @torch.no_grad()
    def scores(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return torch.sigmoid(self(x, edge_index, edge_attr))


class ScoringModel(nn.Module):
    """Wraps a model so that ``forward`` returns probabilities: what CMSSW loads."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return torch.sigmoid(self.model(x, edge_index, edge_attr))


def build_float_model(spec: GNNSpec) -> EdgeClassifierGNN:
    return EdgeClassifierGNN(spec=spec, layers=FloatLayers())
