"""Focal loss (Lin et al. 2017) on logits, for the strong class imbalance of candidate edges."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def focal_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> Tensor:
    """Binary focal loss ``-alpha_t (1 - p_t)^gamma log(p_t)`` computed stably from logits.

    ``alpha`` weighs the positive class (``1 - alpha`` the negative one; ``alpha < 0`` disables
    weighting); ``gamma = 0`` gives (weighted) binary cross-entropy.
    """
    targets = targets.to(logits.dtype)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t).pow(gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    if reduction == "mean":
        return loss.mean() if loss.numel() else loss.sum()
    if reduction == "sum":
        return loss.sum()
    return loss
