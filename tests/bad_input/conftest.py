"""Bad-input suite: real files, real command lines (``ticl_fpga.cli.main`` in-process; a real
subprocess only where a signal is sent).  Every test asserts the exit code, a one-line message
naming the file/field, and that every file that existed before is still there, byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from ticl_fpga.cli import main


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file under ``roots``: path -> sha256 (and every folder: path -> 'dir')."""
    out: dict[str, str] = {}
    for root in roots:
        root = Path(root)
        paths = [root, *root.rglob("*")] if root.is_dir() else [root]
        for p in paths:
            if p.is_dir():
                out[str(p)] = "dir"
            elif p.exists():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def unchanged(
    before: dict[str, str], *roots: Path, new_ok: Callable[[str], bool] = lambda p: False
):
    """Nothing that existed is gone or different; new paths only where ``new_ok`` allows."""
    after = snapshot(*roots)
    lost = sorted(p for p in before if p not in after)
    changed = sorted(p for p in before if p in after and after[p] != before[p])
    new = sorted(p for p in after if p not in before and not new_ok(p))
    assert not lost, f"removed: {lost[:5]}"
    assert not changed, f"changed: {changed[:5]}"
    assert not new, f"new: {new[:5]}"


@pytest.fixture
def cli(capsys):
    """Run the command line in-process: (exit code, stderr lines that are errors)."""

    def run(*argv) -> tuple[int, str]:
        rc = main(["-q", *map(str, argv)])
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        return rc, lines

    return run


def one_error(rc: int, lines: list[str], *needles: str, code: int = 2) -> str:
    """Exit ``code`` and exactly one line, holding every needle."""
    assert rc == code, (rc, lines)
    assert len(lines) == 1, lines
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


@pytest.fixture(scope="session")
def good_root(tmp_path_factory) -> Path:
    from ticl_fpga.data.synthetic import GeneratorConfig, generate

    return generate(
        GeneratorConfig(n_events=40, seed=3), tmp_path_factory.mktemp("bad_in") / "good.root"
    )


@pytest.fixture(scope="session")
def good_ds(good_root, tmp_path_factory) -> Path:
    from ticl_fpga.data.dataset import BuildConfig, build_dataset

    return build_dataset(
        [good_root], tmp_path_factory.mktemp("bad_ds") / "ds", BuildConfig(workers=1)
    )


TINY_TRAIN = """\
node_hidden: 8
edge_hidden: 8
head_hidden: 8
niters: 1
epochs: 1
batch_size: 8
progress_bar: false
"""


@pytest.fixture(scope="session")
def tiny_train_yaml(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    p.write_text(TINY_TRAIN)
    return p


@pytest.fixture(scope="session")
def trained_run(good_ds, tiny_train_yaml, tmp_path_factory) -> Path:
    """A finished tiny training run (1 epoch), shared read-only: tests copy it to change it."""
    run = tmp_path_factory.mktemp("bad_run") / "run"
    assert (
        main(["-q", "train", str(good_ds), "-o", str(run), "--config", str(tiny_train_yaml)]) == 0
    )
    return run
