"""The pieces every integer path shares, below build, predict and to_qonnx in the import graph.

Refusing non-finite features, putting raw features on the model's input grid, a graph's arrays in
the hardware's node order, and one batched call of the hls4ml C simulation.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator

import numpy as np

from ticl_fpga.compile.capacity import PaddedGraph
from ticl_fpga.compile.hls4ml_ext.fixed import Fixed
from ticl_fpga.errors import InputError


class _OwnSymbolsCDLL(ctypes.CDLL):
    """A C-simulation library that binds to its own symbols first (``RTLD_DEEPBIND``)."""

    def __init__(self, name, mode: int = os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 0), **kw):
        super().__init__(name, mode=mode, **kw)


@contextlib.contextmanager
def own_symbols() -> Iterator[None]:
    """Load the hls4ml C simulations compiled inside this block with ``RTLD_DEEPBIND``.

    Every C simulation library defines the same globals (``nnet::trace_enabled``,
    ``nnet::trace_outputs``).  Once one of them is in the process's global scope (a later
    ``dlopen(RTLD_GLOBAL)`` of an already loaded library, as ROOT's interpreter does), every
    library loaded after it binds to that one's globals: its trace stays empty (uninitialised
    memory) and its predictions read another model's trace flag.  hls4ml loads the library with
    ``ctypes.cdll.LoadLibrary`` (also inside ``trace()``); within this block that loader binds each
    library to its own symbols.
    """
    saved = ctypes.cdll
    ctypes.cdll = ctypes.LibraryLoader(_OwnSymbolsCDLL)
    try:
        yield
    finally:
        ctypes.cdll = saved


def quantize_array(values: np.ndarray, t: Fixed) -> np.ndarray:
    """Round half to even and saturate onto ``t``'s grid (what the QONNX input Quant does)."""
    v = np.asarray(values, dtype=np.float32)
    q = np.round(v / np.float32(t.lsb))
    lo = t.min / t.lsb + (1 if t.saturation == "SAT_SYM" else 0)
    return (np.clip(q, lo, t.max / t.lsb) * t.lsb).astype(np.float64)


def check_finite(values: np.ndarray, what: str) -> None:
    """Refuse NaN/inf features with an :class:`InputError` naming the feature column.

    Every path (float, Brevitas, QONNX, exact reference, C simulation) refuses them the same way:
    a quantizer would silently turn NaN into some code on one path and keep NaN on another.
    """
    v = np.asarray(values)
    if v.size and v.dtype.kind == "f":
        bad = ~np.isfinite(v)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad.reshape(v.shape[0], -1))[0])
            raise InputError(
                f"<{what}>",
                f"non-finite value {v.reshape(v.shape[0], -1)[row, col]} in feature column {col} "
                f"(row {row}); NaN/inf features are refused on every path",
                field=f"{what}[:, {col}]",
            )


def to_input_grid(
    x: np.ndarray, edge_attr: np.ndarray, scalers: dict, types: dict[str, Fixed]
) -> tuple[np.ndarray, np.ndarray]:
    """Raw features -> standardised in float32 (as the model does) -> onto the input grid."""
    check_finite(x, "x")
    check_finite(edge_attr, "edge_attr")
    f32 = np.float32
    x = (x.astype(f32) - np.asarray(scalers["node_mean"], f32)) / np.asarray(
        scalers["node_std"], f32
    )
    ea = (edge_attr.astype(f32) - np.asarray(scalers["edge_mean"], f32)) / np.asarray(
        scalers["edge_std"], f32
    )
    return quantize_array(x, types["x"]), quantize_array(ea, types["edge_attr"])


def _flat(g: PaddedGraph) -> list[np.ndarray]:
    return [
        np.ascontiguousarray(g.x, dtype=np.float64).reshape(-1),
        np.ascontiguousarray(g.edge_index, dtype=np.float64).reshape(-1),
        np.ascontiguousarray(g.edge_attr, dtype=np.float64).reshape(-1),
    ]


def run_csim(hls_model, padded: list[PaddedGraph]) -> list[np.ndarray]:
    """C simulation of padded graphs (inputs on the grid); logits ``[e_max]`` per graph."""
    if not padded:
        return []
    cols = list(zip(*[_flat(g) for g in padded], strict=True))
    batch = [np.ascontiguousarray(np.stack(c)) for c in cols]
    y = np.asarray(hls_model.predict(batch), dtype=np.float64)
    return list(y.reshape(len(padded), -1))


def _arrays(graph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    if isinstance(graph, (tuple, list)):
        x, ei, ea = graph[:3]
        order = None
    else:  # torch_geometric Data
        x, ei, ea = graph.x.numpy(), graph.edge_index.numpy(), graph.edge_attr.numpy()
        eta = getattr(graph, "node_eta", None)
        order = np.argsort(eta.numpy(), kind="stable") if eta is not None else None
    return np.asarray(x), np.asarray(ei, dtype=np.int64).reshape(2, -1), np.asarray(ea), order
