"""Run the benchmark stages and write their results (``ticl-fpga bench``).

Each stage is one function in its own module returning a dict; :mod:`ticl_fpga.bench.report`
writes the JSON, the markdown and the README table.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from pathlib import Path
from typing import Any

import torch

from ticl_fpga.bench import STAGES
from ticl_fpga.bench.bias import bias_benchmark
from ticl_fpga.bench.compiler import compiler_benchmark
from ticl_fpga.bench.data import data_benchmark
from ticl_fpga.bench.firmware import RECIPE as FIRMWARE_RECIPE
from ticl_fpga.bench.firmware import env_budgets, firmware_benchmark
from ticl_fpga.bench.inference import run_inference_benchmark
from ticl_fpga.bench.report import (
    MD_TITLE,
    README_END,
    README_START,
    markdown,
    stage_code,
    summary_table,
    update_readme,
)
from ticl_fpga.bench.training import training_benchmark
from ticl_fpga.compare.benchmark import agreement_benchmark
from ticl_fpga.config import provenance
from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.data.synthetic import tiny_dataset
from ticl_fpga.errors import InputError, OutputError
from ticl_fpga.io import check_output, write_json, write_text
from ticl_fpga.quantize.benchmark import quantization_benchmark
from ticl_fpga.quantize.prune import PruneConfig
from ticl_fpga.quantize.qat import QATConfig
from ticl_fpga.train.config import load_train_config
from ticl_fpga.train.fit import fit

log = logging.getLogger(__name__)


def run_benchmarks(
    out_dir: str | Path,
    *,
    quick: bool = False,
    work: str | Path | None = None,
    stages: tuple[str, ...] = STAGES,
    readme: str | Path | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Run the benchmark stages; write JSON + markdown into ``out_dir`` (and the README table).

    Before any work, refuses (:class:`~ticl_fpga.errors.OutputError`) an ``out_dir`` whose
    ``results.json`` / ``results.md`` were not written by this command (unless ``force``), and a
    ``readme`` that does not exist or has no benchmark markers, and firmware time budgets in the
    environment that are not numbers of seconds (:func:`~ticl_fpga.bench.firmware.env_budgets`).
    """
    out_dir = Path(out_dir)
    check_bench_output(out_dir, force=force)
    if readme is not None:
        check_readme(readme)
    if "firmware" in stages:
        env_budgets()
    work = Path(work) if work else out_dir / ".work"
    work.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {
        "quick": quick,
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "provenance": provenance(),
    }
    t_all = time.perf_counter()
    n_train_events = 200 if quick else 2000
    ds = None
    if {"training", "quantized", "agreement"} & set(stages):
        ds = tiny_dataset(work, n_events=n_train_events, pileup=0, seed=11)
    if "data" in stages:
        res["data"] = data_benchmark(work, n_events=200 if quick else 10_000, pileup=200)
    if "training" in stages:
        res["training"] = training_benchmark(ds, work, config="default", epochs=2)
    if "inference" in stages:
        res["inference"] = run_inference_benchmark(seconds=0.5 if quick else 3.0)
    if "quantized" in stages:
        res["quantized"] = _quantized(ds, work, quick)
    if "bias" in stages:
        kw = (
            {"n_events": 60, "float_epochs": 2, "qat_epochs": 1, "recipes": ("w6a6",), "n_seeds": 2}
            if quick
            else {}
        )
        res["bias"] = bias_benchmark(work / "bias", **kw)
    if "compiler" in stages:
        res["compiler"] = compiler_benchmark(work, n_graphs=20 if quick else 100)
    if "agreement" in stages:
        res["agreement"] = _agreement(ds, work, quick)
    if "firmware" in stages:
        # Yosys on the default design (minutes, cached by unit under work/firmware/synth_cache)
        kw = (
            {"capacities": ((28, 56),), "parallelism": (1,), "default": (28, 56, 1)}
            if quick
            else {}
        )
        res["firmware"] = firmware_benchmark(
            work / "firmware",
            rtl_result=res.get("rtl"),
            other_sparsities=_recipe_target_sparsities(res, out_dir / "results.json"),
            **kw,
        )
    res["total_seconds"] = time.perf_counter() - t_all
    previous = out_dir / "results.json"
    if set(stages) != set(STAGES) and previous.exists():
        # a partial run updates its stages and keeps the others' numbers (with their provenance)
        old = json.loads(previous.read_text())
        code = stage_code(old)
        code.update({s: res["provenance"]["git"] for s in stages})
        res = {
            **{k: v for k, v in old.items() if k not in ("updated", "provenance_of_update")},
            **{k: v for k, v in res.items() if k in stages},
            "stage_code": code,
        }
        res["total_seconds"] = old.get("total_seconds", 0)
    write_json(out_dir / "results.json", res)
    md = markdown(res)
    write_text(out_dir / "results.md", md)
    if readme is not None:
        update_readme(readme, summary_table(res))
    return res


def _recipe_target_sparsities(res: dict[str, Any], previous: Path) -> tuple[tuple[str, float], ...]:
    """(recipe, sparsity) where the agreement stage's distilled models stopped (this run's, else
    the last results'), so the firmware stage can say what the default recipe's target set costs
    (an estimate when that recipe is not the one the firmware stage synthesises)."""
    agreement = res.get("agreement")
    if agreement is None and previous.exists():
        try:
            agreement = json.loads(previous.read_text()).get("agreement")
        except (OSError, ValueError):
            agreement = None
    recipe = (agreement or {}).get("recipe", FIRMWARE_RECIPE)
    rows = (agreement or {}).get("rows", [])
    sparsities = {float(r["sparsity"]) for r in rows if r.get("distill_weight", 0) > 0}
    return tuple((recipe, sp) for sp in sorted(sparsities))


def check_bench_output(out_dir: Path, *, force: bool = False) -> None:
    """Refuse to overwrite ``results.json`` / ``results.md`` that ``ticl-fpga bench`` did not write."""
    # only bench's two files are replaced, so other files in OUT are fine: force=True leaves the
    # checks that hold even with --force (OUT is a file, an unwritable parent)
    check_output(out_dir, folder=True, force=True)
    if force:
        return
    js, md = out_dir / "results.json", out_dir / "results.md"
    if js.exists():
        try:
            doc = json.loads(js.read_text())
            ours = isinstance(doc, dict) and {"machine", "provenance"} <= set(doc)
        except (OSError, ValueError):
            ours = False
        if not ours:
            raise OutputError(
                js, "was not written by `ticl-fpga bench`; refusing to replace it (--force)"
            )
    if md.exists() and not md.read_text(errors="replace").startswith(MD_TITLE):
        raise OutputError(
            md, "was not written by `ticl-fpga bench`; refusing to replace it (--force)"
        )


def check_readme(readme: str | Path) -> None:
    """The README whose table is updated must exist and hold the benchmark markers."""
    readme = Path(readme)
    try:
        text = readme.read_text()
    except OSError as exc:
        raise InputError(readme, f"cannot read the README ({exc.strerror or exc})") from None
    if README_START not in text or README_END not in text:
        raise InputError(
            readme, f"has no benchmark markers ({README_START} ... {README_END}) to update"
        )


def _quantized(ds, work: Path, quick: bool) -> dict[str, Any]:
    cfg = load_train_config("quick" if quick else "default")
    cfg.progress_bar = False
    run = fit(ds, cfg, work / ("bench_float_quick" if quick else "bench_float"))
    d = load_dataset(ds)
    return quantization_benchmark(
        run,
        d.split("train"),
        d.split("val"),
        d.split("test"),
        recipe="w6a6",
        qat=QATConfig(epochs=2 if quick else 4),
        prune=PruneConfig(finetune_epochs=1 if quick else 2) if quick else None,
        out_dir=work / "bench_quant",
    )


def _agreement(ds, work: Path, quick: bool) -> dict[str, Any]:
    """FPGA vs float decisions, default recipe with and without distillation (issue 16)."""
    cfg = load_train_config("quick" if quick else "default")
    cfg.progress_bar = False
    run = fit(ds, cfg, work / ("bench_float_quick" if quick else "bench_float"))
    return agreement_benchmark(
        run,
        ds,
        work / "bench_agreement",
        qat_epochs=1 if quick else 6,
        finetune_epochs=1 if quick else 2,
        schedule=(0.5, 0.8) if quick else None,
    )
