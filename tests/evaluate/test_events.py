from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from ticl_fpga.evaluate.events import (
    binned,
    event_metrics,
    fixed_cut,
    merge_components,
    no_links,
    particle_table,
    seed_working_point,
    truth_links,
)
from ticl_fpga.evaluate.metrics import edge_summary


def _event() -> Data:
    """Particle 0 split into tracksters 0, 1; particle 1 is trackster 2; trackster 3 is pileup.

    Candidate edges: 0-1 (true), 1-2 (fake), 2-3 (fake).
    """
    return Data(
        x=torch.zeros(4, 2),
        edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]),
        edge_attr=torch.zeros(3, 1),
        y=torch.tensor([1.0, 0.0, 0.0]),
        node_sim=torch.tensor([0, 0, 1, -1]),
        node_shared=torch.tensor([6.0, 3.0, 4.0, 0.0]),
        node_energy=torch.tensor([6.0, 3.0, 5.0, 2.0]),
        node_eta=torch.tensor([2.0, 2.0, 1.7, 2.5]),
        sim_energy=torch.tensor([10.0, 4.0]),
        sim_eta=torch.tensor([2.0, -1.7]),
        sim_pid=torch.tensor([22, 211]),
    )


def test_merge_components():
    labels = merge_components(5, np.array([[0, 2, 3], [1, 3, 4]]), np.array([True, False, True]))
    assert labels[0] == labels[1] and labels[3] == labels[4]
    assert len({labels[0], labels[2], labels[3]}) == 3
    assert merge_components(0, np.zeros((2, 0), int), np.zeros(0, bool)).shape == (0,)


def test_truth_links_give_best_trackster():
    table, counts = particle_table([_event()], [np.zeros(3)], truth_links)
    np.testing.assert_allclose(table["efficiency"], [0.9, 1.0])
    np.testing.assert_allclose(table["purity"], [1.0, 0.8])
    assert counts["merged"] == 1 and counts["fake"] == 0


def test_no_links():
    table, counts = particle_table([_event()], [np.zeros(3)], no_links)
    np.testing.assert_allclose(table["efficiency"], [0.6, 1.0])
    assert counts["merged"] == 0 and counts["tracksters"] == 4


def test_everything_merged_is_fake():
    table, counts = particle_table([_event()], [np.ones(3)], fixed_cut(0.5))
    np.testing.assert_allclose(table["efficiency"], [0.9, 1.0])
    np.testing.assert_allclose(table["purity"], [9 / 16, 4 / 16])
    assert counts == {
        "merged": 1,
        "fake": 1,
        "fake_multi_particle": 1,
        "fake_signal_pileup": 0,
        "tracksters": 1,
    }


def test_signal_with_pileup_is_fake():
    ev = _event()
    _, counts = particle_table([ev], [np.array([0.0, 0.0, 1.0])], fixed_cut(0.5))
    assert counts["fake_signal_pileup"] == 1 and counts["fake_multi_particle"] == 0


def test_seed_working_point_uses_energy():
    ev = _event()
    ev.node_energy = torch.tensor([60.0, 3.0, 5.0, 2.0])  # edge 0-1 is above 50 GeV
    accept = seed_working_point()(np.array([0.7, 0.7, 0.9]), ev)
    assert accept.tolist() == [False, True, True]


def test_event_metrics_summary():
    m = event_metrics([_event(), _event()], [np.zeros(3), np.zeros(3)], truth_links)
    assert m["n_events"] == 2 and m["n_particles"] == 4
    assert m["efficiency"] == pytest.approx(0.95)
    assert m["fake_fraction"] == 0.0
    assert m["efficiency_vs_energy"]["count"][:2] == [2, 2]  # 4 GeV and 10 GeV particles
    assert sum(m["efficiency_vs_eta"]["count"]) == 4  # |eta| is binned


def test_event_metrics_rejects_wrong_score_count():
    with pytest.raises(ValueError, match="flags"):
        event_metrics([_event()], [np.zeros(2)], fixed_cut(0.5))


def test_binned():
    b = binned(np.array([1.0, 2.0, 15.0]), np.array([0.5, 1.0, np.nan]), [0, 10, 20, 30])
    assert b["count"] == [2, 0, 0]
    assert b["mean"][0] == 0.75 and np.isnan(b["mean"][1])


def test_edge_summary():
    s = edge_summary(
        np.array([0.9, 0.8, 0.2, 0.1]),
        np.array([1, 0, 1, 0]),
        np.array([10.0, 60.0, 10.0, 60.0]),
        cut=0.5,
    )
    assert s["auc"] == 0.75
    assert s["efficiency_at_cut"] == 0.5 and s["purity_at_cut"] == 0.5
    assert s["efficiency_at_wp"] == 0.5 and s["purity_at_wp"] == 1.0
