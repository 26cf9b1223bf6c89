"""Magnitude pruning: iterative global L1 pruning with fine-tuning, searched against a validation target.

Pruning uses ``torch.nn.utils.prune.global_unstructured`` (L1) over the weights of every linear
layer of the spec (``QuantLinear`` or ``nn.Linear``); the masks stay attached while the model
fine-tunes (quantization-aware pruning, Hawks et al. 2021) and are folded in with
``prune.remove`` before anything is saved or exported, so pruned weights are exact zeros (and,
with zero-point-0 quantizers, so are their quantized values).

:func:`prune_search` walks a sparsity schedule (default 0.3 ... 0.95), fine-tuning after each
step, and keeps the highest sparsity whose validation metric meets the :class:`PruneTarget`
(stopping at the first failure).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pydantic import Field
from torch import nn
from torch.nn.utils import prune

from ticl_fpga.config import StrictModel
from ticl_fpga.errors import ConfigError
from ticl_fpga.model.gnn import EdgeClassifierGNN
from ticl_fpga.quantize.cost import cost_of_model, mean_graph_size
from ticl_fpga.quantize.evaluation import check_metric, evaluate_model
from ticl_fpga.quantize.qat import (
    QATConfig,
    export_state_dict,
    quantize_model,
    rebuild,
    save_quant_model,
    train_epochs,
)
from ticl_fpga.quantize.qmodel import model_recipe
from ticl_fpga.quantize.recipe import PruneTarget, Recipe, load_recipe

log = logging.getLogger(__name__)

DEFAULT_SCHEDULE = (0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95)


class PruneConfig(StrictModel):
    """Iterative pruning schedule: global sparsity steps, each followed by a short fine-tune."""

    schedule: list[float] = Field(default_factory=lambda: list(DEFAULT_SCHEDULE))
    finetune_epochs: int = Field(2, ge=0)
    stop_at_failure: bool = True

    def model_post_init(self, __context: Any) -> None:
        if any(not 0.0 < s < 1.0 for s in self.schedule):
            raise ConfigError(f"prune schedule {self.schedule}: sparsities must be in (0, 1)")
        if list(self.schedule) != sorted(set(self.schedule)):
            raise ConfigError(f"prune schedule {self.schedule}: must be strictly increasing")


# --------------------------------------------------------------------------- masks


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """``(module, "weight")`` of every linear layer of the spec (float or Brevitas)."""
    out = []
    for name in model.spec.linear_shapes():
        m = model.get_submodule(name)
        if not isinstance(m, nn.Linear):
            raise TypeError(f"{name} is not a linear layer: {type(m).__name__}")
        out.append((m, "weight"))
    return out


def effective_weight(module: nn.Module) -> torch.Tensor:
    """The weight the module computes with now (``weight_orig * weight_mask`` while pruned)."""
    if prune.is_pruned(module) and hasattr(module, "weight_mask"):
        return (module.weight_orig * module.weight_mask).detach()
    return module.weight.detach()


def sparsity(model: nn.Module) -> float:
    """Global fraction of zero weights over the prunable layers (masks applied)."""
    total = zeros = 0
    for m, _ in prunable(model):
        w = effective_weight(m)
        total += w.numel()
        zeros += int((w == 0).sum())
    return zeros / total if total else 0.0


def layer_sparsity(model: nn.Module) -> dict[str, float]:
    return {
        name: float((effective_weight(model.get_submodule(name)) == 0).float().mean())
        for name in model.spec.linear_shapes()
    }


def prune_to(model: nn.Module, target: float) -> float:
    """Globally L1-prune more weights so that ``target`` of all linear weights are masked.

    Masks accumulate (``PruningContainer``): weights pruned earlier stay pruned.  Importance is
    the current effective weight, so fine-tuning between steps is taken into account.
    """
    params = prunable(model)
    total = sum(
        m.weight_orig.numel() if hasattr(m, "weight_orig") else m.weight.numel() for m, _ in params
    )
    masked = sum(int((m.weight_mask == 0).sum()) for m, _ in params if hasattr(m, "weight_mask"))
    amount = int(round(target * total)) - masked
    if amount > 0:
        scores = {(m, "weight"): effective_weight(m).abs() for m, _ in params}
        prune.global_unstructured(
            params, pruning_method=prune.L1Unstructured, importance_scores=scores, amount=amount
        )
    return sparsity(model)


def remove_pruning(model: nn.Module) -> nn.Module:
    """Fold masks into the weights (``prune.remove``): pruned weights become plain exact zeros."""
    for m, name in prunable(model):
        if prune.is_pruned(m) and hasattr(m, f"{name}_mask"):
            prune.remove(m, name)
    return model


# --------------------------------------------------------------------------- search


@dataclass
class PruneResult:
    """Outcome of :func:`prune_search`: the selected model (no masks) and every step's numbers."""

    model: EdgeClassifierGNN
    sparsity: float
    metrics: dict[str, float]
    baseline: float
    floor: float
    target: PruneTarget
    target_met: bool
    history: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "sparsity": self.sparsity,
            "metric": self.target.metric,
            "baseline": self.baseline,
            "floor": self.floor,
            "target": self.target.model_dump(mode="json"),
            "target_description": self.target.describe(),
            "target_met": self.target_met,
            "metrics": self.metrics,
            "history": self.history,
        }


def _step_row(model, val, target, graph_size, step: int, **extra) -> dict[str, Any]:
    metrics = evaluate_model(model, val, purity=target.purity)
    cost = cost_of_model(model, model_recipe(model), n_nodes=graph_size[0], n_edges=graph_size[1])
    return {
        "step": step,
        "sparsity": sparsity(model),
        **metrics,
        "bops_per_graph": cost["bops_per_graph"],
        "bops_ratio_vs_16bit_dense": cost["bops_ratio_vs_16bit_dense"],
        "nonzero_weights": cost["nonzero_weights"],
        "fpga": cost["fpga"],
        **extra,
    }


def prune_search(
    model: EdgeClassifierGNN,
    train: Sequence,
    val: Sequence,
    *,
    target: PruneTarget | None = None,
    config: PruneConfig | None = None,
    qat: QATConfig | None = None,
) -> PruneResult:
    """Highest schedule sparsity whose validation ``target.metric`` passes ``target``.

    ``model`` (float or quantized, already trained) is pruned in place along the schedule; the
    returned :class:`PruneResult` holds a fresh model rebuilt from the last passing step, with
    masks folded in.  The baseline is ``model`` itself before pruning.
    """
    recipe = model_recipe(model)
    target = target or (recipe.prune if recipe is not None and recipe.prune else PruneTarget())
    check_metric(target.metric, source="prune target")
    config = config or PruneConfig()
    qat = qat or QATConfig()
    val = list(val)
    graph_size = mean_graph_size(val)
    row0 = _step_row(model, val, target, graph_size, 0, passed=True)
    baseline = float(row0[target.metric])
    floor = target.floor(baseline)
    row0["passed"] = target.passes(baseline, baseline)
    history = [row0]
    best_state, best_row = export_state_dict(model), row0
    name = recipe.name if recipe is not None else "float"
    log.info(
        "%s: unpruned %s = %.4f, target %s (floor %.4f)",
        name,
        target.metric,
        baseline,
        target.describe(),
        floor,
    )
    for i, s in enumerate(config.schedule, start=1):
        if s > target.max_sparsity + 1e-9:
            log.info("%s: stop at max_sparsity %.3f", name, target.max_sparsity)
            break
        prune_to(model, s)
        losses = train_epochs(
            model,
            train,
            config=qat,
            epochs=config.finetune_epochs,
            seed_offset=1000 * i,
            desc=f"prune {name} {s:.2f}",
        )
        row = _step_row(model, val, target, graph_size, i, loss=losses[-1] if losses else None)
        row["passed"] = target.passes(float(row[target.metric]), baseline)
        history.append(row)
        log.info(
            "%s: sparsity %.3f %s = %.4f -> %s",
            name,
            row["sparsity"],
            target.metric,
            row[target.metric],
            "pass" if row["passed"] else "FAIL",
        )
        if row["passed"] and row0["passed"]:
            best_state, best_row = export_state_dict(model), row
        elif config.stop_at_failure:
            break
    remove_pruning(model)
    final = rebuild(model, best_state)
    metrics = {k: v for k, v in best_row.items() if isinstance(v, int | float) and k != "step"}
    return PruneResult(
        model=final,
        sparsity=float(best_row["sparsity"]),
        metrics=metrics,
        baseline=baseline,
        floor=floor,
        target=target,
        target_met=bool(row0["passed"]),
        history=history,
    )


def quantize_and_prune(
    float_model: EdgeClassifierGNN | str | Path,
    recipe: Recipe | str | Path,
    train: Sequence,
    val: Sequence,
    out_dir: str | Path | None = None,
    *,
    target: PruneTarget | None = None,
    config: PruneConfig | None = None,
    qat: QATConfig | None = None,
) -> PruneResult:
    """QAT with ``recipe`` then :func:`prune_search`; saves the selected model to ``out_dir``."""
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    qat = qat or QATConfig()
    qmodel = quantize_model(float_model, recipe, train, config=qat)
    result = prune_search(qmodel, train, val, target=target or recipe.prune, config=config, qat=qat)
    if out_dir is not None:
        save_quant_model(
            result.model,
            out_dir,
            recipe=recipe,
            config=qat,
            metrics=result.metrics,
            extra={
                "prune": result.summary(),
                "prune_config": (config or PruneConfig()).model_dump(),
            },
        )
    return result


# --------------------------------------------------------------------------- targets

_TARGET_RE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:(?P<ge>>=)\s*(?P<minimum>[0-9.eE+-]+)|-\s*(?P<tol>[0-9.eE+]+)\s*(?P<pct>%)?)?\s*$"
)


def parse_target(text: str, base: PruneTarget | None = None) -> PruneTarget:
    """Parse a command-line target into a :class:`PruneTarget` (``base`` supplies the rest).

    ``METRIC`` (keep the base tolerance), ``METRIC-1%`` (within 1 % of unpruned),
    ``METRIC-0.02`` (within 0.02 absolute), ``METRIC>=0.85`` (absolute floor only).
    """
    base = base or PruneTarget()
    m = _TARGET_RE.match(text)
    if not m:
        raise ConfigError(
            f"--target '{text}': expected METRIC, METRIC-1%, METRIC-0.02 or METRIC>=0.85"
        )
    metric = check_metric(m["metric"], source=f"--target '{text}'")
    upd: dict[str, Any] = {"metric": metric}
    try:
        if m["ge"]:
            upd.update(minimum=float(m["minimum"]), tolerance=None)
        elif m["tol"]:
            tol = float(m["tol"])
            upd.update(
                tolerance=tol / 100 if m["pct"] else tol, relative=bool(m["pct"]), minimum=None
            )
    except ValueError:
        raise ConfigError(f"--target '{text}': not a number") from None
    return PruneTarget.from_dict({**base.model_dump(), **upd}, source=f"--target '{text}'")
