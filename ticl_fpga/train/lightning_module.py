"""The Lightning wrapper around the plain GNN: focal loss, AdamW, train/val loss and val ROC AUC.

Lightning wraps the model, never the other way round: ``EdgeClassifierModule.model`` is the plain
:class:`~ticl_fpga.model.gnn.EdgeClassifierGNN` that every other stage (export, quantisation,
FPGA) uses directly.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import Tensor
from torchmetrics.classification import BinaryAUROC

from ticl_fpga.model.gnn import EdgeClassifierGNN
from ticl_fpga.train.focal_loss import focal_loss


class EdgeClassifierModule(L.LightningModule):
    """Trains an :class:`EdgeClassifierGNN` on PyG batches (``x``, ``edge_index``, ``edge_attr``, ``y``)."""

    def __init__(
        self,
        *,
        model: EdgeClassifierGNN,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        focal_alpha: float = 0.25,
        focal_gamma: float = 2.0,
        epochs: int = 30,
    ) -> None:
        super().__init__()
        self.model = model
        self.save_hyperparameters(ignore=["model"])
        self.hparams["spec"] = model.spec.model_dump()
        self.val_auc = BinaryAUROC()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.model(x, edge_index, edge_attr)

    def _loss(self, batch: Any) -> tuple[Tensor, Tensor]:
        logits = self.model(batch.x, batch.edge_index, batch.edge_attr)
        loss = focal_loss(
            logits, batch.y, alpha=self.hparams.focal_alpha, gamma=self.hparams.focal_gamma
        )
        return loss, logits

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, _ = self._loss(batch)
        n_edges = max(int(batch.y.numel()), 1)
        self.log(
            "train_loss", loss, prog_bar=True, on_step=False, on_epoch=True, batch_size=n_edges
        )
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, logits = self._loss(batch)
        n_edges = max(int(batch.y.numel()), 1)
        self.log("val_loss", loss, prog_bar=True, sync_dist=True, batch_size=n_edges)
        if batch.y.numel():
            self.val_auc.update(torch.sigmoid(logits), batch.y.long())
            self.log("val_auc", self.val_auc, prog_bar=True, on_step=False, on_epoch=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(
            self.model.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, T_max=max(int(self.hparams.epochs), 1), eta_min=self.hparams.lr * 0.05
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
