"""The registry of golden reference configurations (recipe, architecture, capacity, seed)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.config import StrictModel
from ticl_fpga.errors import ConfigError
from ticl_fpga.resources import golden_dir

#: ``golden/`` (package data): committed cases + ``manifest.json``.
GOLDEN_DIR = golden_dir()

#: The tiny synthetic dataset the golden graphs and calibration come from.
DATASET = {"n_events": 12, "pileup": 0, "seed": 0}


class GoldenCase(StrictModel):
    """One reference configuration: a small random-initialised, calibrated quantized GNN."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    recipe: str = Field(description="quant/<recipe>.yaml")
    node_hidden: int = Field(8, gt=0)
    edge_hidden: int = Field(4, gt=0)
    head_hidden: int = Field(4, gt=0)
    niters: int = Field(1, ge=0)
    aggr: Literal["sum", "max"] = "sum"
    capacity: Capacity = Capacity(n_max=16, e_max=64)
    seed: int = 0
    n_events: int = Field(3, ge=0, description="dataset graphs (that fit the capacity) to keep")

    def spec_kwargs(self) -> dict:
        """The :class:`~ticl_fpga.model.spec.GNNSpec` architecture fields of this case."""
        return self.model_dump(include=set(SPEC_FIELDS))


#: The case fields that are GNNSpec arguments (in this order).
SPEC_FIELDS = ("node_hidden", "edge_hidden", "head_hidden", "niters", "aggr")

#: name, recipe, (node, edge, head) hidden, niters, aggregation, seed, description
_REGISTRY = (
    (
        "w6a6_niters2",
        "w6a6",
        (12, 8, 8),
        2,
        "sum",
        1,
        "default-like recipe, two message-passing rounds",
    ),
    ("w4a4_niters1", "w4a4", (8, 4, 4), 1, "sum", 2, "narrowest recipe, one round"),
    ("w8a8_niters3", "w8a8", (8, 6, 4), 3, "sum", 3, "widest recipe, three rounds"),
    ("w6a6_max_niters1", "w6a6", (8, 6, 4), 1, "max", 4, "max aggregation"),
    (
        "mixed_niters2",
        "mixed",
        (8, 6, 4),
        2,
        "sum",
        5,
        "mixed precision recipe (8-bit encoders and head, 4/6-bit iterations)",
    ),
)

CASES: dict[str, GoldenCase] = {
    name: GoldenCase(
        name=name,
        description=description,
        recipe=recipe,
        **dict(zip(SPEC_FIELDS, (*hidden, niters, aggr), strict=True)),
        seed=seed,
    )
    for name, recipe, hidden, niters, aggr, seed, description in _REGISTRY
}


def get_case(name: str) -> GoldenCase:
    """A registered case by name (one-line error listing the known ones)."""
    if name not in CASES:
        raise ConfigError(f"unknown golden case {name!r}; known: {', '.join(CASES)}")
    return CASES[name]
