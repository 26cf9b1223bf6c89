"""Exact execution of an exported QONNX GNN on integer codes: the reference for every other path.

Every tensor on the data path is a fixed-point number ``code * 2**exp`` (power-of-two scales, zero
point 0), so the graph can be executed exactly on integer codes: ``Quant`` rounds half to even and
saturates in integer arithmetic, ``Gemm`` multiplies and adds integers, gathers, scatters and
concatenations move codes.  Nothing here uses float32, onnxruntime or the project's hls4ml
conversion code (:mod:`ticl_fpga.compile.convert`), so it is an independent reference for the C
simulation, the RTL backend, QONNX (float32) and Brevitas (float32).

API::

    from ticl_fpga.compile.reference import exact_logits, ExactGraph
    logits = exact_logits(qonnx_model, (x, edge_index, edge_attr))  # float64 [e_max], exact
    ref = ExactGraph(qonnx_model)          # parse once, run many graphs
    ref.logits(x, edge_index, edge_attr)   # same as exact_logits
    ref.context(x, edge_index, edge_attr)  # every tensor, float64 (exact: all values are dyadic)
    ref.codes(x, edge_index, edge_attr)    # every data tensor as (int64 codes, exp)

``x``/``edge_attr`` are the padded float graph inputs (as fed to the QONNX model; they are read as
float32, the declared ONNX input type, and the input ``Quant`` rounds them); non-finite features are
refused with an :class:`~ticl_fpga.errors.InputError` naming the input and column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import helper, numpy_helper

from ticl_fpga.errors import InputError, TiclFpgaError

#: Beyond this the int64 codes could overflow; exact Python integers are used instead.
_INT64_SAFE = 2.0**62


class ReferenceError(TiclFpgaError):
    """The QONNX graph has an operation the exact reference cannot execute exactly."""


@dataclass
class Codes:
    """A fixed-point tensor: ``value = codes * 2**exp`` (codes int64, or object = Python ints)."""

    codes: np.ndarray
    exp: int

    def value(self) -> np.ndarray:
        return np.ldexp(self.codes.astype(np.float64), self.exp)

    def at(self, exp: int) -> np.ndarray:
        """Codes at a finer (or equal) exponent ``exp``."""
        if exp > self.exp:
            raise ReferenceError(f"cannot express 2^{self.exp} codes at the coarser 2^{exp}")
        return _shift_left(self.codes, self.exp - exp)


def _shift_left(c: np.ndarray, d: int) -> np.ndarray:
    if d == 0:
        return c
    if c.dtype != object and np.abs(c).max(initial=0) * 2.0**d >= _INT64_SAFE:
        c = c.astype(object)
    return c * (2**d)


def _attrs(node) -> dict:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def pow2_exponent(scale: np.ndarray, where: str) -> int:
    """``log2(scale)`` of a scalar power-of-two scale (else :class:`ReferenceError`)."""
    s = np.asarray(scale, dtype=np.float64).reshape(-1)
    if s.size != 1 or not np.isfinite(s[0]) or s[0] <= 0:
        raise ReferenceError(f"{where}: scale must be one positive number, got {s.tolist()}")
    m, e = np.frexp(s[0])
    if m != 0.5:
        raise ReferenceError(f"{where}: scale {s[0]} is not a power of two")
    return int(e) - 1


def quant_limits(bits: int, signed: bool, narrow: bool) -> tuple[int, int]:
    """Integer code range of a QONNX ``Quant`` (same as ``qonnx`` ``min_int``/``max_int``)."""
    if signed:
        return -(2 ** (bits - 1)) + (1 if narrow else 0), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1 - (1 if narrow else 0)


def round_shift(c: np.ndarray, d: int) -> np.ndarray:
    """``round_half_even(c / 2**d)`` on integer codes, exactly (``d >= 1``)."""
    if c.dtype == object:
        return np.vectorize(lambda v: _round_shift_int(int(v), d), otypes=[object])(c)
    floor = c >> d
    rem = c - (floor << d)
    half = 1 << (d - 1)
    up = (rem > half) | ((rem == half) & ((floor & 1) == 1))
    return floor + up.astype(c.dtype)


def _round_shift_int(v: int, d: int) -> int:
    floor = v >> d
    rem = v - (floor << d)
    half = 1 << (d - 1)
    return floor + (1 if rem > half or (rem == half and floor & 1) else 0)


def _float_to_codes(v: np.ndarray, exp: int) -> np.ndarray:
    """round_half_even(v / 2**exp) for finite float64 ``v`` (exact: scaling by 2**-exp is exact)."""
    q = np.round(np.ldexp(np.asarray(v, dtype=np.float64), -exp))
    if np.abs(q).max(initial=0) >= 2.0**53:
        raise ReferenceError("a float value has more than 53 bits at its quantizer's scale")
    return q.astype(np.int64)


class ExactGraph:
    """A parsed QONNX GNN that executes exactly on integer codes (see the module docstring)."""

    def __init__(self, qonnx_model) -> None:
        from ticl_fpga.compile.to_qonnx import load_qonnx

        self.model = load_qonnx(qonnx_model)
        graph = self.model.graph
        self.inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.input_names = [t.name for t in graph.input]
        self.output_names = [t.name for t in graph.output]
        self.nodes = list(graph.node)
        self._const_cache: dict[str, Codes] = {}

    # ------------------------------------------------------------------ public API
    def codes(self, x, edge_index, edge_attr) -> dict[str, Codes | np.ndarray]:
        """Every tensor: :class:`Codes` for data, plain int64 arrays for indices."""
        env: dict[str, Codes | np.ndarray] = {}
        feeds = {"x": x, "edge_index": edge_index, "edge_attr": edge_attr}
        for name in self.input_names:
            if name not in feeds:
                raise ReferenceError(f"graph input {name!r} is not x, edge_index or edge_attr")
            v = np.asarray(feeds[name])
            if name == "edge_index":
                env[name] = v.astype(np.int64)
            else:
                v32 = v.astype(np.float32)  # the ONNX input type
                bad = ~np.isfinite(v32)
                if bad.any():
                    row, col = (int(i) for i in np.argwhere(bad)[0])
                    raise InputError(
                        f"<{name}>",
                        f"non-finite value {v32[row, col]} in feature column {col} (row {row}); "
                        "NaN/inf features are refused on every path",
                        field=f"{name}[:, {col}]",
                    )
                env[name] = v32.astype(np.float64)  # raw floats until their input Quant
        for node in self.nodes:
            fn = getattr(self, f"_op_{node.op_type}", None)
            if fn is None:
                raise ReferenceError(f"{node.name}: op {node.op_type} is not supported")
            env[node.output[0]] = fn(node, env)
        return env

    def context(self, x, edge_index, edge_attr) -> dict[str, np.ndarray]:
        """Every tensor as float64 values (exact)."""
        return {
            k: (v.value() if isinstance(v, Codes) else np.asarray(v))
            for k, v in self.codes(x, edge_index, edge_attr).items()
        }

    def logits(self, x, edge_index, edge_attr) -> np.ndarray:
        out = self.codes(x, edge_index, edge_attr)[self.output_names[0]]
        if not isinstance(out, Codes):
            raise ReferenceError("the graph output is not a quantized tensor")
        return out.value().reshape(-1)

    # ------------------------------------------------------------------ helpers
    def _get(self, env, name: str):
        if name in env:
            return env[name]
        if name in self.inits:
            return self.inits[name]
        raise ReferenceError(f"tensor {name!r} is not computed before it is used")

    def _data(self, env, name: str, like_exp: int | None = None) -> Codes:
        v = self._get(env, name)
        if isinstance(v, Codes):
            return v
        arr = np.asarray(v, dtype=np.float64)
        if like_exp is None or not np.all(np.isfinite(arr)):
            raise ReferenceError(f"tensor {name!r} is not a quantized tensor")
        codes = _float_to_codes(arr, like_exp)
        if not np.array_equal(np.ldexp(codes.astype(np.float64), like_exp), arr):
            raise ReferenceError(f"constant {name!r} is not on the 2^{like_exp} grid")
        return Codes(codes, like_exp)

    def _int(self, env, name: str) -> np.ndarray:
        v = self._get(env, name)
        if isinstance(v, Codes):
            raise ReferenceError(f"tensor {name!r} is used as indices but holds data")
        return np.asarray(v).astype(np.int64)

    @staticmethod
    def _wrap(like, fn):
        """Apply a shape operation to data codes or to a plain array."""
        if isinstance(like, Codes):
            return Codes(fn(like.codes), like.exp)
        return fn(np.asarray(like))

    # ------------------------------------------------------------------ ops
    def _op_Quant(self, node, env):
        a = _attrs(node)
        scale, zp, bits = (np.asarray(self._get(env, t)) for t in node.input[1:4])
        if np.any(zp != 0):
            raise ReferenceError(f"{node.name}: zero point {zp.tolist()} is not 0")
        if a.get("rounding_mode", "ROUND") != "ROUND":
            raise ReferenceError(f"{node.name}: rounding mode {a['rounding_mode']} unsupported")
        b = float(np.asarray(bits).reshape(-1)[0])
        if b != int(b):
            raise ReferenceError(f"{node.name}: non-integer bit width {b}")
        e = pow2_exponent(scale, node.name)
        lo, hi = quant_limits(int(b), bool(a.get("signed", 1)), bool(a.get("narrow", 0)))
        src = self._get(env, node.input[0])
        if isinstance(src, Codes):
            c = src.codes
            c = _shift_left(c, src.exp - e) if src.exp >= e else round_shift(c, e - src.exp)
        else:  # graph input or initializer: float values (float32 in the graph)
            v = np.asarray(src, dtype=np.float32).astype(np.float64)
            if not np.all(np.isfinite(v)):
                raise ReferenceError(f"{node.name}: non-finite constant")
            c = _float_to_codes(v, e)
        return Codes(np.clip(c, lo, hi), e)

    def _op_Gemm(self, node, env):
        a = _attrs(node)
        if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
            raise ReferenceError(f"{node.name}: only Gemm with alpha=beta=1, transA=0")
        A = self._data(env, node.input[0])
        B = self._data(env, node.input[1])
        w = B.codes if a.get("transB", 0) else B.codes.T  # [n_out, n_in]
        C = self._data(env, node.input[2]) if len(node.input) > 2 else None
        e_prod = A.exp + B.exp
        e_out = e_prod if C is None else min(e_prod, C.exp)
        bound = float(np.abs(A.codes).max(initial=0)) * float(
            np.abs(w).sum(axis=1).max(initial=0)
        ) * 2.0 ** (e_prod - e_out) + (
            0.0 if C is None else float(np.abs(C.codes).max(initial=0)) * 2.0 ** (C.exp - e_out)
        )
        ac, wc = A.codes, w
        if bound >= _INT64_SAFE or ac.dtype == object or wc.dtype == object:
            ac, wc = ac.astype(object), wc.astype(object)
        acc = _shift_left(ac @ wc.T, e_prod - e_out)
        if C is not None:
            acc = acc + C.at(e_out).reshape(1, -1)
        return Codes(acc, e_out)

    def _op_Relu(self, node, env):
        A = self._data(env, node.input[0])
        return Codes(np.maximum(A.codes, 0), A.exp)

    def _op_Concat(self, node, env):
        axis = _attrs(node).get("axis", -1)
        parts = [self._data(env, t) for t in node.input]
        e = min(p.exp for p in parts)
        return Codes(np.concatenate([p.at(e) for p in parts], axis=axis), e)

    def _op_Gather(self, node, env):
        axis = _attrs(node).get("axis", 0)
        idx = self._int(env, node.input[1])
        return self._wrap(
            self._get(env, node.input[0]), lambda v: np.take(np.asarray(v), idx, axis=axis)
        )

    def _op_GatherND(self, node, env):
        if _attrs(node).get("batch_dims", 0) != 0:
            raise ReferenceError(f"{node.name}: batch_dims must be 0")
        idx = self._int(env, node.input[1])
        return self._wrap(
            self._get(env, node.input[0]),
            lambda v: np.asarray(v)[tuple(np.moveaxis(idx, -1, 0))],
        )

    def _scatter(self, node, env, elements: bool):
        a = _attrs(node)
        upd = self._data(env, node.input[2])
        init = self._data(env, node.input[0], like_exp=upd.exp)
        out = init.at(upd.exp).copy()
        u = upd.codes
        if out.dtype != u.dtype:
            out, u = out.astype(object), u.astype(object)
        idx = self._int(env, node.input[1])
        red = a.get("reduction", "none")
        if elements:
            if a.get("axis", 0) != 0:
                raise ReferenceError(f"{node.name}: ScatterElements must scatter along axis 0")
            cols = np.broadcast_to(np.arange(idx.shape[1]), idx.shape)
            where = (idx, cols)
        else:
            where = tuple(np.moveaxis(idx, -1, 0))
        if red == "add":
            np.add.at(out, where, u)
        elif red == "max":
            np.maximum.at(out, where, u)
        elif red == "none":
            out[where] = u
        else:
            raise ReferenceError(f"{node.name}: reduction {red!r} is not supported")
        return Codes(out, upd.exp)

    def _op_ScatterND(self, node, env):
        return self._scatter(node, env, elements=False)

    def _op_ScatterElements(self, node, env):
        return self._scatter(node, env, elements=True)

    def _axes(self, node, env):
        if len(node.input) > 1 and node.input[1]:
            return [int(v) for v in np.asarray(self._get(env, node.input[1])).reshape(-1)]
        axes = _attrs(node).get("axes")
        return None if axes is None else [int(v) for v in axes]

    def _op_Unsqueeze(self, node, env):
        axes = self._axes(node, env)

        def fn(v):
            for ax in sorted(axes):
                v = np.expand_dims(v, ax)
            return v

        return self._wrap(self._get(env, node.input[0]), fn)

    def _op_Squeeze(self, node, env):
        axes = self._axes(node, env)
        return self._wrap(
            self._get(env, node.input[0]),
            lambda v: np.squeeze(v, axis=None if axes is None else tuple(axes)),
        )

    def _op_Reshape(self, node, env):
        shape = [int(s) for s in np.asarray(self._get(env, node.input[1])).reshape(-1)]
        src = self._get(env, node.input[0])
        cur = (src.codes if isinstance(src, Codes) else np.asarray(src)).shape
        shape = [cur[i] if s == 0 else s for i, s in enumerate(shape)]
        return self._wrap(src, lambda v: np.reshape(v, shape))

    def _op_Flatten(self, node, env):
        axis = _attrs(node).get("axis", 1)
        return self._wrap(
            self._get(env, node.input[0]),
            lambda v: np.reshape(v, (int(np.prod(v.shape[:axis])), -1)),
        )

    def _op_Identity(self, node, env):
        return self._get(env, node.input[0])

    def _op_Expand(self, node, env):
        shape = [int(s) for s in np.asarray(self._get(env, node.input[1])).reshape(-1)]
        return self._wrap(
            self._get(env, node.input[0]),
            lambda v: np.array(np.broadcast_to(v, np.broadcast_shapes(v.shape, tuple(shape)))),
        )


def exact_logits(qonnx_model, inputs) -> np.ndarray:
    """Exact logits ``[e_max]`` (float64) of one padded graph.

    ``inputs``: ``(x, edge_index, edge_attr)`` or a dict with those keys, padded to the model's
    capacity (:func:`ticl_fpga.compile.capacity.pad_graph`).  For many graphs build one
    :class:`ExactGraph` and call :meth:`ExactGraph.logits`.
    """
    if isinstance(inputs, dict):
        inputs = (inputs["x"], inputs["edge_index"], inputs["edge_attr"])
    return ExactGraph(qonnx_model).logits(*inputs)
