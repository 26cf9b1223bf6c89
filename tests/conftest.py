"""Shared fixtures: tiny synthetic ntuples and datasets made by the package's own generator."""

from __future__ import annotations

import pytest

from ticl_fpga.data.synthetic import tiny_dataset


@pytest.fixture(scope="session")
def tiny_ds(tmp_path_factory):
    """A small real dataset (ROOT file written by uproot -> graphs), PU 0, built once per session."""
    return tiny_dataset(tmp_path_factory.mktemp("tiny"), n_events=40, pileup=0, seed=1)
