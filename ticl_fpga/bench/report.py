"""Write the benchmark results: ``results.json``, ``results.md`` and the README table.

:mod:`ticl_fpga.bench.run` runs the stages; this module only turns their dicts into text.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from ticl_fpga.bench import STAGES
from ticl_fpga.bench import bias as bias_report
from ticl_fpga.bench import firmware as fw_report
from ticl_fpga.bench.inference import format_table
from ticl_fpga.compare.benchmark import markdown_section, summary_rows
from ticl_fpga.io import write_text
from ticl_fpga.tables import markdown_table

log = logging.getLogger(__name__)

README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
#: the first line of ``results.md`` (how ``bench`` recognises its own output)
MD_TITLE = "# ticl-fpga benchmarks"


def _g(d: dict, *keys, fmt: str = "{:.3g}") -> str:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return "–"
        d = d[k]
    if d is None:
        return "–"
    return fmt.format(d) if isinstance(d, int | float) else str(d)


def summary_table(res: dict[str, Any]) -> str:
    """The headline numbers, one row per measurement (this goes into the README)."""
    rows: list[tuple[str, str, str]] = []
    if "data" in res:
        d = res["data"]
        rows += [
            (f"ntuple reading, PU {d['pileup']} (events/s)", _g(d, "read_events_per_s"), ""),
            ("graph building, 1 process (events/s)", _g(d, "build_events_per_s_1workers"), ""),
            (
                "graph building, 2 processes (events/s)",
                _g(d, "build_events_per_s_2workers"),
                "uses both cores",
            ),
            (
                "graph building peak memory, parent RSS / one worker's own (USS) / total, "
                "2 processes (MB)",
                f"{_g(d, 'peak_rss_parent_mb_2workers', fmt='{:.0f}')} / "
                f"{_g(d, 'peak_uss_worker_mb_2workers', fmt='{:.0f}')} / "
                f"{_g(d, 'peak_total_mb_2workers', fmt='{:.0f}')}",
                "bounded",
            ),
        ]
    if "training" in res:
        rows.append(
            (
                f"training, {res['training']['config']} config (graphs/s per epoch)",
                _g(res, "training", "graphs_per_s"),
                "",
            )
        )
    if "inference" in res:
        for size, r in res["inference"]["cpu_results"].items():
            rows.append(
                (
                    f"float inference {size}, eager / TorchScript / PyG (events/s)",
                    f"{r['eager']['events_per_s']:.0f} / {r['torchscript']['events_per_s']:.0f} / "
                    f"{r['pyg_reference']['events_per_s']:.0f}",
                    "",
                )
            )
            rows.append(
                (
                    f"float inference {size}, TorchScript / PyG ratio",
                    f"{r['torchscript_over_pyg']:.2f}",
                    "",
                )
            )
        for size, r in res["inference"].get("gpu_results", {}).items():
            rows.append(
                (
                    f"GPU latency {size}, TorchScript (ms)",
                    f"{r['torchscript']['median_ms']:.3f}",
                    "",
                )
            )
    if "quantized" in res:
        q = res["quantized"]
        rows += [
            ("6-bit AUC / float AUC", f"{q['auc_quant']:.4f} / {q['auc_float']:.4f}", "within 1 %"),
            (
                "6-bit event efficiency / float",
                f"{q['event_efficiency_quant']:.4f} / {q['event_efficiency_float']:.4f}",
                "within 1 %",
            ),
            ("sparsity at the pruning target", f"{q['sparsity']:.2f}", ">= 0.80"),
            (
                "BOPs below 16-bit dense (literature's number)",
                f"{q['bops_ratio_vs_16bit_dense']:.1f}x",
                "20x retired: see firmware LUTs",
            ),
            ("non-zero weights", str(q["nonzero_weights"]), ""),
        ]
    if "bias" in res:
        rows += bias_report.summary_rows(res["bias"])
    if "compiler" in res:
        c = res["compiler"]
        rows += [
            (
                "QONNX export + hls4ml conversion + C-sim compile (s)",
                _g(c, "conversion_plus_compile_s", fmt="{:.1f}"),
                "< 180",
            ),
            ("C simulation (graphs/s)", _g(c, "csim_graphs_per_s", fmt="{:.1f}"), ""),
        ]
    if "agreement" in res:
        rows += summary_rows(res["agreement"])
    if "firmware" in res:
        rows += fw_report.summary_rows(res["firmware"])
    return markdown_table(rows, ("measurement", "value", "target"))


def stage_code(res: dict[str, Any]) -> dict[str, str]:
    """The code (git hash) each stage in ``res`` was measured with.

    Partial runs record theirs in ``stage_code``; results written before that kept only the last
    partial run's stages (``updated``, ``provenance_of_update``).
    """
    code = {s: res["provenance"]["git"] for s in STAGES if s in res}
    if "updated" in res and "provenance_of_update" in res:
        code.update({s: res["provenance_of_update"]["git"] for s in res["updated"]})
    code.update(res.get("stage_code", {}))
    return code


def markdown(res: dict[str, Any]) -> str:
    parts = [
        MD_TITLE,
        "",
        f"Written by `ticl-fpga bench` ({'quick' if res['quick'] else 'full'} run, "
        f"{res['total_seconds']:.0f} s) on {res['machine']['cpu']} with {res['machine']['threads']} torch threads; "
        f"code {res['provenance']['git']}.  Raw numbers: `results.json`.",
        "",
        summary_table(res),
    ]
    code = stage_code(res)
    later = {s: c for s, c in code.items() if c != res["provenance"]["git"]}
    if later:
        by_code: dict[str, list[str]] = {}
        for s, c in later.items():
            by_code.setdefault(c, []).append(s)
        parts[3:3] = [
            "Stages re-measured later (partial runs): "
            + "; ".join(f"{', '.join(ss)} with code {c}" for c, ss in by_code.items())
            + ".",
            "",
        ]
    if "inference" in res:
        parts += ["", "## Float inference", "", format_table(res["inference"])]
    if "bias" in res:
        parts += ["", *bias_report.markdown_section(res["bias"])]
    if "agreement" in res:
        parts += ["", *markdown_section(res["agreement"])]
    if "firmware" in res:
        parts += ["", fw_report.markdown(res["firmware"])]
    if "quantized" in res:
        q = res["quantized"]
        parts += [
            "",
            "## Quantized model",
            "",
            f"Recipe {q['recipe']}; passed: {q['passed']}.",
            "BOPs follow Hawks et al. 2021: per layer m n ((1 - f_p) b_a b_w + b_a + b_w + log2 n).",
            "The additive b_a + b_w + log2 n term is not removed by pruning, which bounds the ratio "
            "to 16-bit dense for 6-bit models (about 14x at 95 % sparsity).",
            "",
            "FPGA estimate: " + str(q.get("fpga")),
        ]
    return "\n".join(parts) + "\n"


def update_readme(readme: str | Path, table: str) -> None:
    readme = Path(readme)
    text = readme.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        log.warning("%s has no benchmark markers; README not updated", readme)
        return
    write_text(readme, pattern.sub(f"{README_START}\n{table}\n{README_END}", text))
