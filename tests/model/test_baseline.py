from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from ticl_fpga.data.features import EDGE_FEATURES
from ticl_fpga.errors import InputError
from ticl_fpga.evaluate.metrics import roc_auc
from ticl_fpga.model.baseline import GeometricLinker


def _graphs(n: int = 30, seed: int = 0) -> list[Data]:
    """True edges are close in delta R and aligned; fake ones are spread out."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        e = 20
        y = rng.random(e) < 0.4
        ea = rng.normal(size=(e, len(EDGE_FEATURES))).astype(np.float32)
        ea[:, EDGE_FEATURES.index("delta_r")] = np.where(
            y, rng.exponential(0.02, e), rng.exponential(0.2, e)
        )
        ea[:, EDGE_FEATURES.index("axis_angle")] = np.where(
            y, rng.exponential(0.1, e), rng.uniform(0, 1.5, e)
        )
        out.append(
            Data(
                x=torch.zeros(5, 1),
                edge_index=torch.randint(0, 5, (2, e)),
                edge_attr=torch.from_numpy(ea),
                y=torch.from_numpy(y.astype(np.float32)),
            )
        )
    return out


def test_scores_in_unit_interval_and_monotonic():
    linker = GeometricLinker(edge_features=EDGE_FEATURES)
    ea = np.zeros((3, len(EDGE_FEATURES)), dtype=np.float32)
    ea[:, EDGE_FEATURES.index("delta_r")] = [0.0, 0.05, 0.5]
    s = linker.score_features(ea)
    assert s[0] == pytest.approx(1.0) and s[0] > s[1] > s[2] >= 0.0


def test_fit_learns_separating_widths():
    train, test = _graphs(seed=0), _graphs(seed=1)
    linker = GeometricLinker(edge_features=EDGE_FEATURES, sigma_r=10.0, sigma_angle=1e-3)
    labels = np.concatenate([g.y.numpy() for g in test])
    before = roc_auc(np.concatenate(linker.scores(test)), labels)
    linker.fit(train)
    scores = np.concatenate(linker.scores(test))
    after = roc_auc(scores, labels)
    assert after > 0.9 and after > before + 0.05
    assert 0.0 < linker.cut < 1.0
    assert ((scores >= 0) & (scores <= 1)).all()


def test_missing_feature_names_it():
    with pytest.raises(InputError, match="axis_angle"):
        GeometricLinker(edge_features=("delta_r", "log_energy_ratio"))


def test_accepts_plain_energy_ratio():
    linker = GeometricLinker(
        edge_features=("delta_r", "axis_angle", "energy_ratio"), sigma_energy=1.0
    )
    s = linker.score_features(np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 10.0]], dtype=np.float32))
    assert s[0] == pytest.approx(1.0) and s[1] < s[0]
