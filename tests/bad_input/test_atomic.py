"""``ticl_fpga.io``: replace only our own output, keep the old until the new is in place, clean
what killed runs left, one writer per run folder."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ticl_fpga.errors import OutputError
from ticl_fpga.io import MARKER, atomic_path, check_output, clean_stale, dir_lock, read_marker


def _fill(tmp, **files):
    tmp.mkdir()
    for name, text in files.items():
        (tmp / name).write_text(text)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_marker_and_replacement(tmp_path):
    out = tmp_path / "out"
    with atomic_path(out, suffix="", kind="thing") as tmp:
        _fill(tmp, a="1")
    assert read_marker(out) == {"kind": "thing", "files": ["a"]}
    with atomic_path(out, suffix="", kind="thing") as tmp:
        _fill(tmp, b="2")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_other_kind_and_foreign_files_refused(tmp_path):
    out = tmp_path / "out"
    with atomic_path(out, suffix="", kind="thing") as tmp:
        _fill(tmp, a="1")
    with pytest.raises(OutputError, match="not a other"):
        with atomic_path(out, suffix="", kind="other") as tmp:
            _fill(tmp, a="2")
    (out / "mine.txt").write_text("user")
    with pytest.raises(OutputError, match="mine.txt"):
        with atomic_path(out, suffix="", kind="thing") as tmp:
            _fill(tmp, a="2")
    assert (out / "a").read_text() == "1" and (out / "mine.txt").read_text() == "user"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "temporary folder removed"
    with atomic_path(out, suffix="", kind="thing", force=True) as tmp:
        _fill(tmp, a="3")
    assert (out / "a").read_text() == "3"


def test_unmarked_folder_replaced_only_by_the_same_names(tmp_path):
    out = tmp_path / "out"
    _fill(out, **{"compare.json": "{}", "compare.md": "x"})
    with atomic_path(out, suffix="") as tmp:  # no kind: the new output's names decide
        _fill(tmp, **{"compare.json": "{1}", "compare.md": "y", "plot.png": ""})
    assert (out / "compare.md").read_text() == "y"
    with pytest.raises(OutputError, match="plot.png"):
        with atomic_path(out, suffix="") as tmp:
            _fill(tmp, other="z")


def test_file_never_replaces_a_folder(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "keep").write_text("k")
    with pytest.raises(OutputError, match="is a folder"):
        with atomic_path(d) as tmp:
            tmp.write_text("file")
    assert (d / "keep").read_text() == "k"


def test_failure_leaves_the_old_output(tmp_path):
    out = tmp_path / "f.txt"
    out.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(out) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_stale_temporaries_of_killed_runs_are_cleaned(tmp_path):
    out = tmp_path / "ds"
    dead = _dead_pid()
    stale = tmp_path / f".ds.ticl-{dead}-abcd.tmp"
    stale.mkdir()
    (stale / "half.pt").write_bytes(b"x")
    alive = tmp_path / f".ds.ticl-{os.getppid()}-abcd.tmp"  # a live process: left alone
    alive.mkdir()
    other = tmp_path / ".other.ticl-1-abcd.tmp"
    other.mkdir()
    with atomic_path(out, suffix="", kind="k") as tmp:
        _fill(tmp, a="1")
    assert not stale.exists() and alive.exists() and other.exists()


def test_killed_between_the_two_renames_gets_the_old_output_back(tmp_path):
    out = tmp_path / "ds"
    old = tmp_path / f".ds.ticl-{_dead_pid()}-abcd.old"
    _fill(old, a="old")
    clean_stale(out)
    assert (out / "a").read_text() == "old" and not old.exists()


def test_check_output_overlaps(tmp_path):
    inp = tmp_path / "in"
    _fill(inp, x="1")
    for target, what in ((inp, "also an input"), (tmp_path, "contains"), (inp / "o", "inside")):
        with pytest.raises(OutputError, match=what):
            check_output(target, inputs=[inp])


def test_dir_lock(tmp_path):
    with dir_lock(tmp_path / "run"):
        with pytest.raises(OutputError, match=f"pid {os.getpid()}"):
            with dir_lock(tmp_path / "run"):
                pass
    with dir_lock(tmp_path / "run"):  # released with the first holder
        pass


def test_hls_project_with_user_files_is_refused(tmp_path):
    prj = tmp_path / "prj"
    with atomic_path(prj, suffix="", kind="hls-project") as tmp:
        _fill(tmp, **{"hls_build.yaml": "config: {}", "project.tcl": ""})
    (prj / "ticl_gnn_prj").mkdir()  # the HLS tool's own output: fine
    (prj / "vitis_hls.log").write_text("log")
    check_output(prj, kind="hls-project")
    (prj / "my_testbench.cpp").write_text("// mine")
    with pytest.raises(OutputError, match="my_testbench.cpp"):
        check_output(prj, kind="hls-project")
