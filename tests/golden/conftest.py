"""Golden fixtures: committed cases (hash-verified) and their C simulations, built once per session."""

from __future__ import annotations

import pytest

from ticl_fpga.golden.vectors import load_case, load_manifest

CASE_NAMES = sorted(load_manifest()["cases"])


@pytest.fixture(scope="session")
def golden():
    """name -> loaded case (fails with the regenerate command if a hash mismatches)."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_case(name)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def csim(tmp_path_factory, golden):
    """name -> compiled (traced) hls4ml C simulation of the committed QONNX model."""
    from ticl_fpga.golden.check import build_csim

    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = build_csim(
                golden(name).qonnx_model(), tmp_path_factory.mktemp(f"csim_{name}"), trace=True
            )
        return cache[name]

    return get
