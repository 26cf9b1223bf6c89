"""Integer model of a :class:`~ticl_fpga.rtl.graph.Design`: what the RTL computes, layer by layer,
on codes (value / LSB), with numpy int64.  Used to localise a mismatch to the first layer whose
RTL-level semantics differ from QONNX (the RTL itself is checked by Verilator)."""

from __future__ import annotations

import numpy as np

from ticl_fpga.rtl.graph import Design


def _round_half_even_shift(x: np.ndarray, sh: int) -> np.ndarray:
    if sh <= 0:
        return x << (-sh)
    q = x >> sh
    rem = x & ((1 << sh) - 1)
    half = 1 << (sh - 1)
    up = (rem > half) | ((rem == half) & (q & 1 == 1))
    return q + up.astype(np.int64)


def run_codes(d: Design, x_code: np.ndarray, edge_index: np.ndarray, ea_code: np.ndarray) -> dict:
    """Codes of every tensor for one padded graph."""
    t = d.tensors
    v: dict[str, np.ndarray] = {
        "x": np.asarray(x_code, dtype=np.int64),
        "edge_attr": np.asarray(ea_code, dtype=np.int64),
        "edge_index": np.asarray(edge_index, dtype=np.int64),
    }
    for ly in d.layers:
        out = t[ly.output]
        ins = [v[i] for i in ly.inputs]
        if ly.kind == "index_row":
            r = ins[0][ly.attrs["row"]]
        elif ly.kind == "dense":
            src = t[ly.inputs[0]]
            w = np.round(ly.attrs["weight"] * 2.0 ** (out.frac - src.frac)).astype(np.int64)
            b = np.round(ly.attrs["bias"] * 2.0**out.frac).astype(np.int64)
            r = ins[0] @ w.T + b
        elif ly.kind == "relu":
            r = np.maximum(ins[0], 0)
        elif ly.kind == "requant":
            src = t[ly.inputs[0]]
            r = _round_half_even_shift(ins[0], src.frac - out.frac)
            f = out.fixed
            hi = (1 << (f.width - 1)) - 1 if f.signed else (1 << f.width) - 1
            lo = (-hi if ly.attrs.get("sym") else -hi - 1) if f.signed else 0
            r = np.clip(r, lo, hi)
        elif ly.kind == "concat":
            r = np.concatenate(
                [a << (out.frac - t[n].frac) for a, n in zip(ins, ly.inputs, strict=True)], axis=1
            )
        elif ly.kind == "gather":
            idx = ins[1]
            ok = idx < d.n_rows
            r = np.where(ok[:, None], ins[0][np.where(ok, idx, 0)], 0)
        elif ly.kind in ("scatter_sum", "scatter_max"):
            r = np.zeros((d.n_rows, out.feats), dtype=np.int64)
            for e, n in enumerate(ins[1]):
                if n < d.n_rows:
                    r[n] = (
                        r[n] + ins[0][e]
                        if ly.kind == "scatter_sum"
                        else np.maximum(r[n], ins[0][e])
                    )
        else:  # pragma: no cover
            raise ValueError(ly.kind)
        v[ly.output] = r
    return v
