"""Fixed-capacity graphs: pad an event to ``(n_max, e_max)`` or split it into windows that fit.

The hardware holds ``n_max + 1`` node rows and ``e_max`` edge rows.  The last node row is a *sink*:
padded edges point from the sink to the sink, so they only ever read from and aggregate into the
sink, and the outputs of real edges and nodes are bit-identical to the unpadded graph.  Padded node
rows and edge rows are zeros; their outputs are discarded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from ticl_fpga.config import StrictModel
from ticl_fpga.errors import InputError

log = logging.getLogger(__name__)


class Capacity(StrictModel):
    """Graph size the exported model and the FPGA project are built for."""

    n_max: int = Field(64, gt=0, description="real nodes per graph (one more sink row is added)")
    e_max: int = Field(256, gt=0, description="candidate edges per graph")

    @property
    def n_rows(self) -> int:
        """Node rows in hardware: ``n_max`` real plus the sink."""
        return self.n_max + 1

    @property
    def sink(self) -> int:
        return self.n_max


@dataclass
class PaddedGraph:
    """One graph at fixed capacity; ``n_real``/``e_real`` rows are real, the rest padding."""

    x: np.ndarray  # [n_max + 1, F_n] float
    edge_index: np.ndarray  # [2, e_max] int64
    edge_attr: np.ndarray  # [e_max, F_e] float
    n_real: int
    e_real: int


def pad_graph(
    x: np.ndarray, edge_index: np.ndarray, edge_attr: np.ndarray, capacity: Capacity
) -> PaddedGraph:
    """Pad one graph; raise :class:`InputError` naming the sizes if it does not fit."""
    x = np.asarray(x)
    edge_index = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
    edge_attr = np.asarray(edge_attr)
    n, e = x.shape[0], edge_index.shape[1]
    if n > capacity.n_max or e > capacity.e_max:
        raise InputError(
            "<graph>",
            f"{n} nodes / {e} edges exceed the capacity n_max={capacity.n_max}, e_max={capacity.e_max}; "
            "split it with capacity.windows() or rebuild with a larger capacity",
        )
    if e and (edge_index.min() < 0 or edge_index.max() >= n):
        raise InputError("<graph>", f"edge_index out of range [0, {n})", field="edge_index")
    xp = np.zeros((capacity.n_rows, x.shape[1]), dtype=x.dtype)
    xp[:n] = x
    ei = np.full((2, capacity.e_max), capacity.sink, dtype=np.int64)
    ei[:, :e] = edge_index
    ea = np.zeros((capacity.e_max, edge_attr.shape[1]), dtype=edge_attr.dtype)
    ea[:e] = edge_attr
    return PaddedGraph(xp, ei, ea, n, e)


@dataclass
class Window:
    """A sub-graph that fits the capacity: ``nodes`` (original ids) and ``edges`` (original ids)."""

    nodes: np.ndarray
    edges: np.ndarray

    def subgraph(
        self, x: np.ndarray, edge_index: np.ndarray, edge_attr: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The window's features and edges, with node ids renumbered from 0."""
        remap = np.full(x.shape[0], -1, dtype=np.int64)
        remap[self.nodes] = np.arange(len(self.nodes))
        return x[self.nodes], remap[edge_index[:, self.edges]], edge_attr[self.edges]


def windows(
    num_nodes: int,
    edge_index: np.ndarray,
    capacity: Capacity,
    order: np.ndarray | None = None,
    *,
    overlap: int = 0,
) -> tuple[list[Window], np.ndarray]:
    """Split a graph into windows of consecutive nodes (in ``order``, e.g. by eta) that fit.

    Consecutive windows share ``overlap`` nodes, so edges between neighbouring tracksters near a
    window boundary are still seen.  Each edge belongs to the first window holding both its ends.
    Returns the windows and a boolean mask of the edges that landed in no window (lost).
    """
    edge_index = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
    order = np.arange(num_nodes) if order is None else np.asarray(order)
    rank = np.empty(num_nodes, dtype=np.int64)
    rank[order] = np.arange(num_nodes)
    r = rank[edge_index]
    covered = np.zeros(edge_index.shape[1], dtype=bool)
    out: list[Window] = []
    start = 0
    while start < num_nodes:
        size = min(capacity.n_max, num_nodes - start)
        while True:
            lo, hi = start, start + size
            inside = np.all((r >= lo) & (r < hi), axis=0) & ~covered
            if inside.sum() <= capacity.e_max or size == 1:
                break
            size = max(1, size // 2)
        if inside.sum() > capacity.e_max:  # pragma: no cover - only self-loops could do this
            inside_idx = np.flatnonzero(inside)[: capacity.e_max]
            inside = np.zeros_like(inside)
            inside[inside_idx] = True
        out.append(Window(nodes=order[start : start + size], edges=np.flatnonzero(inside)))
        covered |= inside
        if start + size >= num_nodes:
            break
        start += max(size - overlap, 1)
    return out, ~covered


@dataclass
class Part:
    """A graph, or one window of it, that fits the capacity; ``edges`` are the original ids of
    its edge rows."""

    edges: np.ndarray
    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.x, self.edge_index, self.edge_attr

    def padded(self, capacity: Capacity) -> PaddedGraph:
        return pad_graph(self.x, self.edge_index, self.edge_attr, capacity)


def fits(num_nodes: int, num_edges: int, capacity: Capacity) -> bool:
    """Whether a graph of that size runs whole at ``capacity``."""
    return num_nodes <= capacity.n_max and num_edges <= capacity.e_max


def split_to_fit(
    x: np.ndarray,
    edge_index: np.ndarray,
    edge_attr: np.ndarray,
    capacity: Capacity,
    order: np.ndarray | None = None,
    *,
    overlap: int = 0,
) -> tuple[list[Part], np.ndarray]:
    """The graph as it runs at ``capacity``: itself when it fits, else its :func:`windows` (nodes in
    ``order``, sharing ``overlap`` nodes).  Returns the parts and a boolean mask of the edges that
    landed in no window (lost; none when the graph fits)."""
    n, e = x.shape[0], edge_index.shape[1]
    if fits(n, e, capacity):
        return [Part(np.arange(e), x, edge_index, edge_attr)], np.zeros(e, dtype=bool)
    wins, lost = windows(n, edge_index, capacity, order, overlap=overlap)
    return [Part(w.edges, *w.subgraph(x, edge_index, edge_attr)) for w in wins], lost
