"""Exact fixed-point types: QONNX ``Quant`` parameters -> ``ap_fixed`` and width propagation.

A :class:`Fixed` is ``ap_[u]fixed<width, integer>``; the helpers here derive the types of every
tensor on the data path from the quantizers, so that only ``Quant`` nodes round (half to even,
``AP_RND_CONV``) or saturate (``AP_SAT``) and every other operation is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fixed:
    """``ap_fixed<width, integer>`` (signed) or ``ap_ufixed`` with quantization/overflow modes."""

    signed: bool
    width: int
    integer: int
    rounding: str = "TRN"
    saturation: str = "WRAP"

    @property
    def frac(self) -> int:
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        return 2.0 ** (-self.frac)

    @property
    def max(self) -> float:
        return 2.0 ** (self.integer - (1 if self.signed else 0)) - self.lsb

    @property
    def min(self) -> float:
        return -(2.0 ** (self.integer - 1)) if self.signed else 0.0

    def exact(self) -> Fixed:
        """The same bits without rounding/saturation modes (for tensors that never need them)."""
        return Fixed(self.signed, self.width, self.integer)

    def hls(self):
        """The hls4ml precision object."""
        from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType

        if self.frac == 0 and self.rounding == "TRN" and self.saturation == "WRAP":
            return IntegerPrecisionType(width=self.width, signed=self.signed)
        return FixedPrecisionType(
            width=self.width,
            integer=self.integer,
            signed=self.signed,
            rounding_mode=None if self.rounding == "TRN" else self.rounding,
            saturation_mode=None if self.saturation == "WRAP" else self.saturation,
        )

    def cpp(self) -> str:
        if self.frac == 0 and self.rounding == "TRN" and self.saturation == "WRAP":
            return f"ap_{'int' if self.signed else 'uint'}<{self.width}>"
        base = "ap_fixed" if self.signed else "ap_ufixed"
        modes = (
            ""
            if self.rounding == "TRN" and self.saturation == "WRAP"
            else f",AP_{self.rounding},AP_{self.saturation}"
        )
        return f"{base}<{self.width},{self.integer}{modes}>"

    def holds(self, values: np.ndarray) -> bool:
        """Whether every value is representable exactly."""
        v = np.asarray(values, dtype=np.float64)
        on_grid = np.all(np.round(v / self.lsb) * self.lsb == v)
        return bool(on_grid and np.all(v >= self.min) and np.all(v <= self.max))


def power_of_two_exponent(scale: float, where: str) -> int:
    """``log2(scale)`` for a power-of-two scale; anything else has no exact ``ap_fixed`` form."""
    e = math.log2(float(scale)) if scale > 0 else float("nan")
    if not math.isfinite(e) or e != round(e):
        raise ValueError(f"{where}: scale {scale} is not a power of two")
    return int(round(e))


def from_quant(
    *,
    scale: float,
    zero_point: float,
    bits: float,
    signed: bool,
    narrow: bool,
    rounding: str,
    where: str,
) -> Fixed:
    """The exact type of a QONNX ``Quant`` output (round half to even, saturate)."""
    if float(zero_point) != 0.0:
        raise ValueError(f"{where}: zero point {zero_point} != 0 has no plain ap_fixed form")
    if rounding != "ROUND":
        raise ValueError(f"{where}: rounding mode {rounding} is not supported (only ROUND)")
    b = int(bits)
    if b != bits:
        raise ValueError(f"{where}: non-integer bit width {bits}")
    e = power_of_two_exponent(scale, where)
    sat = "SAT_SYM" if (narrow and signed) else "SAT"
    if narrow and not signed:
        raise ValueError(f"{where}: narrow-range unsigned quantizers are not supported")
    return Fixed(signed, b, b + e, "RND_CONV", sat)


def union(types: list[Fixed]) -> Fixed:
    """Smallest type holding every value of all ``types`` exactly (for concatenation)."""
    signed = any(t.signed for t in types)
    frac = max(t.frac for t in types)
    integer = max(t.integer + (1 if signed and not t.signed else 0) for t in types)
    return Fixed(signed, integer + frac, integer)


def for_bound(*, bound: float, frac: int, signed: bool) -> Fixed:
    """Smallest type with ``frac`` fractional bits holding ``[-bound, bound]`` (or ``[0, bound]``)."""
    mag = max(bound, 2.0 ** (-frac))
    integer = math.floor(math.log2(mag)) + 1  # 2**integer > bound
    if signed:
        integer += 1
    integer = max(integer, 1)
    return Fixed(signed, integer + frac, integer)


def dense_accumulator(*, data: Fixed, weight: Fixed, bias: Fixed, fan_in: int) -> Fixed:
    """Accumulator of ``sum_i x_i w_i + b`` that can neither overflow nor round (type ranges only).

    Bound: ``fan_in * max|x| * max|w| + max|b|``; resolution: the finer of ``lsb_x * lsb_w`` and
    ``lsb_b``.  This is the conversion's first, worst-case type; ``hls build`` replaces it (and
    every data-path type) with the tighter exact type of :mod:`ticl_fpga.compile.bitwidth`, which
    bounds the partial sums with the actual quantized weights.
    """
    mx = max(abs(data.min), abs(data.max))
    mw = max(abs(weight.min), abs(weight.max))
    mb = max(abs(bias.min), abs(bias.max))
    bound = fan_in * mx * mw + mb
    frac = max(data.frac + weight.frac, bias.frac)
    return for_bound(bound=bound, frac=frac, signed=True)


def sum_of(data: Fixed, count: int) -> Fixed:
    """Type of a sum of ``count`` values of ``data`` (``ceil(log2(count))`` more integer bits)."""
    extra = math.ceil(math.log2(max(count, 1)))
    return Fixed(data.signed, data.width + extra, data.integer + extra)


def index_type(n: int) -> Fixed:
    """Unsigned integer type for node indices ``0..n-1``."""
    bits = max(1, math.ceil(math.log2(max(n, 2))))
    return Fixed(False, bits, bits)
