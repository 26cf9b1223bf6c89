"""pyproject.toml lists every package the wheel must ship (the list is static, PEP 621 only).

A folder added under ``ticl_fpga/`` or under one of the data folders (``hls/``, ``quant/``,
``golden/``) but not listed in ``[tool.setuptools] packages`` would be left out of a wheel install
while an editable install still finds it; these tests fail first.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ticl_fpga import resources

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"__pycache__"}


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _folders(root: Path) -> list[Path]:
    return [root, *sorted(p for p in root.rglob("*") if p.is_dir() and not SKIP & set(p.parts))]


def _expected_packages(root: Path = ROOT) -> set[str]:
    """Every folder that must ship: code packages (with ``__init__.py``) and data folders."""
    expected = {
        ".".join(p.relative_to(root).parts)
        for p in _folders(root / "ticl_fpga")
        if (p / "__init__.py").is_file()
    }
    for package, folder in _setuptools()["package-dir"].items():
        for sub in _folders(root / folder):
            expected.add(".".join([package, *sub.relative_to(root / folder).parts]))
    return expected


def test_no_setup_py():
    assert not (ROOT / "setup.py").exists(), "the project is configured in pyproject.toml only"


def test_data_packages_map_to_the_data_folders():
    # the names resources.py looks up are the names pyproject.toml ships
    assert _setuptools()["package-dir"] == {
        resources.HLS_PACKAGE: "hls",
        resources.RECIPES_PACKAGE: "quant",
        resources.GOLDEN_PACKAGE: "golden",
    }


def test_every_folder_is_a_listed_package():
    listed = set(_setuptools()["packages"])
    missing = _expected_packages() - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    # and nothing listed that does not exist
    assert not listed - _expected_packages(), sorted(listed - _expected_packages())


def test_the_check_sees_a_new_folder(tmp_path):
    """A tree with one more golden case and one more code package than pyproject.toml lists."""
    for folder in ("hls/verilog", "quant", "golden/new_case", "ticl_fpga/newpkg"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "ticl_fpga" / "__init__.py").touch()
    (tmp_path / "ticl_fpga" / "newpkg" / "__init__.py").touch()
    (tmp_path / "ticl_fpga" / "notes").mkdir()  # no __init__.py: data of ticl_fpga, not a package
    missing = _expected_packages(tmp_path) - set(_setuptools()["packages"])
    assert missing == {"ticl_fpga.golden_data.new_case", "ticl_fpga.newpkg"}
