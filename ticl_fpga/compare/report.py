"""Write the FPGA-vs-float comparison: JSON summary, markdown page and PNG plots, atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ticl_fpga.io import atomic_path, write_json, write_text

PLOTS = {
    "score_difference.png": "FPGA - float score (histogram)",
    "scores_fpga_vs_float.png": "FPGA vs float scores",
    "flips_vs_energy.png": "decision flips vs edge energy (binomial error bars)",
    "flips_vs_eta.png": "decision flips vs |eta| (binomial error bars)",
}


def _pct(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{100 * x:.2f} %"


def agreement_line(s: dict[str, Any]) -> str:
    """One sentence: working-point agreement, its interval, and what it was measured on."""
    wp = s["decisions"]["working_point"]
    iv = s.get("interval", {"method": "clopper-pearson", "confidence": 0.95})
    lo, hi = wp["agreement_interval"]
    n_split = s.get("n_events_split", s["n_events"])
    scope = (
        f"all {s['n_events']} events of the `{s['split']}` split"
        if s["n_events"] == n_split
        else f"the first {s['n_events']} of {n_split} events of the `{s['split']}` split"
    )
    return (
        f"FPGA and float decide alike at the working point on **{_pct(wp['agreement'])}** of "
        f"edges ({100 * iv['confidence']:g} % CL {iv['method']} interval "
        f"[{_pct(lo)}, {_pct(hi)}]; {wp['n_flips']} of {s['n_edges']} edges differ) over {scope}."
    )


def _f(x: Any, digits: int = 4) -> str:
    if isinstance(x, float):
        return "nan" if not np.isfinite(x) else f"{x:.{digits}g}"
    return str(x)


def format_markdown(s: dict[str, Any]) -> str:
    """The markdown page of a comparison summary."""
    d = s["score_difference_fpga_vs_float"]
    q = s["score_difference_quant_vs_float"]
    lines = [
        "# FPGA (hls4ml C simulation) vs float (TorchScript)",
        "",
        f"{s['n_events']} events, {s['n_edges']} candidate edges from `{s['split']}`; "
        f"float model on `{s['float_device']}`; capacity n_max={s['capacity']['n_max']}, "
        f"e_max={s['capacity']['e_max']}.",
        "",
        agreement_line(s),
        "",
        "## Bit accuracy (Brevitas == QONNX == C simulation)",
        "",
        "| pair | mismatching edges |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in s["bit_mismatches"].items()],
        "",
        f"**{'bit exact' if s['bit_exact'] else 'NOT BIT EXACT'}** on "
        f"{s.get('bit_checked_windows', s['windowing']['n_windows'])} of "
        f"{s['windowing']['n_windows']} windows.",
        "",
        "## Score differences",
        "",
        "| | max abs | RMS | mean |",
        "|---|---|---|---|",
        f"| FPGA - float | {_f(d['max_abs'])} | {_f(d['rms'])} | {_f(d['mean'])} |",
        f"| quantized (whole events) - float | {_f(q['max_abs'])} | {_f(q['rms'])} | "
        f"{_f(q['mean'])} |",
        "",
        f"Windowing: {s['windowing']['n_windowed_events']} events split into windows, "
        f"{s['windowing']['lost_edges']} edges lost ({_f(100 * s['windowing']['lost_fraction'])}%,"
        " counted as rejected by the FPGA).",
        "",
        "## Accept/reject decisions",
        "",
        "| rule | agreement | interval | flip fraction | flips | flips on true edges | "
        "accepted float | accepted FPGA |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {k} | {_f(v['agreement'], 5)} | [{_f(v['agreement_interval'][0], 5)}, "
            f"{_f(v['agreement_interval'][1], 5)}] | {_f(v['flip_fraction'])} | {v['n_flips']} | "
            f"{v['flips_on_true_edges']} | {v['accepted_float']} | {v['accepted_fpga']} |"
            for k, v in s["decisions"].items()
        ],
        "",
        "Lost edges (no window) count as rejected by the FPGA; intervals are "
        f"{_f(100 * s.get('interval', {}).get('confidence', 0.95))} % CL "
        f"{s.get('interval', {}).get('method', 'clopper-pearson')}.",
        "",
        "## Event level (merge efficiency)",
        "",
        "| rule | efficiency float | efficiency FPGA | difference | purity float | purity FPGA |",
        "|---|---|---|---|---|---|",
        *[
            f"| {k} | {_f(v['float']['efficiency'])} | {_f(v['fpga']['efficiency'])} | "
            f"{_f(v['efficiency_difference'])} | {_f(v['float']['purity'])} | "
            f"{_f(v['fpga']['purity'])} |"
            for k, v in s["events"].items()
        ],
        "",
        "## Where the differences sit",
        "",
    ]
    lines += _binned_table(s, "energy bin (GeV)", "energy")
    lines += [""] + _binned_table(s, "abs(eta) bin", "eta")
    lines += ["", "## Plots", ""] + [f"![{t}]({p})" for p, t in PLOTS.items()] + [""]
    return "\n".join(lines)


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4.2), layout="tight")
    FigureCanvasAgg(fig)
    return fig


def write_plots(out: Path, s: dict[str, Any], fpga_score, float_score) -> None:
    h = s["score_difference_fpga_vs_float"]["histogram"]
    fig = _figure()
    ax = fig.add_subplot()
    ax.stairs(h["counts"], h["edges"], fill=True)
    ax.set_yscale("symlog")
    ax.set_xlabel("FPGA score - float score (clipped)")
    ax.set_ylabel("edges")
    fig.savefig(out / "score_difference.png", dpi=100)

    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(float_score, fpga_score, ".", ms=2, alpha=0.5)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("float score")
    ax.set_ylabel("FPGA score")
    fig.savefig(out / "scores_fpga_vs_float.png", dpi=100)

    for key, fname, xlabel in (
        ("flip_vs_energy", "flips_vs_energy.png", "max trackster energy of the edge (GeV)"),
        ("flip_vs_eta", "flips_vs_eta.png", "mean |eta| of the edge"),
    ):
        fig = _figure()
        ax = fig.add_subplot()
        for i, (rule, d) in enumerate(s["decisions"].items()):
            b = d[key]
            edges = np.asarray(b["edges"], dtype=np.float64)
            centers = 0.5 * (edges[:-1] + np.minimum(edges[1:], edges[:-1] * 10 + 1))
            mean = np.asarray(b["mean"], dtype=np.float64)
            if "lower" in b:
                lo = np.asarray(b["lower"], dtype=np.float64)
                hi = np.asarray(b["upper"], dtype=np.float64)
                yerr = np.vstack([np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)])
            else:
                yerr = None
            ok = np.isfinite(mean)
            # a small offset per rule so overlapping error bars stay readable
            shift = 1.0 + 0.03 * i if key == "flip_vs_energy" else 0.0
            x = centers * shift if key == "flip_vs_energy" else centers + 0.01 * i
            ax.errorbar(
                x[ok],
                mean[ok],
                yerr=None if yerr is None else yerr[:, ok],
                fmt="o-",
                capsize=3,
                label=rule,
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction of edges with a different decision")
        if key == "flip_vs_energy":
            ax.set_xscale("symlog")
        ax.legend()
        fig.savefig(out / fname, dpi=100)


def write_report(summary: dict[str, Any], out_dir: str | Path, *, fpga_score, float_score) -> Path:
    """``compare.json``, ``compare.md`` and plots into ``out_dir``, replaced as a whole."""
    out_dir = Path(out_dir)
    with atomic_path(out_dir, suffix="", kind="compare") as tmp:
        tmp.mkdir(parents=True)
        write_json(tmp / "compare.json", summary)
        write_text(tmp / "compare.md", format_markdown(summary))
        write_plots(tmp, summary, np.asarray(fpga_score), np.asarray(float_score))
    return out_dir


def _binned_table(s: dict[str, Any], label: str, axis: str) -> list[str]:
    """Mean |score difference| and working-point flip fraction per ``energy`` or ``eta`` bin."""
    e = s[f"abs_score_difference_vs_{axis}"]
    fl = s["decisions"]["working_point"][f"flip_vs_{axis}"]
    rows = [
        f"| {label} | edges | mean abs score diff | WP flip fraction | interval |",
        "|---|---|---|---|---|",
    ]
    for i in range(len(e["count"])):
        iv = (
            f"[{_f(fl['lower'][i])}, {_f(fl['upper'][i])}]"
            if "lower" in fl and fl["count"][i]
            else "-"
        )
        rows.append(
            f"| {_f(e['edges'][i])}-{_f(e['edges'][i + 1])} | {fl['count'][i]} | "
            f"{_f(e['mean'][i])} | {_f(fl['mean'][i])} | {iv} |"
        )
    return rows
