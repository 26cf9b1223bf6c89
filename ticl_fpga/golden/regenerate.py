"""Rewrite the committed golden cases on purpose, and say exactly what changed (hashes, codes).

``regenerate(check=True)`` regenerates into a temporary folder and only compares: it is how to
verify that the committed vectors are still what the code produces, without touching them.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ticl_fpga.golden.cases import CASES, DATASET, GOLDEN_DIR, get_case
from ticl_fpga.golden.vectors import (
    FORMAT,
    MANIFEST,
    REGENERATE,
    load_npz,
    make_case,
    sha256_file,
)
from ticl_fpga.io import atomic_path, write_json

log = logging.getLogger(__name__)


@dataclass
class CaseChange:
    """What regenerating one case changed (``status``: unchanged, new, changed)."""

    name: str
    status: str
    files: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # file -> (old, new)
    code_diffs: dict[str, str] = field(default_factory=dict)  # graph -> description

    def describe(self) -> str:
        if self.status == "unchanged":
            return f"{self.name}: unchanged"
        if self.status == "new":
            return f"{self.name}: new case ({', '.join(sorted(self.files))})"
        parts = [
            f"{f} {(old or 'none')[:12]} -> {new[:12]}"
            for f, (old, new) in sorted(self.files.items())
            if old != new
        ]
        out = f"{self.name}: changed: " + "; ".join(parts)
        if self.code_diffs:
            out += "\n    " + "\n    ".join(f"{g}: {d}" for g, d in self.code_diffs.items())
        return out


def _old_manifest(golden_dir: Path) -> dict[str, Any]:
    import json

    path = golden_dir / MANIFEST
    if not path.is_file():
        return {"format": FORMAT, "cases": {}}
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {"format": FORMAT, "cases": {}}
    return doc if doc.get("format") == FORMAT else {"format": FORMAT, "cases": {}}


def _diff(name: str, old_entry: dict | None, new_entry: dict, old_dir: Path, new_dir: Path):
    if old_entry is None:
        return CaseChange(name, "new", {f: (None, h) for f, h in new_entry["files"].items()})
    files = {}
    for f, h in new_entry["files"].items():
        path = old_dir / f
        old = sha256_file(path) if path.is_file() else None
        files[f] = (old, h)
    changed = any(old != new for old, new in files.values()) or (
        {k: v for k, v in old_entry.items() if k != "files"}
        != {k: v for k, v in new_entry.items() if k != "files"}
    )
    change = CaseChange(name, "changed" if changed else "unchanged", files)
    if changed and (old_dir / "graphs.npz").is_file():
        old = load_npz(old_dir / "graphs.npz")
        new = load_npz(new_dir / "graphs.npz")
        for g in new_entry["graphs"]:
            key = f"{g}.logit_code"
            if key not in old:
                change.code_diffs[g] = "new graph"
            elif old[key].shape != new[key].shape:
                change.code_diffs[g] = f"shape {old[key].shape} -> {new[key].shape}"
            elif not np.array_equal(old[key], new[key]):
                d = np.abs(old[key].astype(np.int64) - new[key])
                change.code_diffs[g] = (
                    f"{int((d > 0).sum())}/{d.size} logit codes differ (max |diff| {int(d.max())})"
                )
        for key in sorted(set(old) - set(new)):
            if key.endswith(".logit_code"):
                change.code_diffs[key.split(".")[0]] = "graph removed"
    return change


def regenerate(
    names: list[str] | None = None,
    golden_dir: str | Path = GOLDEN_DIR,
    *,
    check: bool = False,
) -> list[CaseChange]:
    """Regenerate ``names`` (default: every registered case) and report the changes.

    With ``check`` nothing under ``golden_dir`` is written.  Otherwise each case folder is replaced
    atomically and ``manifest.json`` is rewritten last.
    """
    from ticl_fpga.data.dataset import load_dataset
    from ticl_fpga.data.synthetic import tiny_dataset
    from ticl_fpga.golden.vectors import library_versions

    golden_dir = Path(golden_dir)
    cases = [get_case(n) for n in (names or list(CASES))]
    manifest = _old_manifest(golden_dir)
    changes: list[CaseChange] = []
    with tempfile.TemporaryDirectory(prefix="ticl_golden_") as tmp:
        tmp = Path(tmp)
        ds = load_dataset(tiny_dataset(tmp / "data", **DATASET))
        for case in cases:
            new_dir = tmp / "cases" / case.name
            new_dir.mkdir(parents=True)
            entry = make_case(case, ds, new_dir)
            change = _diff(
                case.name, manifest["cases"].get(case.name), entry, golden_dir / case.name, new_dir
            )
            changes.append(change)
            log.info("%s", change.describe())
            if check:
                continue
            with atomic_path(golden_dir / case.name, suffix="") as target:
                shutil.copytree(new_dir, target)
            manifest["cases"][case.name] = entry
        if not check:
            if names is None:  # a full regeneration drops cases no longer registered
                for stale in sorted(set(manifest["cases"]) - set(CASES)):
                    manifest["cases"].pop(stale)
                    shutil.rmtree(golden_dir / stale, ignore_errors=True)
                    log.info("%s: removed (no longer registered)", stale)
            manifest.update(
                {
                    "format": FORMAT,
                    "generated_by": REGENERATE,
                    "versions": library_versions(),
                    "dataset": {"generator": "ticl_fpga.data.synthetic.tiny_dataset", **DATASET},
                }
            )
            write_json(golden_dir / MANIFEST, manifest)
    return changes
