"""The main job: the whole flow on built-in synthetic data, resumable, with an index page.

``run_demo(cfg, out)`` runs the stages in order::

    generate -> graphs -> train -> evaluate -> export -> quantize -> qonnx -> hls -> compare -> index

Each stage writes its artefacts atomically (or resumably, for training) and then a marker
``stages/<name>.json`` with its duration, outputs and headline numbers; re-running skips stages
whose marker and outputs exist, so an interrupted run resumes where it stopped and never sees a
half-written artefact.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from ticl_fpga.compare.compare import compare_models
from ticl_fpga.compile.build import (
    HlsBuildConfig,
    build_hls,
    check_csim,
    golden_from_graphs,
    hls_tool,
)
from ticl_fpga.compile.capacity import Capacity, split_to_fit
from ticl_fpga.compile.predict import load_hls_project
from ticl_fpga.compile.to_qonnx import export_qonnx
from ticl_fpga.config import StrictModel, provenance, read_yaml
from ticl_fpga.data.dataset import BuildConfig, build_dataset, format_summary, load_dataset
from ticl_fpga.data.synthetic import GeneratorConfig, generate
from ticl_fpga.errors import ConfigError, InputError
from ticl_fpga.evaluate.report import evaluate_run
from ticl_fpga.export.onnx import export_run_onnx
from ticl_fpga.export.torchscript import export_run_torchscript
from ticl_fpga.io import atomic_path, check_output, dir_lock, mark_folder, write_json, write_text
from ticl_fpga.quantize.cost import cost_of_model, mean_graph_size
from ticl_fpga.quantize.prune import PruneConfig, parse_targets, quantize_and_prune
from ticl_fpga.quantize.qat import QATConfig, load_quant_model
from ticl_fpga.quantize.qmodel import model_recipe
from ticl_fpga.quantize.recipe import DEFAULT_RECIPE, load_recipe
from ticl_fpga.tables import markdown_table
from ticl_fpga.train.config import load_train_config
from ticl_fpga.train.fit import fit

log = logging.getLogger(__name__)


class DemoConfig(StrictModel):
    """Settings of the main job (``ticl-fpga demo``); ``quick()`` gives the smoke-test sizes."""

    events: int = Field(2000, ge=20)
    pileup: int = Field(0, ge=0)
    seed: int = 0
    train_config: str = "default"
    epochs: int | None = Field(None, ge=1)
    recipe: str = DEFAULT_RECIPE
    # The recipe's own target set by default (w6a8: physics within 1 % and agreement >= 0.98 on
    # the validation split), so the demo model is the smallest that keeps both (issue 16).
    prune_target: str | None = Field(
        None,
        description="pruning target, e.g. edge_efficiency_at_purity-1%; None: the recipe's own "
        "target set (w6a8: physics within 1 % and agreement >= 0.98)",
    )
    prune_schedule: list[float] = [0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95]
    # the agreement benchmark's QAT (6 epochs at 3e-4; 3 epochs at 1e-3 agreed less with float)
    qat_epochs: int = Field(6, ge=0)
    qat_lr: float = Field(3e-4, gt=0)
    finetune_epochs: int = Field(2, ge=0)
    n_max: int = Field(64, ge=2)
    e_max: int = Field(256, ge=1)
    window_overlap: int = Field(16, ge=0, description="nodes shared by neighbouring eta windows")
    golden_graphs: int = Field(8, ge=1)
    compare_events: int | None = Field(
        None, ge=1, description="test events compared (None: the whole test split)"
    )

    @classmethod
    def quick(cls, **overrides: Any) -> DemoConfig:
        base = dict(
            events=120,
            train_config="quick",
            epochs=4,
            prune_schedule=[0.5, 0.8],
            qat_epochs=1,
            finetune_epochs=1,
            golden_graphs=4,
            compare_events=12,
        )
        return cls(**{**base, **overrides})


@dataclass
class Stage:
    name: str
    title: str
    run: Callable[[DemoContext], dict[str, Any]]


class _InRun:
    """A path inside the run folder: ``ctx.<name>`` is ``ctx.out / relative``."""

    def __init__(self, relative: str) -> None:
        self.relative = relative

    def __get__(self, ctx: DemoContext | None, owner: type | None = None) -> Any:
        return self if ctx is None else ctx.out / self.relative


@dataclass
class DemoContext:
    cfg: DemoConfig
    out: Path
    #: what one stage hands the next within a run (the compiled hls4ml model): a resumed run
    #: that skipped the stage which made an entry rebuilds it from the files instead
    cache: dict[str, Any] = field(default_factory=dict)

    root_file = _InRun("data/events.root")
    dataset = _InRun("data/dataset")
    train_dir = _InRun("train")
    quant_dir = _InRun("quantize")
    qonnx = _InRun("fpga/gnn.qonnx.onnx")
    hls_dir = _InRun("fpga/hls")
    torchscript = _InRun("export/gnn.torchscript.pt")

    def capacity(self):
        return Capacity(n_max=self.cfg.n_max, e_max=self.cfg.e_max)

    def hls_config(self):
        return HlsBuildConfig(capacity=self.capacity())


# ----------------------------------------------------------------------------- stages


def _generate(ctx: DemoContext) -> dict[str, Any]:
    c = ctx.cfg
    generate(GeneratorConfig(n_events=c.events, pileup=c.pileup, seed=c.seed), ctx.root_file)
    return {"outputs": [ctx.root_file], "events": c.events, "pileup": c.pileup}


def _graphs(ctx: DemoContext) -> dict[str, Any]:
    build_dataset([ctx.root_file], ctx.dataset, BuildConfig(workers=2))
    s = load_dataset(ctx.dataset).summary
    return {"outputs": [ctx.dataset / "meta.json"], "summary": s}


def _train(ctx: DemoContext) -> dict[str, Any]:
    cfg = load_train_config(ctx.cfg.train_config)
    if ctx.cfg.epochs is not None:
        cfg.epochs = ctx.cfg.epochs
    cfg.seed = ctx.cfg.seed
    fit(ctx.dataset, cfg, ctx.train_dir)
    return {"outputs": [ctx.train_dir / "model.pt", ctx.train_dir / "train_config.yaml"]}


def _evaluate(ctx: DemoContext) -> dict[str, Any]:
    out = ctx.out / "evaluate"
    with atomic_path(out, suffix="", kind="evaluation") as tmp:
        s = evaluate_run(ctx.train_dir, ctx.dataset, "test", tmp)
    return {
        "outputs": [out / "report.md", out / "summary.json"],
        "plots": [str(Path("evaluate") / p) for p in s.get("plots", [])],
        "gnn_beats_baseline": s.get("gnn_beats_baseline"),
        "edge": _pick(s.get("edge", {}), ("gnn_wp", "gnn_cut", "baseline")),
    }


def _export(ctx: DemoContext) -> dict[str, Any]:
    onnx = ctx.out / "export" / "gnn.onnx"
    export_run_torchscript(ctx.train_dir, ctx.torchscript)
    export_run_onnx(ctx.train_dir, onnx)
    return {"outputs": [ctx.torchscript, onnx]}


def _quantize(ctx: DemoContext) -> dict[str, Any]:
    c = ctx.cfg
    ds = load_dataset(ctx.dataset)
    recipe = load_recipe(c.recipe)
    target = parse_targets([c.prune_target] if c.prune_target else None, recipe.prune)
    result = quantize_and_prune(
        ctx.train_dir,
        recipe,
        ds.split("train"),
        ds.split("val"),
        ctx.quant_dir,
        target=target,
        config=PruneConfig(schedule=c.prune_schedule, finetune_epochs=c.finetune_epochs),
        qat=QATConfig(epochs=c.qat_epochs, lr=c.qat_lr, seed=c.seed),
    )
    n, e = mean_graph_size(ds.split("val"))
    cost = cost_of_model(result.model, model_recipe(result.model), n_nodes=n, n_edges=e)
    write_json(ctx.quant_dir.parent / "quantize-cost.json", cost)
    return {
        "outputs": [ctx.quant_dir / "model.pt", ctx.quant_dir.parent / "quantize-cost.json"],
        "recipe": recipe.name,
        "target": target.describe(),
        "prune": result.summary(),
        "sparsity": cost["sparsity"],
        "bops_ratio_vs_16bit_dense": cost["bops_ratio_vs_16bit_dense"],
    }


def _qonnx(ctx: DemoContext) -> dict[str, Any]:
    export_qonnx(load_quant_model(ctx.quant_dir), ctx.capacity(), ctx.qonnx)
    return {"outputs": [ctx.qonnx], "capacity": ctx.capacity().model_dump()}


def _hls(ctx: DemoContext) -> dict[str, Any]:
    graphs = _fitting_graphs(
        load_dataset(ctx.dataset).iter_split("test"),
        ctx.capacity(),
        ctx.cfg.golden_graphs,
        ctx.cfg.window_overlap,
    )
    golden = golden_from_graphs(ctx.qonnx, graphs)
    t0 = time.perf_counter()
    with atomic_path(ctx.hls_dir, suffix="", kind="hls-project") as tmp:
        hls_model = build_hls(ctx.qonnx, ctx.hls_config(), tmp, golden=golden)
        seconds = time.perf_counter() - t0
        mismatches = check_csim(hls_model, golden)
        if mismatches:
            raise ConfigError(
                f"{ctx.hls_dir}: C simulation differs from QONNX on {mismatches} golden outputs"
            )
    # the compiled C simulation stays loaded after the folder's rename: compare reuses it
    hls_model.config.config["OutputDir"] = str(ctx.hls_dir)
    ctx.cache["hls_model"] = hls_model
    tool = hls_tool()
    return {
        "outputs": [ctx.hls_dir / "hls_build.yaml"],
        "golden_graphs": len(golden["inputs"]),
        "csim_mismatches": mismatches,
        "build_seconds": seconds,
        "synthesis": f"ran with {tool}" if tool else "skipped: no vitis_hls/vivado_hls on PATH",
    }


def _fitting_graphs(graphs, capacity, n: int, overlap: int) -> list[tuple]:
    """``n`` golden graphs: events that fit the capacity, or the eta windows of those that don't."""
    out: list[tuple] = []
    for g in graphs:
        x, ei, ea = g.x.numpy(), g.edge_index.numpy(), g.edge_attr.numpy()
        order = np.argsort(g.node_eta.numpy(), kind="stable")
        parts, _ = split_to_fit(x, ei, ea, capacity, order, overlap=overlap)
        out.extend(p.arrays for p in parts)
        if len(out) >= n:
            break
    return out[:n]


def _compare(ctx: DemoContext) -> dict[str, Any]:
    out = ctx.out / "compare"
    hls_model = ctx.cache.get("hls_model")
    reused = hls_model is not None
    if not reused:  # the hls stage ran in an earlier process: rebuild the project from its files
        hls_model = load_hls_project(ctx.hls_dir)
    res = compare_models(
        ctx.torchscript,
        load_quant_model(ctx.quant_dir),
        ctx.qonnx,
        hls_model,
        ctx.dataset,
        "test",
        out,
        max_events=ctx.cfg.compare_events,
        window_overlap=ctx.cfg.window_overlap,
    )
    keys = (
        "n_events",
        "n_edges",
        "float_device",
        "bit_exact",
        "bit_mismatches",
        "score_difference_fpga_vs_float",
        "windowing",
    )
    summary = _pick(res, keys)
    summary["score_difference_fpga_vs_float"].pop("histogram", None)
    summary["decision_flip_fraction"] = {
        k: v["flip_fraction"] for k, v in res.get("decisions", {}).items() if "flip_fraction" in v
    }
    summary["decision_agreement"] = {
        k: {"agreement": v["agreement"], "interval": v["agreement_interval"], **res["interval"]}
        for k, v in res.get("decisions", {}).items()
        if "agreement" in v
    }
    summary["event_efficiency"] = {
        name: {k: ev[k] for k in ("float", "fpga", "efficiency_difference")}
        for name, ev in res.get("events", {}).items()
    }
    return {
        "outputs": [out / "compare.md", out / "compare.json"],
        "summary": summary,
        "hls_project": "compiled by the hls stage of this run" if reused else "rebuilt from files",
    }


def _pick(d: dict, keys) -> dict:
    return {k: d[k] for k in keys if k in d}


STAGES: tuple[Stage, ...] = (
    Stage("generate", "synthetic TICLDumper ntuple", _generate),
    Stage("graphs", "graphs, splits and scalers", _graphs),
    Stage("train", "float GNN training (Lightning, focal loss)", _train),
    Stage("evaluate", "physics evaluation vs the geometric baseline", _evaluate),
    Stage("export", "TorchScript and ONNX for CMSSW", _export),
    Stage("quantize", "Brevitas QAT and magnitude pruning to the target", _quantize),
    Stage("qonnx", "QONNX export at fixed capacity", _qonnx),
    Stage("hls", "hls4ml project, C simulation against golden vectors", _hls),
    Stage("compare", "FPGA vs float comparison", _compare),
)


# ----------------------------------------------------------------------------- driver


def _marker(out: Path, name: str) -> Path:
    return out / "stages" / f"{name}.json"


def _done(out: Path, name: str) -> dict[str, Any] | None:
    path = _marker(out, name)
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            path, f"corrupt stage marker ({type(exc).__name__}); delete it to redo the stage"
        ) from None
    outputs = info.get("outputs", []) if isinstance(info, dict) else None
    if not isinstance(outputs, list) or not isinstance(info.get("seconds"), int | float):
        raise InputError(path, "corrupt stage marker; delete it to redo the stage")
    if all((out / p).exists() for p in outputs):
        return info
    return None


def run_demo(
    cfg: DemoConfig,
    out: str | Path,
    *,
    restart: bool = False,
    stages: tuple[Stage, ...] = STAGES,
    force: bool = False,
) -> dict[str, Any]:
    """Run (or resume) the main job in ``out``; returns every stage's record.

    ``out`` must be empty, new, or an earlier demo run folder (``force`` to use another folder);
    one process at a time writes it (a lock file).
    """
    out = check_output(out, kind="demo-run", force=force, folder=True)
    with dir_lock(out):
        mark_folder(out, "demo-run", refresh=False)
        records = _run_demo(cfg, out, restart=restart, stages=stages)
        mark_folder(out, "demo-run")
        return records


def _run_demo(
    cfg: DemoConfig, out: Path, *, restart: bool, stages: tuple[Stage, ...]
) -> dict[str, Any]:

    cfg_path = out / "demo.yaml"
    if restart and (out / "stages").exists():
        shutil.rmtree(out / "stages")
    if cfg_path.exists() and not restart:
        doc = read_yaml(cfg_path, "demo settings file")
        saved = doc.get("config") if isinstance(doc, dict) else None
        if not isinstance(saved, dict):
            raise InputError(cfg_path, "corrupt (no 'config' mapping); use --restart")
        if saved != cfg.model_dump(mode="json"):
            raise ConfigError(
                f"{cfg_path}: this run folder was made with other settings; use another --out, "
                "or --restart to redo every stage"
            )
    cfg.save(cfg_path)
    records: dict[str, Any] = {}
    cache: dict[str, Any] = {}  # shared by the stages of this process
    for i, stage in enumerate(stages, 1):
        prefix = f"[{i}/{len(stages)}] {stage.name}"
        info = _done(out, stage.name)
        if info is not None:
            log.info("%s: done earlier (%.0f s), skipped", prefix, info["seconds"])
            records[stage.name] = info
            continue
        log.info("%s: %s ...", prefix, stage.title)
        t0 = time.perf_counter()
        info = stage.run(DemoContext(cfg, out, cache))
        info["seconds"] = time.perf_counter() - t0
        info["outputs"] = [str(Path(p).relative_to(out)) for p in info.get("outputs", [])]
        write_json(_marker(out, stage.name), info)
        records[stage.name] = info
        log.info("%s: done in %.0f s", prefix, info["seconds"])
    write_text(out / "index.md", index_page(cfg, out, records))
    return records


def index_page(cfg: DemoConfig, out: Path, records: dict[str, Any]) -> str:
    """Markdown index linking every artefact and plot of the run folder."""
    total = sum(r.get("seconds", 0) for r in records.values())
    target = f"`{cfg.prune_target}`" if cfg.prune_target else "the recipe's own"
    lines = [
        "# ticl-fpga demo run",
        "",
        f"Settings: `demo.yaml` ({cfg.events} synthetic events, PU {cfg.pileup}, recipe {cfg.recipe}, "
        f"target {target}); code {provenance()['git']}; stages took {total:.0f} s in all.",
        "",
        markdown_table(
            [
                [stage.name, stage.title, None, "not run"]
                if (r := records.get(stage.name)) is None
                else [
                    stage.name,
                    stage.title,
                    r["seconds"],
                    ", ".join(f"[`{p}`]({p})" for p in r.get("outputs", [])),
                ]
                for stage in STAGES
            ],
            ["stage", "what", "time (s)", "artefacts"],
            floatfmt=".0f",
        ),
        "",
        "## Results",
        "",
    ]
    if "graphs" in records:
        lines += ["Dataset:", "", "```", format_summary(records["graphs"]["summary"]), "```", ""]
    if "evaluate" in records:
        r = records["evaluate"]
        verdict = "beats" if r.get("gnn_beats_baseline") else "does not beat"
        lines += [
            f"The GNN {verdict} the geometric baseline: see [evaluate/report.md](evaluate/report.md).",
            "",
        ]
        lines += [f"![{Path(p).name}]({p})" for p in r.get("plots", [])] + [""]
    if "quantize" in records:
        r = records["quantize"]
        lines += [
            f"Quantized model ({r['recipe']}, target {r['target']}): sparsity {r['sparsity']:.2f}, "
            f"BOPs {r['bops_ratio_vs_16bit_dense']:.1f}x below the 16-bit dense model.",
            "",
        ]
    if "hls" in records:
        r = records["hls"]
        lines += [
            f"hls4ml C simulation equals QONNX on all {r['golden_graphs']} golden graphs "
            f"({r['csim_mismatches']} mismatches); built in {r['build_seconds']:.0f} s; synthesis {r['synthesis']}.",
            "",
        ]
    if "compare" in records:
        lines += [
            "FPGA vs float: see [compare/compare.md](compare/compare.md).",
            "",
            "```json",
            json.dumps(records["compare"].get("summary", {}), indent=2, default=str)[:4000],
            "```",
            "",
        ]
    return "\n".join(lines)
