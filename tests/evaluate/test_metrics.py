"""Edge metrics on small inputs whose answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ticl_fpga.evaluate.metrics import (
    edge_summary,
    efficiency_at_purity,
    efficiency_purity,
    roc_auc,
    working_point,
)

# ranked by score: T T F T F T (4 true edges). Cutting after the top k gives
# k:        1    2    3    4    5    6
# true:     1    2    2    3    3    4
# purity:   1    1   2/3  3/4  3/5  2/3
SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
LABELS = np.array([1, 1, 0, 1, 0, 1])


@pytest.mark.parametrize(
    ("purity", "efficiency"),
    [(1.0, 2 / 4), (0.9, 2 / 4), (0.75, 3 / 4), (0.7, 3 / 4), (0.6, 4 / 4), (0.0, 4 / 4)],
)
def test_efficiency_at_purity(purity, efficiency):
    assert efficiency_at_purity(SCORES, LABELS, purity) == pytest.approx(efficiency)


def test_efficiency_at_purity_is_order_independent():
    perm = np.array([3, 0, 5, 1, 4, 2])
    assert efficiency_at_purity(SCORES[perm], LABELS[perm], 0.75) == pytest.approx(0.75)


def test_efficiency_at_purity_never_cuts_inside_a_tie():
    # the two 0.9 edges (one true, one false) are accepted together: purity 1/2, then 2/3
    scores, labels = np.array([0.9, 0.9, 0.5]), np.array([1, 0, 1])
    assert efficiency_at_purity(scores, labels, 0.9) == 0.0
    assert efficiency_at_purity(scores, labels, 0.6) == 1.0


def test_efficiency_at_purity_without_true_edges_is_nan():
    assert math.isnan(efficiency_at_purity(np.array([0.3, 0.2]), np.array([0, 0])))


def test_roc_auc_known_values():
    # pairs (true, false): (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) -> 3/4
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert roc_auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5  # a tie counts one half
    # T T F T F T: 2 true edges rank above the first false one, 3 above the second -> 5 of 8 pairs
    assert roc_auc(SCORES, LABELS) == pytest.approx(5 / 8)
    assert math.isnan(roc_auc(np.array([0.2, 0.7]), np.array([1, 1])))


def test_efficiency_purity_and_working_point():
    eff, pur = efficiency_purity(np.array([1, 1, 1, 0]), np.array([1, 0, 1, 1]))
    assert (eff, pur) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    eff, pur = efficiency_purity(np.zeros(3, bool), np.array([1, 0, 1]))
    assert eff == 0.0 and math.isnan(pur)
    # score 0.6 passes below 50 GeV (cut 0.5) but not above (cut 0.8)
    wp = working_point(np.array([0.6, 0.6, 0.9, 0.4]), np.array([10.0, 60.0, 60.0, 10.0]))
    assert wp.tolist() == [True, False, True, False]


def test_edge_summary_keys_and_values():
    s = edge_summary(SCORES, LABELS, cut=0.65, purity_target=0.75)
    # cut 0.65 accepts the top 3: 2 true of 3 accepted, 2 of 4 true edges
    assert s["n_edges"] == 6 and s["n_true"] == 4
    assert s["efficiency_at_cut"] == pytest.approx(0.5)
    assert s["purity_at_cut"] == pytest.approx(2 / 3)
    assert s["edge_efficiency_at_purity"] == pytest.approx(0.75) and s["purity_level"] == 0.75
    assert s["auc"] == pytest.approx(5 / 8)
