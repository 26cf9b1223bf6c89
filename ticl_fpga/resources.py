"""Where the shipped data is: C++/Verilog sources, quantization recipes, golden vectors.

The folders stay at the repository root (``hls/``, ``quant/``, ``golden/``) and ``pyproject.toml``
(``[tool.setuptools]`` packages and package-dir) maps them to data packages of ``ticl_fpga``; they
are found with :mod:`importlib.resources`, so a wheel install and an editable install (which maps
the same names back to the checkout) agree.
This module is the only place that knows these locations.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from ticl_fpga.errors import MissingDependencyError

#: data packages (``[tool.setuptools.package-dir]`` in pyproject.toml maps them to the folders)
HLS_PACKAGE = "ticl_fpga.hls_src"
RECIPES_PACKAGE = "ticl_fpga.recipes"
GOLDEN_PACKAGE = "ticl_fpga.golden_data"


def _package_dir(package: str, folder: str) -> Path:
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(
            f"{package}: the package data from {folder}/ is not installed; reinstall ticl-fpga "
            "('pip install -e .' in a checkout, or the wheel)"
        ) from exc
    if not isinstance(root, Path):  # e.g. a zip import: hls4ml and g++ need real files
        raise MissingDependencyError(f"{package}: installed as {root!r}, not as a folder")
    return root


def hls_dir() -> Path:
    """The hls4ml C++ sources of the graph layers (``hls/nnet_*.h``)."""
    return _package_dir(HLS_PACKAGE, "hls")


def verilog_dir() -> Path:
    """Hand-written Verilog modules of the open RTL backend (``hls/verilog/*.v``)."""
    return hls_dir() / "verilog"


def recipes_dir() -> Path:
    """The quantization recipes (``quant/*.yaml``)."""
    return _package_dir(RECIPES_PACKAGE, "quant")


def golden_dir() -> Path:
    """The committed golden bit-accuracy cases and ``manifest.json`` (``golden/``)."""
    return _package_dir(GOLDEN_PACKAGE, "golden")


def cpp_dir() -> Path:
    """The C++ programs shipped with the CMSSW export (``ticl_fpga/export/cpp/``)."""
    return Path(str(importlib.resources.files("ticl_fpga.export") / "cpp"))
