"""Ships the top-level data folders ``hls/``, ``quant/`` and ``golden/`` inside the wheel.

They stay at the repository root (the project layout) and are mapped to data packages of
``ticl_fpga``, which code finds with ``importlib.resources`` (``ticl_fpga/resources.py``); an
editable install maps the same package names back to the checkout.  Everything else is in
``pyproject.toml``; the package list lives here only because ``[tool.setuptools.packages.find]``
cannot add folders outside ``ticl_fpga/``.
"""

from pathlib import Path

from setuptools import find_packages, setup

#: data package -> top-level folder (must match ticl_fpga/resources.py)
DATA_PACKAGES = {
    "ticl_fpga.hls_src": "hls",
    "ticl_fpga.recipes": "quant",
    "ticl_fpga.golden_data": "golden",
}


def _data_packages() -> dict[str, str]:
    """Each data folder and its sub-folders as packages (setuptools warns about unlisted ones)."""
    mapping = {}
    for package, folder in DATA_PACKAGES.items():
        root = Path(folder)
        for sub in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
            if "__pycache__" in sub.parts:
                continue
            mapping[".".join([package, *sub.relative_to(root).parts])] = sub.as_posix()
    return mapping


_data = _data_packages()
setup(
    packages=find_packages(include=["ticl_fpga", "ticl_fpga.*"]) + list(_data),
    package_dir=_data,
)
