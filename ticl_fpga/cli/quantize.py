"""``ticl-fpga qat | prune | scan | quantize {check,cost}``: QAT, magnitude pruning, Pareto scans."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from ticl_fpga.cli import (
    add_capacity_arguments,
    add_subgroup,
    config_from_args,
    positive_float,
    torch_device,
)
from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.errors import ConfigError, InputError
from ticl_fpga.io import check_output
from ticl_fpga.quantize.recipe import DEFAULT_RECIPE

log = logging.getLogger(__name__)


class _DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default, except ``None`` (the help text says what applies then)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None:
            return action.help or ""
        return super()._get_help_string(action)


def _qat_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("fine-tuning (QATConfig)")
    g.add_argument("--qat-config", help="QATConfig YAML (flags below override it)")
    g.add_argument("--epochs", type=int, help="QAT epochs after calibration (default 6)")
    g.add_argument("--lr", type=float, help="Adam learning rate (default 3e-4)")
    g.add_argument("--batch-size", type=int, help="graphs per batch (default 16)")
    g.add_argument("--calib-batches", type=int, help="batches to calibrate activations (default 8)")
    g.add_argument("--seed", type=int, help="random seed (default 0)")
    g.add_argument("--device", type=torch_device, help="cpu (default) or cuda")
    g.add_argument(
        "--distill-weight",
        type=float,
        help="weight w of the distillation from the float scores: loss = (1-w) focal + w KD "
        "(default: the recipe's distill_weight)",
    )
    g.add_argument("--distill-temperature", type=float, help="distillation temperature (recipe)")
    g.add_argument(
        "--distill-focus",
        choices=("scores", "working_point"),
        help="distil the scores, or centre each edge on its working-point cut (recipe)",
    )


def _prune_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pruning target and schedule")
    g.add_argument(
        "--target",
        action="append",
        help="validation target, repeat to combine (all must hold): METRIC (recipe tolerance), "
        "METRIC-1%% (relative), METRIC-0.02 (absolute) or METRIC>=0.85; metrics: "
        "edge_efficiency_at_purity (default), auc, efficiency, purity, event_efficiency, "
        "event_good_fraction, agreement (working-point decisions equal to the float model's, "
        "e.g. agreement>=0.98)",
    )
    g.add_argument("--tolerance", type=float, help="allowed drop vs the unpruned model")
    rel = g.add_mutually_exclusive_group()
    rel.add_argument(
        "--relative",
        dest="relative",
        action="store_true",
        default=None,
        help="tolerance is a fraction of the unpruned value (default)",
    )
    rel.add_argument(
        "--absolute",
        dest="relative",
        action="store_false",
        default=None,
        help="tolerance is in metric units",
    )
    g.add_argument("--minimum", type=float, help="absolute floor of the metric")
    g.add_argument("--purity", type=float, help="purity level of edge_efficiency_at_purity (0.9)")
    g.add_argument("--max-sparsity", type=float, help="never prune beyond this (0.95)")
    g.add_argument(
        "--schedule", help="comma-separated sparsity steps (0.3,0.5,0.7,0.8,0.85,0.9,0.95)"
    )
    g.add_argument("--finetune-epochs", type=int, help="fine-tuning epochs after each step (2)")


def _model_and_dataset(parser: argparse.ArgumentParser, model_help: str, reference: bool = False):
    """The float (or quantized) run MODEL, for prune its --reference, and --dataset."""
    parser.add_argument("model", help=model_help)
    if reference:
        parser.add_argument(
            "--reference",
            help="float run folder for agreement and distillation when MODEL is a quantized run "
            "(default: the float model recorded in it)",
        )
    parser.add_argument(
        "--dataset", "--data", dest="data", required=True, help="dataset folder (train/val splits)"
    )


def register(sub: argparse._SubParsersAction) -> None:
    common = dict(formatter_class=_DefaultsHelp)

    q = sub.add_parser(
        "qat",
        help="quantization-aware training of a float model with a recipe",
        description="Build the Brevitas twin of a trained float model with a bit-width recipe, "
        "copy the weights, calibrate and fine-tune; write a quantized run folder.",
        **common,
    )
    _model_and_dataset(q, "float training run folder (model.pt)")
    q.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe name in quant/ or YAML path")
    q.add_argument("-o", "--output", required=True, help="quantized run folder to write")
    _qat_options(q)
    q.set_defaults(handler=_qat)

    p = sub.add_parser(
        "prune",
        help="quantization-aware magnitude pruning to the highest sparsity meeting a target",
        description="QAT (unless MODEL is already a quantized run) then iterative global L1 "
        "pruning with fine-tuning; keeps the highest sparsity whose validation metric meets the "
        "target (recipe 'prune' entry, overridden by the flags).",
        **common,
    )
    _model_and_dataset(p, "float run folder, or a quantized run folder (skips QAT)", reference=True)
    p.add_argument(
        "--recipe",
        action="append",
        help=f"recipe(s); repeat for several (default {DEFAULT_RECIPE})",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="quantized run folder (with several recipes: one sub-folder each)",
    )
    _prune_options(p)
    _qat_options(p)
    p.set_defaults(handler=_prune)

    s = sub.add_parser(
        "scan",
        help="Pareto scan of recipes x sparsity: JSON + markdown + PNG",
        description="For each recipe: QAT then the whole pruning schedule; writes scan.json, "
        "scan.md, scan.png and the selected model per recipe.",
        **common,
    )
    _model_and_dataset(s, "float training run folder")
    s.add_argument("--recipes", default="w8a8,w6a6,w4a4,mixed", help="comma-separated recipes")
    s.add_argument("-o", "--output", required=True, help="scan output folder")
    s.add_argument(
        "--stop-at-failure",
        action="store_true",
        help="stop each recipe's schedule at its first failing sparsity",
    )
    s.add_argument("--no-models", action="store_true", help="do not save the selected models")
    _prune_options(s)
    _qat_options(s)
    s.set_defaults(handler=_scan)

    grp = add_subgroup(sub, "quantize", "inspect quantized models: fixed-point check, cost")
    c = grp.add_parser(
        "check", help="assert every quantizer is power-of-two fixed point; print them"
    )
    c.add_argument("run", help="quantized run folder")
    c.add_argument("--json", action="store_true", help="print JSON")
    add_capacity_arguments(c, "for the bit-width check")
    c.set_defaults(handler=_check)
    k = grp.add_parser("cost", help="BOPs, non-zero weights and FPGA estimate of a quantized run")
    k.add_argument("run", help="quantized run folder")
    k.add_argument(
        "--nodes", type=positive_float, help="nodes per graph (default: mean of --data val)"
    )
    k.add_argument(
        "--edges", type=positive_float, help="edges per graph (default: mean of --data val)"
    )
    k.add_argument(
        "--dataset", "--data", dest="data", help="dataset folder used for the graph size"
    )
    k.set_defaults(handler=_cost)


# --------------------------------------------------------------------------- helpers


def _qat_config(args: argparse.Namespace):
    from ticl_fpga.quantize.qat import AGREEMENT_QAT, QATConfig

    # without --qat-config: the demo's and agreement benchmark's QAT (6 epochs at 3e-4)
    return config_from_args(
        QATConfig,
        args,
        ("epochs", "lr", "batch_size", "calib_batches", "seed", "device"),
        path=args.qat_config,
        base=None if args.qat_config else AGREEMENT_QAT,
        source="--qat-config/flags",
    )


def _prune_config(args: argparse.Namespace, *, stop_at_failure: bool):
    from ticl_fpga.quantize.prune import PruneConfig

    upd: dict[str, Any] = {"stop_at_failure": stop_at_failure}
    if args.schedule:
        try:
            upd["schedule"] = [float(x) for x in args.schedule.split(",") if x.strip()]
        except ValueError:
            raise ConfigError(f"--schedule '{args.schedule}': not a list of numbers") from None
    return config_from_args(
        PruneConfig, args, ("finetune_epochs",), base=upd, source="--schedule/--finetune-epochs"
    )


def _target(args: argparse.Namespace, recipe) -> Any:
    from ticl_fpga.quantize.prune import parse_targets
    from ticl_fpga.quantize.recipe import PruneTarget

    base = recipe.prune if recipe is not None and recipe.prune is not None else PruneTarget()
    upd = {
        k: getattr(args, k, None)
        for k in ("tolerance", "relative", "minimum", "purity", "max_sparsity")
    }
    return parse_targets(args.target, base, **upd)


def _recipe(args: argparse.Namespace, name):
    from ticl_fpga.quantize.qat import with_distillation
    from ticl_fpga.quantize.recipe import load_recipe

    recipe = name if not isinstance(name, str) else load_recipe(name)
    return with_distillation(
        recipe, args.distill_weight, args.distill_temperature, args.distill_focus
    )


def _splits(path: str) -> tuple[list, list]:
    from ticl_fpga.data.dataset import load_dataset

    ds = load_dataset(path)
    train, val = ds.split("train"), ds.split("val")
    if not train:
        raise InputError(path, "the train split is empty", field="train")
    if not val:
        raise InputError(
            path, "the val split is empty (pruning targets are validation metrics)", field="val"
        )
    return train, val


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


# --------------------------------------------------------------------------- handlers


def _qat(args: argparse.Namespace) -> int:
    from ticl_fpga.quantize.evaluation import evaluate_model, model_scores
    from ticl_fpga.quantize.qat import load_float_model, quantize_model, save_quant_model
    from ticl_fpga.quantize.recipe import load_recipe

    check_output(args.output, kind="quant-run", inputs=[args.model, args.data], folder=True)
    train, val = _splits(args.data)
    cfg = _qat_config(args)
    recipe = _recipe(args, load_recipe(args.recipe))
    fmodel = load_float_model(args.model)
    qmodel = quantize_model(fmodel, recipe, train, config=cfg)
    metrics = evaluate_model(qmodel, val, reference_scores=model_scores(fmodel, val))
    save_quant_model(
        qmodel,
        args.output,
        recipe=recipe,
        config=cfg,
        metrics=metrics,
        extra={"float_model": str(args.model), "dataset": str(args.data)},
    )
    _out(
        f"{args.output}: {recipe.name}, val AUC {metrics['auc']:.4f}, "
        f"eff@purity {metrics['edge_efficiency_at_purity']:.4f}, "
        f"agreement with float {metrics['agreement']:.4f}"
    )
    return 0


def _prune(args: argparse.Namespace) -> int:
    from ticl_fpga.quantize.prune import prune_search, quantize_and_prune
    from ticl_fpga.quantize.qat import (
        is_quant_run,
        load_quant_model,
        read_quant_checkpoint,
        save_quant_model,
    )
    from ticl_fpga.quantize.qmodel import model_recipe
    from ticl_fpga.quantize.recipe import load_recipe

    several = len(args.recipe or [1]) > 1  # then OUTPUT is a plain folder of quantized runs
    check_output(
        args.output,
        kind="quant-run",
        inputs=[args.model, args.data],
        force=several,
        folder=True,
    )
    train, val = _splits(args.data)
    cfg = _qat_config(args)
    pcfg = _prune_config(args, stop_at_failure=True)
    out = Path(args.output)
    if is_quant_run(args.model):
        if args.recipe:
            log.warning(
                "%s is a quantized run: its own recipe is used, --recipe ignored", args.model
            )
        qmodel = load_quant_model(args.model)
        recipe = _recipe(args, model_recipe(qmodel))
        qmodel.quant_recipe = recipe
        target = _target(args, recipe)
        reference = args.reference or read_quant_checkpoint(args.model).get("extra", {}).get(
            "float_model"
        )
        if reference is None or not Path(reference).exists():
            log.warning(
                "no float model for %s (--reference): agreement is measured against the unpruned "
                "model and the fine-tunes do not distil",
                args.model,
            )
            reference = None
        result = prune_search(
            qmodel, train, val, target=target, config=pcfg, qat=cfg, reference=reference
        )
        save_quant_model(
            result.model,
            out,
            recipe=recipe,
            config=cfg,
            metrics=result.metrics,
            extra={"prune": result.summary(), "from": str(args.model)},
        )
        results = {recipe.name: (out, result)}
    else:
        names = args.recipe or [DEFAULT_RECIPE]
        results = {}
        for name in names:
            recipe = _recipe(args, load_recipe(name))
            target = _target(args, recipe)
            dest = out if len(names) == 1 else out / recipe.name
            results[recipe.name] = (
                dest,
                quantize_and_prune(
                    args.model, recipe, train, val, dest, target=target, config=pcfg, qat=cfg
                ),
            )
    for name, (dest, r) in results.items():
        _out(
            f"{dest}: {name} sparsity {r.sparsity:.3f}; {r.target.describe()}: "
            f"{r.metrics[r.target.metric]:.4f} (unpruned {r.baseline:.4f}, floor {r.floor:.4f})"
            + ("" if r.target_met else " [unpruned model already misses the target]")
        )
    return 0


def _scan(args: argparse.Namespace) -> int:
    from ticl_fpga.quantize.scan import run_scan

    check_output(args.output, kind="scan", inputs=[args.model, args.data], folder=True)
    if not [r for r in args.recipes.split(",") if r.strip()]:
        raise ConfigError(f"--recipes '{args.recipes}': no recipe named")
    train, val = _splits(args.data)
    recipes = [_recipe(args, r.strip()) for r in args.recipes.split(",") if r.strip()]
    has_flags = any(
        getattr(args, k) is not None
        for k in ("target", "tolerance", "relative", "minimum", "purity", "max_sparsity")
    )
    target = _target(args, None) if has_flags else None
    doc = run_scan(
        args.model,
        recipes,
        train,
        val,
        args.output,
        target=target,
        config=_prune_config(args, stop_at_failure=args.stop_at_failure),
        qat=_qat_config(args),
        save_models=not args.no_models,
    )
    for name, s in doc["selected"].items():
        _out(f"{name}: sparsity {s['sparsity']:.3f} ({s['target']})")
    _out(f"wrote {Path(args.output) / 'scan.json'}, scan.md, scan.png")
    return 0


def _check(args: argparse.Namespace) -> int:
    from ticl_fpga.compile.bitwidth import FLOAT32_EXACT_BITS, check_quant_model
    from ticl_fpga.quantize.prune import sparsity
    from ticl_fpga.quantize.qat import load_quant_model
    from ticl_fpga.quantize.qmodel import assert_fixed_point

    model = load_quant_model(args.run)  # runs assert_fixed_point
    rows = assert_fixed_point(model)
    # the exported graph's exact bit widths at the capacity (refuses what float32 cannot hold)
    bits = check_quant_model(
        model, Capacity(n_max=args.n_max, e_max=args.e_max), source=str(args.run)
    )
    if args.json:
        doc = {"sparsity": sparsity(model), "quantizers": rows, "bits": bits.summary()}
        _out(json.dumps(doc, indent=2))
        return 0
    for r in rows:
        _out(
            f"{r['layer']:<16} {r['tensor']:<6} bits {r['bit_width']:>2}  scale 2^{r['log2_scale']:.0f}  zp 0"
        )
    _out(
        f"OK: {len(rows)} quantizers power-of-two with zero point 0; sparsity {sparsity(model):.3f}; "
        f"widest exact tensor {bits.widest.label} {bits.max_bits} bits "
        f"(float32 exact up to {FLOAT32_EXACT_BITS} magnitude bits)"
    )
    return 0


def _cost(args: argparse.Namespace) -> int:
    from ticl_fpga.quantize.cost import cost_of_model, mean_graph_size
    from ticl_fpga.quantize.qat import load_quant_model
    from ticl_fpga.quantize.qmodel import model_recipe

    model = load_quant_model(args.run)
    n, e = args.nodes, args.edges
    if n is None or e is None:
        if not args.data:
            raise ConfigError(
                "quantize cost: give --nodes and --edges, or --data for the mean graph size"
            )
        _, val = _splits(args.data)
        mn, me = mean_graph_size(val)
        n, e = n if n is not None else mn, e if e is not None else me
    cost = cost_of_model(model, model_recipe(model), n_nodes=n, n_edges=e)
    cost.pop("layers")
    _out(json.dumps(cost, indent=2))
    return 0
