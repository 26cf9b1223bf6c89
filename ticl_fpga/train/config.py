"""Typed training configuration (architecture sizes, optimiser, loss, loop, devices) read from YAML."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field

from ticl_fpga.config import StrictModel, read_yaml
from ticl_fpga.errors import ConfigError
from ticl_fpga.model.seed import SeedSpec
from ticl_fpga.model.spec import Aggregation, GNNSpec

#: Named configs shipped with the package (``ticl_fpga/train/<name>.yaml``).
BUILTIN_CONFIGS = ("default", "quick")

_SPEC = GNNSpec.model_fields
#: GNNSpec fields a training config sets: all but the input dimensions (from the dataset).
ARCH_FIELDS = tuple(f for f in _SPEC if f not in ("node_dim", "edge_dim"))
#: Fields passed to the Lightning module (it has no defaults of its own).
MODULE_FIELDS = ("lr", "weight_decay", "focal_alpha", "focal_gamma", "epochs")


class TrainConfig(StrictModel):
    """Everything a training run needs besides the dataset; saved in the run folder.

    The input dimensions of the :class:`GNNSpec` come from the dataset, the rest from here.
    """

    # which network: ours ("gnn", the FPGA-compilable one) or the seed's GNN_TrackLinkingNet
    # ("seed": hidden 64, edge hidden 32, 4 EdgeConv iterations, dropout 0.3, whatever the sizes
    # below say; ticl_fpga/model/seed.py)
    model: Literal["gnn", "seed"] = "gnn"

    # architecture: GNNSpec fields except the input dimensions, with GNNSpec's defaults
    node_hidden: int = Field(_SPEC["node_hidden"].default, gt=0)
    edge_hidden: int = Field(_SPEC["edge_hidden"].default, gt=0)
    head_hidden: int = Field(_SPEC["head_hidden"].default, gt=0)
    niters: int = Field(_SPEC["niters"].default, ge=0, le=16)
    aggr: Aggregation = _SPEC["aggr"].default

    # optimiser and loss
    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    focal_alpha: float = Field(0.25, le=1.0, description="positive-class weight; < 0 disables it")
    focal_gamma: float = Field(2.0, ge=0)

    # loop
    epochs: int = Field(30, gt=0)
    batch_size: int = Field(16, gt=0, description="events per batch")
    patience: int = Field(5, ge=1, description="early-stopping patience in epochs (on val_loss)")
    seed: int = 0
    deterministic: bool = True
    gradient_clip: float | None = Field(1.0, gt=0)
    num_workers: int = Field(0, ge=0)
    progress_bar: bool = True

    # devices
    accelerator: Literal["cpu", "gpu", "cuda", "auto"] = "cpu"
    devices: int = Field(1, ge=1)
    strategy: Literal["auto", "ddp", "ddp_spawn"] = "auto"
    num_threads: int | None = Field(
        None, gt=0, description="torch intra-op threads per process (None: leave torch's default)"
    )

    # evaluation
    cut: float = Field(0.5, gt=0, lt=1, description="score cut for the fixed-cut metrics")

    def spec(self, *, node_dim: int, edge_dim: int):
        """The model spec for a dataset with these input dimensions (``SeedSpec`` for the seed)."""
        if self.model == "seed":
            return SeedSpec(node_dim=node_dim, edge_dim=edge_dim)
        arch = self.model_dump(include=set(ARCH_FIELDS))
        return GNNSpec(node_dim=node_dim, edge_dim=edge_dim, **arch)

    def module_kwargs(self) -> dict:
        """The optimiser, loss and schedule arguments of ``EdgeClassifierModule``."""
        return self.model_dump(include=set(MODULE_FIELDS))


def load_train_config(name_or_path: str | Path | None) -> TrainConfig:
    """A built-in config by name (``default``, ``quick``), a YAML file, or the defaults for None.

    A saved run config (``train_config.yaml`` with provenance) is accepted too.
    """
    if name_or_path is None:
        return TrainConfig()
    text = str(name_or_path)
    if text in BUILTIN_CONFIGS:
        path = Path(str(resources.files("ticl_fpga.train").joinpath(f"{text}.yaml")))
    else:
        path = Path(text)
        if not path.is_file():
            raise ConfigError(
                f"{path}: no such training config (built-in names: {', '.join(BUILTIN_CONFIGS)})"
            )

    raw = read_yaml(path, "training config")
    if isinstance(raw, dict) and "config" in raw and "provenance" in raw:
        raw = raw["config"]
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of config fields")
    return TrainConfig.from_dict(raw, source=str(path))
