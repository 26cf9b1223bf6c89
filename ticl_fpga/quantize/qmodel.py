"""The quantized twin: the same ``EdgeClassifierGNN`` built from Brevitas fixed-point layers.

Every quantizer has a power-of-two scale and zero point 0 (Brevitas ``*FixedPoint`` quantizers),
biases are quantized, and activations round half to even (QONNX ``ROUND`` = ``AP_RND_CONV``)
and saturate, so every tensor on the data path is an exact fixed-point number.
"""

from __future__ import annotations

from torch import nn

from ticl_fpga.errors import require
from ticl_fpga.model.gnn import EdgeClassifierGNN
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.recipe import Recipe


class BrevitasLayers:
    """Layer factory for :class:`EdgeClassifierGNN` that reads bit widths from a recipe."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.qnn = require("brevitas.nn")
        self.fp = require("brevitas.quant.fixed_point")

    def linear(self, name: str, fan_in: int, fan_out: int) -> nn.Module:
        b = self.recipe.bits(name)
        return self.qnn.QuantLinear(
            fan_in,
            fan_out,
            bias=True,
            weight_quant=self.fp.Int8WeightPerTensorFixedPoint,
            weight_bit_width=b.weight_bits,
            bias_quant=self.fp.Int8BiasPerTensorFixedPointInternalScaling,
            bias_bit_width=b.bias_bits,
            return_quant_tensor=False,
        )

    def relu(self, name: str) -> nn.Module:
        return self.qnn.QuantReLU(
            act_quant=self.fp.Uint8ActPerTensorFixedPoint,
            bit_width=self.recipe.bits(name).act_bits,
            return_quant_tensor=False,
        )

    def input_quant(self, name: str) -> nn.Module:
        return self.qnn.QuantIdentity(
            act_quant=self.fp.Int8ActPerTensorFixedPoint,
            bit_width=self.recipe.input_bits,
            return_quant_tensor=False,
        )

    def requant(self, name: str) -> nn.Module:
        # Aggregated messages are sums/maxima of ReLU outputs: non-negative, so unsigned.
        return self.qnn.QuantIdentity(
            act_quant=self.fp.Uint8ActPerTensorFixedPoint,
            bit_width=self.recipe.bits(name).act_bits,
            return_quant_tensor=False,
        )

    def output_quant(self, name: str) -> nn.Module:
        return self.qnn.QuantIdentity(
            act_quant=self.fp.Int8ActPerTensorFixedPoint,
            bit_width=self.recipe.output_bits,
            return_quant_tensor=False,
        )


def build_quant_model(spec: GNNSpec, recipe: Recipe) -> EdgeClassifierGNN:
    """Build the Brevitas twin of ``spec``; validates the recipe against the spec first."""
    if spec.aggr == "mean":
        from ticl_fpga.errors import ConfigError

        raise ConfigError(
            f"recipe {recipe.name}: aggr='mean' divides by the node degree, which has no exact "
            "fixed-point form; use 'sum' or 'max' for the quantized model"
        )
    recipe.validate_for(spec, source=f"recipe {recipe.name}")
    return EdgeClassifierGNN(spec=spec, layers=BrevitasLayers(recipe))


def load_float_weights(qmodel: EdgeClassifierGNN, float_state: dict) -> None:
    """Start QAT from a float checkpoint: copy weights, biases and scalers by name."""
    missing, unexpected = qmodel.load_state_dict(float_state, strict=False)
    bad = [k for k in unexpected if not k.endswith(("weight", "bias"))]
    if bad:
        raise KeyError(f"unexpected keys in float state: {bad}")
    del missing  # quantizer parameters are initialised from statistics
