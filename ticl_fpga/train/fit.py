"""The training loop: dataset folder + TrainConfig -> run folder with ``model.pt`` and checkpoints.

A run folder holds::

    train_config.yaml   the TrainConfig, dataset scalers and feature names, with provenance
    checkpoints/        Lightning checkpoints (best by val_loss, and last.ckpt for resuming)
    logs/               CSV metrics per epoch (train_loss, val_loss, val_auc)
    model.pt            the best weights as a plain state_dict + spec + config (load_trained_model)

Calling :func:`fit` again on the same folder resumes from ``checkpoints/last.ckpt``.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from ticl_fpga.config import provenance, read_yaml
from ticl_fpga.data.dataset import load_dataset
from ticl_fpga.errors import InputError
from ticl_fpga.io import atomic_path, check_output, dir_lock, mark_folder
from ticl_fpga.model.gnn import EdgeClassifierGNN
from ticl_fpga.model.seed import build_model, spec_from_dict
from ticl_fpga.model.spec import GNNSpec
from ticl_fpga.train.config import TrainConfig

log = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
CONFIG_FILE = "train_config.yaml"
CHECKPOINT_DIR = "checkpoints"
MODEL_FORMAT = "ticl-fpga/float-model/1"


def _slim(graphs: Sequence[Any]) -> list:
    """Only the tensors training needs, so batching does not carry per-particle truth."""
    return [Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr, y=g.y) for g in graphs]


def _check_graphs(graphs: Sequence[Any], spec: GNNSpec, where: str) -> None:
    for i, g in enumerate(graphs):
        if g.x.dim() != 2 or g.x.size(1) != spec.node_dim:
            raise InputError(
                where, f"event {i}: x has shape {tuple(g.x.shape)}, expected [N, {spec.node_dim}]"
            )
        if g.edge_attr.dim() != 2 or g.edge_attr.size(1) != spec.edge_dim:
            raise InputError(
                where,
                f"event {i}: edge_attr has shape {tuple(g.edge_attr.shape)}, expected [E, {spec.edge_dim}]",
            )


def scalers_of(ds: Any) -> dict[str, np.ndarray]:
    """The dataset's feature scalers, with zero standard deviations replaced by one."""
    sc = ds.scalers
    out = {}
    for key in ("node_mean", "node_std", "edge_mean", "edge_std"):
        if key not in sc:
            raise InputError("meta.json", "missing scaler", field=f"scalers.{key}")
        arr = np.asarray(sc[key], dtype=np.float32)
        if not np.isfinite(arr).all():
            raise InputError("meta.json", "NaN or infinite scaler value", field=f"scalers.{key}")
        if key.endswith("std"):
            arr = np.where(arr > 0, arr, 1.0).astype(np.float32)
        out[key] = arr
    return out


class EpochShuffleSampler(torch.utils.data.Sampler[int]):
    """Random order that depends only on (seed, epoch): a resumed run sees the same batches.

    Lightning calls :meth:`set_epoch` at every epoch start (as for ``DistributedSampler``, which
    it substitutes under DDP and which is seeded the same way).
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=gen).tolist())

    def __len__(self) -> int:
        return self.n


def _is_rank_zero() -> bool:
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0


def fit(
    dataset_dir: str | Path,
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = True,
    callbacks: Sequence[Any] = (),
    force: bool = False,
) -> Path:
    """Train a float GNN on ``dataset_dir`` and write the run folder ``out_dir``; return it.

    If ``out_dir/checkpoints/last.ckpt`` exists and ``resume`` is true, training continues from
    it (optimizer, scheduler, early-stopping state and epoch included), after checking that the
    run was made with the same architecture, dataset and scalers; with ``resume`` false, earlier
    checkpoints are removed and training starts over.  ``out_dir`` must be new, empty or a run
    folder (``force`` to use another folder), and only one process at a time may write it.
    ``callbacks`` are extra Lightning callbacks.  Works with ``cfg.devices > 1`` (DDP); only rank
    0 writes ``model.pt``.
    """
    run_dir = Path(out_dir)
    if not _is_rank_zero():
        return _fit(Path(dataset_dir), cfg, run_dir, resume=resume, callbacks=callbacks)
    check_output(run_dir, kind="train-run", inputs=[dataset_dir], force=force, folder=True)
    with dir_lock(run_dir):
        mark_folder(run_dir, "train-run", refresh=False)
        out = _fit(Path(dataset_dir), cfg, run_dir, resume=resume, callbacks=callbacks)
        mark_folder(run_dir, "train-run")
        return out


def _fit(
    dataset_dir: Path,
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: bool,
    callbacks: Sequence[Any],
) -> Path:
    # Lightning is imported here, not at module top: loading a trained model needs none of it
    import lightning as L

    from ticl_fpga.train.lightning_module import EdgeClassifierModule

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    ds, spec, train_graphs, val_graphs = _load_splits(dataset_dir, cfg)
    scalers = scalers_of(ds)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    model = build_model(spec)  # ours, or the seed's network (TrainConfig.model)
    model.set_scalers(**scalers)
    module = EdgeClassifierModule(model=model, **cfg.module_kwargs())
    extra = {
        "dataset": dataset_dir.name,
        "dataset_fingerprint": ds.fingerprint,
        "node_features": list(ds.node_features),
        "edge_features": list(ds.edge_features),
        "scalers": {k: v.tolist() for k, v in scalers.items()},
        "spec": spec.model_dump(),
    }
    last = run_dir / CHECKPOINT_DIR / "last.ckpt"
    resuming = resume and last.is_file()
    if _is_rank_zero():
        _prepare_run_dir(run_dir, cfg, extra, module, resuming=resuming, last=last)
        log.info(
            "training %d parameters on %d events (%d validation) -> %s",
            sum(p.numel() for p in model.parameters()),
            len(train_graphs),
            len(val_graphs),
            run_dir,
        )

    train_loader, val_loader = _loaders(train_graphs, val_graphs, cfg)
    trainer, checkpoint = _make_trainer(cfg, run_dir, len(train_graphs), callbacks)
    if resuming:
        log.info("resuming from %s", last)
    _run(trainer, module, train_loader, val_loader, ckpt_path="last" if resuming else None)

    if trainer.is_global_zero:
        _save_best(run_dir, module, checkpoint, cfg, ds, dataset_dir, int(trainer.current_epoch))
    return run_dir


def _load_splits(dataset_dir: Path, cfg: TrainConfig) -> tuple[Any, GNNSpec, list, list]:
    """The dataset, the spec it implies with ``cfg``, and its checked train and val splits."""
    ds = load_dataset(dataset_dir)
    train_graphs, val_graphs = ds.split("train"), ds.split("val")
    if not train_graphs:
        raise InputError(dataset_dir, "the train split is empty")
    if not val_graphs:
        raise InputError(dataset_dir, "the val split is empty (early stopping needs it)")
    spec = cfg.spec(node_dim=len(ds.node_features), edge_dim=len(ds.edge_features))
    _check_graphs(train_graphs, spec, f"{dataset_dir} (train split)")
    _check_graphs(val_graphs, spec, f"{dataset_dir} (val split)")
    return ds, spec, train_graphs, val_graphs


def _prepare_run_dir(
    run_dir: Path, cfg: TrainConfig, extra: dict[str, Any], module, *, resuming: bool, last: Path
) -> None:
    """Check a resumed run matches (or clear an earlier one), then write the run config."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if resuming:
        _check_resume(run_dir, last, extra, module)
    else:
        _start_over(run_dir)
    cfg.save(run_dir / CONFIG_FILE, **extra)


def _loaders(train_graphs: Sequence[Any], val_graphs: Sequence[Any], cfg: TrainConfig):
    """Train loader in a (seed, epoch) order, val loader in file order."""
    train_set = _slim(train_graphs)
    # one process: our (seed, epoch) sampler; DDP: Lightning's DistributedSampler (also seeded)
    order = (
        {"shuffle": True}
        if cfg.devices > 1
        else {"sampler": EpochShuffleSampler(len(train_set), cfg.seed)}
    )
    train_loader = DataLoader(
        train_set, batch_size=cfg.batch_size, num_workers=cfg.num_workers, **order
    )
    val_loader = DataLoader(
        _slim(val_graphs), batch_size=cfg.batch_size, shuffle=False, num_workers=cfg.num_workers
    )
    return train_loader, val_loader


def _make_trainer(cfg: TrainConfig, run_dir: Path, n_train: int, callbacks: Sequence[Any]):
    """The Lightning trainer and its best-by-val_loss checkpoint callback."""
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    from ticl_fpga.train.progress import EpochLines, show_bar

    checkpoint = ModelCheckpoint(
        dirpath=run_dir / CHECKPOINT_DIR,
        filename="best-{epoch:03d}",
        monitor="val_loss",
        mode="min",
        save_top_k=1,
        save_last=True,
    )
    early = EarlyStopping(monitor="val_loss", mode="min", patience=cfg.patience)
    n_batches = max(1, -(-n_train // (cfg.batch_size * cfg.devices)))
    bar = show_bar(cfg.progress_bar)  # off a terminal: one log line per epoch instead
    trainer = L.Trainer(
        max_epochs=cfg.epochs,
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        strategy=cfg.strategy,
        deterministic=cfg.deterministic,
        gradient_clip_val=cfg.gradient_clip,
        callbacks=[checkpoint, early, *([] if bar else [EpochLines()]), *callbacks],
        logger=CSVLogger(save_dir=run_dir, name="logs"),
        enable_progress_bar=bar,
        enable_model_summary=False,
        log_every_n_steps=min(50, n_batches),
        default_root_dir=run_dir,
    )
    return trainer, checkpoint


def _run(trainer, module, train_loader, val_loader, *, ckpt_path: str | None) -> None:
    """``trainer.fit`` without Lightning's noise; Ctrl-C/SIGTERM come back as the interrupt."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*exists and is not empty.*")
        warnings.filterwarnings("ignore", message=".*LeafSpec.*")
        try:
            trainer.fit(module, train_loader, val_loader, ckpt_path=ckpt_path)
        except SystemExit as exc:
            # Lightning turns Ctrl-C/SIGTERM into sys.exit(1); give the caller the interrupt back
            # (exit 130/143, and the checkpoints written so far let a re-run resume)
            if isinstance(exc.__context__, KeyboardInterrupt):
                raise exc.__context__ from None
            raise


def _save_best(
    run_dir: Path, module, checkpoint, cfg: TrainConfig, ds, dataset_dir: Path, epochs: int
) -> None:
    """Load the best checkpoint's weights into ``module`` and write ``model.pt``."""
    best_path = checkpoint.best_model_path
    if best_path and Path(best_path).is_file():
        state = torch.load(best_path, map_location="cpu", weights_only=False)["state_dict"]
        module.load_state_dict(state)
        log.info(
            "best checkpoint %s (val_loss %.4g)",
            Path(best_path).name,
            float(checkpoint.best_model_score),
        )
    best_score = checkpoint.best_model_score
    save_trained_model(
        run_dir / MODEL_FILE,
        module.model.cpu(),
        cfg,
        node_features=list(ds.node_features),
        edge_features=list(ds.edge_features),
        dataset=dataset_dir.name,
        best_val_loss=None if best_score is None else float(best_score),
        epochs_trained=epochs,
    )
    log.info("wrote %s", run_dir / MODEL_FILE)


def _check_resume(run_dir: Path, last: Path, extra: dict[str, Any], module) -> None:
    """Refuse to resume a run made with another architecture, dataset or scalers, or from a
    checkpoint that cannot be read."""
    again = "use another output folder, or --no-resume to start over"
    cfg_path = run_dir / CONFIG_FILE
    if cfg_path.is_file():
        doc = read_yaml(cfg_path, "run config")
        if not isinstance(doc, dict):
            raise InputError(cfg_path, f"corrupt run config; {again}")
        for key, what in (
            ("spec", "architecture"),
            ("node_features", "node features"),
            ("edge_features", "edge features"),
            ("dataset_fingerprint", "dataset"),
            ("scalers", "feature scalers"),
        ):
            if key in doc and doc[key] != extra[key]:
                if key == "spec" and isinstance(doc[key], dict):
                    diff = [k for k in extra[key] if doc[key].get(k) != extra[key][k]]
                    what += f" ({', '.join(diff)})"
                elif key == "dataset_fingerprint":
                    what += f" ({doc.get('dataset')} as it was then, not {extra['dataset']} now)"
                raise InputError(
                    run_dir, f"was trained with another {what}; resuming would mix them; {again}"
                )
    try:
        ckpt = torch.load(last, map_location="cpu", weights_only=False)
        state = ckpt["state_dict"]
        int(ckpt["epoch"])
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad checkpoint
        raise InputError(
            last,
            f"truncated or corrupt checkpoint ({type(exc).__name__}); delete it, or run with "
            "--no-resume to start over",
        ) from None
    want = module.state_dict()
    if set(state) != set(want) or any(state[k].shape != want[k].shape for k in want):
        raise InputError(last, f"checkpoint of another architecture; {again}", field="state_dict")


def _start_over(run_dir: Path) -> None:
    """Remove an earlier run's checkpoints, logs and model so a new run never mixes with them."""
    if not (run_dir / CONFIG_FILE).is_file():
        return  # no earlier run here (a new folder, or one given with --force): nothing of ours
    for name in (CHECKPOINT_DIR, "logs"):
        if (run_dir / name).is_dir():
            log.info("starting over: removing %s", run_dir / name)
            shutil.rmtree(run_dir / name)
    (run_dir / MODEL_FILE).unlink(missing_ok=True)


def save_trained_model(
    path: str | Path,
    model: EdgeClassifierGNN,
    cfg: TrainConfig,
    *,
    node_features: Sequence[str],
    edge_features: Sequence[str],
    **info: Any,
) -> Path:
    """Atomically write ``model.pt``: state_dict (scalers included), spec, config, provenance."""
    payload = {
        "format": MODEL_FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "spec": model.spec.model_dump(),
        "config": cfg.model_dump(mode="json"),
        "node_features": list(node_features),
        "edge_features": list(edge_features),
        "provenance": provenance(),
        **info,
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_run(run_dir: str | Path) -> dict[str, Any]:
    """The ``model.pt`` payload of a run folder (or of a ``model.pt`` path)."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise InputError(path, "no trained model (run `ticl-fpga train` first)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise InputError(path, f"not a readable model file ({exc.__class__.__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise InputError(path, f"not a ticl-fpga float model (expected format {MODEL_FORMAT})")
    return payload


def load_trained_model(run_dir: str | Path) -> EdgeClassifierGNN:
    """The trained float model of a run folder, in eval mode, scalers baked in."""
    payload = load_run(run_dir)
    path = Path(run_dir) / MODEL_FILE if Path(run_dir).is_dir() else Path(run_dir)
    try:
        model = build_model(spec_from_dict(payload["spec"]))
        model.load_state_dict(payload["state_dict"])
    except Exception as exc:  # noqa: BLE001 - a bad spec or state dict is a bad file
        raise InputError(
            path, f"corrupt model: spec and weights do not fit ({type(exc).__name__})"
        ) from None
    return model.eval()
