"""The seed's architecture, ``GNN_TrackLinkingNet``, as a reference model (``ticl-fpga train --model seed``).

Re-implemented from ``tracksterLinker/GNN/TrackLinkingNet.py`` and ``EdgeConvBlock.py`` of
cms-patatrack/TICL-GNN-Trackster-Linking (repository head dda9819; the network file last changed
in 6c6ea98, 2025-11-03) with the configuration of the seed's README: ``hidden_dim=64``,
``edge_hidden_dim=32``, ``niters=4``, ``weighted_aggr=True``, ``dropout=0.3``.  With the same
weights and identity scalers it gives the seed's ``run()`` output to float precision (checked
against the seed's own code while writing this module):

* node input network ``Linear(F, 64) - LeakyReLU - Dropout - Linear(64, 64) - LeakyReLU``; edge
  input network the same with 32;
* two attention heads on the edge embedding (``Linear(32, 32) - LeakyReLU - Dropout -
  Linear(32, 1) - Sigmoid``), one for each direction;
* ``niters`` EdgeConv blocks: messages ``[h_p1, h_p2 - h_p1]`` through ``Linear(128, 128) - ReLU -
  Dropout - Linear(128, 64) - ReLU``, weighted by the attention, scatter-summed on ``p1``, plus a
  skip connection ``ReLU(Linear(64, 64)(h) + sum)``.  Messages flow both ways along every edge
  (``p1 = [0 * N, src, dst]``, ``p2 = [0 * N, dst, src]``); the seed's "self" entries use index 0
  for every node (``torch.zeros(N)``, not ``arange``), which we keep as it is;
* edge network on ``[h_src, h_dst, edge embedding, scaled edge features]``:
  ``Linear(2*64 + Fe + 32, 64) - LeakyReLU - Dropout - Linear(64, 64) - LeakyReLU`` (the
  embedding its contrastive loss uses), then the output network ``Linear(64, 64) - LeakyReLU -
  Linear(64, 1)``.

Differences, so it plugs into this package's training, evaluation and export: ``forward`` takes
``edge_index [2, E]`` (row 0 = inner/source) and returns **logits** (the seed ends with a
Sigmoid and thresholds at 0.6 in ``forward``; the exported module applies the sigmoid), and the
inputs are standardised by the dataset's baked-in scalers (the seed divides by the training
set's max |x|, and adds 1e-4 to the edge features).
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor, nn

from ticl_fpga.config import StrictModel
from ticl_fpga.model.gnn import add_scalers, build_float_model, copy_scalers
from ticl_fpga.model.spec import GNNSpec


class SeedSpec(StrictModel):
    """Sizes of the seed's ``GNN_TrackLinkingNet``."""

    kind: str = "seed"
    node_dim: int = Field(gt=0)
    edge_dim: int = Field(gt=0)
    hidden: int = Field(64, gt=0)
    edge_hidden: int = Field(32, gt=0)
    niters: int = Field(4, ge=0, le=16)
    dropout: float = Field(0.3, ge=0, lt=1)


class EdgeConvBlock(nn.Module):
    def __init__(self, in_feat: int, out_feats: tuple[int, int], dropout: float) -> None:
        super().__init__()
        self.conv_0 = nn.Linear(2 * in_feat, out_feats[0])
        self.conv_1 = nn.Linear(out_feats[0], out_feats[1])
        self.drop = nn.Dropout(dropout)
        self.sc = nn.Linear(in_feat, out_feats[1])

    def forward(self, h: Tensor, p1: Tensor, p2: Tensor, alpha: Tensor) -> Tensor:
        a = h[p1]
        x = torch.cat([a, h[p2] - a], dim=1)
        x = self.drop(torch.relu(self.conv_0(x)))
        x = torch.relu(self.conv_1(x))
        ones = torch.ones(h.size(0), dtype=x.dtype, device=x.device)
        x = x * torch.cat([ones, alpha.reshape(-1)]).unsqueeze(1)
        summed = torch.zeros(h.size(0), x.size(1), dtype=x.dtype, device=x.device)
        summed = summed.index_add(0, p1, x)
        return torch.relu(self.sc(h) + summed)


def _mlp(fan_in: int, hidden: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(fan_in, hidden),
        nn.LeakyReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(),
    )


def _attention(hidden: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, 1),
        nn.Sigmoid(),
    )


class SeedTrackLinkingNet(nn.Module):
    """``forward(x [N, F], edge_index [2, E], edge_attr [E, Fe]) -> [E]`` logits (seed architecture)."""

    def __init__(self, *, spec: SeedSpec) -> None:
        super().__init__()
        self.spec = spec
        H, He = spec.hidden, spec.edge_hidden
        add_scalers(self, spec.node_dim, spec.edge_dim)
        self.inputnetwork = _mlp(spec.node_dim, H, spec.dropout)
        self.edge_inputnetwork = _mlp(spec.edge_dim, He, spec.dropout)
        self.attention_direct = _attention(He, spec.dropout)
        self.attention_reverse = _attention(He, spec.dropout)
        self.graphconvs = nn.ModuleList(
            [EdgeConvBlock(H, (2 * H, H), spec.dropout) for _ in range(spec.niters)]
        )
        self.edgenetwork = nn.Sequential(
            nn.Linear(2 * H + spec.edge_dim + He, H),
            nn.LeakyReLU(),
            nn.Dropout(spec.dropout),
            nn.Linear(H, H),
            nn.LeakyReLU(),
        )
        self.outputnetwork = nn.Sequential(nn.Linear(H, H), nn.LeakyReLU(), nn.Linear(H, 1))
        for m in self.modules():  # the seed's weight_init
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def set_scalers(self, node_mean, node_std, edge_mean, edge_std) -> None:
        copy_scalers(self, node_mean, node_std, edge_mean, edge_std)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        x = (x - self.node_mean) / self.node_std
        ef = (edge_attr - self.edge_mean) / self.edge_std
        e = self.edge_inputnetwork(ef)
        alpha = torch.cat([self.attention_direct(e), self.attention_reverse(e)], dim=0)
        h = self.inputnetwork(x)
        src, dst = edge_index[0], edge_index[1]
        empty = torch.zeros(x.size(0), dtype=src.dtype, device=src.device)
        p1 = torch.cat([empty, src, dst])
        p2 = torch.cat([empty, dst, src])
        for conv in self.graphconvs:
            h = conv(h, p1, p2, alpha)
        z = torch.cat([h[src], h[dst], e, ef], dim=1)
        return self.outputnetwork(self.edgenetwork(z)).squeeze(1)

    @torch.no_grad()
    def scores(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return torch.sigmoid(self(x, edge_index, edge_attr))


def build_seed_model(node_dim: int, edge_dim: int, **sizes) -> SeedTrackLinkingNet:
    return SeedTrackLinkingNet(spec=SeedSpec(node_dim=node_dim, edge_dim=edge_dim, **sizes))


def spec_from_dict(raw: dict):
    """A saved spec: :class:`SeedSpec` when ``kind == "seed"``, else the GNN's ``GNNSpec``."""
    if isinstance(raw, dict) and raw.get("kind") == "seed":
        return SeedSpec.model_validate(raw)
    return GNNSpec.model_validate(raw)


def build_model(spec) -> nn.Module:
    """The float model of a spec: the seed's network for :class:`SeedSpec`, else ours."""
    if isinstance(spec, SeedSpec):
        return SeedTrackLinkingNet(spec=spec)
    return build_float_model(spec)
