"""PNG plots of an evaluation: ROC curves, score distributions, efficiency/purity versus energy and eta.

Uses matplotlib's object API with the Agg canvas (no pyplot state, no display needed); every file
is written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_curve

from ticl_fpga.evaluate.metrics import roc_auc
from ticl_fpga.io import atomic_path


def _figure(width: float = 5.5, height: float = 4.2):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="tight")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | Path) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return Path(path)


def plot_roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path) -> Path:
    """ROC curves (true-edge efficiency vs fake-edge rate) of several scorers: name -> (scores, labels)."""
    fig = _figure()
    ax = fig.add_subplot()
    for name, (scores, labels) in curves.items():
        labels = np.asarray(labels).astype(bool)
        if labels.all() or not labels.any():
            continue
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc(scores, labels):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.set_xlabel("fake edge rate")
    ax.set_ylabel("true edge efficiency")
    ax.set_title("Edge ROC")
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_scores(
    scores: np.ndarray,
    labels: np.ndarray,
    path: str | Path,
    *,
    title: str = "GNN",
    cut: float | None = None,
) -> Path:
    """Score distributions of true and fake candidate edges."""
    fig = _figure()
    ax = fig.add_subplot()
    labels = np.asarray(labels).astype(bool)
    bins = np.linspace(0, 1, 41)
    ax.hist(
        np.asarray(scores)[labels], bins=bins, histtype="step", density=True, label="true edges"
    )
    ax.hist(
        np.asarray(scores)[~labels], bins=bins, histtype="step", density=True, label="fake edges"
    )
    if cut is not None:
        ax.axvline(cut, color="grey", ls="--", lw=0.8, label=f"cut {cut:g}")
    ax.set_yscale("log")
    ax.set_xlabel("score")
    ax.set_ylabel("density")
    ax.set_title(f"{title} edge scores")
    ax.legend()
    return _save(fig, path)


def plot_binned(
    curves: Mapping[str, Mapping], path: str | Path, *, xlabel: str, ylabel: str, logx: bool = False
) -> Path:
    """Binned means (``events.binned`` dicts) of several linkers on one plot, with error bars."""
    fig = _figure()
    ax = fig.add_subplot()
    for name, b in curves.items():
        edges = np.asarray(b["edges"], dtype=np.float64)
        hi = edges[1:].copy()
        if hi[-1] > 10 * max(edges[-2], 1.0):  # open-ended last bin: draw it at twice its start
            hi[-1] = 2 * max(edges[-2], 1.0)
        lo = edges[:-1].copy()
        if logx:
            lo = np.maximum(lo, 1.0)
        centre = np.sqrt(lo * hi) if logx else 0.5 * (lo + hi)
        mean = np.asarray(b["mean"], dtype=np.float64)
        err = np.nan_to_num(np.asarray(b["stderr"], dtype=np.float64))
        ok = np.isfinite(mean)
        ax.errorbar(
            centre[ok], mean[ok], yerr=err[ok], xerr=None, marker="o", ms=3, capsize=2, label=name
        )
    if logx:
        ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)
