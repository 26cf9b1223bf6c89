"""Quantization recipes: bit widths per layer (and pruning targets) from ``quant/*.yaml``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field

from ticl_fpga.config import StrictModel
from ticl_fpga.errors import ConfigError
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.resources import recipes_dir

#: float32 has a 24-bit significand: a fixed-point dot product computed in float32 (as Brevitas and
#: QONNX do) is exact only if its accumulator needs at most this many bits.
FLOAT32_EXACT_BITS = 24

RECIPE_DIR = recipes_dir()

#: The recipe used when none is named (``ticl-fpga quantize``, ``demo``, the agreement benchmark):
#: 6-bit weights, 8-bit activations, distilled from the float model.  It replaced ``w6a6`` (issue
#: 16): on five float models (three datasets, four training seeds) the distilled w6a6 decided like
#: float on only 97.2-98.4 % of test edges even unpruned, w6a8 on 98.3-99.2 %.
DEFAULT_RECIPE = "w6a8"


class LayerBits(StrictModel):
    """Bit widths of one layer; ``None`` means 'take the recipe default'."""

    weight_bits: int | None = Field(None, ge=2, le=16)
    bias_bits: int | None = Field(None, ge=2, le=24)
    act_bits: int | None = Field(None, ge=2, le=16)


class PruneTarget(StrictModel):
    """What pruning must keep: a validation metric, relative to the unpruned model and/or absolute.

    A sparsity passes when the metric (higher is better) is at least the unpruned model's value
    minus ``tolerance`` (a fraction of it if ``relative``, else in metric units) and at least
    ``minimum`` when set.  ``tolerance: null`` with a ``minimum`` gives a pure absolute target.
    """

    metric: str = "edge_efficiency_at_purity"
    tolerance: float | None = Field(0.01, ge=0.0, le=1.0)
    relative: bool = True
    minimum: float | None = Field(
        None, ge=0.0, le=1.0, description="absolute floor; every target metric is a fraction"
    )
    purity: float = Field(0.9, gt=0.0, le=1.0, description="purity of edge_efficiency_at_purity")
    max_sparsity: float = Field(0.95, gt=0.0, lt=1.0)
    also: list[str] = Field(
        default_factory=list,
        description="further targets in --target syntax (e.g. 'agreement>=0.98') that must hold "
        "too when this is the default target set (no --target given); an explicit --target "
        "replaces the whole set",
    )

    def floor(self, baseline: float) -> float:
        """The lowest passing metric value given the unpruned model's ``baseline``."""
        floors = [-math.inf]
        if self.tolerance is not None:
            tol = self.tolerance * abs(baseline) if self.relative else self.tolerance
            floors.append(baseline - tol)
        if self.minimum is not None:
            floors.append(self.minimum)
        return max(floors)

    def passes(self, value: float, baseline: float) -> bool:
        return math.isfinite(value) and value >= self.floor(baseline) - 1e-12

    def describe(self) -> str:
        parts = []
        if self.tolerance is not None:
            tol = f"{100 * self.tolerance:g}%" if self.relative else f"{self.tolerance:g}"
            parts.append(f"within {tol} of unpruned")
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        return f"{self.metric} " + (" and ".join(parts) or "(no constraint)")

    def alone(self) -> PruneTarget:
        """This target without its ``also`` list (one constraint)."""
        return self.model_copy(update={"also": []}) if self.also else self


class Recipe(StrictModel):
    """A quantization recipe: defaults plus per-layer overrides keyed by spec layer names.

    Layer names are those of :meth:`GNNSpec.layer_names` (``node_in``, ``edge_mlp.0``,
    ``aggr.1``, ``head_out``...); ``edge_mlp.*`` applies to every iteration.
    """

    name: str
    description: str = ""
    default: LayerBits = LayerBits(weight_bits=8, bias_bits=16, act_bits=8)
    input_bits: int = Field(8, ge=2, le=16)
    output_bits: int = Field(12, ge=2, le=16)
    layers: dict[str, LayerBits] = {}
    prune: PruneTarget | None = None
    distill_weight: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="QAT/pruning loss = (1 - w) focal + w distillation from the float scores",
    )
    distill_temperature: float = Field(1.0, gt=0.0, description="distillation temperature")
    distill_focus: Literal["scores", "working_point"] = Field(
        "scores",
        description="distil the scores (centred at logit 0) or centre each edge on its working-"
        "point cut (ticl_fpga.quantize.qat.distillation_loss offset)",
    )

    def validate_for(self, spec: GNNSpec, source: str = "<recipe>") -> None:
        """Reject unknown layers and accumulators that float32 (Brevitas/QONNX) cannot hold exactly."""
        known = set(spec.layer_names())
        patterns = {n.split(".")[0] + ".*" for n in known if "." in n}
        for key in self.layers:
            if key not in known and key not in patterns:
                raise ConfigError(
                    f"{source} [layers.{key}]: unknown layer; known: {', '.join(spec.layer_names())}"
                )
        for name, (fan_in, _) in spec.linear_shapes().items():
            need = self.accumulator_bits(spec, name, fan_in)
            if need > FLOAT32_EXACT_BITS:
                raise ConfigError(
                    f"{source} [layers.{name}]: accumulator needs {need} bits, more than float32's "
                    f"{FLOAT32_EXACT_BITS}; lower weight_bits/act_bits so the quantized model stays exact"
                )

    def bits(self, name: str) -> LayerBits:
        """Resolved bit widths of a layer (explicit entry, then ``prefix.*``, then default)."""
        out = self.default.model_dump()
        wildcard = name.split(".")[0] + ".*" if "." in name else None
        for key in (wildcard, name):
            if key is not None and key in self.layers:
                out.update(
                    {k: v for k, v in self.layers[key].model_dump().items() if v is not None}
                )
        return LayerBits(**out)

    def input_bits_of(self, spec: GNNSpec, name: str) -> int:
        """Bit width of the activations entering a linear layer (max over concatenated parts)."""
        if name == "node_enc":
            return self.input_bits
        if name == "edge_enc":
            return self.input_bits
        if name == "head_out":
            return self.bits("head_hidden").act_bits
        last = spec.niters - 1
        if name.startswith("edge_mlp."):
            i = int(name.split(".")[1])
            prev_e = "edge_enc" if i == 0 else f"edge_mlp.{i - 1}"
            prev_h = "node_enc" if i == 0 else f"node_mlp.{i - 1}"
            return max(self.bits(prev_e).act_bits, self.bits(prev_h).act_bits)
        if name.startswith("node_mlp."):
            i = int(name.split(".")[1])
            prev_h = "node_enc" if i == 0 else f"node_mlp.{i - 1}"
            return max(self.bits(prev_h).act_bits, self.bits(f"aggr.{i}").act_bits)
        if name == "head_hidden":
            e = "edge_enc" if spec.niters == 0 else f"edge_mlp.{last}"
            h = "node_enc" if spec.niters == 0 else f"node_mlp.{last}"
            return max(self.bits(e).act_bits, self.bits(h).act_bits)
        raise KeyError(name)

    def accumulator_bits(self, spec: GNNSpec, name: str, fan_in: int) -> int:
        """Magnitude bits of a layer's accumulator, in units of (input LSB x weight LSB).

        Inputs of the encoders are signed (``input_bits - 1`` magnitude bits), every other layer
        reads ReLU or aggregation outputs (unsigned, ``act_bits`` magnitude bits); weights are
        narrow-range signed; the bias is an integer in accumulator LSBs (``bias_bits`` signed).
        This is the recipe-level bound with full-range weights and equal input scales; the exact
        check with the trained weights and scales, concatenations and scatter sums is
        :mod:`ticl_fpga.compile.bitwidth` (``ticl-fpga quantize check``, ``hls build``).
        """
        b = self.bits(name)
        a_mag = self.input_bits_of(spec, name) - (1 if name in ("node_enc", "edge_enc") else 0)
        bound = fan_in * (2**a_mag - 1) * (2 ** (b.weight_bits - 1) - 1) + 2 ** (b.bias_bits - 1)
        return max(math.ceil(math.log2(bound + 1)), 1)


def load_recipe(name_or_path: str | Path) -> Recipe:
    """Load ``quant/<name>.yaml`` or an explicit path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = RECIPE_DIR / f"{name_or_path}.yaml"
    return Recipe.from_yaml(path)


def available_recipes() -> list[str]:
    return sorted(p.stem for p in RECIPE_DIR.glob("*.yaml"))
