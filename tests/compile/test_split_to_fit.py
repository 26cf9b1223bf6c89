"""capacity.split_to_fit: a graph that fits runs whole; a larger one as its windows (one loop for
hls predict, compare, the demo's golden graphs)."""

from __future__ import annotations

import numpy as np

from ticl_fpga.compile.capacity import Capacity, fits, split_to_fit


def _chain(n: int):
    ei = np.array([np.arange(n - 1), np.arange(1, n)], dtype=np.int64)
    x = np.arange(n, dtype=np.float32).reshape(n, 1)
    ea = np.arange(n - 1, dtype=np.float32).reshape(n - 1, 1) + 100
    return x, ei, ea


def test_a_graph_that_fits_is_one_part_unchanged():
    x, ei, ea = _chain(4)
    parts, lost = split_to_fit(x, ei, ea, Capacity(n_max=4, e_max=3))
    assert len(parts) == 1 and parts[0].edges.tolist() == [0, 1, 2]
    assert parts[0].x is x and parts[0].edge_index is ei and parts[0].edge_attr is ea
    assert lost.tolist() == [False, False, False]
    assert parts[0].padded(Capacity(n_max=4, e_max=3)).e_real == 3


def test_an_oversize_chain_splits_into_windows_and_loses_the_boundary_edge():
    x, ei, ea = _chain(8)  # 7 edges; windows of 4 nodes: 0-3 and 4-7, edge 3->4 in neither
    cap = Capacity(n_max=4, e_max=6)
    assert not fits(8, 7, cap) and fits(4, 3, cap)
    parts, lost = split_to_fit(x, ei, ea, cap)
    assert [p.edges.tolist() for p in parts] == [[0, 1, 2], [4, 5, 6]]
    assert lost.tolist() == [False, False, False, True, False, False, False]
    second = parts[1]
    assert second.x[:, 0].tolist() == [4, 5, 6, 7]  # original nodes 4..7, renumbered from 0
    assert second.edge_index.tolist() == [[0, 1, 2], [1, 2, 3]]
    assert second.edge_attr[:, 0].tolist() == [104, 105, 106]  # the original edges' features


def test_overlap_keeps_the_boundary_edge():
    x, ei, ea = _chain(8)
    parts, lost = split_to_fit(x, ei, ea, Capacity(n_max=4, e_max=6), overlap=1)
    assert not lost.any()
    assert sorted(np.concatenate([p.edges for p in parts]).tolist()) == list(range(7))
