"""The non-ML reference linker: geometric cuts on delta R, axis alignment and energy ratio.

Each edge gets a score in [0, 1] that is a product of Gaussian 'soft cuts'
``exp(-(delta_r / s_r)^2 / 2) * exp(-(axis_angle / s_a)^2 / 2) * exp(-(|log E ratio| / s_e)^2 / 2)``,
so the same edge and event metrics apply as for the GNN.  :meth:`GeometricLinker.fit` picks the
three widths (and whether the energy term is used) from a small grid by ROC AUC on training
edges, and the hard cut by Youden's J (efficiency minus fake rate): it is a calibrated cut-based linker, the bar
the GNN has to clear.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ticl_fpga.errors import InputError
from ticl_fpga.evaluate.metrics import roc_auc

log = logging.getLogger(__name__)

#: Accepted names for each input, in order of preference.
FEATURE_NAMES = {
    "delta_r": ("delta_r",),
    "axis_angle": ("axis_angle",),
    "energy": ("log_energy_ratio", "energy_ratio"),
}


def _column(edge_features: Sequence[str], key: str) -> tuple[int, str]:
    for name in FEATURE_NAMES[key]:
        if name in edge_features:
            return list(edge_features).index(name), name
    raise InputError(
        "dataset edge features",
        f"the geometric baseline needs one of {FEATURE_NAMES[key]} (has: {', '.join(edge_features)})",
    )


@dataclass
class GeometricLinker:
    """Cut-based trackster linker; ``score(graph)`` gives one score in [0, 1] per candidate edge."""

    edge_features: tuple[str, ...]
    sigma_r: float = 0.05
    sigma_angle: float = 0.3
    sigma_energy: float | None = None  # None: energy term off
    cut: float = 0.5

    def __post_init__(self) -> None:
        self.edge_features = tuple(self.edge_features)
        self._ir, _ = _column(self.edge_features, "delta_r")
        self._ia, _ = _column(self.edge_features, "axis_angle")
        self._ie, self._energy_name = _column(self.edge_features, "energy")

    def _terms(self, edge_attr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ea = np.asarray(edge_attr, dtype=np.float64)
        dr = np.abs(ea[:, self._ir])
        ang = np.abs(ea[:, self._ia])
        en = ea[:, self._ie]
        en = (
            np.abs(en)
            if self._energy_name.startswith("log")
            else np.abs(np.log(np.maximum(en, 1e-9)))
        )
        return dr, ang, en

    @staticmethod
    def _combine(dr, ang, en, s_r, s_a, s_e) -> np.ndarray:
        z = (dr / s_r) ** 2 + (ang / s_a) ** 2
        if s_e is not None:
            z = z + (en / s_e) ** 2
        return np.exp(-0.5 * z)

    def score_features(self, edge_attr: np.ndarray) -> np.ndarray:
        """Scores for raw edge features ``[E, F_e]``."""
        return self._combine(
            *self._terms(edge_attr), self.sigma_r, self.sigma_angle, self.sigma_energy
        )

    def score(self, graph: Any) -> np.ndarray:
        """Scores for one event graph."""
        return self.score_features(graph.edge_attr.numpy().reshape(-1, len(self.edge_features)))

    def scores(self, graphs: Sequence[Any]) -> list[np.ndarray]:
        return [self.score(g) for g in graphs]

    def fit(self, graphs: Sequence[Any]) -> GeometricLinker:
        """Choose the widths (ROC AUC) and the cut (Youden's J) on training graphs; returns self."""
        ea = [g.edge_attr.numpy() for g in graphs if g.edge_index.size(1)]
        if not ea:
            raise InputError("training split", "no candidate edges to fit the baseline on")
        edge_attr = np.concatenate(ea)
        labels = np.concatenate([g.y.numpy() for g in graphs if g.edge_index.size(1)]) > 0.5
        dr, ang, en = self._terms(edge_attr)
        if labels.sum() == 0:
            return self
        q = (0.5, 0.75, 0.9, 0.97)
        cand_r = sorted({float(max(np.quantile(dr[labels], p), 1e-6)) for p in q})
        cand_a = sorted({float(max(np.quantile(ang[labels], p), 1e-6)) for p in q})
        cand_e = [None] + sorted({float(max(np.quantile(en[labels], p), 1e-6)) for p in q})
        best = (-1.0, self.sigma_r, self.sigma_angle, self.sigma_energy)
        for s_r, s_a, s_e in itertools.product(cand_r, cand_a, cand_e):
            auc = roc_auc(self._combine(dr, ang, en, s_r, s_a, s_e), labels)
            if auc > best[0]:
                best = (auc, s_r, s_a, s_e)
        _, self.sigma_r, self.sigma_angle, self.sigma_energy = best
        s = self._combine(dr, ang, en, self.sigma_r, self.sigma_angle, self.sigma_energy)
        self.cut = _best_youden_cut(s, labels)
        log.info(
            "baseline fitted: train AUC %.4f, sigma_r %.3g, sigma_angle %.3g, sigma_energy %s, cut %.3g",
            best[0],
            self.sigma_r,
            self.sigma_angle,
            self.sigma_energy,
            self.cut,
        )
        return self

    def params(self) -> dict[str, Any]:
        d = asdict(self)
        d["edge_features"] = list(self.edge_features)
        return d


def _best_youden_cut(scores: np.ndarray, labels: np.ndarray) -> float:
    """The cut maximising true-edge efficiency minus fake-edge rate (Youden's J)."""
    cuts = np.unique(np.quantile(scores, np.linspace(0.02, 0.98, 49)))
    n_pos, n_neg = max(labels.sum(), 1), max((~labels).sum(), 1)
    best_j, best_cut = -np.inf, 0.5
    for c in cuts:
        acc = scores > c
        j = (acc & labels).sum() / n_pos - (acc & ~labels).sum() / n_neg
        if j > best_j:
            best_j, best_cut = j, float(c)
    return best_cut
