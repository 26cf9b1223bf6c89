"""``ticl-fpga train``: train the float GNN on a dataset folder into a run folder."""

from __future__ import annotations

import argparse
import sys

from ticl_fpga.cli import config_from_args
from ticl_fpga.errors import ConfigError

# numeric options are validated by TrainConfig (one line naming the field) before any work


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the float edge-classifier GNN (Lightning; resumable, DDP-capable)",
        description="Train the float GNN on DATASET and write RUN_DIR (model.pt, checkpoints, "
        "config with provenance).  Re-running on an existing RUN_DIR resumes from its last checkpoint.",
    )
    p.add_argument("dataset", help="dataset folder (ticl-fpga data build)")
    p.add_argument("-o", "--output", required=True, help="run folder")
    p.add_argument(
        "--config", help="TrainConfig YAML or a built-in name: default, quick (default: default)"
    )
    p.add_argument(
        "--model",
        choices=["gnn", "seed"],
        help="gnn (ours, FPGA-compilable) or seed (GNN_TrackLinkingNet, reference)",
    )
    p.add_argument("--epochs", type=int, help="override the config's epochs")
    p.add_argument("--batch-size", type=int, help="override the config's batch_size")
    p.add_argument("--lr", type=float, help="override the config's lr")
    p.add_argument("--seed", type=int, help="override the config's seed")
    p.add_argument("--devices", type=int, help="number of devices/processes (DDP when > 1)")
    p.add_argument("--strategy", choices=["auto", "ddp", "ddp_spawn"], help="Lightning strategy")
    p.add_argument(
        "--accelerator", choices=["cpu", "gpu", "cuda", "auto"], help="default: config (cpu)"
    )
    p.add_argument("--threads", type=int, help="torch threads per process")
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="start over: remove RUN_DIR's earlier checkpoints, logs and model",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--force",
        action="store_true",
        help="write into RUN_DIR even if it holds files ticl-fpga did not write",
    )
    p.set_defaults(handler=_train)


def _train(args: argparse.Namespace) -> int:
    from ticl_fpga.train.config import TrainConfig, load_train_config
    from ticl_fpga.train.fit import fit

    flags = ("model", "epochs", "batch_size", "lr", "seed", "devices", "strategy", "accelerator")
    cfg = config_from_args(
        TrainConfig,
        args,
        {**{f: f for f in flags}, "num_threads": "threads"},
        base=load_train_config(args.config or "default").model_dump(),
        **({"progress_bar": False} if args.no_progress else {}),
    )
    check_accelerator(cfg.accelerator, cfg.devices)
    run = fit(args.dataset, cfg, args.output, resume=not args.no_resume, force=args.force)
    sys.stdout.write(f"{run}\n")
    return 0


def check_accelerator(accelerator: str, devices: int = 1) -> None:
    """A GPU accelerator needs that many CUDA GPUs here: one line before any work otherwise."""
    if accelerator not in ("gpu", "cuda"):
        return
    import torch

    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if n < devices:
        raise ConfigError(
            f"--accelerator {accelerator}: {n} CUDA GPU(s) available here, {devices} requested "
            "(use --accelerator cpu)"
        )
