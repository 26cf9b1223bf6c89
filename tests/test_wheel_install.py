"""A wheel install (not editable) finds its package data: recipes, golden cases, C++ sources.

The wheel is built from a copy of the sources, installed with ``--no-deps`` into a fresh venv that
reuses this environment's installed dependencies (a ``.pth`` line, so nothing is downloaded), and
``ticl-fpga hls build`` runs on a golden QONNX case from outside the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ticl_fpga import resources

ROOT = Path(__file__).resolve().parents[1]
#: what pyproject.toml needs to build the wheel
SOURCES = ("pyproject.toml", "README.md", "ticl_fpga", "hls", "quant", "golden")
CASE = "w4a4_niters1"


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the ticl-fpga wheel installed: (its bin folder, environment)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [sys.executable, "-m", "pip"]
    _run(
        [
            *pip,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(src),
        ],
        tmp,
        env,
    )
    wheel = next((tmp / "dist").glob("ticl_fpga-*.whl"))

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp, env)
    py = venv / "bin" / "python"
    site = _run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env
    )
    # The dependencies come from this environment; a .pth path line does not run its .pth files,
    # so the editable install of the checkout is not visible in the new venv.
    (Path(site.stdout.strip()) / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([*pip, "--python", str(py), "install", "--no-deps", "-q", str(wheel)], tmp, env)
    return venv / "bin", env


@pytest.mark.slow
def test_wheel_finds_package_data_outside_the_checkout(installed, tmp_path):
    bin_dir, env = installed
    probe = (
        "import ticl_fpga, ticl_fpga.resources as r; "
        "from ticl_fpga.quantize.recipe import available_recipes; "
        "print(ticl_fpga.__file__); print(r.hls_dir()); print(r.golden_dir()); "
        "print(','.join(available_recipes())); print(r.verilog_dir()); print(r.cpp_dir())"
    )
    out = _run([str(bin_dir / "python"), "-c", probe], tmp_path, env).stdout.split("\n")
    site = bin_dir.parent.resolve()
    for line in out[:3]:
        assert Path(line).resolve().is_relative_to(site), f"{line} is not in the installed wheel"
    assert (Path(out[1]) / "nnet_gnn.h").is_file()
    assert (Path(out[2]) / "manifest.json").is_file()
    assert set(out[3].split(",")) >= {"w4a4", "w6a6", "w8a8", "mixed"}
    # the RTL backend's Verilog modules and the CMSSW check program ship too (when the checkout has them)
    for shipped, here, pattern in (
        (out[4], resources.verilog_dir(), "*.v"),
        (out[5], resources.cpp_dir(), "*.cpp"),
    ):
        assert Path(shipped).resolve().is_relative_to(site)
        assert {p.name for p in Path(shipped).glob(pattern)} == {p.name for p in here.glob(pattern)}


@pytest.mark.slow
def test_wheel_hls_build_runs_outside_the_checkout(installed, tmp_path):
    bin_dir, env = installed
    golden = _run(
        [
            str(bin_dir / "python"),
            "-c",
            "from ticl_fpga.resources import golden_dir; print(golden_dir())",
        ],
        tmp_path,
        env,
    ).stdout.strip()
    model = Path(golden) / CASE / "model.onnx"
    assert model.is_file() and not model.resolve().is_relative_to(ROOT)
    proc = _run(
        [str(bin_dir / "ticl-fpga"), "hls", "build", str(model), "--out", "prj", "--no-synth"],
        tmp_path,
        env,
    )
    project = tmp_path / "prj"
    assert (project / "firmware" / "nnet_utils" / "nnet_gnn.h").is_file(), proc.stderr
    assert (project / "hls_build.yaml").is_file()
    # the project's C++ is the shipped copy, not the checkout's
    shipped = Path(golden).parent / "hls_src" / "nnet_gnn.h"
    assert (project / "firmware" / "nnet_utils" / "nnet_gnn.h").read_bytes() == shipped.read_bytes()
