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
        return {
            "node_hidden": self.node_hidden,
            "edge_hidden": self.edge_hidden,
            "head_hidden": self.head_hidden,
            "niters": self.niters,
            "aggr": self.aggr,
        }


CASES: dict[str, GoldenCase] = {
    c.name: c
    for c in (
        GoldenCase(
            name="w6a6_niters2",
            description="default-like recipe, two message-passing rounds",
            recipe="w6a6",
            node_hidden=12,
            edge_hidden=8,
            head_hidden=8,
            niters=2,
            seed=1,
        ),
        GoldenCase(
            name="w4a4_niters1",
            description="narrowest recipe, one round",
            recipe="w4a4",
            niters=1,
            seed=2,
        ),
        GoldenCase(
            name="w8a8_niters3",
            description="widest recipe, three rounds",
            recipe="w8a8",
            node_hidden=8,
            edge_hidden=6,
            head_hidden=4,
            niters=3,
            seed=3,
        ),
        GoldenCase(
            name="w6a6_max_niters1",
            description="max aggregation",
            recipe="w6a6",
            node_hidden=8,
            edge_hidden=6,
            head_hidden=4,
            niters=1,
            aggr="max",
            seed=4,
        ),
        GoldenCase(
            name="mixed_niters2",
            description="mixed precision recipe (8-bit encoders and head, 4/6-bit iterations)",
            recipe="mixed",
            node_hidden=8,
            edge_hidden=6,
            head_hidden=4,
            niters=2,
            seed=5,
        ),
    )
}


def get_case(name: str) -> GoldenCase:
    """A registered case by name (one-line error listing the known ones)."""
    if name not in CASES:
        raise ConfigError(f"unknown golden case {name!r}; known: {', '.join(CASES)}")
    return CASES[name]
