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

from ticl_fpga.evaluate.metrics import roc_auc
from ticl_fpga.model.gnn import EdgeClassifierGNN
from ticl_fpga.train.focal_loss import focal_loss


class EdgeClassifierModule(L.LightningModule):
    """Trains an :class:`EdgeClassifierGNN` on PyG batches (``x``, ``edge_index``, ``edge_attr``, ``y``)."""

    def __init__(
        self,
        *,
        model: EdgeClassifierGNN,
        lr: float,
        weight_decay: float,
        focal_alpha: float,
        focal_gamma: float,
        epochs: int,
    ) -> None:
        """The optimiser, loss and schedule settings come from :class:`TrainConfig` (no defaults
        here, so they have one definition)."""
        super().__init__()
        self.model = model
        self.save_hyperparameters(ignore=["model"])
        self.hparams["spec"] = model.spec.model_dump()
        self._val_scores: list[Tensor] = []
        self._val_labels: list[Tensor] = []

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
        self._val_scores.append(logits.detach().float().cpu())
        self._val_labels.append(batch.y.detach().cpu())

    def on_validation_epoch_end(self) -> None:
        """``val_auc`` over the whole validation split (gathered from every rank under DDP)."""
        empty = torch.zeros(0)
        logits = torch.cat(self._val_scores) if self._val_scores else empty
        labels = torch.cat(self._val_labels) if self._val_labels else empty
        self._val_scores, self._val_labels = [], []
        if self.trainer.world_size > 1:
            parts: list[Any] = [None] * self.trainer.world_size
            torch.distributed.all_gather_object(parts, (logits, labels))
            logits = torch.cat([p[0] for p in parts])
            labels = torch.cat([p[1] for p in parts])
        if labels.numel():  # the AUC ranks logits, so no sigmoid is needed
            self.log("val_auc", roc_auc(logits.numpy(), labels.numpy() > 0.5), prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(
            self.model.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, T_max=max(int(self.hparams.epochs), 1), eta_min=self.hparams.lr * 0.05
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
