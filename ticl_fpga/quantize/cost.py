"""Hardware cost of a (quantized, pruned) GNN: bit operations per graph and a first-order FPGA estimate.

BOPs follow Hawks et al. 2021 ("Ps and Qs: quantization-aware pruning for efficient low latency
neural network inference", Front. AI 4:676564): a linear layer with ``n`` inputs, ``m`` outputs,
weight width ``b_w``, input width ``b_a`` and pruned fraction ``f_p`` costs

    BOPs = m * n * ((1 - f_p) * b_a * b_w + b_a + b_w + log2(n))

per evaluation.  A GNN runs every node-type layer (``GNNSpec.linear_kind == "node"``) once per
node and every edge-type layer once per edge, so the per-graph cost multiplies by ``N`` or ``E``.

The FPGA estimate is deliberately first order (fully unrolled layers, reuse factor 1, as in the
hls4ml ``Latency`` strategy), per processed edge and per processed node:

* one multiplier per non-zero weight (zero weights are removed by the HLS compiler);
* a multiplier whose product ``b_a + b_w`` is wider than ``dsp_min_product_bits`` (default 10)
  maps to a DSP slice (one DSP48 per product up to 18 x 27 bits, more for wider operands),
  otherwise to LUTs, about ``ceil(b_a * b_w / 2)`` LUT6 per multiplier;
* the adder tree of each output neuron costs about one LUT per accumulator bit per addition
  (``nnz - 1`` additions per neuron, accumulator ``b_a + b_w + ceil(log2(n))`` bits).

These rules neglect routing, control and the aggregation/gather logic; they rank configurations,
they do not replace a synthesis report.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.recipe import Recipe

#: Bit width used for float32 layers in BOPs (the formula needs a number).
FLOAT_BITS = 32
#: Reference of the "BOPs at least 20x below 16-bit dense" target.
REFERENCE_BITS = 16


@dataclass(frozen=True)
class LayerCost:
    """Cost of one linear layer, per evaluation and per graph."""

    name: str
    kind: str  # "node" or "edge"
    fan_in: int
    fan_out: int
    weight_bits: int
    input_bits: int
    pruned_fraction: float
    nonzero_weights: int
    bops: float  # per evaluation
    runs: int  # evaluations per graph
    dsp: int  # per evaluation unit (one edge or one node)
    lut: int

    @property
    def bops_per_graph(self) -> float:
        return self.bops * self.runs


def layer_bops(fan_out: int, fan_in: int, pruned_fraction: float, b_a: int, b_w: int) -> float:
    """Hawks et al. 2021 BOPs of one evaluation of a linear layer (``m`` = fan_out, ``n`` = fan_in)."""
    m, n = fan_out, fan_in
    return float(m * n * ((1.0 - pruned_fraction) * b_a * b_w + b_a + b_w + math.log2(n)))


def multiplier_cost(b_a: int, b_w: int, *, dsp_min_product_bits: int = 10) -> tuple[int, int]:
    """(DSPs, LUTs) of one constant-weight multiplier under the documented first-order rule."""
    if b_a + b_w > dsp_min_product_bits:
        # A DSP48E2 multiplies 27 x 18 bits; wider operands need cascaded slices.
        wide, narrow = max(b_a, b_w), min(b_a, b_w)
        return math.ceil(wide / 27) * math.ceil(narrow / 18), 0
    return 0, math.ceil(b_a * b_w / 2)


def layer_cost(
    *,
    name: str,
    kind: str,
    fan_in: int,
    fan_out: int,
    b_a: int,
    b_w: int,
    nonzero: int,
    runs: int,
    dsp_min_product_bits: int = 10,
) -> LayerCost:
    total = fan_in * fan_out
    f_p = 1.0 - nonzero / total
    dsp1, lut1 = multiplier_cost(b_a, b_w, dsp_min_product_bits=dsp_min_product_bits)
    acc_bits = b_a + b_w + math.ceil(math.log2(max(fan_in, 2)))
    additions = max(nonzero - fan_out, 0)  # (nnz per neuron - 1) summed over neurons, + bias
    return LayerCost(
        name=name,
        kind=kind,
        fan_in=fan_in,
        fan_out=fan_out,
        weight_bits=b_w,
        input_bits=b_a,
        pruned_fraction=f_p,
        nonzero_weights=nonzero,
        bops=layer_bops(fan_out, fan_in, f_p, b_a, b_w),
        runs=runs,
        dsp=nonzero * dsp1,
        lut=nonzero * lut1 + additions * acc_bits,
    )


def layer_bits(spec: GNNSpec, recipe: Recipe | None, name: str) -> tuple[int, int]:
    """(input bits, weight bits) of a layer: from the recipe, or float32 for a float model."""
    if recipe is None:
        return FLOAT_BITS, FLOAT_BITS
    return recipe.input_bits_of(spec, name), int(recipe.bits(name).weight_bits)


def nonzero_weights(model: nn.Module, spec: GNNSpec) -> dict[str, int]:
    """Non-zero weights of every linear layer (pruning masks applied if still attached)."""
    out = {}
    for name in spec.linear_shapes():
        w = model.get_submodule(name).weight
        out[name] = int(torch.count_nonzero(w.detach()).item())
    return out


def model_cost(
    spec: GNNSpec,
    recipe: Recipe | None,
    *,
    n_nodes: float,
    n_edges: float,
    nonzero: dict[str, int] | None = None,
    bits: int | None = None,
    dsp_min_product_bits: int = 10,
) -> dict:
    """Cost summary of a model described by ``spec`` + ``recipe`` (+ its non-zero weight counts).

    ``bits`` overrides every width (``bits=16`` with ``nonzero=None`` is the 16-bit dense
    reference).  ``n_nodes``/``n_edges`` are the graph size the per-graph BOPs refer to.
    """
    shapes = spec.linear_shapes()
    layers = []
    for name, (fan_in, fan_out) in shapes.items():
        kind = spec.linear_kind(name)
        b_a, b_w = (bits, bits) if bits is not None else layer_bits(spec, recipe, name)
        nnz = fan_in * fan_out if nonzero is None else int(nonzero[name])
        layers.append(
            layer_cost(
                name=name,
                kind=kind,
                fan_in=fan_in,
                fan_out=fan_out,
                b_a=b_a,
                b_w=b_w,
                nonzero=nnz,
                runs=1,
                dsp_min_product_bits=dsp_min_product_bits,
            )
        )
    per = {"node": n_nodes, "edge": n_edges}
    total_w = sum(c.fan_in * c.fan_out for c in layers)
    nnz_total = sum(c.nonzero_weights for c in layers)
    fpga = {
        kind: {
            "dsp": sum(c.dsp for c in layers if c.kind == kind),
            "lut": sum(c.lut for c in layers if c.kind == kind),
            "multipliers": sum(c.nonzero_weights for c in layers if c.kind == kind),
        }
        for kind in ("edge", "node")
    }
    return {
        "n_nodes": float(n_nodes),
        "n_edges": float(n_edges),
        "bops_per_graph": float(sum(c.bops * per[c.kind] for c in layers)),
        "bops_per_edge_block": float(sum(c.bops for c in layers if c.kind == "edge")),
        "bops_per_node_block": float(sum(c.bops for c in layers if c.kind == "node")),
        "weights": int(total_w),
        "nonzero_weights": int(nnz_total),
        "sparsity": float(1.0 - nnz_total / total_w),
        "fpga": {"per_edge": fpga["edge"], "per_node": fpga["node"]},
        "layers": [asdict(c) for c in layers],
    }


def cost_of_model(
    model: nn.Module,
    recipe: Recipe | None,
    *,
    n_nodes: float,
    n_edges: float,
    dsp_min_product_bits: int = 10,
) -> dict:
    """:func:`model_cost` of a concrete model, with the 16-bit dense reference and the BOPs ratio."""
    spec: GNNSpec = model.spec
    out = model_cost(
        spec,
        recipe,
        n_nodes=n_nodes,
        n_edges=n_edges,
        nonzero=nonzero_weights(model, spec),
        dsp_min_product_bits=dsp_min_product_bits,
    )
    ref = reference_bops(spec, n_nodes=n_nodes, n_edges=n_edges)
    out["reference_bops_per_graph"] = ref
    out["bops_ratio_vs_16bit_dense"] = ref / out["bops_per_graph"] if out["bops_per_graph"] else 0.0
    return out


def reference_bops(spec: GNNSpec, *, n_nodes: float, n_edges: float) -> float:
    """BOPs per graph of the dense model with 16-bit weights and activations."""
    ref = model_cost(spec, None, n_nodes=n_nodes, n_edges=n_edges, bits=REFERENCE_BITS)
    return float(ref["bops_per_graph"])


def mean_graph_size(graphs) -> tuple[float, float]:
    """Average (nodes, edges) per graph of a list of ``Data``."""
    graphs = list(graphs)
    if not graphs:
        return 0.0, 0.0
    n = sum(int(g.num_nodes) for g in graphs) / len(graphs)
    e = sum(int(g.edge_index.size(1)) for g in graphs) / len(graphs)
    return float(n), float(e)
