"""focal_loss against values worked out by hand from -alpha_t (1 - p_t)^gamma log(p_t)."""

from __future__ import annotations

import math

import pytest
import torch

from ticl_fpga.train.focal_loss import focal_loss

LN2 = math.log(2.0)
LOGIT_075 = math.log(3.0)  # sigmoid(ln 3) = 3 / 4

# (logit, target, loss) with alpha = 0.25, gamma = 2:
CASES = [
    # p = 1/2: p_t = 1/2, (1 - p_t)^2 = 1/4, -log p_t = ln 2; alpha_t = 1/4 (positive), 3/4 (negative)
    (0.0, 1, 0.25 * 0.25 * LN2),  # 0.043322
    (0.0, 0, 0.75 * 0.25 * LN2),  # 0.129965
    # p = 3/4, positive: p_t = 3/4, (1/4)^2 = 1/16, -log(3/4)
    (LOGIT_075, 1, 0.25 * (1 / 16) * math.log(4 / 3)),  # 0.004495
    # p = 3/4, negative: p_t = 1/4, (3/4)^2 = 9/16, -log(1/4) = 2 ln 2
    (LOGIT_075, 0, 0.75 * (9 / 16) * 2 * LN2),  # 0.584843
]


@pytest.mark.parametrize(("logit", "target", "expected"), CASES)
def test_single_edge_values(logit, target, expected):
    loss = focal_loss(torch.tensor([logit]), torch.tensor([target]), reduction="none")
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_reductions():
    logits = torch.tensor([c[0] for c in CASES])
    targets = torch.tensor([float(c[1]) for c in CASES])
    total = sum(c[2] for c in CASES)  # 0.762626
    assert focal_loss(logits, targets, reduction="sum").item() == pytest.approx(total, rel=1e-6)
    assert focal_loss(logits, targets).item() == pytest.approx(total / 4, rel=1e-6)


def test_gamma_zero_without_alpha_is_binary_cross_entropy():
    # -log(sigmoid(0)) = ln 2; -log(1 - sigmoid(ln 3)) = ln 4
    loss = focal_loss(
        torch.tensor([0.0, LOGIT_075]),
        torch.tensor([1.0, 0.0]),
        alpha=-1,
        gamma=0,
        reduction="none",
    )
    assert loss.tolist() == pytest.approx([LN2, 2 * LN2], rel=1e-6)


def test_confident_mistakes_stay_finite():
    # |logit| = 100 the wrong way: p_t = e^-100, (1 - p_t)^2 = 1, -log p_t = 100
    loss = focal_loss(torch.tensor([100.0, -100.0]), torch.tensor([0, 1]), reduction="none")
    assert loss.tolist() == pytest.approx([0.75 * 100, 0.25 * 100], rel=1e-6)
    # ... and confident right answers cost (almost) nothing
    right = focal_loss(torch.tensor([100.0, -100.0]), torch.tensor([1, 0]), reduction="none")
    assert right.max().item() < 1e-30


def test_no_edges_gives_zero_not_nan():
    assert focal_loss(torch.zeros(0), torch.zeros(0)).item() == 0.0
