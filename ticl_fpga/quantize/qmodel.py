"""The quantized twin: the same ``EdgeClassifierGNN`` built from Brevitas fixed-point layers.

Every quantizer has a power-of-two scale and zero point 0 (Brevitas ``*FixedPoint`` quantizers),
activations round half to even (QONNX ``ROUND`` = ``AP_RND_CONV``) and saturate, so every tensor
on the data path is an exact fixed-point number.

Biases follow the integer-inference convention: a bias is an integer in units of its
accumulator's LSB, i.e. bias scale = input scale x weight scale (Brevitas ``IntBias``, which
``requires_input_scale``).  A layer's input scale is the finest scale among the quantizers that
feed it (the parts of a concatenation); :func:`build_quant_model` links every linear layer to
those quantizers, which record the scale they used on each forward pass.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ticl_fpga.errors import TiclFpgaError, require
from ticl_fpga.model.gnn import EdgeClassifierGNN
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.recipe import Recipe


def _record_scale(proxy: nn.Module, args, out) -> None:
    """Forward hook on an activation quant proxy: remember the scale of its last output."""
    scale = getattr(out, "scale", None)
    if scale is not None:
        proxy.__dict__["_ticl_scale"] = scale.detach()


def _linear_class():
    """``QuantLinear`` whose input is tagged with its quantizers' scale (for the bias quantizer)."""
    global _ACC_LINEAR
    if _ACC_LINEAR is not None:
        return _ACC_LINEAR
    qnn = require("brevitas.nn")
    from brevitas.quant_tensor import IntQuantTensor, QuantTensor

    class AccumulatorBiasLinear(qnn.QuantLinear):
        """A ``QuantLinear`` whose bias scale is the accumulator LSB (input scale x weight scale).

        The input arrives as a plain tensor (the model concatenates quantized parts); its scale is
        the finest scale of the quantizers listed in ``_ticl_sources`` (set by
        :func:`build_quant_model`), so the input is re-wrapped as an ``IntQuantTensor`` with that
        scale before Brevitas derives the bias scale from it.
        """

        def input_quant_tensor(self, inp, *, recorded: bool = True):
            """``inp`` as an ``IntQuantTensor`` with the finest scale of the quantizers feeding it.

            ``recorded``: the scales those quantizers used on their last forward pass (what the
            current forward uses, also while calibration statistics are collected); otherwise their
            current scales (eval mode).
            """
            sources = self.__dict__.get("_ticl_sources")
            if not sources:
                return inp
            scales, bits, signed = [], [], False
            for proxy, is_signed, bw in sources:
                if not proxy.is_quant_enabled:
                    if recorded:
                        raise TiclFpgaError(
                            "an activation quantizer feeding a linear layer is disabled: the "
                            "bias (an integer in accumulator LSBs) needs its input scale"
                        )
                    return inp
                s = proxy.__dict__.get("_ticl_scale") if recorded else proxy.scale()
                if s is None:
                    raise TiclFpgaError(
                        "quantized layer called before the quantizers feeding it "
                        "(use the whole model's forward)"
                    )
                scales.append(s.reshape(()))
                bits.append(bw)
                signed = signed or is_signed
            scale = scales[0]
            for s in scales[1:]:
                scale = torch.minimum(scale, s)
            return IntQuantTensor(
                inp,
                scale,
                torch.tensor(0.0),
                torch.tensor(float(max(bits))),
                signed,
                self.training,
            )

        def accumulator_bias(self):
            """The quantized bias (``IntQuantTensor``) at the current quantizer scales (eval)."""
            dummy = self.input_quant_tensor(torch.zeros(1, self.in_features), recorded=False)
            if not isinstance(dummy, QuantTensor):
                return None  # an input quantizer is disabled: no accumulator scale
            return self.bias_quant(self.bias, dummy, self.quant_weight())

        def forward(self, inp):
            if not isinstance(inp, QuantTensor):
                inp = self.input_quant_tensor(inp)
            return super().forward(inp)

    _ACC_LINEAR = AccumulatorBiasLinear
    return _ACC_LINEAR


_ACC_LINEAR = None


class BrevitasLayers:
    """Layer factory for :class:`EdgeClassifierGNN` that reads bit widths from a recipe."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.qnn = require("brevitas.nn")
        self.fp = require("brevitas.quant.fixed_point")

    def linear(self, name: str, fan_in: int, fan_out: int) -> nn.Module:
        b = self.recipe.bits(name)
        from brevitas.quant.scaled_int import IntBias

        return _linear_class()(
            fan_in,
            fan_out,
            bias=True,
            weight_quant=self.fp.Int8WeightPerTensorFixedPoint,
            weight_bit_width=b.weight_bits,
            bias_quant=IntBias,
            bias_bit_width=b.bias_bits,
            return_quant_tensor=False,
        )

    def _act(self, layer: str, *, bits: int, signed: bool, relu: bool = False) -> nn.Module:
        """A per-tensor power-of-two activation quantizer (``QuantReLU`` or ``QuantIdentity``)."""
        cls = self.qnn.QuantReLU if relu else self.qnn.QuantIdentity
        quant = (
            self.fp.Int8ActPerTensorFixedPoint if signed else self.fp.Uint8ActPerTensorFixedPoint
        )
        return cls(act_quant=quant, bit_width=bits, return_quant_tensor=False)

    def relu(self, name: str) -> nn.Module:
        return self._act(name, bits=self.recipe.bits(name).act_bits, signed=False, relu=True)

    def input_quant(self, name: str) -> nn.Module:
        return self._act(name, bits=self.recipe.input_bits, signed=True)

    def requant(self, name: str) -> nn.Module:
        # Aggregated messages are sums/maxima of ReLU outputs: non-negative, so unsigned.
        return self._act(name, bits=self.recipe.bits(name).act_bits, signed=False)

    def output_quant(self, name: str) -> nn.Module:
        return self._act(name, bits=self.recipe.output_bits, signed=True)


def build_quant_model(
    spec: GNNSpec, recipe: Recipe, *, layers: type[BrevitasLayers] = BrevitasLayers
) -> EdgeClassifierGNN:
    """Build the Brevitas twin of ``spec``; validates the recipe against the spec first.

    ``layers``: the layer factory (a :class:`BrevitasLayers` subclass can change a quantizer,
    e.g. the bias-convention benchmark's)."""
    if spec.aggr == "mean":
        from ticl_fpga.errors import ConfigError

        raise ConfigError(
            f"recipe {recipe.name}: aggr='mean' divides by the node degree, which has no exact "
            "fixed-point form; use 'sum' or 'max' for the quantized model"
        )
    recipe.validate_for(spec, source=f"recipe {recipe.name}")
    model = EdgeClassifierGNN(spec=spec, layers=layers(recipe))
    model.quant_recipe = recipe  # type: ignore[attr-defined]  # read by cost/save helpers
    link_bias_scales(model, recipe)
    return model


def linear_sources(model: EdgeClassifierGNN) -> dict[str, list[str]]:
    """For every linear layer, the attribute paths of the quantizers whose outputs it reads."""
    out: dict[str, list[str]] = {"node_enc": ["node_in"], "edge_enc": ["edge_in"]}
    h, e = "node_enc_act", "edge_enc_act"
    for i in range(model.niters):
        out[f"edge_mlp.{i}"] = [h, e]
        out[f"node_mlp.{i}"] = [h, f"aggr_quant.{i}"]
        h, e = f"node_act.{i}", f"edge_act.{i}"
    out["head_hidden"] = [h, e]
    out["head_out"] = ["head_act"]
    return out


def link_bias_scales(model: EdgeClassifierGNN, recipe: Recipe) -> None:
    """Tie each linear layer's bias scale to its accumulator (input scale x weight scale).

    Registers a forward hook on every activation quantizer that records the scale it used, and
    tells each linear layer which quantizers feed it (not as submodules: the state dict is
    unchanged, and ``copy.deepcopy`` of the whole model maps the references to the copies).
    """
    signed_inputs = {"node_in", "edge_in"}
    bits_of = {"node_in": recipe.input_bits, "edge_in": recipe.input_bits}
    for name, sources in linear_sources(model).items():
        linear = model.get_submodule(name)
        entries = []
        for src in sources:
            quant = model.get_submodule(src)
            proxy = quant.act_quant
            if not any(h is _record_scale for h in proxy._forward_hooks.values()):
                proxy.register_forward_hook(_record_scale)
            if src in bits_of:
                bw = bits_of[src]
            elif src.startswith("aggr_quant."):
                bw = recipe.bits(f"aggr.{src.split('.')[1]}").act_bits
            else:
                fixed_names = {
                    "node_enc_act": "node_enc",
                    "edge_enc_act": "edge_enc",
                    "head_act": "head_hidden",
                }
                if src in fixed_names:
                    layer = fixed_names[src]
                else:
                    kind, i = src.split(".")
                    layer = {"node_act": "node_mlp", "edge_act": "edge_mlp"}[kind] + f".{i}"
                bw = recipe.bits(layer).act_bits
            entries.append((proxy, src in signed_inputs, bw))
        linear.__dict__["_ticl_sources"] = entries


def model_recipe(model: nn.Module) -> Recipe | None:
    """The recipe a quantized model was built from (``None`` for a float model)."""
    return getattr(model, "quant_recipe", None)


def load_float_weights(qmodel: EdgeClassifierGNN, float_state: dict) -> None:
    """Start QAT from a float checkpoint: copy weights, biases and scalers by name.

    Every float parameter and scaler must find its place; only quantizer parameters (scales,
    initialised later from statistics) may be missing.
    """
    missing, unexpected = qmodel.load_state_dict(float_state, strict=False)
    bad = [k for k in unexpected if not k.endswith(("weight", "bias"))]
    if bad:
        raise KeyError(f"unexpected keys in float state: {bad}")
    not_loaded = [k for k in missing if not _is_quantizer_key(k)]
    if not_loaded:
        raise KeyError(f"float state lacks model parameters: {not_loaded}")


def _is_quantizer_key(key: str) -> bool:
    return any(part in key for part in ("act_quant", "weight_quant", "bias_quant", "tensor_quant"))


def runtime_scalers(model: nn.Module) -> list[nn.Module]:
    """Activation scale modules initialised from runtime statistics (Brevitas PARAMETER_FROM_STATS)."""
    from brevitas.core.scaling.standalone import ParameterFromRuntimeStatsScaling

    return [m for m in model.modules() if isinstance(m, ParameterFromRuntimeStatsScaling)]


def finalize_calibration(model: nn.Module) -> int:
    """Turn collected activation statistics into learnable power-of-two scales (after calibration).

    Brevitas keeps collecting statistics for its first ``collect_stats_steps`` (300) training
    calls; finalising right after a short calibration makes QAT learn the radix points and makes
    the state dict carry exactly the scales in use.  Returns the number of quantizers finalised.
    """
    n = 0
    for m in runtime_scalers(model):
        if m.counter == 0:
            raise TiclFpgaError(
                "activation quantizer was never calibrated (run forward passes first)"
            )
        if m.counter <= m.collect_stats_steps:
            m.init_scale()
            n += 1
    return n


class NotFixedPointError(TiclFpgaError):
    """A quantizer is not fixed point (scale not a power of two, non-zero zero point, disabled)."""


def is_power_of_two(t: torch.Tensor) -> bool:
    """True when every element is exactly ``2**k`` for an integer ``k``."""
    t = t.detach().double().reshape(-1)
    if t.numel() == 0 or bool((t <= 0).any()):
        return False
    mantissa, _ = torch.frexp(t)
    return bool((mantissa == 0.5).all())


def fixed_point_summary(qmodel: nn.Module) -> list[dict]:
    """Scale, zero point and bit width of every quantizer of a Brevitas model (eval mode)."""
    qnn = require("brevitas.nn")
    rows: list[dict] = []
    was_training = qmodel.training
    qmodel.eval()
    try:
        with torch.no_grad():
            inside: list[str] = []
            for name, m in qmodel.named_modules():
                if any(name.startswith(p) for p in inside):
                    continue  # the internals of a quant layer (e.g. its fused nn.ReLU)
                if isinstance(m, qnn.QuantLinear | qnn.QuantReLU | qnn.QuantIdentity):
                    inside.append(name + ".")
                if isinstance(m, qnn.QuantLinear):
                    w = m.quant_weight()
                    rows.append(_row(name, "weight", w.scale, w.zero_point, w.bit_width, True))
                    if m.bias is not None:
                        enabled = m.bias_quant.is_quant_enabled
                        b = None
                        if enabled:
                            b = (
                                m.accumulator_bias()
                                if hasattr(m, "accumulator_bias")
                                else m.quant_bias()
                            )
                        rows.append(
                            _row(
                                name,
                                "bias",
                                None if b is None else b.scale,
                                None if b is None else b.zero_point,
                                None if b is None else b.bit_width,
                                enabled,
                            )
                        )
                elif isinstance(m, qnn.QuantReLU | qnn.QuantIdentity):
                    q = m.act_quant
                    enabled = q.is_quant_enabled
                    rows.append(
                        _row(
                            name,
                            "act",
                            q.scale() if enabled else None,
                            q.zero_point() if enabled else None,
                            q.bit_width() if enabled else None,
                            enabled,
                        )
                    )
                elif isinstance(m, nn.Linear | nn.ReLU):
                    rows.append(_row(name, "float", None, None, None, False))
    finally:
        qmodel.train(was_training)
    return rows


def _row(name, what, scale, zp, bits, enabled) -> dict:
    return {
        "layer": name,
        "tensor": what,
        "enabled": bool(enabled),
        "scale": None if scale is None else float(scale.reshape(-1)[0]),
        "log2_scale": None if scale is None else math.log2(float(scale.reshape(-1)[0])),
        "power_of_two": scale is not None and is_power_of_two(scale),
        "zero_point_zero": zp is not None and bool((zp == 0).all()),
        "bit_width": None if bits is None else int(bits),
    }


def assert_fixed_point(qmodel: nn.Module) -> list[dict]:
    """Raise :class:`NotFixedPointError` unless every quantizer is exact fixed point.

    Checks each weight, bias and activation quantizer: enabled, power-of-two scale, zero point
    0; and that no float ``Linear``/``ReLU`` is left.  Pruned (zero) weights must quantize to
    exactly zero.  Returns the per-quantizer summary.
    """
    rows = fixed_point_summary(qmodel)
    if not rows:
        raise NotFixedPointError("model has no quantizers (is it the float model?)")
    for r in rows:
        where = f"{r['layer']} [{r['tensor']}]"
        if r["tensor"] == "float":
            raise NotFixedPointError(f"{where}: float layer left in the quantized model")
        if not r["enabled"]:
            raise NotFixedPointError(f"{where}: quantization disabled")
        if not r["power_of_two"]:
            raise NotFixedPointError(f"{where}: scale {r['scale']} is not a power of two")
        if not r["zero_point_zero"]:
            raise NotFixedPointError(f"{where}: zero point is not 0")
    assert_zero_weights_quantize_to_zero(qmodel)
    return rows


def assert_zero_weights_quantize_to_zero(qmodel: nn.Module) -> None:
    """Every exactly-zero float weight has an exactly-zero quantized weight (pruning survives export)."""
    qnn = require("brevitas.nn")
    with torch.no_grad():
        for name, m in qmodel.named_modules():
            if isinstance(m, qnn.QuantLinear):
                zero = m.weight.detach() == 0
                if zero.any():
                    qw = m.quant_weight().value.detach()
                    if bool((qw[zero] != 0).any()):
                        raise NotFixedPointError(
                            f"{name} [weight]: a zero weight quantizes to non-zero"
                        )
