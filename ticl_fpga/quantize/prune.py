r"""Magnitude pruning: iterative global L1 pruning with fine-tuning, searched against validation targets.

Pruning uses ``torch.nn.utils.prune.global_unstructured`` (L1) over the weights of every linear
layer of the spec (``QuantLinear`` or ``nn.Linear``); the masks stay attached while the model
fine-tunes (quantization-aware pruning, Hawks et al. 2021) and are folded in with
``prune.remove`` before anything is saved or exported, so pruned weights are exact zeros (and,
with zero-point-0 quantizers, so are their quantized values).  When the recipe has a
``distill_weight`` and the float model is known, the fine-tunes distil from it (see
:mod:`ticl_fpga.quantize.qat`).

:func:`prune_search` walks a sparsity schedule (default 0.3 ... 0.95), fine-tuning after each
step, and keeps the highest sparsity whose validation row meets *every* target of a
:class:`Targets` set (stopping at the first failure of a quality target).

Targets
-------
A target is text (``--target``, repeatable; all must hold) parsed by a small registry of *kinds*;
each kind turns its syntax into a constraint on one column of the per-step validation row::

    edge_efficiency_at_purity-1%    physics metric within 1 % (relative) of the unpruned model
    auc-0.02                        ... within 0.02 (absolute) of the unpruned model
    event_efficiency>=0.85          ... at least 0.85
    auc                             ... within the recipe's / default tolerance
    agreement>=0.98                 working-point decisions equal to the float model's on >= 98 %
                                    of validation edges (``agreement-1%`` works too)

Physics metrics and ``agreement`` are :class:`~ticl_fpga.quantize.recipe.PruneTarget` s (higher is
better; floor from the unpruned baseline and/or an absolute minimum).  ``agreement`` is measured
against the float model given as ``reference`` (``quantize_and_prune`` passes it; without one,
against the unpruned model).  The first target is the *primary* one (reported baseline/floor,
Pareto metric of the scan); ``purity`` and ``max_sparsity`` are shared settings of the set.

Plugging in another kind (e.g. a resource bound ``lut<=200000``) takes one call::

    from ticl_fpga.quantize.prune import AtMost, register_target_kind

    def parse_lut(text, base):               # -> a constraint, or None if not this kind's syntax
        m = re.fullmatch(r"\s*lut\s*<=\s*([0-9.eE+]+)\s*", text)
        return AtMost("lut", float(m[1])) if m else None

    def lut_column(model, row):              # adds the column the constraint reads to each row
        return {"lut": row["fpga"]["per_edge"]["lut"]}

    register_target_kind("lut", parse_lut, syntax="lut<=N", row_metrics=lut_column)

A constraint is any object with ``metric`` (the row column), ``passes(value, baseline)``,
``describe()``, a ``floor(baseline)`` or ``limit(baseline)``, and ``stops_search`` (True for
quality bounds that only get worse with sparsity: the walk stops at their first failure; False
for bounds that sparsity helps, like resources: failing steps are skipped, the walk goes on).
:class:`AtLeast` and :class:`AtMost` are ready-made absolute bounds.  Kinds registered later are
tried first; the metric kind is the fallback.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
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
from ticl_fpga.quantize.evaluation import check_metric, evaluate_model, model_scores
from ticl_fpga.quantize.qat import (
    QATConfig,
    as_float_model,
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


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class AtLeast:
    """Absolute lower bound ``row[metric] >= minimum`` (quality: stops the search when failed)."""

    metric: str
    minimum: float
    stops_search: bool = True

    def floor(self, baseline: float) -> float:
        return self.minimum

    def passes(self, value: float, baseline: float) -> bool:
        return value is not None and math.isfinite(value) and value >= self.minimum - 1e-12

    def describe(self) -> str:
        return f"{self.metric} >= {self.minimum:g}"

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        return {"kind": "at_least", "metric": self.metric, "minimum": self.minimum}


@dataclass(frozen=True)
class AtMost:
    """Absolute upper bound ``row[metric] <= maximum`` (e.g. resources; sparsity helps it)."""

    metric: str
    maximum: float
    stops_search: bool = False

    def limit(self, baseline: float) -> float:
        return self.maximum

    def passes(self, value: float, baseline: float) -> bool:
        return value is not None and math.isfinite(value) and value <= self.maximum + 1e-12

    def describe(self) -> str:
        return f"{self.metric} <= {self.maximum:g}"

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        return {"kind": "at_most", "metric": self.metric, "maximum": self.maximum}


def limit_of(constraint: Any, baseline: float) -> float:
    """The bound a constraint puts on its column (``floor`` or ``limit``) given the baseline."""
    fn = getattr(constraint, "limit", None) or constraint.floor
    return float(fn(baseline))


def _stops(constraint: Any) -> bool:
    return bool(getattr(constraint, "stops_search", True))


@dataclass
class Targets:
    """Several targets that must all hold; the first is the primary one.

    ``purity`` (of ``edge_efficiency_at_purity``) and ``max_sparsity`` are shared settings, taken
    from the first :class:`PruneTarget` of the set unless given.
    """

    constraints: list[Any]
    purity: float = 0.9
    max_sparsity: float = 0.95

    def __post_init__(self) -> None:
        if not self.constraints:
            raise ConfigError("a pruning target set needs at least one target")

    @property
    def primary(self) -> Any:
        return self.constraints[0]

    @property
    def metric(self) -> str:
        return self.primary.metric

    @property
    def metrics(self) -> list[str]:
        return [c.metric for c in self.constraints]

    def floor(self, baseline: float) -> float:
        return limit_of(self.primary, baseline)

    def checks(self, row: dict[str, Any], base: dict[str, Any]) -> dict[str, bool]:
        """``{description: passed}`` of every constraint for a step ``row`` (``base``: unpruned)."""
        return {
            c.describe(): bool(c.passes(_num(row.get(c.metric)), _num(base.get(c.metric))))
            for c in self.constraints
        }

    def passes_row(self, row: dict[str, Any], base: dict[str, Any]) -> bool:
        return all(self.checks(row, base).values())

    def quality_ok(self, row: dict[str, Any], base: dict[str, Any]) -> bool:
        """Whether the constraints that stop the search (quality bounds) hold."""
        return all(
            c.passes(_num(row.get(c.metric)), _num(base.get(c.metric)))
            for c in self.constraints
            if _stops(c)
        )

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.constraints)

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        return {
            "targets": [c.model_dump(mode=mode) for c in self.constraints],
            "purity": self.purity,
            "max_sparsity": self.max_sparsity,
        }


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def expand_also(items: Sequence[Any]) -> list[Any]:
    """Constraints with each :class:`PruneTarget`'s ``also`` texts parsed and appended after it.

    A recipe's ``prune`` entry may name further targets (``also: ['agreement>=0.98']``) that hold
    whenever it is the default target set; they are parsed with that entry as the base.
    """
    out: list[Any] = []
    for c in items:
        if isinstance(c, PruneTarget) and c.also:
            base = c.alone()
            out.append(base)
            out.extend(parse_target(t, base) for t in c.also)
        else:
            out.append(c)
    return out


def as_targets(target: Any) -> Targets:
    """A :class:`Targets` from a set, one constraint (e.g. a :class:`PruneTarget`) or a list.

    A :class:`PruneTarget` with ``also`` texts (a recipe's default set) brings those targets too.
    """
    if isinstance(target, Targets):
        return target
    items = list(target) if isinstance(target, list | tuple) else [target]
    items = expand_also(items)
    if not items:
        return Targets([PruneTarget()])
    first = next((c for c in items if isinstance(c, PruneTarget)), PruneTarget())
    return Targets(items, purity=first.purity, max_sparsity=first.max_sparsity)


TargetParser = Callable[[str, PruneTarget], Any]
RowMetrics = Callable[[nn.Module, dict[str, Any]], dict[str, float]]


@dataclass(frozen=True)
class TargetKind:
    """A registered target syntax: ``parse(text, base) -> constraint | None`` (None: not mine)."""

    name: str
    parse: TargetParser
    syntax: str
    row_metrics: RowMetrics | None = None


_KINDS: list[TargetKind] = []


def register_target_kind(
    name: str, parse: TargetParser, *, syntax: str, row_metrics: RowMetrics | None = None
) -> TargetKind:
    """Add (or replace) a target kind; later kinds are tried before earlier ones.

    ``row_metrics(model, row)`` (optional) returns extra columns added to every validation row of
    the search (before the targets are checked), for constraints on numbers the row lacks.
    """
    kind = TargetKind(name, parse, syntax, row_metrics)
    _KINDS[:] = [k for k in _KINDS if k.name != name]
    _KINDS.insert(0, kind)
    return kind


def target_kinds() -> list[TargetKind]:
    """Registered kinds in the order they are tried."""
    return list(_KINDS)


def _row_extras(model: nn.Module, row: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind in _KINDS:
        if kind.row_metrics is not None:
            out.update(kind.row_metrics(model, {**row, **out}))
    return out


_TARGET_RE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:(?P<ge>>=)\s*(?P<minimum>[0-9.eE+-]+)|-\s*(?P<tol>[0-9.eE+]+)\s*(?P<pct>%)?)?\s*$"
)


def _parse_metric(text: str, base: PruneTarget) -> PruneTarget | None:
    """The built-in kind: ``METRIC``, ``METRIC-1%``, ``METRIC-0.02``, ``METRIC>=0.85``."""
    m = _TARGET_RE.match(text)
    if not m:
        return None
    metric = check_metric(m["metric"], source=f"--target '{text}'")
    upd: dict[str, Any] = {"metric": metric, "also": []}
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


_METRIC_KIND = TargetKind(
    "metric", _parse_metric, "METRIC, METRIC-1%, METRIC-0.02, METRIC>=0.85, agreement>=0.98"
)


def parse_target(text: str, base: PruneTarget | None = None) -> Any:
    """Parse one command-line target into a constraint (``base`` supplies the rest).

    Registered kinds first, then the metric kind: ``METRIC`` (keep the base tolerance),
    ``METRIC-1%`` (within 1 % of unpruned), ``METRIC-0.02`` (within 0.02 absolute),
    ``METRIC>=0.85`` (absolute floor only); ``agreement`` is one of the metrics.
    """
    base = base or PruneTarget()
    for kind in [*_KINDS, _METRIC_KIND]:
        out = kind.parse(text, base)
        if out is not None:
            return out
    forms = "; ".join(k.syntax for k in [*_KINDS, _METRIC_KIND])
    raise ConfigError(f"--target '{text}': expected one of {forms}")


def parse_targets(
    texts: Sequence[str] | str | None,
    base: PruneTarget | None = None,
    **overrides: Any,
) -> Targets:
    """Several targets (all must hold) from text; none given: ``base`` (with its ``also`` set).

    ``overrides`` (``tolerance``, ``relative``, ``minimum``, ``purity``, ``max_sparsity``; None
    values ignored) update the first physics target and the shared settings, as the CLI flags do.
    """
    base = base or PruneTarget()
    if isinstance(texts, str):
        texts = [texts]
    upd = {k: v for k, v in overrides.items() if v is not None}
    shared = {k: upd[k] for k in ("purity", "max_sparsity") if k in upd}
    base = PruneTarget.from_dict({**base.model_dump(), **shared}, source="--target/flags")
    items = [parse_target(t, base) for t in (texts or [])] or [base]
    first = next((i for i, c in enumerate(items) if isinstance(c, PruneTarget)), None)
    if upd and first is not None:
        items[first] = PruneTarget.from_dict(
            {**items[first].model_dump(), **upd}, source="--target/flags"
        )
    items = expand_also(items)
    return Targets(
        items,
        purity=float(upd.get("purity", base.purity)),
        max_sparsity=float(upd.get("max_sparsity", base.max_sparsity)),
    )


# --------------------------------------------------------------------------- search


@dataclass
class PruneResult:
    """Outcome of :func:`prune_search`: the selected model (no masks) and every step's numbers.

    ``baseline`` and ``floor`` are those of the primary target (``target.metric``).
    """

    model: EdgeClassifierGNN
    sparsity: float
    metrics: dict[str, float]
    baseline: float
    floor: float
    target: Targets
    target_met: bool
    history: list[dict[str, Any]] = field(default_factory=list)
    reference: str = "none"

    def summary(self) -> dict[str, Any]:
        return {
            "sparsity": self.sparsity,
            "metric": self.target.metric,
            "baseline": self.baseline,
            "floor": self.floor,
            "target": self.target.model_dump(mode="json"),
            "target_description": self.target.describe(),
            "target_met": self.target_met,
            "agreement_reference": self.reference,
            "metrics": self.metrics,
            "history": self.history,
        }


def _step_row(model, val, targets, graph_size, step: int, ref_scores=None, **extra):
    metrics = evaluate_model(model, val, purity=targets.purity, reference_scores=ref_scores)
    cost = cost_of_model(model, model_recipe(model), n_nodes=graph_size[0], n_edges=graph_size[1])
    row = {
        "step": step,
        "sparsity": sparsity(model),
        **metrics,
        "bops_per_graph": cost["bops_per_graph"],
        "bops_ratio_vs_16bit_dense": cost["bops_ratio_vs_16bit_dense"],
        "lut_ratio_vs_16bit_dense": cost["lut_ratio_vs_16bit_dense"],
        "nonzero_weights": cost["nonzero_weights"],
        "fpga": cost["fpga"],
        **extra,
    }
    row.update(_row_extras(model, row))
    return row


def prune_search(
    model: EdgeClassifierGNN,
    train: Sequence,
    val: Sequence,
    *,
    target: Any = None,
    config: PruneConfig | None = None,
    qat: QATConfig | None = None,
    reference: EdgeClassifierGNN | str | Path | None = None,
) -> PruneResult:
    """Highest schedule sparsity whose validation row passes every target of ``target``.

    ``target``: a :class:`Targets`, a :class:`PruneTarget` or another constraint, or a list of
    them (default: the recipe's ``prune`` entry).  ``model`` (float or quantized, already trained)
    is pruned in place along the schedule; the returned :class:`PruneResult` holds a fresh model
    rebuilt from the selected step, with masks folded in.  The baseline is ``model`` itself before
    pruning.  ``reference`` (the float model) is what ``agreement`` compares with (without it, the
    unpruned ``model``) and the distillation teacher of the fine-tunes when the recipe has a
    ``distill_weight``.

    The walk stops at the first step failing a quality target (``stops_search``); failing only
    other targets (resources) skips the step.  The selected step is the last one meeting all
    targets, else the last one meeting the quality targets (``target_met`` False).
    """
    recipe = model_recipe(model)
    targets = as_targets(
        target
        if target is not None
        else (recipe.prune if recipe is not None and recipe.prune else PruneTarget())
    )
    for c in targets.constraints:
        if isinstance(c, PruneTarget):
            check_metric(c.metric, source="prune target")
    config = config or PruneConfig()
    qat = qat or QATConfig()
    val = list(val)
    graph_size = mean_graph_size(val)
    teacher = as_float_model(reference) if reference is not None else None
    ref_scores = model_scores(teacher if teacher is not None else model, val)
    ref_name = "float model" if teacher is not None else "unpruned model"
    row0 = _step_row(model, val, targets, graph_size, 0, ref_scores)
    row0["checks"] = targets.checks(row0, row0)
    row0["passed"] = all(row0["checks"].values())
    history = [row0]
    best_state, best_row = export_state_dict(model), row0
    name = recipe.name if recipe is not None else "float"
    log.info(
        "%s: unpruned %s; target %s (primary floor %.4f)",
        name,
        ", ".join(f"{m} = {_num(row0.get(m)):.4f}" for m in targets.metrics),
        targets.describe(),
        targets.floor(_num(row0.get(targets.metric))),
    )
    base_quality = targets.quality_ok(row0, row0)
    if not base_quality:
        log.warning(
            "%s: the unpruned model already misses %s; %s",
            name,
            targets.describe(),
            "not pruning" if config.stop_at_failure else "pruning for the record only",
        )
    for i, s in enumerate(config.schedule, start=1):
        if not base_quality and config.stop_at_failure:
            break
        if s > targets.max_sparsity + 1e-9:
            log.info("%s: stop at max_sparsity %.3f", name, targets.max_sparsity)
            break
        prune_to(model, s)
        losses = train_epochs(
            model,
            train,
            config=qat,
            epochs=config.finetune_epochs,
            seed_offset=1000 * i,
            desc=f"prune {name} {s:.2f}",
            teacher=teacher,
        )
        row = _step_row(
            model, val, targets, graph_size, i, ref_scores, loss=losses[-1] if losses else None
        )
        row["checks"] = targets.checks(row, row0)
        row["passed"] = all(row["checks"].values())
        history.append(row)
        shown = list(dict.fromkeys([*targets.metrics, "agreement"]))
        log.info(
            "%s: sparsity %.3f %s -> %s",
            name,
            row["sparsity"],
            ", ".join(f"{m} = {_num(row.get(m)):.4f}" for m in shown),
            "pass" if row["passed"] else "FAIL",
        )
        if base_quality and targets.quality_ok(row, row0):
            if row["passed"] or not best_row["passed"]:
                best_state, best_row = export_state_dict(model), row
        elif config.stop_at_failure:
            break
    remove_pruning(model)
    final = rebuild(model, best_state)
    metrics = {k: v for k, v in best_row.items() if isinstance(v, int | float) and k != "step"}
    baseline = _num(row0.get(targets.metric))
    return PruneResult(
        model=final,
        sparsity=float(best_row["sparsity"]),
        metrics=metrics,
        baseline=baseline,
        floor=targets.floor(baseline),
        target=targets,
        target_met=bool(best_row["passed"]),
        history=history,
        reference=ref_name,
    )


def quantize_and_prune(
    float_model: EdgeClassifierGNN | str | Path,
    recipe: Recipe | str | Path,
    train: Sequence,
    val: Sequence,
    out_dir: str | Path | None = None,
    *,
    target: Any = None,
    config: PruneConfig | None = None,
    qat: QATConfig | None = None,
) -> PruneResult:
    """QAT with ``recipe`` then :func:`prune_search` against the float model; saves to ``out_dir``.

    The float model is the ``agreement`` reference and, with a recipe ``distill_weight``, the
    distillation teacher of QAT and of every fine-tune.
    """
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    qat = qat or QATConfig()
    fmodel = as_float_model(float_model)
    qmodel = quantize_model(fmodel, recipe, train, config=qat)
    result = prune_search(
        qmodel,
        train,
        val,
        target=target or recipe.prune,
        config=config,
        qat=qat,
        reference=fmodel,
    )
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
                "float_model": str(float_model) if isinstance(float_model, str | Path) else None,
            },
        )
    return result


def unregister_target_kind(name: str) -> None:
    """Remove a registered kind (tests, plug-ins that reload)."""
    _KINDS[:] = [k for k in _KINDS if k.name != name]


# --------------------------------------------------------------------------- resource targets

#: ``--target`` kinds for resource bounds: ``lut<=200000``, ``ff<=...``, ``dsp<=...``.
RESOURCE_KINDS = ("lut", "ff", "dsp")


def register_resource_targets() -> None:
    """Register ``lut<=N`` / ``ff<=N`` / ``dsp<=N`` as pruning/scan targets (the measured-cost model of quantize/cost.py).

    The bound applies to ``fpga[<resource>]`` of each validation row: the dense layers of one lane
    (see the module doc).  Sparsity helps a resource bound, so a failing step does not stop the
    search (``AtMost.stops_search`` is False); the selected model is the sparsest step meeting all.
    """

    for res in RESOURCE_KINDS:
        pattern = re.compile(rf"\s*{res}\s*<=\s*(\S+)\s*", re.I)

        def parse(text: str, base, _res=res, _pat=pattern):
            m = _pat.fullmatch(text)
            if not m:
                return None
            try:
                value = float(m[1])
            except ValueError:
                raise ConfigError(f"--target '{text}': '{m[1]}' is not a number") from None
            if value < 0:
                raise ConfigError(f"--target '{text}': a resource bound must be >= 0")
            return AtMost(_res, value)

        def column(model, row, _res=res):
            return {_res: float(row.get("fpga", {}).get(_res, float("nan")))}

        register_target_kind(res, parse, syntax=f"{res}<=N", row_metrics=column)


register_resource_targets()
