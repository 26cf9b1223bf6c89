"""Where do FPGA/float decision flips come from? (issue 16 experiments)

Brevitas, QONNX and the C simulation are bit-exact with each other, so agreement is measured
with the Brevitas model directly on the val/test graphs (no hls build per variant).

    python scripts/agreement_sensitivity.py FLOAT_RUN DATASET OUT.jsonl VARIANT [VARIANT ...]

A variant is ``name:key=value,...`` with keys

    recipe=NAME            base recipe (default: the default recipe, DEFAULT_RECIPE)
    bits=GROUP/W/A         per-layer override (GROUP: node_enc, edge_enc, edge_mlp.*, node_mlp.*,
                           aggr.*, head_hidden, head_out); repeatable via ';'
    input=N output=N       recipe input_bits / output_bits
    dw=W dt=T              distillation weight / temperature
    epochs=N lr=X          QAT epochs / learning rate (default 6 / 3e-4)
    seed=N                 QAT / fine-tune shuffling seed (default 0)
    prune=0.3/0.5/0.7/0.8  pruning schedule walked after QAT (val and test agreement per step)
    ft=N                   fine-tuning epochs per pruning step (default 2)
    probe=1 probeat=0.5/0.7  also probe (PROBES) the QAT model and these pruning steps

Each variant appends one JSON line per evaluated model (unpruned and each pruning step) with
val/test agreement (Wilson interval on test), edge AUC, event efficiency and the float numbers.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("agreement_sensitivity")


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, rest = text.partition(":")
    opts: dict[str, str] = {}
    for part in filter(None, rest.split(",")):
        k, _, v = part.partition("=")
        opts[k.strip()] = v.strip()
    return name, opts


def make_recipe(opts: dict[str, str]):
    from ticl_fpga.quantize.recipe import DEFAULT_RECIPE, Recipe, load_recipe

    base = load_recipe(opts.get("recipe", DEFAULT_RECIPE)).model_dump()
    layers = dict(base.get("layers") or {})
    for spec in filter(None, opts.get("bits", "").split(";")):
        group, w, a = spec.split("/")
        entry = dict(layers.get(group) or {})
        if w != "-":
            entry["weight_bits"] = int(w)
        if a != "-":
            entry["act_bits"] = int(a)
        layers[group] = entry
    base["layers"] = layers
    if "input" in opts:
        base["input_bits"] = int(opts["input"])
    if "output" in opts:
        base["output_bits"] = int(opts["output"])
    if "dw" in opts:
        base["distill_weight"] = float(opts["dw"])
    if "dt" in opts:
        base["distill_temperature"] = float(opts["dt"])
    if "focus" in opts:
        base["distill_focus"] = opts["focus"]
    return Recipe.from_dict(base, source="variant")


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (float(c - h), float(c + h))


def measure(model, graphs, f_scores, f_metrics) -> dict:
    from ticl_fpga.evaluate.metrics import working_point
    from ticl_fpga.evaluate.predict import edge_arrays
    from ticl_fpga.quantize.evaluation import evaluate_model, model_scores

    m = evaluate_model(model, graphs, reference_scores=f_scores)
    q = edge_arrays(graphs, model_scores(model, graphs))
    f = edge_arrays(graphs, list(f_scores))
    a = working_point(q.scores, q.max_energy)
    b = working_point(f.scores, f.max_energy)
    same = int((a == b).sum())
    n = int(a.size)
    diff = np.abs(q.scores - f.scores)
    return {
        "agreement": same / n,
        "interval": wilson(same, n),
        "flips": n - same,
        "edges": n,
        "auc": m["auc"],
        "auc_rel_drop": (f_metrics["auc"] - m["auc"]) / f_metrics["auc"],
        "event_efficiency": m["event_efficiency"],
        "event_eff_rel_drop": (f_metrics["event_efficiency"] - m["event_efficiency"])
        / f_metrics["event_efficiency"],
        "eff_at_purity": m["edge_efficiency_at_purity"],
        "mean_abs_score_diff": float(diff.mean()),
        "max_abs_score_diff": float(diff.max()),
    }


#: Probes: the trained model's state loaded into the same recipe with one group made finer (no
#: retraining): which quantizer's rounding makes the decisions flip.
PROBES = {
    "input10": {"input": "10"},
    "output16": {"output": "16"},
    "enc8": {"bits": "node_enc/8/8;edge_enc/8/8"},
    "edge_mlp8": {"bits": "edge_mlp.*/8/8"},
    "node_mlp8": {"bits": "node_mlp.*/8/8"},
    "aggr10": {"bits": "aggr.*/-/10"},
    "head8": {"bits": "head_hidden/8/8;head_out/8/-"},
    "weights8": {
        "bits": "node_enc/8/-;edge_enc/8/-;edge_mlp.*/8/-;node_mlp.*/8/-;head_hidden/8/-;head_out/8/-"
    },
    "acts8": {"bits": "node_enc/-/8;edge_enc/-/8;edge_mlp.*/-/8;node_mlp.*/-/8;head_hidden/-/8"},
    "all8_in10": {
        "input": "10",
        "bits": "node_enc/8/8;edge_enc/8/8;edge_mlp.*/8/8;node_mlp.*/8/8;head_hidden/8/8;head_out/8/-",
    },
}


def probe(model, base_opts, val, fv, fmv) -> dict:
    """Val agreement of ``model``'s weights/scales under each probe recipe (finer bits, same ranges)."""
    from ticl_fpga.quantize.qat import export_state_dict
    from ticl_fpga.quantize.qmodel import build_quant_model

    state = export_state_dict(model)
    out = {}
    for name, extra in PROBES.items():
        opts = {**base_opts, **extra}
        if "bits" in base_opts and "bits" in extra:
            opts["bits"] = base_opts["bits"] + ";" + extra["bits"]
        recipe = make_recipe(opts)
        # finer accumulators need wider biases (same value, more LSBs)
        recipe = recipe.model_copy(
            update={"default": recipe.default.model_copy(update={"bias_bits": 20})}
        )
        for k, v in recipe.layers.items():
            recipe.layers[k] = v.model_copy(update={"bias_bits": 20})
        try:
            pm = build_quant_model(model.spec, recipe)
            pm.load_state_dict(state)
            pm.eval()
            out[name] = measure(pm, val, fv, fmv)["agreement"]
        except Exception as exc:  # noqa: BLE001 - a probe that does not fit is reported
            out[name] = f"{type(exc).__name__}: {exc}"[:200]
    return out


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    float_run, dataset, out = argv[0], argv[1], Path(argv[2])
    from ticl_fpga.data.dataset import load_dataset
    from ticl_fpga.quantize.evaluation import evaluate_model, model_scores
    from ticl_fpga.quantize.prune import prune_to
    from ticl_fpga.quantize.qat import QATConfig, load_float_model, quantize_model, train_epochs

    ds = load_dataset(dataset)
    train, val, test = ds.split("train"), ds.split("val"), ds.split("test")
    fmodel = load_float_model(float_run)
    fv, ft = model_scores(fmodel, val), model_scores(fmodel, test)
    fmv, fmt = evaluate_model(fmodel, val), evaluate_model(fmodel, test)
    log.info("float val %s test %s", fmv, fmt)
    for text in argv[3:]:
        name, opts = parse_variant(text)
        t0 = time.perf_counter()
        recipe = make_recipe(opts)
        qat = QATConfig(
            epochs=int(opts.get("epochs", 6)),
            lr=float(opts.get("lr", 3e-4)),
            seed=int(opts.get("seed", 0)),
        )
        qmodel = quantize_model(fmodel, recipe, train, config=qat)

        def emit(step: str, model, extra=None, name=name, opts=opts, t0=t0) -> None:
            row = {
                "variant": name,
                "opts": opts,
                "step": step,
                "val": measure(model, val, fv, fmv),
                "test": measure(model, test, ft, fmt),
                "float_val": {k: fmv[k] for k in ("auc", "event_efficiency")},
                "float_test": {k: fmt[k] for k in ("auc", "event_efficiency")},
                "seconds": time.perf_counter() - t0,
                **(extra or {}),
            }
            with out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            if extra and "probes" in extra:
                log.info("%s %s probes (val): %s", name, step, extra["probes"])
            log.info(
                "%s %s: val %.4f test %.4f [%.4f, %.4f] auc drop %.4f ev drop %.4f (%.0f s)",
                name,
                step,
                row["val"]["agreement"],
                row["test"]["agreement"],
                *row["test"]["interval"],
                row["test"]["auc_rel_drop"],
                row["test"]["event_eff_rel_drop"],
                row["seconds"],
            )

        do_probe = opts.get("probe", "0") == "1"
        emit("qat", qmodel, {"probes": probe(qmodel, opts, val, fv, fmv)} if do_probe else None)
        if "prune" in opts:
            # the benchmark's walk (prune_search): global L1 step, fine-tune with distillation
            for i, s in enumerate((float(x) for x in opts["prune"].split("/")), start=1):
                prune_to(qmodel, s)
                train_epochs(
                    qmodel,
                    train,
                    config=qat,
                    epochs=int(opts.get("ft", 2)),
                    seed_offset=1000 * i,
                    desc=f"prune {s:.2f}",
                    teacher=fmodel,
                )
                extra = None
                if do_probe and f"{s:g}" in opts.get("probeat", "0.8").split("/"):
                    extra = {"probes": probe(qmodel, opts, val, fv, fmv)}
                emit(f"sparsity {s:.2f}", qmodel, extra)


if __name__ == "__main__":
    main(sys.argv[1:])
