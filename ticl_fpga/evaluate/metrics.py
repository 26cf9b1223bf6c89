"""Edge-level metrics of a linker: ROC AUC, efficiency and purity at cuts and working points."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (scikit-learn; ties count one half). NaN with one class only.

    The project's only AUC: training (validation AUC), evaluation, quantisation and the baseline
    all call this.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, scores))


def efficiency_purity(accepted: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Edge efficiency (true edges accepted / true edges) and purity (true accepted / accepted)."""
    accepted = np.asarray(accepted).astype(bool)
    labels = np.asarray(labels).astype(bool)
    tp = float((accepted & labels).sum())
    eff = tp / labels.sum() if labels.sum() else float("nan")
    pur = tp / accepted.sum() if accepted.sum() else float("nan")
    return float(eff), float(pur)


def working_point(
    scores: np.ndarray,
    max_energy: np.ndarray,
    *,
    low: float = 0.5,
    high: float = 0.8,
    energy_split: float = 50.0,
) -> np.ndarray:
    """The seed's energy-dependent cut: score > ``low`` below ``energy_split`` GeV, > ``high`` above.

    ``max_energy`` is the larger raw energy of the edge's two tracksters (as in CMSSW's
    ``MergedGNNTracksterProducer``).
    """
    scores = np.asarray(scores)
    max_energy = np.asarray(max_energy)
    return np.where(max_energy < energy_split, scores > low, scores > high)


def efficiency_at_purity(scores: np.ndarray, labels: np.ndarray, purity: float = 0.9) -> float:
    """Highest edge efficiency over all cuts whose purity is at least ``purity`` (0 if none)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    if labels.sum() == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    s, lab = scores[order], labels[order]
    tp = np.cumsum(lab)
    n = np.arange(1, len(s) + 1)
    # only cut between distinct scores
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    pur = tp / n
    ok = last_of_tie & (pur >= purity)
    return float(tp[ok].max() / labels.sum()) if ok.any() else 0.0


def edge_summary(
    scores: np.ndarray,
    labels: np.ndarray,
    max_energy: np.ndarray | None = None,
    *,
    cut: float = 0.5,
    purity_target: float = 0.9,
) -> dict[str, float]:
    """Edge-level summary of one scorer: AUC, efficiency/purity at ``cut`` and at the seed's
    working point (when ``max_energy`` is given), efficiency at ``purity_target`` purity."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    eff, pur = efficiency_purity(scores > cut, labels)
    out = {
        "n_edges": int(len(scores)),
        "n_true": int(labels.sum()),
        "auc": roc_auc(scores, labels),
        "cut": float(cut),
        "efficiency_at_cut": eff,
        "purity_at_cut": pur,
        "edge_efficiency_at_purity": efficiency_at_purity(scores, labels, purity_target),
        "purity_level": float(purity_target),
    }
    if max_energy is not None:
        wp_eff, wp_pur = efficiency_purity(working_point(scores, max_energy), labels)
        out["efficiency_at_wp"] = wp_eff
        out["purity_at_wp"] = wp_pur
    return out
