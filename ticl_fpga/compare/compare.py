"""Run the float model, Brevitas, QONNX and the hls4ml C simulation on the same events and compare.

The FPGA path is the C simulation on graphs padded to the model's capacity (larger events are
split into windows of consecutive nodes by eta, as on the hardware; edges in no window are
*lost* and count as rejected).  Brevitas and QONNX run on exactly the same padded windows and must
agree with the C simulation bit for bit; the float model runs on whole events.

Decision agreement (the fraction of edges that the FPGA and the float model accept or reject
alike, lost edges counting as rejected by the FPGA) is reported with a binomial confidence
interval (Clopper-Pearson by default, or Wilson) on the stated number of events and edges, by
default every event of the split; so are the flip fractions per energy and |eta| bin.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.special import expit
from tqdm import tqdm

from ticl_fpga.errors import ConfigError, InputError, TiclFpgaError

log = logging.getLogger(__name__)

HIST_RANGE = (-1.0, 1.0)
HIST_BINS = 80
#: Confidence level of the binomial intervals (two-sided).
CONFIDENCE = 0.95
INTERVALS = ("clopper-pearson", "wilson")


def binomial_interval(
    k: int, n: int, *, confidence: float = CONFIDENCE, method: str = "clopper-pearson"
) -> tuple[float, float]:
    """Two-sided interval on a binomial fraction ``k / n``: Clopper-Pearson (exact) or Wilson.

    ``n = 0`` gives ``(0, 1)``.  Clopper-Pearson uses the beta quantiles
    ``B(a/2; k, n-k+1)`` and ``B(1-a/2; k+1, n-k)`` (0 and 1 at the boundaries); Wilson is the
    score interval ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``.
    """
    from scipy.stats import beta, norm

    k, n = int(k), int(n)
    if not 0 <= k <= n:
        raise ValueError(f"binomial interval needs 0 <= k <= n, got k={k}, n={n}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n == 0:
        return 0.0, 1.0
    alpha = 1.0 - confidence
    if method == "clopper-pearson":
        lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
        hi = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
        return lo, hi
    if method == "wilson":
        z = float(norm.ppf(1 - alpha / 2))
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        return max(0.0, float(centre - half)), min(1.0, float(centre + half))
    raise ValueError(f"unknown interval method {method!r}; known: {', '.join(INTERVALS)}")


def binned_fraction(
    x: np.ndarray,
    flags: np.ndarray,
    bins,
    *,
    confidence: float = CONFIDENCE,
    method: str = "clopper-pearson",
) -> dict[str, list]:
    """Fraction of ``flags`` per bin of ``x`` with its binomial interval (``lower``/``upper``).

    Keys: ``edges``, ``count`` (n), ``k`` (flags set), ``mean`` (k/n, NaN when empty),
    ``lower``, ``upper``.
    """
    x, flags = np.asarray(x, dtype=np.float64), np.asarray(flags, dtype=bool)
    idx = np.digitize(x, bins) - 1
    count, ks, mean, lower, upper = [], [], [], [], []
    for b in range(len(bins) - 1):
        sel = idx == b
        n, k = int(sel.sum()), int(flags[sel].sum())
        lo, hi = binomial_interval(k, n, confidence=confidence, method=method)
        count.append(n)
        ks.append(k)
        mean.append(k / n if n else float("nan"))
        lower.append(lo if n else float("nan"))
        upper.append(hi if n else float("nan"))
    return {
        "edges": [float(b) for b in bins],
        "count": count,
        "k": ks,
        "mean": mean,
        "lower": lower,
        "upper": upper,
    }


def agreement_summary(
    d_float: np.ndarray,
    d_fpga: np.ndarray,
    *,
    confidence: float = CONFIDENCE,
    method: str = "clopper-pearson",
) -> dict[str, Any]:
    """Decision agreement of two boolean arrays with its binomial interval."""
    d_float, d_fpga = np.asarray(d_float, dtype=bool), np.asarray(d_fpga, dtype=bool)
    n = int(d_float.size)
    k = int((d_float == d_fpga).sum())
    lo, hi = binomial_interval(k, n, confidence=confidence, method=method)
    return {
        "agreement": k / n if n else float("nan"),
        "n_agree": k,
        "n_edges": n,
        "interval": [lo, hi],
        "confidence": confidence,
        "method": method,
    }


class BitMismatchError(TiclFpgaError):
    """Brevitas, QONNX and the C simulation disagree on some edges (they must be bit-exact)."""


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def float_scores(model_or_path, graphs, *, device: str | None = None) -> tuple[list, str]:
    """Sigmoid scores of the float model (TorchScript path or ``nn.Module``) per graph."""
    from ticl_fpga.export.torchscript import load_torchscript

    device = device or _device()
    if isinstance(model_or_path, str | Path):
        model = load_torchscript(model_or_path, device=device)
        is_scores = True
    else:
        model = model_or_path.to(device).eval()
        is_scores = False
    out = []
    with torch.no_grad():
        for g in graphs:
            y = model(g.x.to(device), g.edge_index.to(device), g.edge_attr.to(device))
            y = y if is_scores else torch.sigmoid(y)
            out.append(y.double().cpu().numpy().reshape(-1))
    if not isinstance(model_or_path, str | Path):
        model.cpu()
    return out, device


def _jobs(graphs, quant_model, capacity, overlap: int = 0):
    """(graph index, edge ids, padded window) for every graph, windowed like ``hls_predict``."""
    from ticl_fpga.compile.capacity import split_to_fit
    from ticl_fpga.compile.to_qonnx import quantize_inputs

    jobs, lost = [], []
    for gi, g in enumerate(graphs):
        x, ei, ea = g.x.numpy(), g.edge_index.numpy(), g.edge_attr.numpy()
        xq, eq = quantize_inputs(quant_model, x, ea)
        eta = getattr(g, "node_eta", None)
        order = np.argsort(eta.numpy(), kind="stable") if eta is not None else None
        parts, lost_mask = split_to_fit(xq, ei, eq, capacity, order, overlap=overlap)
        lost.append(lost_mask)
        jobs.extend((gi, p.edges, p.padded(capacity)) for p in parts)
    return jobs, lost


def _diff_stats(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    counts, edges = np.histogram(np.clip(d, *HIST_RANGE), bins=HIST_BINS, range=HIST_RANGE)
    return {
        "n": int(d.size),
        "max_abs": float(np.abs(d).max()) if d.size else 0.0,
        "rms": float(np.sqrt(np.mean(d**2))) if d.size else 0.0,
        "mean": float(d.mean()) if d.size else 0.0,
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


@dataclass
class _WindowScores:
    """The C simulation's logits put back on whole events, and the bit check of its windows."""

    fpga: list[np.ndarray]  # per event, per edge; NaN where the edge is in no window
    lost: list[np.ndarray]  # per event, per edge: in no window (counts as rejected)
    n_windows: int
    mismatches: dict[str, int]
    bad_graphs: set[int]
    n_checked: int


def _load_inputs(dataset_dir, split: str, max_events: int | None, qonnx_path):
    """Events of ``split`` (the first ``max_events``), their count in the split, the QONNX model
    and its capacity."""
    from ticl_fpga.compile.to_qonnx import load_qonnx, model_metadata
    from ticl_fpga.data.dataset import load_dataset

    graphs = load_dataset(dataset_dir).split(split)
    n_split = len(graphs)
    if max_events is not None:
        graphs = graphs[:max_events]
    if not graphs:
        raise InputError(dataset_dir, f"split {split!r} has no events to compare", "split")
    qonnx_model = load_qonnx(qonnx_path)
    capacity, _ = model_metadata(qonnx_model)
    return graphs, n_split, qonnx_model, capacity


def _score_windows(
    graphs,
    quant_model,
    qonnx_model,
    hls_model,
    capacity,
    *,
    window_overlap: int,
    bit_check: int | None,
    progress: bool,
) -> _WindowScores:
    """C simulation on every padded window; Brevitas and QONNX checked against it bit for bit on
    every window, or on the first ``bit_check``."""
    from ticl_fpga.compile.csim import run_csim
    from ticl_fpga.compile.to_qonnx import execute_qonnx
    from ticl_fpga.golden.vectors import brevitas_logits

    jobs, lost = _jobs(graphs, quant_model, capacity, window_overlap)
    padded = [j[2] for j in jobs]
    csim = run_csim(hls_model, padded)
    fpga = [np.full(g.edge_index.shape[1], np.nan) for g in graphs]
    mism = {"brevitas_vs_qonnx": 0, "qonnx_vs_csim": 0, "brevitas_vs_csim": 0}
    bad_graphs: set[int] = set()
    n_checked = 0
    for j, ((gi, edges, p), c) in enumerate(
        tqdm(
            list(zip(jobs, csim, strict=True)),
            desc="compare",
            disable=None if progress else True,
        )
    ):
        e = p.e_real
        fpga[gi][edges] = np.asarray(c, np.float64)[:e]
        if bit_check is not None and j >= bit_check:
            continue
        n_checked += 1
        b = brevitas_logits(quant_model, p.x, p.edge_index, p.edge_attr, normalized=True)[:e]
        q = np.asarray(execute_qonnx(qonnx_model, p.x, p.edge_index, p.edge_attr), np.float64)[:e]
        c = np.asarray(c, np.float64)[:e]
        for key, (u, v) in (
            ("brevitas_vs_qonnx", (b, q)),
            ("qonnx_vs_csim", (q, c)),
            ("brevitas_vs_csim", (b, c)),
        ):
            n_bad = int((u != v).sum())
            mism[key] += n_bad
            if n_bad:
                bad_graphs.add(gi)
    return _WindowScores(fpga, lost, len(jobs), mism, bad_graphs, n_checked)


def _concat(arrs) -> np.ndarray:
    return np.concatenate(arrs) if arrs else np.zeros(0)


def _edge_energy_eta(graphs) -> tuple[np.ndarray, np.ndarray]:
    """Per edge: the larger energy of its two nodes and the mean |eta| of its two nodes."""
    max_e, eta = [], []
    for g in graphs:
        ei = g.edge_index.numpy()
        en, et = g.node_energy.numpy(), np.abs(g.node_eta.numpy())
        max_e.append(np.maximum(en[ei[0]], en[ei[1]]) if ei.shape[1] else np.zeros(0))
        eta.append(0.5 * (et[ei[0]] + et[ei[1]]) if ei.shape[1] else np.zeros(0))
    return _concat(max_e), _concat(eta)


def _decision_stats(
    fl, fpga_score, labels, max_e, eta, keep, *, cut: float, confidence: float, interval: str
) -> dict[str, dict[str, Any]]:
    """Edge decisions of the float model and the FPGA at the working point and at ``cut``:
    flips, agreement with its binomial interval, flip fractions per energy and |eta| bin."""
    from ticl_fpga.evaluate.events import ENERGY_BINS, ETA_BINS
    from ticl_fpga.evaluate.metrics import working_point

    decisions = {}
    for label, rule in (
        ("working_point", lambda s: working_point(s, max_e)),
        (f"cut_{cut:g}", lambda s: s > cut),
    ):
        d_f, d_h = rule(fl), rule(fpga_score)
        flips = d_f != d_h
        ag = agreement_summary(d_f, d_h, confidence=confidence, method=interval)
        fk = dict(confidence=confidence, method=interval)
        decisions[label] = {
            "flip_fraction": float(flips.mean()) if flips.size else 0.0,
            "n_flips": int(flips.sum()),
            "flips_on_true_edges": int((flips & labels).sum()),
            "accepted_float": int(d_f.sum()),
            "accepted_fpga": int(d_h.sum()),
            "agreement": ag["agreement"],
            "agreement_interval": ag["interval"],
            "flip_interval": [1.0 - ag["interval"][1], 1.0 - ag["interval"][0]],
            "agreement_on_scored_edges": float((~flips[keep]).mean()) if keep.any() else 1.0,
            "flip_vs_energy": binned_fraction(max_e, flips, ENERGY_BINS, **fk),
            "flip_vs_eta": binned_fraction(eta, flips, ETA_BINS, **fk),
        }
    return decisions


def _event_stats(graphs, f_scores, windows: _WindowScores, cut: float) -> dict[str, Any]:
    """Event-level efficiency/purity of the float model and the FPGA for each acceptance rule."""
    from ticl_fpga.evaluate.events import event_metrics, fixed_cut, seed_working_point

    per_graph_fpga = [
        np.where(lo, 0.0, expit(np.nan_to_num(v)))
        for v, lo in zip(windows.fpga, windows.lost, strict=True)
    ]
    events = {}
    for accept in (seed_working_point(), fixed_cut(cut)):
        m_f = event_metrics(graphs, f_scores, accept)
        m_h = event_metrics(graphs, per_graph_fpga, accept)
        events[accept.__name__] = {
            "float": {k: m_f[k] for k in ("efficiency", "purity", "fake_fraction", "merged")},
            "fpga": {k: m_h[k] for k in ("efficiency", "purity", "fake_fraction", "merged")},
            "efficiency_difference": m_h["efficiency"] - m_f["efficiency"],
            "purity_difference": m_h["purity"] - m_f["purity"],
            "efficiency_vs_energy": {
                "float": m_f["efficiency_vs_energy"],
                "fpga": m_h["efficiency_vs_energy"],
            },
            "efficiency_vs_eta": {
                "float": m_f["efficiency_vs_eta"],
                "fpga": m_h["efficiency_vs_eta"],
            },
        }
    return events


def compare_models(
    float_model_or_ts_path,
    quant_model,
    qonnx_path,
    hls_model,
    dataset_dir: str | Path,
    split: str = "test",
    out_dir: str | Path = "compare",
    *,
    max_events: int | None = None,
    cut: float = 0.5,
    strict: bool = True,
    window_overlap: int = 0,
    progress: bool = False,
    confidence: float = CONFIDENCE,
    interval: str = "clopper-pearson",
    bit_check: int | None = None,
) -> dict[str, Any]:
    """Compare float (TorchScript/CUDA when present) vs FPGA (C simulation) on ``split`` events.

    Every event of ``split`` by default (``max_events`` takes the first ones).  Brevitas and QONNX
    are checked against the C simulation on every window, or on the first ``bit_check`` windows
    (the QONNX executor is the slow part; the C simulation always scores every window).  Decision agreement
    and flip fractions carry ``interval`` (``clopper-pearson`` or ``wilson``) binomial intervals
    at ``confidence``.

    Writes ``compare.json``, ``compare.md`` and PNG plots atomically into ``out_dir`` and returns
    the summary.  With ``strict`` a bit mismatch between Brevitas, QONNX and the C simulation
    raises :class:`BitMismatchError` after the report is written.
    """
    from ticl_fpga.compare.report import write_report
    from ticl_fpga.evaluate.events import ENERGY_BINS, ETA_BINS, binned
    from ticl_fpga.golden.vectors import brevitas_logits

    if interval not in INTERVALS:
        raise ConfigError(f"--interval {interval!r}: expected one of {', '.join(INTERVALS)}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"--confidence {confidence}: must be in (0, 1)")
    t0 = time.perf_counter()
    graphs, n_split, qonnx_model, capacity = _load_inputs(
        dataset_dir, split, max_events, qonnx_path
    )
    quant_model = quant_model.cpu().eval()

    f_scores, device = float_scores(float_model_or_ts_path, graphs)
    q_full = [
        brevitas_logits(quant_model, g.x, g.edge_index, g.edge_attr) for g in graphs
    ]  # whole events, no windowing
    windows = _score_windows(
        graphs,
        quant_model,
        qonnx_model,
        hls_model,
        capacity,
        window_overlap=window_overlap,
        bit_check=bit_check,
        progress=progress,
    )
    mism, bad_graphs = windows.mismatches, windows.bad_graphs

    # --- edge level
    fl = _concat(f_scores)
    lost_all = _concat(windows.lost)
    fpga_logit = _concat(windows.fpga)
    fpga_score = np.where(lost_all, 0.0, expit(np.nan_to_num(fpga_logit)))
    quant_score = expit(_concat(q_full))
    labels = _concat([g.y.numpy() for g in graphs]) > 0.5
    max_e, eta = _edge_energy_eta(graphs)
    keep = ~lost_all
    decisions = _decision_stats(
        fl,
        fpga_score,
        labels,
        max_e,
        eta,
        keep,
        cut=cut,
        confidence=confidence,
        interval=interval,
    )
    absdiff = np.where(keep, np.abs(fpga_score - fl), np.nan)

    summary: dict[str, Any] = {
        "dataset": str(dataset_dir),
        "split": split,
        "n_events": len(graphs),
        "n_events_split": n_split,
        "n_edges": int(fl.size),
        "interval": {"method": interval, "confidence": confidence},
        "float_device": device,
        "float_model": str(float_model_or_ts_path)
        if isinstance(float_model_or_ts_path, str | Path)
        else type(float_model_or_ts_path).__name__,
        "capacity": capacity.model_dump(),
        "windowing": {
            "n_windowed_events": int(
                sum(
                    1
                    for g in graphs
                    if g.num_nodes > capacity.n_max or g.edge_index.shape[1] > capacity.e_max
                )
            ),
            "n_windows": windows.n_windows,
            "lost_edges": int(lost_all.sum()),
            "lost_fraction": float(lost_all.mean()) if lost_all.size else 0.0,
        },
        "bit_mismatches": mism,
        "bit_checked_windows": windows.n_checked,
        "bit_exact": not any(mism.values()),
        "events_with_mismatches": sorted(bad_graphs),
        "score_difference_fpga_vs_float": _diff_stats(fpga_score[keep], fl[keep]),
        "score_difference_quant_vs_float": _diff_stats(quant_score, fl),
        "decisions": decisions,
        "abs_score_difference_vs_energy": binned(max_e, absdiff, ENERGY_BINS),
        "abs_score_difference_vs_eta": binned(eta, absdiff, ETA_BINS),
        "events": _event_stats(graphs, f_scores, windows, cut),
        "seconds": time.perf_counter() - t0,
    }
    write_report(summary, out_dir, fpga_score=fpga_score[keep], float_score=fl[keep])
    wp = decisions["working_point"]
    log.info(
        "compared %d events / %d edges: max |FPGA - float| %.4f, WP agreement %.3f%% "
        "[%.3f, %.3f] (%g%% CL %s), bit mismatches %s",
        len(graphs),
        fl.size,
        summary["score_difference_fpga_vs_float"]["max_abs"],
        100 * wp["agreement"],
        100 * wp["agreement_interval"][0],
        100 * wp["agreement_interval"][1],
        100 * confidence,
        interval,
        mism,
    )
    if strict and not summary["bit_exact"]:
        raise BitMismatchError(
            f"Brevitas/QONNX/C simulation differ on {mism} edges (events "
            f"{sorted(bad_graphs)[:10]}); see {Path(out_dir) / 'compare.md'} and run "
            "`ticl-fpga golden check`"
        )
    return summary
