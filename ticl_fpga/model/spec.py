"""The architecture spec shared by the float model and its quantized (Brevitas) twin."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ticl_fpga.config import StrictModel

Aggregation = Literal["sum", "mean", "max"]


class GNNSpec(StrictModel):
    """Edge-classifier GNN in the family of the seed's ``GNN_TrackLinkingNet``.

    Node and edge encoders, ``niters`` rounds of interaction-network message passing (edge update
    from both end nodes, aggregation of edges into nodes in both directions, node update), then an
    edge head giving one logit per candidate edge.  Only linear layers, ReLU, concatenation,
    gather by edge index and sum/mean/max aggregation are used, so the same spec maps to the FPGA.
    """

    node_dim: int = Field(gt=0, description="number of node (trackster) input features")
    edge_dim: int = Field(gt=0, description="number of edge input features")
    node_hidden: int = Field(64, gt=0)
    edge_hidden: int = Field(32, gt=0)
    head_hidden: int = Field(32, gt=0)
    niters: int = Field(4, ge=0, le=16)
    aggr: Aggregation = "sum"

    def layer_names(self) -> list[str]:
        """Every parametrised or quantised layer, in data-flow order (recipes refer to these)."""
        names = ["node_in", "edge_in", "node_enc", "edge_enc"]
        for i in range(self.niters):
            names += [f"edge_mlp.{i}", f"aggr.{i}", f"node_mlp.{i}"]
        names += ["head_hidden", "head_out"]
        return names

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """(fan_in, fan_out) of every linear layer, for cost estimates and accumulator widths."""
        H, He, Hh = self.node_hidden, self.edge_hidden, self.head_hidden
        shapes = {"node_enc": (self.node_dim, H), "edge_enc": (self.edge_dim, He)}
        for i in range(self.niters):
            shapes[f"edge_mlp.{i}"] = (2 * H + He, He)
            shapes[f"node_mlp.{i}"] = (H + 2 * He, H)
        shapes["head_hidden"] = (2 * H + He, Hh)
        shapes["head_out"] = (Hh, 1)
        return shapes

    def linear_kind(self, name: str) -> Literal["node", "edge"]:
        """Whether a linear layer runs once per node or once per edge."""
        return "node" if name.startswith(("node_enc", "node_mlp")) else "edge"
