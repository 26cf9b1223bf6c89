"""Hardware cost of a (quantized, pruned) GNN: bit operations per graph and a first-order FPGA estimate.

BOPs follow Hawks et al. 2021 ("Ps and Qs: quantization-aware pruning for efficient low latency
neural network inference", Front. AI 4:676564): a linear layer with ``n`` inputs, ``m`` outputs,
weight width ``b_w``, input width ``b_a`` and pruned fraction ``f_p`` costs

    BOPs = m * n * ((1 - f_p) * b_a * b_w + b_a + b_w + log2(n))

per evaluation.  A GNN runs every node-type layer (``GNNSpec.linear_kind == "node"``) once per
node and every edge-type layer once per edge, so the per-graph cost multiplies by ``N`` or ``E``.

The FPGA columns are the **measured-cost model** of ``ticl_fpga.rtl.cost_model``: per dense layer,
LUT / FF / DSP as a function of its non-zero weights and bit widths, fitted on Yosys
``synth_xilinx`` runs of this model's layers written as da4ml distributed-arithmetic adder graphs
(the RTL backend), with its error against those syntheses in ``cost_model.yaml``.  DA uses no
multipliers (0 DSP); a pruned weight costs nothing.  The totals (``fpga["lut"]`` ...) are the dense
layers of one datapath lane (edge parallelism 1); gather/scatter and memories depend on the graph
capacity and are measured by ``ticl-fpga bench`` (firmware table), not here.

The earlier first-order rule (one DSP per multiplier above 10 product bits) predicted 403 DSP for a
dense 64 -> 32 layer that measured 0 DSP as distributed arithmetic; it is retired.  BOPs stay as the
literature's number; the reduction that counts is ``lut_ratio_vs_16bit_dense``: the modelled LUTs
of the same architecture at 16 bits, dense, over this model's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.quantize.recipe import LayerBits, Recipe

#: Bit width used for float32 layers in BOPs (the formula needs a number).
FLOAT_BITS = 32
#: Bits of the reference model (same architecture, dense) that reductions are quoted against.
REFERENCE_BITS = 16
#: What the ``fpga`` numbers are.
FPGA_SOURCE = (
    "dense layers, one lane: measured-cost model fitted on Yosys synth_xilinx runs of da4ml "
    "adder graphs (ticl_fpga/rtl/cost_model.yaml); graph layers not included"
)


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
    lut: float  # one instance of the layer (measured-cost model)
    ff: float
    dsp: float

    @property
    def bops_per_graph(self) -> float:
        return self.bops * self.runs


def layer_bops(fan_out: int, fan_in: int, pruned_fraction: float, b_a: int, b_w: int) -> float:
    """Hawks et al. 2021 BOPs of one evaluation of a linear layer (``m`` = fan_out, ``n`` = fan_in)."""
    m, n = fan_out, fan_in
    return float(m * n * ((1.0 - pruned_fraction) * b_a * b_w + b_a + b_w + math.log2(n)))


def layer_resources(
    fan_in: int, fan_out: int, nonzero: int, b_a: int, b_w: int
) -> dict[str, float]:
    """LUT / FF / DSP of one instance of a dense layer (measured-cost model, see module doc)."""
    from ticl_fpga.rtl.cost_model import LayerShape, predict

    return predict(LayerShape(fan_in, fan_out, int(nonzero), int(b_w), int(b_a)))


#: The resources of the FPGA estimate (keys of :func:`layer_resources` and fields of LayerCost).
RESOURCES = ("lut", "ff", "dsp")


def layer_cost(
    name: str, kind: str, shape: tuple[int, int], b_a: int, b_w: int, nonzero: int, runs: int = 1
) -> LayerCost:
    """BOPs and modelled resources of one linear layer of ``shape`` = (fan_in, fan_out)."""
    fan_in, fan_out = shape
    f_p = 1.0 - nonzero / (fan_in * fan_out)
    res = layer_resources(fan_in, fan_out, nonzero, b_a, b_w)
    return LayerCost(
        name,
        kind,
        fan_in,
        fan_out,
        weight_bits=b_w,
        input_bits=b_a,
        pruned_fraction=f_p,
        nonzero_weights=nonzero,
        bops=layer_bops(fan_out, fan_in, f_p, b_a, b_w),
        runs=runs,
        **{r: res[r] for r in RESOURCES},
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
) -> dict:
    """Cost summary of a model described by ``spec`` + ``recipe`` (+ its non-zero weight counts).

    ``bits`` overrides every width (``bits=16`` with ``nonzero=None`` is the 16-bit dense
    reference).  ``n_nodes``/``n_edges`` are the graph size the per-graph BOPs refer to.
    """
    layers = [
        layer_cost(
            name,
            spec.linear_kind(name),
            (fan_in, fan_out),
            *((bits, bits) if bits is not None else layer_bits(spec, recipe, name)),
            fan_in * fan_out if nonzero is None else int(nonzero[name]),
        )
        for name, (fan_in, fan_out) in spec.linear_shapes().items()
    ]
    per = {"node": n_nodes, "edge": n_edges}
    total_w = sum(c.fan_in * c.fan_out for c in layers)
    nnz_total = sum(c.nonzero_weights for c in layers)

    def of_kind(kind: str, attr: str) -> float:
        return sum(getattr(c, attr) for c in layers if c.kind == kind)

    fpga = {
        kind: {
            **{r: round(of_kind(kind, r)) for r in RESOURCES},
            "nonzero_weights": of_kind(kind, "nonzero_weights"),
        }
        for kind in ("edge", "node")
    }
    return {
        "n_nodes": float(n_nodes),
        "n_edges": float(n_edges),
        "bops_per_graph": float(sum(c.bops * per[c.kind] for c in layers)),
        "bops_per_edge_block": float(of_kind("edge", "bops")),
        "bops_per_node_block": float(of_kind("node", "bops")),
        "weights": int(total_w),
        "nonzero_weights": int(nnz_total),
        "sparsity": float(1.0 - nnz_total / total_w),
        "fpga": {
            "per_edge": fpga["edge"],
            "per_node": fpga["node"],
            **{r: fpga["edge"][r] + fpga["node"][r] for r in RESOURCES},
            "source": FPGA_SOURCE,
        },
        "layers": [asdict(c) for c in layers],
    }


def cost_of_model(
    model: nn.Module,
    recipe: Recipe | None,
    *,
    n_nodes: float,
    n_edges: float,
) -> dict:
    """:func:`model_cost` of a concrete model, with the 16-bit dense reference (BOPs and LUTs)."""
    spec: GNNSpec = model.spec
    out = model_cost(
        spec,
        recipe,
        n_nodes=n_nodes,
        n_edges=n_edges,
        nonzero=nonzero_weights(model, spec),
    )
    ref = model_cost(spec, None, n_nodes=n_nodes, n_edges=n_edges, bits=REFERENCE_BITS)
    out["reference_bops_per_graph"] = float(ref["bops_per_graph"])
    out["bops_ratio_vs_16bit_dense"] = (
        ref["bops_per_graph"] / out["bops_per_graph"] if out["bops_per_graph"] else 0.0
    )
    out["reference_fpga"] = {r: ref["fpga"][r] for r in RESOURCES}
    lut = out["fpga"]["lut"]
    out["lut_ratio_vs_16bit_dense"] = ref["fpga"]["lut"] / lut if lut else 0.0
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


# --------------------------------------------------------------------------- mixed precision


def bits_for_budget(
    spec: GNNSpec,
    recipe: Recipe,
    nonzero: dict[str, int],
    lut_max: float,
    *,
    min_weight_bits: int = 3,
    keep: tuple[str, ...] = ("head_out",),
    name: str | None = None,
) -> tuple[Recipe, list[dict]]:
    """Per-layer weight bits that bring the modelled LUTs under ``lut_max``, greedily.

    Starting from ``recipe``, repeatedly take one bit off the weights of the layer where that
    saves the most modelled LUTs (``ticl_fpga.rtl.cost_model``, at the given non-zero counts),
    down to ``min_weight_bits``; layers in ``keep`` are left alone.  Returns the new recipe (its
    ``layers`` hold the explicit per-layer widths) and the steps taken.  Whether the physics
    target still holds is for QAT to tell: ``run_scan`` trains it as one more row.
    """
    shapes = spec.linear_shapes()
    wbits = {n: int(recipe.bits(n).weight_bits) for n in shapes}

    def lut_of(n: str, b: int) -> float:
        fan_in, fan_out = shapes[n]
        return layer_resources(fan_in, fan_out, nonzero[n], recipe.input_bits_of(spec, n), b)["lut"]

    total = sum(lut_of(n, wbits[n]) for n in shapes)
    steps = [{"layer": None, "weight_bits": None, "lut": total}]
    while total > lut_max:
        best = None
        for n in shapes:
            if n in keep or wbits[n] <= min_weight_bits:
                continue
            saving = lut_of(n, wbits[n]) - lut_of(n, wbits[n] - 1)
            if best is None or saving > best[1]:
                best = (n, saving)
        if best is None:
            break
        wbits[best[0]] -= 1
        total -= best[1]
        steps.append({"layer": best[0], "weight_bits": wbits[best[0]], "lut": total})
    layers = {k: v.model_copy() for k, v in recipe.layers.items()}
    for n, b in wbits.items():
        if b != int(recipe.bits(n).weight_bits):
            cur = layers.get(n)
            layers[n] = (cur or LayerBits()).model_copy(update={"weight_bits": b})
    new = recipe.model_copy(
        update={
            "name": name or f"{recipe.name}-lut{int(lut_max)}",
            "description": f"{recipe.name} with per-layer weight bits chosen for modelled LUT <= "
            f"{lut_max:g} (bits_for_budget)",
            "layers": layers,
        }
    )
    return new, steps
